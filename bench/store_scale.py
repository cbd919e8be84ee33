"""What the embedded store costs as it fills: start-up, memory, folds, and badges polling.

1. Stores of 10k, 100k and 1M scores (one player per ten scores), each with a
   run like a dino run's: each is opened again in a fresh process, which prints
   its start-up time and resident memory, then folds while a timer on its event
   loop records the longest stall. Ratios are against the 10k store.
2. 1,000 badges polling the token endpoint every 5 s (as RFC 8628 badges wait
   for their person) against a real ``arcade serve`` holding 100k scores, next to
   the same against an empty one: latency percentiles and their ratio. Their
   polls are writes (each moves the grant's last poll and a rate counter), so
   the server folds every few seconds throughout.

    .venv/bin/python bench/store_scale.py [--quick]

Targets (issue 10): at 1M scores start-up under 5 s, RSS under 500 MB, no stall
over 100 ms during a fold; 1,000 polling badges answered with p99 under 50 ms
at 100k scores.
"""

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[0] = str(HERE.parent)

from arcade.plugins.store_tinydb.store import TinyDBStore  # noqa: E402
from bench.http_load import exchange  # noqa: E402

from arcade.sdk.game import GameInfo  # noqa: E402
from arcade.sdk.models import Player, Run, ScoreSubmission, player_id  # noqa: E402

ARCADE = Path(sys.executable).with_name("arcade")
GAME = GameInfo(id="dino", title="Dino", version="1", package="arcade.games.dino")
RUN = Run(seed=11, inputs=[(tick * 7, tick % 2) for tick in range(40)], ticks=400)
"""About the size of a real dino run: a jump every seventh tick."""
ISSUER = "urn:arcade:builtin"


def person(number: int) -> Player:
    return Player(id=player_id(ISSUER, f"p{number}"), issuer=ISSUER, subject=f"p{number}", name=f"player {number}")


async def fill(folder: Path, scores: int) -> float:
    """Store ``scores`` scores from ``scores // 10`` players through the store's API; answer the seconds."""
    store = TinyDBStore(folder / "arcade.json")
    await store.start()
    players = [person(number) for number in range(max(scores // 10, 1))]
    started = time.perf_counter()
    for batch in range(0, scores, 2000):
        await asyncio.gather(
            *(
                store.submit_score(
                    GAME, players[n % len(players)], ScoreSubmission(score=n % 977, run=RUN, submission_id=f"s{n}")
                )
                for n in range(batch, min(batch + 2000, scores))
            )
        )
    await store.close()
    return time.perf_counter() - started


OPEN_AND_FOLD = """
import asyncio, json, statistics, sys, time
from arcade.plugins.store_tinydb.store import TinyDBStore
sys.path[0] = {project!r}
from bench.store_scale import GAME, RUN, person
from arcade.sdk.models import ScoreSubmission

def memory():
    fields = dict(line.split(":", 1) for line in open("/proc/self/status"))
    return {{name: int(fields[name].split()[0]) / 1024 for name in ("VmRSS", "VmHWM")}}

async def main():
    started = time.perf_counter()
    store = TinyDBStore({path!r})
    await store.start()
    opened = time.perf_counter() - started
    await store.leaderboard(GAME, 10)  # the ranking is built on first use
    ranked = time.perf_counter() - started
    after_start = memory()
    stalls = []

    async def watch():  # how late a 5 ms timer fires, and when
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.005)
            stalls.append((before, time.perf_counter() - before - 0.005))

    watcher = asyncio.create_task(watch())
    folds = []
    for round in range(3):
        await asyncio.gather(*(
            store.submit_score(GAME, person(n), ScoreSubmission(score=n, run=RUN, submission_id=f"fold-{{round}}-{{n}}"))
            for n in range(500)
        ))
        await asyncio.sleep(0.05)
        began = time.perf_counter()
        await store._fold(store._journal.rotate())
        folds.append((began, time.perf_counter()))
        await asyncio.sleep(0.05)
    watcher.cancel()
    during = [stall for at, stall in stalls if any(start - 0.01 <= at <= end for start, end in folds)]
    await store.close()
    print(json.dumps({{"start": opened, "ranked": ranked, "rss": after_start["VmRSS"], "peak": memory()["VmHWM"],
                      "stall": max(during), "fold": statistics.median(end - start for start, end in folds)}}))

asyncio.run(main())
"""


def open_and_fold(folder: Path) -> dict:
    """Open the store in a fresh process (a restart), rank, fold three times; what it measured."""
    code = OPEN_AND_FOLD.format(project=str(HERE.parent), path=str(folder / "arcade.json"))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def token_poll(device_code: str) -> bytes:
    body = (
        f"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&client_id=badge&device_code={device_code}"
    )
    return (
        f"POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n{body}"
    ).encode()


async def poll_as_badges(port: int, badges: int, seconds: float, interval: float = 5.0) -> list[float]:
    """``badges`` badges, each starting a login and then polling its device code every ``interval``."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def request(payload: bytes) -> tuple[int, bytes]:
        """One request on a connection of its own, as MicroPython's ``requests`` makes them."""
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            return await exchange(reader, writer, payload)
        finally:
            writer.close()

    async def badge():
        form = "client_id=badge"
        status, body = await request(
            f"POST /oauth/device_authorization HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(form)}\r\n\r\n{form}".encode()
        )
        if status != 200:
            raise SystemExit(f"could not start a login: {status} {body[:300]!r}")
        device_code = json.loads(body)["device_code"]
        await asyncio.sleep(random.uniform(0, interval))
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            began = time.perf_counter()
            status, _ = await request(token_poll(device_code))
            latencies.append(time.perf_counter() - began)
            statuses[status] = statuses.get(status, 0) + 1
            await asyncio.sleep(interval - (time.perf_counter() - began))

    await asyncio.gather(*(badge() for _ in range(badges)))
    if set(statuses) != {400}:  # authorization_pending is a 400 (RFC 8628 §3.5)
        raise SystemExit(f"unexpected answers to polls: {statuses}")
    return latencies


def serve(folder: Path, port: int) -> subprocess.Popen:
    (folder / "arcade.toml").write_text(
        f'[server]\npublic_url = "http://127.0.0.1:{port}"\n'
        "[identity.builtin.limits]\ndevice_authorizations_per_minute = 100000\ntoken_requests_per_minute = 100000\n"
    )
    process = subprocess.Popen(
        [str(ARCADE), "serve", "--port", str(port), "--log-level", "warning"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            asyncio.run(asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 1))
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("arcade serve did not start")


def percentiles(latencies: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(latencies, n=100)
    return cuts[49] * 1000, cuts[94] * 1000, cuts[98] * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k and 100k scores only, 200 badges for 15 s")
    args = parser.parse_args()
    sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    badges, seconds = (200, 15.0) if args.quick else (1000, 30.0)
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        print("stored scores  fill s  start s  ranked s  RSS MB  peak MB  fold ms  longest stall ms")
        rows = {}
        for size in sizes:
            folder = root / f"store-{size}" / "arcade-data"
            folder.mkdir(parents=True)
            filled = asyncio.run(fill(folder, size))
            rows[size] = row = open_and_fold(folder)
            print(
                f"{size:>13,}  {filled:>6.1f}  {row['start']:>7.2f}  {row['ranked']:>8.2f}  {row['rss']:>6.0f}  "
                f"{row['peak']:>7.0f}  {row['fold'] * 1000:>7.0f}  {row['stall'] * 1000:>16.1f}"
            )
        base, top = rows[sizes[0]], rows[sizes[-1]]
        print(
            f"ratio {sizes[-1]:,} / {sizes[0]:,}: start-up x{top['ranked'] / base['ranked']:.1f}, "
            f"RSS x{top['rss'] / base['rss']:.1f}, fold x{top['fold'] / base['fold']:.1f}, "
            f"longest stall x{top['stall'] / base['stall']:.1f} for x{sizes[-1] // sizes[0]} the scores"
        )

        print(f"\n{badges} badges polling every 5 s for {seconds:.0f} s   polls   p50 ms  p95 ms  p99 ms")
        results = {}
        for label, data in [("empty store", None), ("100,000 scores", root / "store-100000" / "arcade-data")]:
            folder = root / f"serve-{label.split()[0]}"
            folder.mkdir()
            if data is not None:
                subprocess.run(["cp", "-r", str(data), str(folder / "arcade-data")], check=True)
            port = random.randint(20000, 40000)
            process = serve(folder, port)
            try:
                latencies = asyncio.run(poll_as_badges(port, badges, seconds))
            finally:
                process.terminate()
                process.wait(timeout=60)
            results[label] = p50, p95, p99 = percentiles(latencies)
            print(f"{label:>42}  {len(latencies):>6}  {p50:>6.1f}  {p95:>6.1f}  {p99:>6.1f}")
        ratio = results["100,000 scores"][2] / results["empty store"][2]
        print(f"p99 ratio, 100,000 scores / empty: x{ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
