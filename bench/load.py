"""Many badges at once against one real ``arcade serve``: throughput and latency per request, and
nothing acknowledged lost or stored twice (tests/test_load.py is the short form).

Each badge (tests/swarm.py) logs in with the device flow, its person approving on the real
verification pages, polls at the ``interval``, then plays and sends genuine runs of the built-in
games, riding out dropped connections, lost answers and 429s with the same submission_id, while
spectators read the leaderboards. A few badges alone on a fresh server come first: the baseline,
the same requests with nothing else going on. Then ``--badges`` on another fresh server, switched
on over the first third of the run. After each run the server is stopped cleanly, its store is
compared with what the badges were told, and it is started again to show every best.

    .venv/bin/python bench/load.py [--badges 100] [--seconds 90] [--quick]

Exits 1 on any error, or anything acknowledged lost, changed or stored twice.
"""

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[0] = str(HERE.parent)  # `python bench/load.py` imports the project, not bench/ alone

from tests.conftest import RunningServer, free_port, write_config  # noqa: E402
from tests.swarm import Swarm, Timings, check, losses, percentile, stored  # noqa: E402

SETTINGS = "[identity.builtin]\naccess_token_ttl = 120\n"
"""The arcade's defaults, but tokens that need a refresh within the run, as a day's do."""
MAX_BADGES, MAX_SECONDS = 2000, 600
BASELINE_BADGES = 8


def serve(folder: Path) -> RunningServer:
    server = RunningServer(folder=folder, port=free_port())
    write_config(folder, server.url, SETTINGS)
    return server.start()


def run(folder: Path, badges: int, args) -> tuple[Swarm, float, list[str]]:
    """One swarm on a fresh server; answers it, its length and what went wrong."""
    server = serve(folder)
    swarm = Swarm(
        server.url,
        badges=badges,
        seconds=args.seconds,
        ramp=args.seconds / 3,
        spectators=max(2, badges // 20),
        pause=tuple(args.pause),
        reading=tuple(args.reading),
    )
    try:
        elapsed = asyncio.run(swarm.run())
    finally:
        server.stop()
    scores = stored(server.data)
    found = losses(swarm.ledger, scores)
    server.start()
    try:
        shown = check(server.url, scores)
    finally:
        server.stop()
    problems = [*swarm.ledger.errors, *(f"{what}: {keys[:10]}" for what, keys in found.items() if keys), *shown]
    logged = server.log.read_text().splitlines()
    problems += [f"the server logged: {line}" for line in logged if " WARNING " in line or " ERROR " in line]
    print(
        f"{badges} badges, {elapsed:.0f} s: acknowledged {len(swarm.ledger.acknowledged):,}, "
        + ", ".join(f"{what} {len(keys)}" for what, keys in found.items()),
        flush=True,
    )
    return swarm, elapsed, problems


def logged_in(timings: Timings) -> tuple[Timings, float]:
    """The requests sent once the last person had approved, and for how long: the arcade at play,
    the sign-ups (scrypt, a fraction of a second of a core each) over."""
    start = max(sent + seconds for sent, seconds, _ in timings.samples["approve"])
    end = max(sent + seconds for samples in timings.samples.values() for sent, seconds, _ in samples)
    return timings.between(start, end), end - start


def compare(baseline: Timings, loaded: Timings) -> str:
    """p50 and p99 of each request kind under load next to the baseline's, and their ratios."""
    lines = [f"{'request':<14}{'p50 ms':>16}{'ratio':>7}{'p99 ms':>18}{'ratio':>7}   (baseline -> loaded)"]
    for kind in sorted(loaded.samples):
        alone, crowded = baseline.seconds(kind), loaded.seconds(kind)
        if not alone or not crowded:
            continue
        cells = []
        for share in (0.5, 0.99):
            before, after = percentile(alone, share) * 1000, percentile(crowded, share) * 1000
            cells.append(f"{before:>7.1f} ->{after:>7.1f}{after / before:>7.1f}")
        lines.append(f"{kind:<14}{cells[0]:>23}{cells[1]:>25}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--badges", type=int, default=100, help=f"badges at once, at most {MAX_BADGES}")
    parser.add_argument("--seconds", type=float, default=90, help=f"length of each run, at most {MAX_SECONDS}")
    parser.add_argument("--pause", type=float, nargs=2, default=(2.0, 6.0), help="shortest and longest game, s")
    parser.add_argument(
        "--reading", type=float, nargs=2, default=(3.0, 15.0), help="shortest and longest time to scan the QR code, s"
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: 24 badges for 20 s, quick to scan")
    args = parser.parse_args(argv)
    if args.quick:
        args.badges, args.seconds, args.reading = 24, 20.0, (1.0, 3.0)
    if not 1 <= args.badges <= MAX_BADGES or not 0 < args.seconds <= MAX_SECONDS:
        parser.error(f"--badges must be 1 to {MAX_BADGES} and --seconds at most {MAX_SECONDS}")
    with tempfile.TemporaryDirectory(prefix="arcade-load-") as folder:
        alone, _, problems = run(Path(folder) / "baseline", min(BASELINE_BADGES, args.badges), args)
        swarm, elapsed, more = run(Path(folder) / "load", args.badges, args)
    problems += more
    print(
        f"\n{args.badges} badges, games of {args.pause[0]:g} to {args.pause[1]:g} s, for {args.seconds:g} s on loopback; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(swarm.timings.table(elapsed))
    playing, seconds = logged_in(swarm.timings)
    if seconds > 1:
        print(f"\nonce every badge had logged in (the last {seconds:.0f} s):")
        print(playing.table(seconds))
    print("\nfaults ridden out:", ", ".join(f"{what} {count}" for what, count in sorted(swarm.ledger.counts.items())))
    print(f"\nnext to {min(BASELINE_BADGES, args.badges)} badges alone (the baseline):")
    print(compare(alone.timings, swarm.timings))
    for problem in problems[:20]:
        print("problem:", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
