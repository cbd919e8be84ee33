"""The store contract's export and restore, run from every store into every store: what moves an event.

A store restored from another's export answers as that one did (boards, ties, a retried
submission's original answer, records with their versions, counters), exports the very same
items, and restoring again changes nothing.
"""

import time

import pytest

from arcade.sdk.store import (
    Moderation,
    PlayerBanned,
    StoredAudit,
    StoredCounter,
    StoredPlayer,
    StoredRecord,
    StoredScore,
    StoreError,
)
from tests.stores import MOVES, POINTS, STORES, Stores, board, drop_schema, new_schema, person, submission

pytestmark = pytest.mark.anyio

OLD, NEW = "http://old.test:8000", "urn:new"
GAMES = [POINTS, MOVES]


@pytest.fixture(params=STORES, ids=[f"into-{name}" for name in STORES])
async def targets(request, tmp_path):
    """Stores of each kind to restore into, apart from the source's (their own folder or schema)."""
    schema = await new_schema() if request.param == "postgres" else None
    targets = Stores(request.param, tmp_path / "target", schema)
    yield targets
    for store in targets.opened:
        await store.close()
    if schema:
        await drop_schema(schema)


async def an_event(stores) -> tuple:
    """Players of two issuers merged by a move, ties, a lower-is-better game, records and counters,
    across restarts (so the scores are in the files as well as in memory); answers the store and
    the first answer of each submission."""
    store, answers = await stores.open(), {}

    async def play(name, issuer, game, score, key):
        answers[name, key] = (await store.submit_score(game, person(name, issuer), submission(score, key)))[0]

    await play("ada", NEW, POINTS, 50, "ada-run-1")  # first to 50
    await play("bob", NEW, POINTS, 50, "bob-run-1")
    await play("ada", OLD, POINTS, 50, "ada-run-2")  # ada again under her old issuer, later: moved below
    await play("cy", OLD, POINTS, 40, "cy-run-1")
    await play("cy", OLD, MOVES, 12, "cy-run-2")
    await play("cy", NEW, POINTS, 40, "cy-run-1")  # cy's badge retried after the issuer changed
    store = await stores.reopen(store)
    await store.move_issuer(OLD, NEW)
    await store.put_record("account", "ada", {"name": "Ada", "hash": "scrypt$1"}, version=0)
    login = await store.put_record(
        "login", "sid-1", {"current": "a", "at": 1.5}, version=0, expires_at=time.time() + 3600
    )
    await store.put_record(
        "login", "sid-1", {"current": "b", "at": 2.5}, version=login.version, expires_at=login.expires_at
    )
    await store.put_record("grant", "gone", {"status": "pending"}, version=0, expires_at=time.time() - 1)
    now = int(time.time())
    await store.add_to_counter("wrong-codes:ada", now=now - 30, window=600, amount=2)
    await store.add_to_counter("wrong-codes:ada", now=now, window=600)
    await store.add_to_counter("scores:bob", now=now - 900, window=60)  # no longer counts
    store = await stores.reopen(store)
    await play("dee", NEW, MOVES, 12, "dee-run-1")  # and one since the last restart
    return store, answers


async def exported(store) -> list:
    return [item async for item in store.export()]


async def restored(targets, items, batch=3):
    """A new store of the target's kind, given ``items`` in batches as an import gives them."""
    store = await targets.open()
    for start in range(0, len(items), batch):
        await store.restore(items[start : start + batch], GAMES)
    return store


async def test_a_restored_store_answers_as_the_exported_one_did(stores, targets):
    store, answers = await an_event(stores)
    items = await exported(store)
    target = await restored(targets, items)

    for game in GAMES:
        assert await board(target, game) == await board(store, game)
        assert (await target.leaderboard(game, 10)).players == (await store.leaderboard(game, 10)).players
    assert await board(target) == [(1, "ada", 50), (1, "bob", 50), (3, "cy", 40)]  # ada got there first
    assert await board(target, MOVES) == [(1, "cy", 12), (1, "dee", 12)]
    ada = person("ada", NEW).id
    assert await target.player_bests(ada, GAMES) == await store.player_bests(ada, GAMES)
    assert (await target.around(POINTS, ada, 3)).entries == (await store.around(POINTS, ada, 3)).entries

    again, stored = await target.submit_score(POINTS, person("ada", NEW), submission(50, "ada-run-1"))
    assert (again, stored) == (answers["ada", "ada-run-1"], False)  # the original answer, rank and time
    with pytest.raises(StoreError, match="already used"):
        await target.submit_score(POINTS, person("bob", NEW), submission(51, "bob-run-1"))
    later, stored = await target.submit_score(POINTS, person("eve", NEW), submission(50, "eve-run-1"))
    assert stored and later.rank == 1
    assert await board(target) == [(1, "ada", 50), (1, "bob", 50), (1, "eve", 50), (4, "cy", 40)]  # after the ties

    login = await store.get_record("login", "sid-1")
    assert await target.get_record("login", "sid-1") == login
    assert await target.get_record("account", "ada") == await store.get_record("account", "ada")
    assert await target.get_record("grant", "gone") is None
    rotated = await target.put_record("login", "sid-1", {"current": "c"}, version=login.version)
    assert rotated is not None and rotated.version > max(
        item.version for item in items if isinstance(item, StoredRecord)
    )
    assert await target.add_to_counter("wrong-codes:ada", now=int(time.time()), window=600, amount=0) == 3
    assert await target.add_to_counter("scores:bob", now=int(time.time()), window=60, amount=0) == 0


async def test_two_stores_holding_the_same_export_the_same_items_in_the_same_order(stores, targets):
    store, _ = await an_event(stores)
    items = await exported(store)
    assert await exported(await restored(targets, items)) == items

    kinds = [type(item) for item in items]
    assert kinds == sorted(kinds, key=[StoredPlayer, StoredScore, StoredRecord, StoredCounter].index)
    players = [item.id for item in items if isinstance(item, StoredPlayer)]
    scores = [item.seq for item in items if isinstance(item, StoredScore)]
    records = [(item.kind, item.key) for item in items if isinstance(item, StoredRecord)]
    assert players == sorted(players) and scores == sorted(scores) and records == sorted(records)
    assert len(players) == 4 and len(scores) == 6  # the moved players' old selves are gone, cy's retry once
    assert ("grant", "gone") not in records  # expired
    assert [item.key for item in items if isinstance(item, StoredCounter)] == ["wrong-codes:ada"]


async def test_restoring_again_or_after_a_restart_changes_nothing(stores, targets):
    store, _ = await an_event(stores)
    items = await exported(store)
    target = await restored(targets, items[: len(items) // 2])  # an import cut short
    target = await targets.reopen(target)
    for _ in range(2):
        await target.restore(items, GAMES)
    assert await exported(target) == items
    target = await targets.reopen(target)
    assert await exported(target) == items
    assert await board(target) == await board(store)


async def test_a_score_of_a_game_not_given_is_refused(store, targets):
    await store.submit_score(POINTS, person("ada"), submission(50, "ada-run-1"))
    target = await targets.open()
    with pytest.raises(StoreError, match="'points', which is not one of the games given"):
        await target.restore(await exported(store), [MOVES])


async def test_scores_restored_in_any_order_rank_as_they_did(stores, targets):
    store, _ = await an_event(stores)
    items = await exported(store)
    target = await targets.open()
    await target.restore([item for item in items if isinstance(item, StoredPlayer)], GAMES)
    await target.restore([item for item in reversed(items) if not isinstance(item, StoredPlayer)], GAMES)
    for game in GAMES:
        assert await board(target, game) == await board(store, game)


async def test_an_export_is_of_the_moment_it_began(stores):
    store, _ = await an_event(stores)
    items = await exported(store)
    export = store.export()
    first = await anext(export)
    await store.submit_score(POINTS, person("ada", NEW), submission(60, "ada-run-9"))
    await store.submit_score(POINTS, person("zed", NEW), submission(1, "zed-run-1"))
    await store.put_record("account", "zed", {"name": "Zed"}, version=0)
    await store.add_to_counter("wrong-codes:ada", now=int(time.time()), window=600)
    assert [first, *[item async for item in export]] == items


async def test_moderation_moves_with_the_event_hidden_scores_bans_names_and_the_audit_log(stores, targets):
    store, _ = await an_event(stores)
    ada, cy = person("ada", NEW).id, person("cy", NEW).id

    def change(action, player, **fields):
        return Moderation(action=action, player=player, actor="organiser", reason=f"{action} for the test", **fields)

    await store.moderate(change("hide", ada, submission_id="ada-run-1"), GAMES)
    await store.moderate(change("ban", cy), GAMES)
    await store.moderate(change("rename", person("bob", NEW).id, value="Player B"), GAMES)
    items = await exported(store)
    assert [type(item) for item in items][-3:] == [StoredAudit] * 3
    assert [item.hidden for item in items if isinstance(item, StoredScore) and item.submission_id == "ada-run-1"] == [
        True
    ]
    target = await restored(targets, items)
    assert await exported(target) == items
    for game in GAMES:
        assert await board(target, game) == await board(store, game)
    assert await board(target) == [(1, "Player B", 50), (1, "ada", 50)]  # ada: her later 50, reached after bob
    assert await target.audit_log(10) == await store.audit_log(10)
    with pytest.raises(PlayerBanned, match="ban for the test"):
        await target.submit_score(POINTS, person("cy", NEW), submission(99, "cy-run-9"))
    await target.moderate(change("unban", cy), GAMES)
    assert (await target.audit_log(1))[0].seq == 4  # after the restored ones
    assert (1, "cy", 40) not in await board(target) and (3, "cy", 40) in await board(target)
