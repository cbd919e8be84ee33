"""Score submissions are rate limited per player and per client address: a 429 with
``Retry-After``, and nothing stored, while other players go on."""

import os

import pytest

from arcade.sdk import budgets
from arcade.sdk.budgets import MINUTE, Budget
from tests.runs import balloon_run
from tests.stores import Stores


def post(app, token: str, score: int, key: str):
    body = {"score": score, "run": balloon_run(score), "submission_id": key}
    return app.post("/api/v1/games/balloon/scores", json=body, headers={"Authorization": f"Bearer {token}"})


def test_a_player_over_the_budget_gets_a_429_and_others_go_on(make_app):
    app = make_app("scores_per_minute = 2\n")  # under the [server] table make_app writes
    ada, bob = app.token("ada"), app.token("bob")
    assert [post(app, ada, 5, f"ada-run-{n}").status_code for n in range(2)] == [201, 201]

    refused = post(app, ada, 6, "ada-run-2")

    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert "too many scores sent in a minute" in refused.json()["detail"]
    assert post(app, bob, 7, "bob-run-0").status_code == 201
    board = app.get("/api/v1/games/balloon/leaderboard").json()["entries"]
    assert [(entry["player"]["name"], entry["score"]) for entry in board] == [("bob", 7), ("ada", 5)]


def test_one_address_over_its_budget_gets_a_429_whoever_the_player(make_app):
    app = make_app("scores_per_minute_per_address = 2\n")
    codes = [post(app, app.token(name), 5, f"{name}-run-0").status_code for name in ("ada", "bob", "cyd")]
    assert codes == [201, 201, 429]


@pytest.mark.anyio
async def test_a_scores_budgets_are_taken_in_one_durable_write(tmp_path, monkeypatch):
    """The player's and the address's counters reach the journal in one fsync, not one after the
    other: every score waits for them before its replay, and under load each fsync is a wait."""
    store = await Stores("tinydb", tmp_path).open()
    player, address = Budget("scores:ada", 30, MINUTE), Budget("scores-from:127.0.0.1", 3000, MINUTE)
    await budgets.spend(store, 1000, player, address)  # the journal's file is made, its folder synced
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda descriptor: synced.append(descriptor) or real_fsync(descriptor))

    await budgets.spend(store, 1001, player, address)

    assert len(synced) == 1
    assert [await store.add_to_counter(budget.key, 1001, MINUTE, 0) for budget in (player, address)] == [2, 2]
    await store.close()
