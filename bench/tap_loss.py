"""How many taps of a given length reach a game, with the press latch and without it.

The simulated badge (``arcade sim``, the real MicroPython unix port at a 96 KB heap) plays Dino
while a script taps A at random moments (gaps of 250-750 ms, on the badge's clock), each tap
lasting ``--lengths`` ms. The game reads the buttons only between its turbo refreshes (250 ms
each), as on a Badger 2040 W. A tap reached the game when the run the badge recorded shows A
going down for it: the launcher records every change of the buttons, whatever the game makes of
it. Taps stop before the first cactus can end the run. ``--no-latch`` is the firmware before
hal/presses.py: only what is held when the buttons are read.

    .venv/bin/python bench/tap_loss.py [--taps 100] [--lengths 60 200] [--seed 1]
"""

import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARCADE = str(Path(sys.executable).parent / "arcade")
TAPPING_MS = 5000
"""Taps end by then after the run starts: the first cactus reaches the runner at about 5.4 s."""


def script(random_gaps: random.Random, length: int) -> tuple[str, int]:
    """A run's script, and how many taps it makes."""
    steps, at, taps = ["speed 1", "wait menu", "pause 100", "press a 60", "wait dino"], 0, 0
    while True:
        gap = random_gaps.randint(250, 750)
        if at + gap + length > TAPPING_MS:
            break
        steps += [f"pause {gap}", f"press a {length}"]
        at += gap + length
        taps += 1
    steps += ["speed 50", "wait result", "exit"]
    return "\n".join(steps) + "\n", taps


def reached(build: Path, folder: Path, text: str, latch: bool) -> int:
    """Plays one run; answers how many times A went down in the run the badge recorded."""
    (folder / "script.txt").write_text(text)
    command = [ARCADE, "sim", "--build", str(build), "--root", str(folder / "flash"), "--server", "http://127.0.0.1:9"]
    command += ["--script", str(folder / "script.txt"), "--heap", "96K", "--timeout", "120"]
    subprocess.run(command + ([] if latch else ["--no-latch"]), check=True, capture_output=True, cwd=folder)
    [queued] = (folder / "flash" / "state" / "queue").glob("*.json")
    inputs = json.loads(queued.read_text())["run"]["inputs"]
    return sum(1 for _, buttons in inputs if buttons & 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--taps", type=int, default=100, help="at least this many taps of each length (default 100)")
    parser.add_argument("--lengths", type=int, nargs="+", default=[60, 200], help="tap lengths in ms (default 60 200)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        build = Path(temporary) / "build"
        subprocess.run([ARCADE, "build", "--out", str(build)], check=True, capture_output=True, cwd=ROOT)
        print(f"{'tap':>6} {'taps':>5} {'lost, latched':>14} {'lost, not latched':>18}")
        for length in args.lengths:
            gaps = random.Random(args.seed * 1000 + length)
            made, got = 0, {True: 0, False: 0}
            run = 0
            while made < args.taps:
                text, taps = script(gaps, length)
                for latch in (True, False):
                    folder = Path(temporary) / f"{length}-{run}-{latch}"
                    folder.mkdir()
                    got[latch] += reached(build, folder, text, latch)
                made += taps
                run += 1
            lost = {latch: 100 * (made - got[latch]) / made for latch in got}
            print(f"{length:>4}ms {made:>5} {lost[True]:>13.1f}% {lost[False]:>17.1f}%", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
