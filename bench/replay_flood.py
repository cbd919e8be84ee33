"""One player flooding the longest runs the server accepts, and what it costs everyone else.

Players (tests/swarm.py: badges logged in with the device flow) send genuine runs of the built-in
games at a steady pace and spectators read leaderboards, against one real ``arcade serve``. The
run alternates phases without and with a flood, side by side on the same server: in a flood phase
one more player, logged in the same way, keeps ``--flood`` connections each posting the longest
dino run the server accepts (bench/runs.py), a new submission_id each time, never waiting for a
``Retry-After``. The flooder is a process of its own (bench/http_load.py), so its requests do not
slow the players' client. It runs twice, each time on a fresh server: with the shipped settings,
where the player's minute budget of scores stops the flood, and with the minute budgets lifted,
so that only the replay bounds (``replay_workers``, ``replays_waiting``, ``replays_per_player``)
hold it back. It prints the p50 and p99 of the other players' submissions and of the leaderboard
reads without and with the flood, their ratios, and the server's CPU in each phase.

    .venv/bin/python bench/replay_flood.py [--players 48] [--flood 16] [--seconds 8] [--rounds 3] [--quick]
"""

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[0] = str(HERE.parent)  # `python bench/replay_flood.py` imports the project, not bench/ alone

from arcade.games.dino import DINO  # noqa: E402
from arcade.platform import config  # noqa: E402
from arcade.platform.config import ServerSettings  # noqa: E402
from bench import http_load  # noqa: E402
from bench.runs import longest  # noqa: E402
from tests.conftest import RunningServer, free_port, write_config  # noqa: E402
from tests.swarm import Badge, Ledger, Swarm, Timings, percentile  # noqa: E402

HOST = "127.0.0.1"
CONFIGURATIONS = {
    "the shipped settings": "",
    "minute budgets lifted": "scores_per_minute = 100000000\nscores_per_minute_per_address = 100000000\n",
}
"""Each on a fresh server: as an organiser runs it, and with only the replay bounds left to hold the flood back."""
MEASURED = {"score": "other players' submissions", "leaderboard": "leaderboard reads"}
WARM_UP_S = 4.0
"""After the players logged in, before the first phase: their first requests build caches, the
flooder's process starts."""
SETTLE_S = 0.5
"""Left out at the start of each phase: the answers to the flood's last requests are still coming."""
MAX_SECONDS = 3600


def flood(port: int, token: str, connections: int, windows: list[tuple[float, float]]) -> Counter:
    """The flooder's process: in each window (time.monotonic, which every process of this machine
    shares), ``connections`` connections each send the longest run, again and again."""
    run = longest(DINO.max_ticks)
    sent = 0

    def next_request() -> bytes:
        nonlocal sent
        sent += 1
        body = b'{"score":%d,"run":%s,"submission_id":"flood-%010d"}' % (run.score, run.run_json, sent)
        return (
            b"POST /api/v1/games/dino/scores HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
        ) % (HOST.encode(), token.encode(), len(body), body)

    answered = Counter()
    for start, end in windows:
        time.sleep(max(0.0, start - time.monotonic()))
        flooding = http_load.run(
            HOST, port, next_request, connections=connections, seconds=end - time.monotonic(), max_requests=10**7
        )
        answered += asyncio.run(flooding).statuses
    return answered


def cpu_seconds(pid: int) -> float:
    """The CPU time a process has used so far, its threads' included (Linux's /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def cpu_shares(pid: int, phases: list[tuple[str, float, float]]) -> list[float]:
    """The share of one core the process used in each phase."""
    shares = []
    for _, start, end in phases:
        await asyncio.sleep(max(0.0, start - time.monotonic()))
        used = cpu_seconds(pid)
        await asyncio.sleep(max(0.0, end - time.monotonic()))
        shares.append((cpu_seconds(pid) - used) / (end - start))
    return shares


async def measure(server: RunningServer, args) -> tuple[list[tuple[str, Timings, float]], Counter]:
    """The players' timings cut into phases with the server's CPU share in each, and what the
    flooder was answered."""
    ledger = Ledger()
    flooder = Badge(server.url, args.players, Timings(), ledger, pause=(0, 0), reading=(0.5, 1.0), lose=0)
    await flooder.log_in()
    await flooder.close()
    swarm = Swarm(
        server.url,
        badges=args.players,
        seconds=MAX_SECONDS,  # ended when the phases are over
        ramp=1.0,
        spectators=args.spectators,
        pause=tuple(args.pause),
        reading=(0.5, 1.0),
        lose=0,
        ledger=ledger,
    )
    players = asyncio.create_task(swarm.run())
    while swarm.timings.statuses("poll")[200] < args.players:  # until every player has logged in
        if players.done():
            players.result()
        await asyncio.sleep(0.1)
    first = time.monotonic() + WARM_UP_S
    phases = [
        ("flood" if number % 2 else "baseline", first + number * args.seconds, first + (number + 1) * args.seconds)
        for number in range(2 * args.rounds)
    ]
    windows = [(start, end) for kind, start, end in phases if kind == "flood"]
    flooding = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--flooder", str(server.port), flooder.tokens["access_token"], str(args.flood),
        json.dumps(windows), stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    shares, (output, _) = await asyncio.gather(cpu_shares(server.process.pid, phases), flooding.communicate())
    players.cancel()
    await asyncio.gather(players, return_exceptions=True)
    if flooding.returncode or ledger.errors:
        raise SystemExit("the flooder failed, or the players met errors:\n" + "\n".join(ledger.errors[:20]))
    cut = [
        (kind, swarm.timings.between(start + SETTLE_S, end), share)
        for (kind, start, end), share in zip(phases, shares, strict=True)
    ]
    return cut, Counter({int(status): count for status, count in json.loads(output).items()})


def report(name: str, phases: list[tuple[str, Timings, float]], flooded: Counter, limits: ServerSettings, args) -> None:
    merged = {kind: Timings() for kind in ("baseline", "flood")}
    cpu = {kind: [] for kind in merged}
    for kind, timings, share in phases:
        cpu[kind].append(share)
        for request, samples in timings.samples.items():
            merged[kind].samples[request] += samples
    print(
        f"\n{name}: scores_per_minute {limits.scores_per_minute:,}, per address {limits.scores_per_minute_per_address:,}"
    )
    print(
        f"{args.players} players (games of {args.pause[0]:g} to {args.pause[1]:g} s), {args.spectators} spectators; "
        f"{args.rounds} rounds of {args.seconds:g} s without and with the flood; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(
        f"flood: one player, {args.flood} connections of dino runs of {longest(DINO.max_ticks).ticks:,} ticks; replay_workers "
        f"{limits.replay_workers}, replays_waiting {limits.replays_waiting}, replays_per_player "
        f"{limits.replays_per_player}"
    )
    print(f"{'':<28}{'count':>13}{'p50 ms':>22}{'p99 ms':>22}")
    print(f"{'':<28}{'base':>6}{'flood':>7}{'base':>8}{'flood':>7}{'ratio':>7}{'base':>8}{'flood':>7}{'ratio':>7}")
    for request, label in MEASURED.items():
        alone, flooding = merged["baseline"].seconds(request), merged["flood"].seconds(request)
        cells = [f"{len(alone):>6}{len(flooding):>7}"]
        for share in (0.5, 0.99):
            before, after = percentile(alone, share) * 1000, percentile(flooding, share) * 1000
            cells.append(f"{before:>8.1f}{after:>7.1f}{after / before:>7.1f}")
        print(f"{label:<28}{''.join(cells)}")
        statuses = Counter(merged["baseline"].statuses(request)) + Counter(merged["flood"].statuses(request))
        if set(statuses) - {200, 201}:
            print(f"  answered {dict(statuses)}")
    print(
        "the server's CPU, share of one core: "
        + ", ".join(f"{kind} {sum(shares) / len(shares):.0%}" for kind, shares in cpu.items())
    )
    answers = ", ".join(f"{status} x{count:,}" for status, count in sorted(flooded.items()))
    rate = sum(flooded.values()) / (args.rounds * args.seconds)
    print(f"the flooder's requests ({rate:,.0f} a second) were answered: {answers}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--players", type=int, default=48, help="players sending normal runs")
    parser.add_argument("--spectators", type=int, default=4, help="leaderboard readers")
    parser.add_argument(
        "--pause",
        type=float,
        nargs=2,
        default=(2.0, 4.0),
        help="a player's shortest and longest game, within the budget",
    )
    parser.add_argument("--flood", type=int, default=16, help="the flooder's connections")
    parser.add_argument("--seconds", type=float, default=8.0, help="length of one phase")
    parser.add_argument("--rounds", type=int, default=3, help="pairs of phases, without and with the flood")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 8 players, one round of 3 s phases")
    parser.add_argument("--flooder", nargs=4, help=argparse.SUPPRESS)  # port, token, connections, windows
    args = parser.parse_args(argv)
    if args.flooder:
        port, token, connections, windows = args.flooder
        print(json.dumps(flood(int(port), token, int(connections), json.loads(windows))))
        return
    if args.quick:
        args.players, args.seconds, args.rounds = 8, 3.0, 1
    if not (1 <= args.players <= 500 and 1 <= args.flood <= 256 and 0 < args.seconds <= 60 and 1 <= args.rounds <= 10):
        parser.error("bounded: at most 500 players, 256 flood connections, 10 rounds of 60 s phases")
    for name, settings in CONFIGURATIONS.items():
        with tempfile.TemporaryDirectory(prefix="arcade-flood-") as folder:
            server = RunningServer(folder=Path(folder) / "site", port=free_port(), args=("--log-level", "warning"))
            write_config(server.folder, server.url, settings)
            server.start()
            try:
                phases, flooded = asyncio.run(measure(server, args))
            finally:
                server.stop()
            limits = config.load(server.config).server  # with ARCADE_SERVER__* from the environment, as served
        report(name, phases, flooded, limits, args)


if __name__ == "__main__":
    main()
