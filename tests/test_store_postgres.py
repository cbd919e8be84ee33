"""What only the PostgreSQL store promises: its schema versions, where its password comes from, a
clear error when the database is not there, compact runs, and reads that never scan all scores."""

import asyncio
import json
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import msgspec
import pytest
from arcade.plugins.store_postgres import runs
from arcade.plugins.store_postgres import store as store_sql
from arcade.plugins.store_postgres.schema import MIGRATIONS, VERSION

from arcade.sdk.models import Run
from arcade.sdk.store import StoredPlayer, StoredScore, StoreError
from tests.conftest import ROOT, assemble_in, free_port, run_arcade, write_config
from tests.runs import dino_run
from tests.stores import (
    POINTS,
    POSTGRES,
    Stores,
    board,
    drop_schema,
    new_schema,
    person,
    postgres_dsn,
    postgres_settings,
    submission,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
async def stores(tmp_path):
    stores = Stores("postgres", tmp_path, await new_schema())
    yield stores
    for store in stores.opened:
        await store.close()
    await drop_schema(stores.schema)


async def sql(query: str, *args):
    """One statement on the test database, as an operator's psql would run it."""
    connection = await asyncpg.connect(POSTGRES)
    try:
        return await connection.fetch(query, *args)
    finally:
        await connection.close()


def site(tmp_path, settings: str):
    write_config(tmp_path / "site", "http://127.0.0.1:8000", settings)
    return tmp_path / "site"


# -- schema versions ----------------------------------------------------------------------------


def test_arcade_db_upgrade_makes_the_schema_then_says_it_is_current(tmp_path, postgres_schema):
    folder = site(tmp_path, postgres_settings(postgres_schema))
    first = run_arcade("db", "upgrade", cwd=folder)
    assert first.returncode == 0, first.stderr
    assert first.stdout == f"upgraded the postgres store's schema from version 0 to {VERSION}\n"
    again = run_arcade("db", "upgrade", cwd=folder)
    assert (
        again.stdout
        == f"the postgres store's schema is at version {VERSION}, the newest this arcade knows: nothing to do\n"
    )
    tables = asyncio.run(sql("SELECT tablename FROM pg_tables WHERE schemaname = $1", postgres_schema))
    assert {"players", "scores", "bests", "records", "counters"} <= {row["tablename"] for row in tables}


def test_a_schema_newer_than_this_arcade_is_refused_and_left_alone(tmp_path, postgres_schema):
    folder = site(tmp_path, postgres_settings(postgres_schema))
    assert run_arcade("db", "upgrade", cwd=folder).returncode == 0
    asyncio.run(sql(f'UPDATE "{postgres_schema}".schema_version SET version = 7'))
    for command in (("serve", "--port", str(free_port())), ("db", "upgrade")):
        result = run_arcade(*command, cwd=folder)
        assert result.returncode == 2, result.stderr
        assert (
            f"the PostgreSQL schema '{postgres_schema}' is at version 7, newer than this arcade's ({VERSION})"
            in result.stderr
        )
        assert "Upgrade badge-arcade" in result.stderr
    assert asyncio.run(sql(f'SELECT version FROM "{postgres_schema}".schema_version'))[0]["version"] == 7


def test_two_processes_starting_on_a_new_database_make_the_schema_once(tmp_path, postgres_schema):
    folder = site(tmp_path, postgres_settings(postgres_schema))

    async def both():
        return await asyncio.gather(*(asyncio.to_thread(run_arcade, "db", "upgrade", cwd=folder) for _ in range(2)))

    assert sorted(result.stdout for result in asyncio.run(both())) == [
        f"the postgres store's schema is at version {VERSION}, the newest this arcade knows: nothing to do\n",
        f"upgraded the postgres store's schema from version 0 to {VERSION}\n",
    ]


async def test_an_arcade_at_schema_version_1_is_upgraded_with_the_ranks_it_had(stores):
    """Its boards were kept before ``standings`` counted the players of each score: the upgrade counts
    them, and ranks, ties and the ranks of later scores come out as they did."""
    connection = await asyncpg.connect(POSTGRES)
    try:
        async with connection.transaction():
            await connection.execute(f'CREATE SCHEMA "{stores.schema}"; SET LOCAL search_path TO "{stores.schema}"')
            await connection.execute(
                "CREATE TABLE schema_version (version integer NOT NULL); INSERT INTO schema_version VALUES (1)"
            )
            await connection.execute(MIGRATIONS[0])
            for number, (name, score) in enumerate([("ada", 50), ("bob", 40), ("cy", 40), ("dee", 30), ("eve", 20)]):
                ada = person(name)
                await connection.execute(
                    "INSERT INTO players (id, issuer, subject, name) VALUES ($1, $2, $3, $4)",
                    ada.id,
                    ada.issuer,
                    ada.subject,
                    name,
                )
                await connection.execute(
                    "INSERT INTO scores (player, submission_id, game, score, ordered, run, best, rank, new_best) "
                    "VALUES ($1, $2, 'points', $3, $4, '', $3, $5, true)",
                    ada.id,
                    f"{name}-run-1",
                    score,
                    -score,
                    number + 1,
                )
            await connection.execute("INSERT INTO bests SELECT game, player, ordered, seq, score, at FROM scores")
    finally:
        await connection.close()
    store = await stores.open()
    assert [row["version"] for row in await sql(f'SELECT version FROM "{stores.schema}".schema_version')] == [VERSION]
    assert await board(store) == [(1, "ada", 50), (2, "bob", 40), (2, "cy", 40), (4, "dee", 30), (5, "eve", 20)]
    answer, _ = await store.submit_score(POINTS, person("eve"), submission(45, "eve-run-2"))
    assert answer.rank == 2
    assert await board(store) == [(1, "ada", 50), (2, "eve", 45), (3, "bob", 40), (3, "cy", 40), (5, "dee", 30)]
    (dee,) = await store.player_bests(person("dee").id, [POINTS])
    assert dee.rank == 5


# -- settings and secrets -----------------------------------------------------------------------


def test_the_settings_in_the_operating_guide_are_read_as_written(tmp_path):
    guide = (ROOT / "docs" / "operating.md").read_text()
    example = re.search(r"## Running with PostgreSQL.*?```toml\n(.*?)```", guide, re.DOTALL)[1]
    (tmp_path / "arcade.toml").write_text(example)
    store = assemble_in(tmp_path, environ={}).store
    assert (store.where, store.schema, store.pool_size) == (
        "postgresql://arcade@db.example.org:5432/arcade",
        "arcade",
        10,
    )


def test_a_password_in_the_settings_file_is_refused_saying_where_it_goes(tmp_path, postgres_schema):
    with_password = postgres_settings(postgres_schema, postgres_dsn(password="hunter2"))
    result = run_arcade("db", "upgrade", cwd=site(tmp_path, with_password))
    assert result.returncode == 2
    assert "arcade.toml: store.postgres.dsn: holds a password" in result.stderr
    assert "PGPASSWORD" in result.stderr and "ARCADE_STORE__POSTGRES__DSN" in result.stderr
    assert "hunter2" not in result.stderr


def test_a_dsn_with_its_password_may_come_from_the_environment(tmp_path, postgres_schema):
    folder = site(tmp_path, f'[store]\nplugin = "postgres"\n[store.postgres]\nschema = "{postgres_schema}"\n')
    dsn = postgres_dsn(password="from-the-environment")
    result = run_arcade("db", "upgrade", cwd=folder, env={"ARCADE_STORE__POSTGRES__DSN": dsn})
    assert result.returncode == 0, result.stderr  # the test database trusts loopback: any password does


def test_a_dsn_that_is_not_a_postgresql_uri_is_refused(tmp_path, postgres_schema):
    settings = postgres_settings(postgres_schema).replace(POSTGRES, "host=127.0.0.1 dbname=test")
    result = run_arcade("db", "upgrade", cwd=site(tmp_path, settings))
    assert result.returncode == 2
    assert "store.postgres.dsn: expected a postgresql://user@host:port/database URI" in result.stderr


def test_without_the_driver_the_store_says_which_extra_to_install(tmp_path, postgres_schema):
    no_driver = "import sys; sys.modules['asyncpg'] = None; from arcade.cli import main; sys.exit(main())"
    result = subprocess.run(
        [sys.executable, "-c", no_driver, "db", "upgrade"],
        check=False,
        cwd=site(tmp_path, postgres_settings(postgres_schema)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "the postgres store needs the asyncpg driver" in result.stderr
    assert "pip install 'badge-arcade[postgres]'" in result.stderr


@pytest.mark.parametrize("where", ["a port where nothing listens", "a database that does not exist"])
def test_unreachable_postgresql_at_start_says_what_was_tried_and_what_to_check(tmp_path, where):
    if where == "a port where nothing listens":
        dsn, problem = postgres_dsn(port=free_port()), "Connection refused"
    else:
        dsn = urlunsplit(urlsplit(postgres_dsn())._replace(path="/arcade_no_such_db"))
        problem = 'database "arcade_no_such_db" does not exist'
    result = run_arcade("serve", "--port", str(free_port()), cwd=site(tmp_path, postgres_settings("arcade", dsn)))
    assert result.returncode == 2
    assert f"cannot connect to PostgreSQL at {dsn}: " in result.stderr and problem in result.stderr
    assert "pg_isready" in result.stderr and "[store.postgres] dsn" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_password_from_the_environment_is_never_shown(tmp_path):
    dsn = postgres_dsn(port=free_port(), password="s3cret")
    folder = site(tmp_path, '[store]\nplugin = "postgres"\n')
    result = run_arcade("db", "upgrade", cwd=folder, env={"ARCADE_STORE__POSTGRES__DSN": f"{dsn}?password=s3cret"})
    assert result.returncode == 2 and "cannot connect to PostgreSQL at " in result.stderr
    assert "s3cret" not in result.stderr and ":***@" in result.stderr


# -- what is stored -----------------------------------------------------------------------------


async def test_runs_are_stored_compactly_and_read_back_whole(store, stores):
    run = msgspec.convert(dino_run(3), Run)
    await store.submit_score(POINTS, person("ada"), msgspec.structs.replace(submission(1, "ada-run-1"), run=run))
    (row,) = await sql(f'SELECT run FROM "{stores.schema}".scores')
    assert runs.unpack(row["run"]) == run
    assert len(row["run"]) * 4 < len(msgspec.json.encode(run))


async def test_expired_records_and_counters_are_deleted_at_start(store, stores):
    soon = time.time() + 0.5
    await store.put_record("grant", "g1", {"status": "pending"}, version=0, expires_at=soon)
    await store.put_record("account", "ada", {"name": "Ada"}, version=0)
    await store.add_to_counter("wrong-codes", now=int(time.time()) - 120, window=60)
    await asyncio.sleep(max(0.0, soon - time.time()) + 0.1)
    await stores.reopen(store)
    left = await sql(f'SELECT kind FROM "{stores.schema}".records')
    assert [row["kind"] for row in left] == ["account"]
    assert await sql(f'SELECT key FROM "{stores.schema}".counters') == []


async def test_restoring_a_score_whose_seq_another_score_has_says_so_and_restores_nothing(store, stores):
    await store.submit_score(POINTS, person("ada"), submission(5, "ada-run-1"))
    other = StoredScore(
        game="points",
        player=person("bob").id,
        submission_id="bob-run-1",
        score=9,
        run=submission(9, "x").run,
        seq=1,
        at=datetime.now(UTC),
        best=9,
        rank=1,
        new_best=True,
    )
    bob = StoredPlayer(**msgspec.structs.asdict(person("bob")))
    with pytest.raises(StoreError, match=r"holds other scores than those restored \(Key \(seq\)=\(1\) already"):
        await store.restore([bob, other], [POINTS])
    assert await store.player(bob.id) is None  # the batch is one transaction


# -- reads use the index ------------------------------------------------------------------------

PLAYERS = 100_000


async def test_top_of_board_a_rank_and_around_a_player_read_the_index_not_every_score(store, stores):
    """The plans PostgreSQL picks for the store's reads, on a board of 100,000 players loaded as the
    store keeps them (and analysed, as autovacuum would): none reads every row of a table (the one
    row of ``boards`` aside)."""
    connection = await asyncpg.connect(POSTGRES, server_settings={"search_path": stores.schema})
    try:
        await connection.execute(
            f"""
            INSERT INTO players (id, issuer, subject, name) SELECT 'p' || i, 'https://id.test', 's' || i, 'p' || i
                FROM generate_series(1, {PLAYERS}) AS i;
            INSERT INTO scores (player, submission_id, game, score, ordered, run, best, rank, new_best)
                SELECT 'p' || i, 'run-' || i, 'points', i * 7919 % 50000, -(i * 7919 % 50000), '', 0, 0, true
                FROM generate_series(1, {PLAYERS}) AS i;
            INSERT INTO bests SELECT game, player, ordered, seq, score, at FROM scores;
            """
        )
        for table in ("players", "scores", "bests", "boards", "standings"):
            await connection.execute(f"VACUUM ANALYZE {table}")
        middle = await connection.fetchrow(
            "SELECT player, ordered, seq FROM bests ORDER BY ordered, seq OFFSET $1 LIMIT 1", PLAYERS // 2
        )
        key = (middle["ordered"], middle["seq"])
        reads = {
            "top of the board": ("bests_ranked", store_sql.PAGE_FROM, "points", *store_sql.FIRST, 11),
            "the page after a cursor": ("bests_ranked", store_sql.PAGE_AFTER, "points", *key, 11),
            "the start of the page around a player": ("bests_ranked", store_sql.AROUND_START, "points", *key, 5),
            "the ranks on a page": ("standings", store_sql.BEFORE, "points", *key),
            "a player's rank": ("standings", store_sql.BESTS, middle["player"], ["points"]),
        }
        for read, (index, query, *args) in reads.items():
            plan = "\n".join(row[0] for row in await connection.fetch(f"EXPLAIN {query}", *args))
            assert index in plan and not re.search(r"Seq Scan on (bests|players|scores)", plan), f"{read}:\n{plan}"
    finally:
        await connection.close()
    page = await store.around(POINTS, middle["player"], 5)
    (best,) = await store.player_bests(middle["player"], [POINTS])
    assert (page.players, page.entries[2].player.id, page.entries[2].rank) == (PLAYERS, middle["player"], best.rank)


SCORES, TIES = 100, 200
"""A board of 20,000 players on 100 scores, each held by 200 of them."""


def rows_read(plan: dict) -> int:
    """Rows every scan of a table in an EXPLAIN ANALYZE plan read, those its filter dropped included."""
    read = 0
    if "Relation Name" in plan:
        read = (plan["Actual Rows"] + plan.get("Rows Removed by Filter", 0)) * plan["Actual Loops"]
    return read + sum(rows_read(child) for child in plan.get("Plans", []))


async def test_a_rank_at_the_bottom_reads_a_row_per_better_score_not_per_better_player(store, stores):
    """The last of 20,000 players: their rank and the ranks on the page around them read the 99
    better scores' counts and their ties, not the 19,999 better bests."""
    connection = await asyncpg.connect(POSTGRES, server_settings={"search_path": stores.schema})
    try:
        await connection.execute(
            f"""
            INSERT INTO players (id, issuer, subject, name) SELECT 'p' || i, 'https://id.test', 's' || i, 'p' || i
                FROM generate_series(1, {SCORES * TIES}) AS i;
            INSERT INTO scores (player, submission_id, game, score, ordered, run, best, rank, new_best)
                SELECT 'p' || i, 'run-' || i, 'points', i % {SCORES}, -(i % {SCORES}), '', 0, 0, true
                FROM generate_series(1, {SCORES * TIES}) AS i;
            INSERT INTO bests SELECT game, player, ordered, seq, score, at FROM scores;
            """
        )
        for table in ("players", "scores", "bests", "boards", "standings"):
            await connection.execute(f"VACUUM ANALYZE {table}")
        last = await connection.fetchrow(
            "SELECT player, ordered, seq FROM bests ORDER BY ordered DESC, seq DESC LIMIT 1"
        )
        reads = {
            "a player's rank": (store_sql.BESTS, last["player"], ["points"]),
            "the ranks on a page": (store_sql.BEFORE, "points", last["ordered"], last["seq"]),
        }
        for read, (query, *args) in reads.items():
            (plan,) = json.loads(await connection.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {query}", *args))
            assert rows_read(plan["Plan"]) <= SCORES + TIES, f"{read}:\n{json.dumps(plan, indent=1)}"
    finally:
        await connection.close()
    (best,) = await store.player_bests(last["player"], [POINTS])
    page = await store.around(POINTS, last["player"], 3)
    assert best.rank == page.entries[-1].rank == 1 + (SCORES - 1) * TIES
    assert [entry.player.id for entry in page.entries][-1] == last["player"]
