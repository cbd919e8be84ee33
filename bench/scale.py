"""PostgreSQL at a million scores beside TinyDB: submissions with one and two workers, reads, plans.

From one run, on loopback, one player per ten scores throughout, the scores' runs played by a bot
with the game's own rules (``bench/runs.py``):

1. A PostgreSQL schema of its own is filled with a million scores by the bulk path below. First
   the bulk path and the store's own API fill a small board into two schemas, which must come out
   identical, row for row and column for column (the acceptance times aside).
2. The query plans (EXPLAIN ANALYZE) of the top ten, a player's rank and the page around a
   player, for the player in last place: the costliest.
3. Reads over HTTP from a real ``arcade serve``, one request at a time on one keep-alive
   connection: the top ten, a player's rank (``/api/v1/players/{id}``) and the page around them
   (``?around=``), for players drawn at random and for the one in last place; the same from TinyDB
   stores of 10k and 100k scores, filled through the store's API.
4. Score submissions over HTTP, each with a new submission_id, a token from the server it goes to
   and a run that server replays, in alternating rounds: PostgreSQL with one worker and with two,
   and TinyDB at 100k scores with one; the medians, and the ratio of two workers to one.

    .venv/bin/python bench/scale.py [--quick]

The bulk path COPYs the players, then the scores in acceptance order, each with the answer (best,
rank, new best) the store gives when submissions come one at a time, a Fenwick tree of the
players' bests giving each rank; then it keeps each player's best with the store's own statement
for that (the one moving an issuer uses), and runs VACUUM ANALYZE, as autovacuum soon would.
"""

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[0] = str(HERE.parent)  # `bench` imports as a package beside the installed arcade

import asyncpg
import msgspec
from arcade.games.dino import DINO
from arcade.plugins.idp_builtin.addresses import PLAYERS_ISSUER
from arcade.plugins.store_postgres import runs as packed
from arcade.plugins.store_postgres import store as store_sql
from arcade.plugins.store_postgres.store import PostgresStore
from arcade.plugins.store_tinydb.store import TinyDBStore

from arcade.platform import config
from arcade.platform.assembly import assemble
from arcade.sdk.models import Player, Run, ScoreSubmission, player_id
from bench.http_load import exchange
from bench.runs import Recorded, recorded_runs
from bench.server import ARCADE, HOST, Operation, ScoreRequests, Target, free_port, uvicorn_flavour

DSN = os.environ.get("BENCH_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
SPLIT = True
"""Two workers as two ``arcade serve`` processes on two ports sharing the database, the client
splitting the load between them, while ``arcade serve --workers 2`` is not built; False: one
``arcade serve --workers 2``."""
SCORES_PER_PLAYER = 10
RUNS = 1000
"""Distinct recorded runs the scores cycle through: about 700 distinct scores."""
SENDERS = 10_000
"""Players sending scores to each server, in turn: each sends one every few seconds, under the 30
a minute a player may."""
CONNECTIONS = 32
"""Keep-alive connections sending scores, split evenly between the servers of a configuration."""
READ_SECONDS = 30.0
"""A bound on the time one read is measured for; the count asked bounds it first."""
BOARD = f"/api/v1/games/{DINO.id}/leaderboard"
SUBMIT = "score submission"
COMPARED = (
    "SELECT id, issuer, subject, name, picture FROM players ORDER BY id",
    "SELECT seq, player, submission_id, game, score, ordered, run, best, rank, new_best FROM scores ORDER BY seq",
    "SELECT game, player, ordered, seq, score FROM bests ORDER BY game, player",
    "SELECT game, players FROM boards ORDER BY game",
    "SELECT game, ordered, players FROM standings WHERE players > 0 ORDER BY game, ordered",
)
"""What the bulk path must write as the store's API does."""


def person(number: int) -> Player:
    subject = f"player-{number:06d}"
    return Player(id=player_id(PLAYERS_ISSUER, subject), issuer=PLAYERS_ISSUER, subject=subject, name=subject)


def schedule(scores: int) -> list[tuple[int, int]]:
    """Who sends which run, in acceptance order: (player number, run number), the same every time."""
    draw = random.Random(scores)
    players = max(scores // SCORES_PER_PLAYER, 1)
    return [(draw.randrange(players), draw.randrange(RUNS)) for _ in range(scores)]


def last_place(plan: list[tuple[int, int]], runs: list[Recorded]) -> int:
    """The player whose best is worst, and of the bests that bad the last one reached."""
    bests: dict[int, tuple[int, int]] = {}
    for seq, (player, run) in enumerate(plan):
        key = (DINO.ordered(runs[run].score), seq)
        bests[player] = min(bests.get(player, key), key)
    return max(bests, key=bests.__getitem__)


# -- filling the stores ---------------------------------------------------------------------------


class Fenwick:
    """Counts at positions 1..size; the sum of those before a position, in log(size) steps."""

    def __init__(self, size: int):
        self.tree = [0] * (size + 1)

    def add(self, position: int, amount: int) -> None:
        while position < len(self.tree):
            self.tree[position] += amount
            position += position & -position

    def before(self, position: int) -> int:
        total, position = 0, position - 1
        while position:
            total += self.tree[position]
            position -= position & -position
        return total


def answered(plan: list[tuple[int, int]], runs: list[Recorded]):
    """The rows of ``scores`` in acceptance order, each with the answer the store would have given."""
    score_of = {DINO.ordered(run.score): run.score for run in runs}
    orders = sorted(score_of)
    position = {order: index + 1 for index, order in enumerate(orders)}
    stored_runs = [packed.pack(msgspec.json.decode(run.run_json, type=Run)) for run in runs]
    ids = {number: person(number).id for number, _ in plan}
    tree, bests = Fenwick(len(orders)), {}
    for seq, (player, run_number) in enumerate(plan):
        score = runs[run_number].score
        here, best = position[DINO.ordered(score)], bests.get(player)
        new_best = best is None or here < best
        if new_best:
            if best is not None:
                tree.add(best, -1)
            tree.add(here, 1)
            bests[player] = best = here
        best_score, rank = score_of[orders[best - 1]], 1 + tree.before(best)
        yield (
            ids[player],
            f"fill-{seq}",
            DINO.id,
            score,
            DINO.ordered(score),
            stored_runs[run_number],
            best_score,
            rank,
            new_best,
        )


async def bulk_fill(schema: str, plan: list[tuple[int, int]], runs: list[Recorded]) -> None:
    store = PostgresStore(DSN, schema, 1)
    await store.start()  # the store makes its own tables
    await store.close()
    connection = await asyncpg.connect(DSN, server_settings={"search_path": schema})
    try:
        players = [person(number) for number in sorted({number for number, _ in plan})]
        await connection.copy_records_to_table(
            "players",
            records=[(p.id, p.issuer, p.subject, p.name, p.picture) for p in players],
            columns=["id", "issuer", "subject", "name", "picture"],
        )
        await connection.copy_records_to_table(
            "scores",
            records=answered(plan, runs),
            columns=["player", "submission_id", "game", "score", "ordered", "run", "best", "rank", "new_best"],
        )
        await connection.execute(store_sql.RANK_AGAIN, [p.id for p in players])
        for table in ("players", "scores", "bests", "boards"):
            await connection.execute(f"VACUUM ANALYZE {table}")
    finally:
        await connection.close()


async def api_fill(store, plan: list[tuple[int, int]], runs: list[Recorded], batch: int) -> None:
    """Submit the plan's scores through the store's API, ``batch`` at a time."""
    submissions = [msgspec.json.decode(run.run_json, type=Run) for run in runs]
    for start in range(0, len(plan), batch):
        await asyncio.gather(
            *(
                store.submit_score(
                    DINO,
                    person(player),
                    ScoreSubmission(score=runs[run].score, run=submissions[run], submission_id=f"fill-{seq}"),
                )
                for seq, (player, run) in enumerate(plan[start : start + batch], start)
            )
        )


async def check_bulk_path(scores: int, runs: list[Recorded]) -> None:
    """The bulk path and the store's API, one submission at a time, write the same rows."""
    plan = schedule(scores)
    by_api, by_bulk = new_schema(), new_schema()
    try:
        store = PostgresStore(DSN, by_api, 2)
        await store.start()
        try:
            await api_fill(store, plan, runs, batch=1)
        finally:
            await store.close()
        await bulk_fill(by_bulk, plan, runs)
        for query in COMPARED:
            written = [await sql(schema, query) for schema in (by_api, by_bulk)]
            if written[0] != written[1]:
                raise SystemExit(f"the bulk path writes other rows than the store's API: {query}")
    finally:
        for schema in (by_api, by_bulk):
            await drop_schema(schema)


def new_schema() -> str:
    return f"bench_scale_{uuid.uuid4().hex[:12]}"


async def sql(schema: str, query: str, *args) -> list:
    connection = await asyncpg.connect(DSN, server_settings={"search_path": schema})
    try:
        return [tuple(row) for row in await connection.fetch(query, *args)]
    finally:
        await connection.close()


async def drop_schema(schema: str) -> None:
    connection = await asyncpg.connect(DSN)
    try:
        await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await connection.close()


# -- query plans ----------------------------------------------------------------------------------


async def plans(schema: str, last: str) -> list[tuple[str, list[str]]]:
    """EXPLAIN ANALYZE of each statement the store runs for the three reads, as the server calls them
    (a page of 10, one more asked to know whether a next page exists)."""
    key = (await sql(schema, "SELECT ordered, seq FROM bests WHERE game = $1 AND player = $2", DINO.id, last))[0]
    (first,) = await sql(
        schema, "SELECT ordered, seq FROM bests WHERE game = $1 ORDER BY ordered, seq LIMIT 1", DINO.id
    )
    start = (await sql(schema, store_sql.AROUND_START, DINO.id, *key, 4))[0]
    statements = [
        ("top ten: the page", store_sql.PAGE_FROM, (DINO.id, *store_sql.FIRST, 11)),
        ("top ten: the ranks on it", store_sql.BEFORE, (DINO.id, *first)),
        ("rank of the last player", store_sql.BESTS, (last, [DINO.id])),
        ("around the last player: where the page starts", store_sql.AROUND_START, (DINO.id, *key, 4)),
        ("around the last player: the page", store_sql.PAGE_FROM, (DINO.id, *start, 11)),
        ("around the last player: the ranks on it", store_sql.BEFORE, (DINO.id, *start)),
    ]
    return [
        (name, [row[0] for row in await sql(schema, f"EXPLAIN (ANALYZE, BUFFERS) {query}", *args)])
        for name, query, args in statements
    ]


# -- servers and their load ----------------------------------------------------------------------


def serve(folder: Path, store: str = "", workers: int = 1) -> Target:
    """A real ``arcade serve`` in ``folder``, started, on a port of its own."""
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "arcade.toml").write_text(f"[server]\nport = {port}\nscores_per_minute_per_address = 1000000000\n{store}")
    command = [str(ARCADE), "serve", "--log-level", "warning", "--workers", str(workers)]
    target = Target(folder.name, command, folder, port)
    target.start()
    return target


def postgres_table(schema: str) -> str:
    return f'[store]\nplugin = "postgres"\n[store.postgres]\ndsn = "{DSN}"\nschema = "{schema}"\n'


async def senders(target: Target, players: range, runs: list[Recorded]) -> tuple[Target, ScoreRequests]:
    """Players sending scores to ``target``, with tokens signed by its own key for its own address."""
    arcade = assemble(config.load(target.site / "arcade.toml"), data_dir=target.site / "arcade-data")
    subjects = [person(number).subject for number in players]

    if arcade.store.shareable:  # the store holds the keys: read them as one more process does
        await arcade.start()
    try:
        tokens = [arcade.identity.issue_access_token(subject=s, name=s) for s in subjects]
    finally:
        if arcade.store.shareable:
            await arcade.stop()
    return target, ScoreRequests(tokens, runs)


async def submit(configuration: list[tuple[Target, ScoreRequests]], seconds: float) -> float:
    """Scores a second, the connections split between the configuration's servers."""
    results = await asyncio.gather(
        *(
            target.load(
                Operation(SUBMIT, requests, 201), connections=CONNECTIONS // len(configuration), seconds=seconds
            )
            for target, requests in configuration
        )
    )
    return sum(result.requests for result in results) / max(result.seconds for result in results)


async def submissions(configurations: dict, rounds: int, seconds: float) -> dict[tuple[str, int], list[float]]:
    """Each configuration in turn, each going first in some round, after a round that warms them up."""
    rates: dict[tuple[str, int], list[float]] = {key: [] for key in configurations}
    for number in range(rounds + 1):
        keys = list(configurations)
        for column, workers in keys[number % len(keys) :] + keys[: number % len(keys)]:
            rate = await submit(configurations[column, workers], seconds if number else 1.0)
            if number:
                rates[column, workers].append(rate)
                name = f"{column}, {workers} worker{'s' if workers > 1 else ''}"
                print(f"round {number}/{rounds}  {name:<32}{rate:>8,.0f} scores/s", flush=True)
    return rates


async def timed(port: int, paths: list[str]) -> list[float]:
    """Each path asked in turn on one keep-alive connection, for at most READ_SECONDS: the seconds
    each answer took."""
    reader, writer = await asyncio.open_connection(HOST, port)
    took, deadline = [], time.monotonic() + READ_SECONDS
    try:
        for path in paths:
            if time.monotonic() > deadline:
                break
            began = time.perf_counter()
            status, body = await exchange(reader, writer, f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
            took.append(time.perf_counter() - began)
            if status != 200:
                raise SystemExit(f"GET {path} answered {status}: {body[:300]!r}")
    finally:
        writer.close()
    return took


async def reads(target: Target, plan: list[tuple[int, int]], runs: list[Recorded], count: int) -> dict:
    """Latencies of the three reads, for players drawn at random and for the last one."""
    draw = random.Random(len(plan))
    drawn = [person(number).id for number in draw.choices(sorted({number for number, _ in plan}), k=count)]
    last = person(last_place(plan, runs)).id
    paths = {
        "top ten": [f"{BOARD}?limit=10"] * count,
        "rank": [f"/api/v1/players/{who}" for who in drawn],
        "rank, last place": [f"/api/v1/players/{last}"] * max(count // 10, 3),
        "around": [f"{BOARD}?around={who}&limit=10" for who in drawn],
        "around, last place": [f"{BOARD}?around={last}&limit=10"] * max(count // 10, 3),
    }
    for asked in paths.values():  # the first answers build caches and rankings: not measured
        await timed(target.port, asked[:3])
    return {read: await timed(target.port, asked) for read, asked in paths.items()}


# -- the run --------------------------------------------------------------------------------------


def milliseconds(took: list[float], cut: int) -> str:
    return f"{statistics.quantiles(took, n=100, method='inclusive')[cut - 1] * 1000:.1f}"


def table(columns: list[str], latencies: dict[str, dict], rates: dict[str, list[float]], sizes: dict) -> None:
    width = 20
    print("\n" + " " * 30 + "".join(f"{column:>{width}}" for column in columns))
    print(f"{'scores stored':<30}" + "".join(f"{sizes[column]:>{width},}" for column in columns))
    print(f"{'players':<30}" + "".join(f"{sizes[column] // SCORES_PER_PLAYER:>{width},}" for column in columns))
    for read in next(iter(latencies.values())):
        cuts = [("median", 50)] if "last place" in read else [("p50", 50), ("p99", 99)]
        for label, cut in cuts:
            cells = [milliseconds(latencies[column][read], cut) for column in columns]
            print(f"{read + ' ' + label + ' ms':<30}" + "".join(f"{cell:>{width}}" for cell in cells))
    for workers in (1, 2):
        cells = [
            f"{statistics.median(rates[column, workers]):,.0f}" if (column, workers) in rates else "-"
            for column in columns
        ]
        print(
            f"{f'scores/s, {workers} worker' + 's' * (workers > 1):<30}" + "".join(f"{cell:>{width}}" for cell in cells)
        )
    cells = [
        f"x{statistics.median(rates[column, 2]) / statistics.median(rates[column, 1]):.2f}"
        if (column, 2) in rates
        else "-"
        for column in columns
    ]
    print(f"{'2 workers / 1 worker':<30}" + "".join(f"{cell:>{width}}" for cell in cells))


async def benchmark(args, root: Path) -> None:
    runs = recorded_runs(RUNS)
    started = time.perf_counter()
    await check_bulk_path(args.checked, runs)
    print(
        f"the bulk path wrote what the store's API writes, on {args.checked:,} scores ({time.perf_counter() - started:.0f} s)"
    )
    schema, plan = new_schema(), schedule(args.postgres)
    targets: list[Target] = []
    try:
        started = time.perf_counter()
        await bulk_fill(schema, plan, runs)
        print(f"filled PostgreSQL with {len(plan):,} scores by the bulk path in {time.perf_counter() - started:.0f} s")
        last = person(last_place(plan, runs)).id
        print(f"\nquery plans at {len(plan):,} scores, {len(plan) // SCORES_PER_PLAYER:,} players:")
        for name, lines in await plans(schema, last):
            print(f"-- {name}\n" + "\n".join(f"   {line}" for line in lines))

        postgres = f"PostgreSQL {len(plan):,}"
        columns, sizes, latencies, configurations = [postgres], {postgres: len(plan)}, {}, {}
        first = serve(root / "postgres-1", postgres_table(schema))
        targets.append(first)
        latencies[postgres] = await reads(first, plan, runs, args.reads)
        print(f"read PostgreSQL at {len(plan):,} scores", flush=True)
        one = await senders(first, range(SENDERS), runs)
        if SPLIT:
            second = serve(root / "postgres-2", postgres_table(schema))
            two = [one, await senders(second, range(SENDERS, 2 * SENDERS), runs)]
        else:
            second = serve(root / "postgres-workers", postgres_table(schema), workers=2)
            two = [await senders(second, range(SENDERS, 2 * SENDERS), runs)]
        targets.append(second)
        configurations[postgres, 1], configurations[postgres, 2] = [one], two

        for size in args.tinydb:
            column = f"TinyDB {size:,}"
            columns.append(column)
            sizes[column] = size
            folder = root / f"tinydb-{size}"
            store = TinyDBStore(folder / "arcade-data" / "arcade.json")
            (folder / "arcade-data").mkdir(parents=True, mode=0o700)
            await store.start()
            started = time.perf_counter()
            tiny_plan = schedule(size)
            await api_fill(store, tiny_plan, runs, batch=2000)
            await store.close()
            print(
                f"filled TinyDB with {size:,} scores through the store's API in {time.perf_counter() - started:.0f} s"
            )
            target = serve(folder)
            targets.append(target)
            latencies[column] = await reads(target, tiny_plan, runs, args.reads)
            if size == args.tinydb[-1]:
                configurations[column, 1] = [
                    await senders(target, range(min(SENDERS, size // SCORES_PER_PLAYER)), runs)
                ]
            else:
                target.stop()

        print(f"\nscore submissions: {CONNECTIONS} keep-alive connections, {args.rounds} rounds of {args.seconds:g} s")
        rates = await submissions(configurations, args.rounds, args.seconds)
        acknowledged = sum(target.answered[SUBMIT] for target in (first, second))
        (stored,) = await sql(schema, "SELECT count(*) FROM scores")
        if stored[0] != len(plan) + acknowledged:
            raise SystemExit(
                f"PostgreSQL holds {stored[0]:,} scores, not the {len(plan) + acknowledged:,} acknowledged"
            )
        print(f"PostgreSQL holds every acknowledged score: {stored[0]:,}")
    finally:
        for target in targets:
            target.stop()
        await drop_schema(schema)
    two_workers = (
        "two `arcade serve` processes on two ports sharing the database, the client splitting the load"
        if SPLIT
        else "one `arcade serve --workers 2`"
    )
    print(
        f"\n2 workers: {two_workers}; uvicorn on {uvicorn_flavour()}; reads one at a time on one connection, "
        f"{args.reads} of each for players drawn at random; load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores (PostgreSQL, the servers and this client share them)"
    )
    table(columns, latencies, rates, sizes)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: 20k scores on PostgreSQL, short rounds")
    args = parser.parse_args(argv)
    args.postgres, args.tinydb, args.checked = 1_000_000, [10_000, 100_000], 2_000
    args.reads, args.rounds, args.seconds = 300, 5, 5.0
    if args.quick:
        args.postgres, args.tinydb, args.checked = 20_000, [1_000, 5_000], 300
        args.reads, args.rounds, args.seconds = 30, 1, 1.0
    with tempfile.TemporaryDirectory(prefix="arcade-scale-") as folder:
        asyncio.run(benchmark(args, Path(folder)))


if __name__ == "__main__":
    main()
