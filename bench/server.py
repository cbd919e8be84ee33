"""How fast the arcade stores scores and answers leaderboards, next to a bare endpoint and the seed's design.

One command starts three servers on loopback ports, each its own uvicorn
process with the same settings: the real ``arcade serve`` (TinyDB store,
built-in identity provider) in a fresh data folder, a bare Litestar JSON
endpoint, and the seed talk's whole-JSON-file design (``baselines.py``). The
arcade is seeded over its own API with one score from each of 10,000 players,
and the seed design's file with the same scores. The same load generator then
measures each target in turn, round after round, and prints the medians and
the ratios arcade/bare and arcade/seed. Every score sent carries a player's
token and a new submission_id, so every request stores a score; the stored
counts are checked against the acknowledged ones at the end.

    .venv/bin/python bench/server.py [--quick]
"""

import argparse
import asyncio
import importlib.util
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Python puts bench/ first on the path of `python bench/server.py`; the project root takes its
# place, so `bench` imports as a package beside the installed arcade.
sys.path[0] = str(HERE.parent)

from arcade.platform import config  # noqa: E402
from arcade.platform.assembly import assemble  # noqa: E402
from bench import http_load  # noqa: E402
from bench.runs import Recorded, recorded_runs  # noqa: E402

ARCADE = Path(sys.executable).with_name("arcade")
HOST = "127.0.0.1"
GAME = "dino"
LEADERBOARD = f"/api/v1/games/{GAME}/leaderboard?limit=10"
RUNS = 64
"""Distinct recorded runs the submissions cycle through."""
MAX_REQUESTS = 1_000_000
"""A bound on any one measurement, far above what a loopback server answers in its time."""


class ScoreRequests:
    """Raw score submissions: the n-th comes from player n mod players, with recorded run n mod runs
    and submission_id n."""

    def __init__(self, tokens: list[str], runs: list[Recorded]):
        self.tokens = tokens
        self.runs = runs
        self.sent = 0

    def __call__(self) -> bytes:
        n = self.sent
        self.sent += 1
        run = self.runs[n % len(self.runs)]
        body = b'{"score":%d,"run":%s,"submission_id":"bench-%010d"}' % (run.score, run.run_json, n)
        return (
            b"POST /api/v1/games/%s/scores HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
        ) % (GAME.encode(), HOST.encode(), self.tokens[n % len(self.tokens)].encode(), len(body), body)


def leaderboard_request() -> bytes:
    return f"GET {LEADERBOARD} HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class Operation:
    name: str
    next_request: Callable[[], bytes]
    expected_status: int


@dataclass
class Target:
    """One server process under test."""

    name: str
    command: list[str]
    site: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    answered: Counter = field(default_factory=Counter)
    """Requests answered as expected, by operation."""

    @property
    def log(self) -> Path:
        return self.site / f"{self.name}.log"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [*self.command, "--port", str(self.port)], cwd=self.site, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} exited at start:\n{self.log.read_text()}")
            try:
                with urllib.request.urlopen(f"http://{HOST}:{self.port}{LEADERBOARD}", timeout=2):
                    return
            except OSError:
                time.sleep(0.1)
        raise SystemExit(f"{self.name} did not answer within a minute:\n{self.log.read_text()}")

    def stop(self) -> None:
        """SIGTERM and wait: the arcade answers what is in flight and closes its store cleanly."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    async def load(self, operation: Operation, *, connections: int, seconds: float, max_requests: int = MAX_REQUESTS):
        result = await http_load.run(
            HOST,
            self.port,
            operation.next_request,
            connections=connections,
            seconds=seconds,
            max_requests=max_requests,
        )
        self.answered[operation.name] += result.statuses[operation.expected_status]
        unexpected = result.unexpected(operation.expected_status)
        if unexpected:
            raise SystemExit(
                f"{self.name} answered {operation.name} with {dict(unexpected)}; its log:\n{self.log.read_text()[-3000:]}"
            )
        return result


def uvicorn_flavour() -> str:
    """What uvicorn's "auto" picks here; it is the same for all three targets."""
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return f"{loop} + {http}"


def prepare_site(site: Path, port: int, players: int, runs: list[Recorded]) -> list[str]:
    """Write the arcade's settings and the seed design's file; mint a token for each player.

    The seed design's file holds what seeding gives the arcade: player i's score is run i's."""
    (site / "arcade.toml").write_text(f"[server]\nport = {port}\n")
    settings = config.load(site / "arcade.toml")
    identity = assemble(settings, data_dir=site / "arcade-data", with_store=False).identity
    subjects = [f"player-{i:05d}" for i in range(players)]
    scores = {subject: [runs[i % len(runs)].score] for i, subject in enumerate(subjects)}
    (site / "seed.json").write_text(json.dumps(scores))
    return [identity.issue_access_token(subject=subject, name=subject) for subject in subjects]


def stored_scores(site: Path) -> tuple[int, int]:
    """Scores in the arcade's ledger and in the seed design's file, read after both stopped."""
    arcade = json.loads((site / "arcade-data" / "arcade.scores.json").read_bytes())
    seed = json.loads((site / "seed.json").read_bytes())
    return len(arcade["scores"]), sum(len(scores) for scores in seed.values())


async def benchmark(args, site: Path, runs: list[Recorded]) -> dict[tuple[str, str], list[float]]:
    arcade_port = free_port()
    tokens = prepare_site(site, arcade_port, args.players, runs)
    submit = Operation("score submission", ScoreRequests(tokens, runs), 201)
    read = Operation("leaderboard read", leaderboard_request, 200)
    baselines = [sys.executable, "-P", str(HERE / "baselines.py")]  # -P: see sys.path above
    targets = [
        Target("arcade", [str(ARCADE), "serve"], site, arcade_port),
        Target("bare", [*baselines, "bare"], site),
        Target("seed", [*baselines, "seed", "--site", str(site)], site),
    ]
    figures: dict[tuple[str, str], list[float]] = {}
    try:
        for target in targets:
            target.start()
        arcade = targets[0]
        seeded = await arcade.load(submit, connections=args.connections, seconds=600, max_requests=args.players)
        if seeded.requests != args.players:
            raise SystemExit(f"seeding stored {seeded.requests} of {args.players} scores within its time")
        print(f"seeded {args.players:,} players in {seeded.seconds:.1f} s", flush=True)
        for target in targets:  # first requests build caches and rankings; not measured
            for operation in (submit, read):
                await target.load(operation, connections=args.connections, seconds=min(0.5, args.seconds))
        for round_number in range(args.rounds):
            turn = round_number % len(targets)  # each target goes first in some round
            order = targets[turn:] + targets[:turn]
            for operation in (submit, read):
                for target in order:
                    result = await target.load(operation, connections=args.connections, seconds=args.seconds)
                    figures.setdefault((target.name, operation.name), []).append(result.per_second)
                    print(
                        f"round {round_number + 1}/{args.rounds}  {operation.name:<17} {target.name:<7}"
                        f"{result.per_second:>10,.0f} req/s",
                        flush=True,
                    )
    finally:
        for target in targets:
            target.stop()
    stored = stored_scores(site)
    # The arcade got all its scores over its API; the seed design's file started with one per player.
    expected = (targets[0].answered[submit.name], args.players + targets[2].answered[submit.name])
    if stored != expected:
        raise SystemExit(f"stored scores (arcade, seed) {stored} differ from the acknowledged ones {expected}")
    print(f"stored scores after the run: arcade {stored[0]:,}, seed design {stored[1]:,}: every acknowledged one")
    return figures


def report(figures: dict[tuple[str, str], list[float]], args, runs: list[Recorded]) -> None:
    ticks = statistics.mean(run.ticks for run in runs)
    print(
        f"\n{args.players:,} players with stored scores; the arcade replays dino runs of {ticks:,.0f} ticks on average\n"
        f"{args.connections} keep-alive connections on loopback; median of {args.rounds} round(s) of {args.seconds:g} s; "
        f"uvicorn on {uvicorn_flavour()}\n"
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: other work lowers the rates more than the ratios"
    )
    print(f"{'':<18}{'arcade':>12}{'bare':>12}{'seed':>12}{'arcade/bare':>14}{'arcade/seed':>14}")
    for operation in ("score submission", "leaderboard read"):
        arcade, bare, seed = (statistics.median(figures[target, operation]) for target in ("arcade", "bare", "seed"))
        print(
            f"{operation:<18}{arcade:>10,.0f}/s{bare:>10,.0f}/s{seed:>10,.0f}/s"
            f"{arcade / bare:>14.2f}{arcade / seed:>14.1f}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--players", type=int, default=10_000, help="players seeded with one score each")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of one measurement")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over all targets; medians are reported")
    parser.add_argument("--connections", type=int, default=32, help="concurrent keep-alive connections")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 200 players, one round of 1 s")
    args = parser.parse_args(argv)
    if args.quick:
        args.players, args.seconds, args.rounds = 200, 1.0, 1
    runs = recorded_runs(RUNS)
    with tempfile.TemporaryDirectory(prefix="arcade-bench-") as folder:
        figures = asyncio.run(benchmark(args, Path(folder), runs))
    report(figures, args, runs)


if __name__ == "__main__":
    main()
