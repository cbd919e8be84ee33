"""Moving an event, as an organiser meets it: a real arcade serves, stops, `arcade export`, `arcade
import` into another store, and the arcade serving from there carries on where the first stopped
(boards, ties, the badge's login and its retried submission, the browser's session)."""

import os
import signal
import stat
import subprocess
import time

import asyncpg
import pytest

from tests.conftest import ARCADE, RunningServer, run_arcade, write_config
from tests.people import Person, forms
from tests.stores import POSTGRES, postgres_settings
from tests.test_device_flow import Badge


def site_like(make_server, server: RunningServer, name: str, config: str = "") -> RunningServer:
    """A new arcade folder serving at ``server``'s address, so its badges and browsers find it; not started."""
    site = RunningServer(folder=server.folder.parent / name, port=server.port, env=server.env)
    write_config(site.folder, server.url, config)
    make_server.started.append(site)  # stopped at the end like the others
    return site


def arcade_in(site: RunningServer, *args: str) -> subprocess.CompletedProcess:
    return run_arcade(*args, cwd=site.folder, env=site.env, timeout=300)


def event(site: RunningServer) -> dict:
    """What an arcade shows: the board, with ranks and times, and each player's page."""
    board = site.get("/api/v1/games/balloon/leaderboard").json()
    pages = {entry["player"]["id"]: site.get(f"/api/v1/players/{entry['player']['id']}").json() for entry in board["entries"]}
    return {"board": board, "players": pages}


def ranked(site: RunningServer) -> list[tuple[int, str, int]]:
    return [(entry["rank"], entry["player"]["name"], entry["score"]) for entry in event(site)["board"]["entries"]]


def logged_in(person: Person) -> bool:
    return "log-out" in forms(person.browser.get("/device").text)


def test_an_event_moves_from_tinydb_to_postgresql_and_back(make_server, postgres_schema):
    tiny = make_server()
    ada, badge = Person(tiny.url, "ada"), Badge(tiny.url)
    tokens = badge.log_in(ada)
    first = tiny.post_score(tokens["access_token"], 7, "move-run-0001")
    assert tiny.post_score(tiny.token("bob"), 9, "move-run-0002").status_code == 201
    assert tiny.post_score(tiny.token("cy"), 7, "move-run-0003").status_code == 201  # as good as Ada, later
    before = event(tiny)
    assert ranked(tiny) == [(1, "bob", 9), (2, "Ada", 7), (2, "cy", 7)] and logged_in(ada)
    tiny.stop()

    exported = arcade_in(tiny, "export", "event.jsonl")
    assert exported.returncode == 0, exported.stderr
    assert "readable by you alone" in exported.stdout
    for row in ("players       3", "scores        3", "signing keys  1", "account 1", "login 1"):
        assert row in exported.stdout, exported.stdout
    assert stat.S_IMODE((tiny.folder / "event.jsonl").stat().st_mode) == 0o600

    postgres = site_like(make_server, tiny, "postgres", postgres_settings(postgres_schema))
    imported = arcade_in(postgres, "import", str(tiny.folder / "event.jsonl"))
    assert imported.returncode == 0, imported.stderr
    assert "into the postgres store, and verified it item by item" in imported.stdout
    assert "scores        3" in imported.stdout and "importing 100%" in imported.stderr
    postgres.start()
    assert event(postgres) == before  # ranks, ties and times as they were
    refreshed = badge.refresh(tokens["refresh_token"])  # signed by the same key, the login in the database
    assert refreshed.status_code == 200, refreshed.text
    again = postgres.post_score(refreshed.json()["access_token"], 7, "move-run-0001")  # the badge retries
    assert (again.status_code, again.headers["idempotent-replayed"]) == (201, "true")
    assert again.json() == first.json()  # its original answer
    assert logged_in(ada)  # the phone's session too
    later = postgres.post_score(postgres.token("dee"), 7, "move-run-0004")
    assert later.json()["rank"] == 2 and ranked(postgres)[-1] == (2, "dee", 7)  # after those who got there first
    moved = event(postgres)
    postgres.stop()

    exported = arcade_in(postgres, "export", "back.jsonl")
    assert exported.returncode == 0, exported.stderr
    tiny_again = site_like(make_server, tiny, "tinydb-again")
    imported = arcade_in(tiny_again, "import", str(postgres.folder / "back.jsonl"))
    assert imported.returncode == 0, imported.stderr
    assert "into the tinydb store" in imported.stdout and "scores        4" in imported.stdout
    tiny_again.start()
    assert event(tiny_again) == moved
    assert badge.refresh(refreshed.json()["refresh_token"]).status_code == 200
    again = tiny_again.post_score(tokens["access_token"], 7, "move-run-0001")
    assert again.headers["idempotent-replayed"] == "true" and again.json() == first.json()
    assert logged_in(ada)
