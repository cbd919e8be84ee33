"""What a time-window board costs to read next to the whole event's, on each store.

An event of 100k scores (10k players, ten scores each) spread over ten days is restored into each
store (``Store.restore``, so the scores keep their times), the store is opened again as a server
starting would, and then the first page of the whole event's board, of one day's and of a two-hour
session's, and the page around a player in each, are read in turn. It prints the median and p99
latency of each and the ratio of each window's to the whole event's, measured in the same run;
for the TinyDB store the first window read after start-up, which reads the ledger once to build
its timeline; for PostgreSQL the query plan of a day's page (EXPLAIN ANALYZE), which reads a range
of the scores_by_time index, not every score.

    .venv/bin/python bench/windows.py [--quick]

BENCH_POSTGRES_DSN names the database (default: the tests'); it gets a schema of its own, dropped after.
"""

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[0] = str(HERE.parent)

import asyncpg  # noqa: E402
from arcade.plugins.store_postgres import store as postgres  # noqa: E402
from arcade.plugins.store_postgres.store import PostgresStore  # noqa: E402
from arcade.plugins.store_tinydb.store import TinyDBStore  # noqa: E402

from arcade.sdk.game import GameInfo  # noqa: E402
from arcade.sdk.models import Run, player_id  # noqa: E402
from arcade.sdk.store import StoredPlayer, StoredScore  # noqa: E402

DSN = os.environ.get("BENCH_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
GAME = GameInfo(id="dino", title="Dino", version="1", package="arcade.games.dino")
RUN = Run(seed=11, inputs=[(tick * 7, tick % 2) for tick in range(40)], ticks=400)
ISSUER = "urn:arcade:builtin"
START = datetime(2026, 12, 1, tzinfo=UTC)
DAYS = 10
READS = 200


def event(scores: int) -> list:
    """Players, then their scores in order of acceptance, evenly over ``DAYS`` days."""
    players = max(scores // 10, 1)
    ids = [player_id(ISSUER, f"p{number}") for number in range(players)]
    items = [
        StoredPlayer(id=ids[number], issuer=ISSUER, subject=f"p{number}", name=f"player {number}")
        for number in range(players)
    ]
    step = timedelta(days=DAYS) / scores
    for seq in range(1, scores + 1):
        score = (seq * 7919) % 100_000
        items.append(
            StoredScore(
                game=GAME.id,
                player=ids[seq % players],
                submission_id=f"run-{seq:08d}",
                score=score,
                run=RUN,
                seq=seq,
                at=START + step * seq,
                best=score,
                rank=1,
                new_best=True,
            )
        )
    return items


async def timed(read, reads: int) -> list[float]:
    times = []
    for _ in range(reads):
        started = time.perf_counter()
        await read()
        times.append((time.perf_counter() - started) * 1000)
    return times


async def measure(name: str, store, someone: str, reads: int) -> None:
    day = (START + timedelta(days=4), START + timedelta(days=5))
    session = (START + timedelta(days=4, hours=9), START + timedelta(days=4, hours=11))
    started = time.perf_counter()
    first = await store.leaderboard_between(GAME, *day, 25)
    cold = (time.perf_counter() - started) * 1000
    boards = {
        "whole event": (lambda: store.leaderboard(GAME, 25), lambda: store.around(GAME, someone, 25)),
        "one day": (
            lambda: store.leaderboard_between(GAME, *day, 25),
            lambda: store.around_between(GAME, *day, someone, 25),
        ),
        "two-hour session": (
            lambda: store.leaderboard_between(GAME, *session, 25),
            lambda: store.around_between(GAME, *session, someone, 25),
        ),
    }
    print(f"\n{name}: first read of a day's board after start-up {cold:,.1f} ms ({first.players:,} players in it)")
    print(f"{'board':<18} {'page median ms':>15} {'p99':>8} {'around median':>14} {'p99':>8} {'page ratio':>11}")
    baseline = None
    for board, (page, around) in boards.items():
        await page(), await around()  # warm
        pages, arounds = await timed(page, reads), await timed(around, reads)
        median = statistics.median(pages)
        baseline = baseline or median
        print(
            f"{board:<18} {median:>15.2f} {_p99(pages):>8.2f} {statistics.median(arounds):>14.2f} "
            f"{_p99(arounds):>8.2f} {median / baseline:>10.1f}x"
        )


def _p99(times: list[float]) -> float:
    return statistics.quantiles(times, n=100)[98]


async def tinydb(items: list, reads: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = TinyDBStore(Path(folder) / "arcade.json")
        await store.start()
        await store.restore(items, [GAME])
        await store.close()
        store = TinyDBStore(Path(folder) / "arcade.json")
        await store.start()
        try:
            await measure(f"TinyDB, {len(items) - len(items) // 11:,} scores", store, items[5].id, reads)
        finally:
            await store.close()


async def postgresql(items: list, reads: int) -> None:
    try:
        connection = await asyncpg.connect(DSN, timeout=5)
    except (OSError, TimeoutError, asyncpg.PostgresError) as error:
        print(f"\nPostgreSQL at {DSN} cannot be reached ({error}): skipped; set BENCH_POSTGRES_DSN")
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    try:
        store = PostgresStore(DSN, schema, 4)
        await store.start()
        await store.restore(items, [GAME])
        await store.close()
        await connection.execute(f'ANALYZE "{schema}".scores')
        store = PostgresStore(DSN, schema, 4)
        await store.start()
        try:
            await measure(f"PostgreSQL, {len(items) - len(items) // 11:,} scores", store, items[5].id, reads)
        finally:
            await store.close()
        await connection.execute(f'SET search_path TO "{schema}"')
        day = (START + timedelta(days=4), START + timedelta(days=5))
        plan = await connection.fetch(
            "EXPLAIN (ANALYZE, BUFFERS) " + postgres.WINDOW_PAGE, GAME.id, *day, *postgres.FIRST, 26
        )
        print("\nPostgreSQL's plan of a day's first page:")
        print("\n".join("  " + row[0] for row in plan))
    finally:
        await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await connection.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k scores and fewer reads, to check it runs")
    args = parser.parse_args()
    scores, reads = (10_000, 20) if args.quick else (100_000, READS)
    items = event(scores)
    print(f"{scores:,} scores of {scores // 10:,} players over {DAYS} days; {reads} reads of each board")
    await tinydb(items, reads)
    await postgresql(items, reads)


if __name__ == "__main__":
    asyncio.run(main())
