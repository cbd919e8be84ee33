"""What checking a score costs the server, and what each game costs the badge.

1. Replay verification: how many submissions a second CPython can decode *and* replay (the
   server's check), next to decoding alone, for a typical run of each built-in game; and how
   long the longest run each game allows takes to replay (the bound on a forged run).
2. Peak heap: each game's ``.mpy`` (compiled with mpy-cross, as on the badge) playing a
   typical run under the MicroPython unix port in a badge-sized heap, drawing through the
   simulated HAL every few ticks as the launcher does; the live heap after a collection.

    .venv/bin/python bench/replay.py [--quick]
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[0] = str(HERE.parent)  # the project, not bench/, comes first: bench/ would hide `server`

import msgspec  # noqa: E402
from arcade.games.dino import DINO  # noqa: E402
from arcade.games.maze import MAZE  # noqa: E402
from arcade.games.tiles import TILES  # noqa: E402

from arcade.badge.build import find_program  # noqa: E402
from arcade.scoring.replay import RunRefused, replay  # noqa: E402
from arcade.sdk.models import Run, ScoreSubmission  # noqa: E402
from bench.runs import longest, play as dino_play  # noqa: E402
from tests.runs import maze_path, run_of, tiles_moves  # noqa: E402

BADGE_HEAP = "166K"
DRAW_EVERY = 5  # ticks between draws, about what the launcher manages between refreshes
FIRMWARE = HERE.parent / "firmware"

HEAP_PROBE = """
import gc, json, sys
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, sys.argv[2])
every = int(sys.argv[3])
from hal import Badge
screen = Badge()
seed, ticks, inputs = json.loads(sys.stdin.read())
changes = dict((tick, buttons) for tick, buttons in inputs)
import badge
gc.collect()
before = gc.mem_alloc()
game = badge.Game(seed)
starting = gc.mem_alloc() - before
buttons = 0
peak = 0
garbage = 0
for tick in range(ticks):
    buttons = changes.get(tick, buttons)
    last = gc.mem_alloc()
    alive = game.tick(buttons)
    garbage += max(0, gc.mem_alloc() - last)
    if tick % every == 0 or not alive:
        game.draw(screen)
        gc.collect()
        peak = max(peak, gc.mem_alloc())
    if not alive:
        break
del game, badge, sys.modules["badge"]
gc.collect()
print(json.dumps([starting, peak - gc.mem_alloc(), garbage // (tick + 1)]))
"""


def typical_runs() -> dict[str, dict]:
    """A run of each game as a person plays it: a minute of dino, the way through a maze,
    a whole game of 2048 by a simple player."""
    dino = json.loads(dino_play(seed=3, length=1200).run_json)
    return {
        "dino": dino,
        "maze": run_of(maze_path(3), 3),
        "tiles": run_of(tiles_moves(3), 3),
    }


def rate(action, seconds: float) -> float:
    """Calls of ``action`` a second, over about ``seconds``."""
    count, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        action()
        count += 1
    return count / elapsed


def verification(quick: bool) -> None:
    games = {"dino": DINO, "maze": MAZE, "tiles": TILES}
    rounds, seconds = (3, 0.3) if quick else (7, 1.0)
    print("Replay verification, CPython", sys.version.split()[0], f"(median of {rounds} rounds)")
    print(f"{'run':<8}{'ticks':>8}{'inputs':>8}{'decode/s':>12}{'verify/s':>11}{'decode:verify':>15}")
    for name, run in typical_runs().items():
        game = games[name]
        score = replay(game, Run(**run))
        body = msgspec.json.encode({"score": score, "run": run, "submission_id": "bench-run-0001"})

        def decode():
            return msgspec.json.decode(body, type=ScoreSubmission)

        def verify():
            submission = decode()
            assert replay(game, submission.run) == submission.score

        decoded = statistics.median(rate(decode, seconds) for _ in range(rounds))
        verified = statistics.median(rate(verify, seconds) for _ in range(rounds))
        print(
            f"{name:<8}{run['ticks']:>8,}{len(run['inputs']):>8,}{decoded:>12,.0f}{verified:>11,.0f}"
            f"{decoded / verified:>13,.0f}:1"
        )
    print("\nThe longest run each game lets the server replay (its max_ticks), replayed once:")
    longest_runs = {
        "dino": Run(**json.loads(longest(DINO.max_ticks).run_json)),
        "maze": Run(seed=1, ticks=MAZE.max_ticks),  # nobody moves: replayed to the end, then refused
        "tiles": Run(seed=1, ticks=TILES.max_ticks),
    }
    for name, run in longest_runs.items():
        started = time.perf_counter()
        try:
            replay(games[name], run)
        except RunRefused:
            pass
        print(f"{name:<8}{run.ticks:>8,} ticks  {(time.perf_counter() - started) * 1000:,.0f} ms")


def peak_heaps() -> None:
    micropython = find_program("micropython")
    mpy_cross = find_program("mpy-cross")
    games = {"dino": DINO, "maze": MAZE, "tiles": TILES}
    print(f"\nPeak heap on the badge: MicroPython unix port, -X heapsize={BADGE_HEAP}, a draw every {DRAW_EVERY} ticks")
    print(f"{'game':<8}{'.mpy':>9}{'starting':>10}{'peak live':>11}{'per tick':>10}")
    with tempfile.TemporaryDirectory() as folder:
        probe = Path(folder) / "probe.py"
        probe.write_text(HEAP_PROBE)
        for name, run in typical_runs().items():
            module = Path(folder) / name / "badge.mpy"
            module.parent.mkdir()
            source = Path(__import__(games[name].package, fromlist=["badge"]).badge.__file__)
            subprocess.run([mpy_cross, "-o", str(module), str(source)], check=True)
            result = subprocess.run(
                [micropython, "-X", f"heapsize={BADGE_HEAP}", str(probe), str(FIRMWARE), str(module.parent), str(DRAW_EVERY)],
                input=json.dumps([run["seed"], run["ticks"], run["inputs"]]),
                capture_output=True, text=True, check=True,
            )
            starting, peak, per_tick = json.loads(result.stdout.splitlines()[-1])
            print(
                f"{name:<8}{module.stat().st_size:>8,}B{starting / 1024:>8.1f}KB{peak / 1024:>9.1f}KB{per_tick:>9,}B"
            )
    print("starting: allocated by Game(seed), garbage included; peak live: the module and the game's")
    print("state at the draws, after a collection; per tick: allocated by tick() on average")
    print("(this port is 64-bit: objects on the badge are smaller)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter rounds, for a smoke test")
    quick = parser.parse_args().quick
    verification(quick)
    peak_heaps()


if __name__ == "__main__":
    main()
