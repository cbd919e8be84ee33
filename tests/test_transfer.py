"""Moving an event, as an organiser meets it: a real arcade serves, stops, `arcade export`, `arcade
import` into another store, and the arcade serving from there carries on where the first stopped
(boards, ties, the badge's login and its retried submission, the browser's session)."""

import asyncio
import os
import signal
import stat
import subprocess
import time
from pathlib import Path

import asyncpg
import pytest

from arcade.sdk.game import GameInfo
from tests.conftest import ARCADE, RunningServer, Servers, run_arcade, write_config
from tests.people import Person, forms
from tests.stores import POSTGRES, Stores, person, postgres_settings, submission
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
    pages = {
        entry["player"]["id"]: site.get(f"/api/v1/players/{entry['player']['id']}").json() for entry in board["entries"]
    }
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
    assert arcade_in(tiny, "keys", "rotate").returncode == 0  # the badge's token: signed by a retiring key

    exported = arcade_in(tiny, "export", "event.jsonl")
    assert exported.returncode == 0, exported.stderr
    assert "readable by you alone" in exported.stdout
    for row in ("players       3", "scores        3", "signing keys  2", "account 1", "login 1"):
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
    again = postgres.post_score(tokens["access_token"], 7, "move-run-0001")  # the badge retries, its old token
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


# -- an import killed midway --------------------------------------------------------------------

DINO = GameInfo(id="dino", title="Dino", version="1", package="arcade.games.dino")
BIG = 20_000
"""Scores enough that an import is seen halfway, in batches of a thousand."""


@pytest.fixture(scope="module")
def big_export(tmp_path_factory) -> Path:
    """An export of a TinyDB arcade of :data:`BIG` scores from a thousand players, made once."""
    folder = tmp_path_factory.mktemp("big")
    (folder / "arcade.toml").write_text("")

    async def fill():
        stores = Stores("tinydb", folder / "arcade-data")
        store = await stores.open()
        for start in range(0, BIG, 1000):
            await asyncio.gather(
                *(
                    store.submit_score(DINO, person(f"p{n % 1000}"), submission(n % 97, f"big-run-{n:05}"))
                    for n in range(start, start + 1000)
                )
            )
        await store.close()

    asyncio.run(fill())
    result = run_arcade("export", "big.jsonl", cwd=folder, timeout=300)
    assert result.returncode == 0, result.stderr
    return folder / "big.jsonl"


def postgres_scores(schema: str) -> int:
    async def count():
        connection = await asyncpg.connect(POSTGRES)
        try:
            if await connection.fetchval("SELECT to_regclass($1)", f'"{schema}".scores') is None:
                return 0
            return await connection.fetchval(f'SELECT count(*) FROM "{schema}".scores')
        finally:
            await connection.close()

    return asyncio.run(count())


def journaled(folder: Path) -> bool:
    return any(path.stat().st_size for path in (folder / "arcade-data").glob("arcade.json.journal.*"))


def item_lines(path: Path) -> list[bytes]:
    """The signing keys and the store's items: what two exports of the same event share."""
    return path.read_bytes().splitlines()[1:-1]


@pytest.mark.parametrize("target", ["postgres", "tinydb"])
def test_an_import_killed_midway_runs_again_to_the_same_end(make_server, postgres_schema, big_export, target):
    site = make_server(postgres_settings(postgres_schema) if target == "postgres" else "", start=False)
    halfway = (
        (lambda: 0 < postgres_scores(postgres_schema) < BIG)
        if target == "postgres"
        else (lambda: journaled(site.folder))
    )
    importing = subprocess.Popen(
        [ARCADE, "import", str(big_export)],
        cwd=site.folder,
        env={**os.environ, **site.env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while not halfway():
            assert importing.poll() is None, "the import ended before it could be stopped halfway"
            time.sleep(0.01)
    finally:
        importing.kill()
        importing.wait(30)
    assert importing.returncode == -signal.SIGKILL

    again = run_arcade("import", str(big_export), cwd=site.folder, env=site.env, timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"scores        {BIG:,}" in again.stdout and "verified it item by item" in again.stdout
    exported = run_arcade("export", "again.jsonl", cwd=site.folder, env=site.env, timeout=300)
    assert exported.returncode == 0, exported.stderr
    assert item_lines(site.folder / "again.jsonl") == item_lines(big_export)  # each once, as it was
    site.start()
    board = site.get("/api/v1/games/dino/leaderboard?limit=3").json()
    assert board["players"] == 1000 and [entry["score"] for entry in board["entries"]] == [96, 96, 96]


def test_an_export_killed_midway_leaves_no_file_under_its_name(big_export):
    folder = big_export.parent
    partial = folder / ".killed.jsonl.partial"
    exporting = subprocess.Popen(
        [ARCADE, "export", "killed.jsonl"], cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        while not (partial.exists() and partial.stat().st_size > 2**20):
            assert exporting.poll() is None, "the export ended before it could be stopped halfway"
            time.sleep(0.01)
    finally:
        exporting.kill()
        exporting.wait(30)
    assert not (folder / "killed.jsonl").exists()
    again = run_arcade("export", "killed.jsonl", cwd=folder, timeout=300)
    assert again.returncode == 0, again.stderr
    assert item_lines(folder / "killed.jsonl") == item_lines(big_export) and not partial.exists()


# -- what is refused, and changes nothing -------------------------------------------------------


@pytest.fixture(scope="module")
def small_export(tmp_path_factory, fixture_games) -> Path:
    """A real arcade's export, made once: a few scores and a login."""
    servers = Servers(tmp_path_factory.mktemp("small"), fixture_games)
    server = servers()
    Badge(server.url).log_in(Person(server.url, "ada"))
    for number, name in enumerate(["bob", "cy", "dee"]):
        assert server.post_score(server.token(name), 5 + number, f"small-run-{number:04}").status_code == 201
    server.stop()
    assert arcade_in(server, "export", "small.jsonl").returncode == 0
    return server.folder / "small.jsonl"


def damaged(path: Path, how: str) -> Path:
    """A copy of an export file, damaged as a copy or a disk can damage it."""
    data = path.read_bytes()
    lines = data.splitlines(keepends=True)
    copies = {
        "cut mid-line": data[: len(data) - len(lines[-1]) - 20],
        "cut after a line": b"".join(lines[:-1]),
        "a changed byte": data.replace(b'"score":6', b'"score":9', 1),
        "a lost line": b"".join(lines[:3] + lines[4:]),
        "lines swapped": b"".join(lines[:3] + [lines[4], lines[3]] + lines[5:]),
        "not an export": b"name,score\nada,7\n",
        "empty": b"",
    }
    copy = path.with_name(f"{how.replace(' ', '-')}.jsonl")
    copy.write_bytes(copies[how])
    return copy


@pytest.mark.parametrize(
    "how, said",
    [
        ("cut mid-line", "without the line that closes an export: it was cut short"),
        ("cut after a line", "without the line that closes an export: it was cut short"),
        ("a changed byte", "is damaged: its checksum or its counts do not match its lines"),
        ("a lost line", "is damaged: its checksum or its counts do not match its lines"),
        ("lines swapped", "is damaged: line 5 is out of order"),
        ("not an export", "is not a file arcade export wrote"),
        ("empty", "ends after 0 lines without the line that closes an export"),
    ],
)
def test_a_damaged_or_cut_short_file_is_refused_before_anything_is_touched(
    make_server, postgres_schema, small_export, how, said
):
    file = damaged(small_export, how)
    for config in ("", postgres_settings(postgres_schema)):
        site = make_server(config, start=False)
        refused = arcade_in(site, "import", str(file))
        assert refused.returncode == 2, refused.stdout
        assert f"arcade: error: {file} " in refused.stderr and said in refused.stderr
        assert "nothing was changed" in refused.stderr
        assert not site.data.exists()  # no data folder, no key file, no store
    assert postgres_scores(postgres_schema) == 0
    missing = arcade_in(site, "import", "nowhere.jsonl")
    assert "cannot read nowhere.jsonl: No such file or directory" in missing.stderr


def test_an_arcade_that_has_an_event_of_its_own_is_not_imported_into(make_server, postgres_schema, small_export):
    site = make_server(postgres_settings(postgres_schema))
    token = site.token("eve")
    assert site.post_score(token, 3, "own-run-0001").status_code == 201
    before = event(site)
    site.stop()
    refused = arcade_in(site, "import", str(small_export))
    assert refused.returncode == 2
    assert "the postgres store is not empty: it holds player 'eve'" in refused.stderr
    assert "nothing was changed" in refused.stderr and "a new PostgreSQL schema" in refused.stderr
    site.start()
    assert event(site) == before
    again = site.post_score(token, 3, "own-run-0001")  # signed with the keys it had, answered as before
    assert (again.status_code, again.headers["idempotent-replayed"]) == (201, "true")


def test_an_arcade_without_the_games_of_the_file_refuses_it(make_server, small_export):
    site = make_server(start=False)
    refused = run_arcade("import", str(small_export), cwd=site.folder)  # without the Balloon game installed
    assert refused.returncode == 2
    assert "holds scores of balloon, which this arcade does not have; nothing was changed" in refused.stderr
    assert not [path for path in site.data.iterdir() if "arcade" in path.name]  # the store was never opened


def test_export_never_overwrites_a_file_and_waits_for_the_server_to_stop(server):
    assert server.post_score(server.token("ada"), 3, "export-run-01").status_code == 201
    busy = arcade_in(server, "export", "event.jsonl")
    assert busy.returncode == 2 and "already open in another process" in busy.stderr
    assert not list(server.folder.glob("*event.jsonl*"))  # nor a partial file left behind
    server.stop()
    assert arcade_in(server, "export", "event.jsonl").returncode == 0
    again = arcade_in(server, "export", "event.jsonl")
    assert again.returncode == 2 and "event.jsonl exists already" in again.stderr
