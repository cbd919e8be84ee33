"""Checking a game's determinism: the same runs played by CPython (the server's replays) and by
the MicroPython unix port (the badge) must reach the same scores at the same ticks.

Both interpreters play a batch of runs with the one script arcade/playback.py, in one process
each, so a difference can only come from the interpreters. The unix port computes floats in
64 bits like CPython while the badge has 32, so floats, a clock or an unseeded random are
also looked for in the source (:func:`hazards`).
"""

import ast
import json
import random
import subprocess
import sys
from pathlib import Path

from arcade.badge.build import find_program

PLAYBACK = Path(__file__).with_name("playback.py")
BADGE_HEAP = "166K"
BUTTON_CHOICES = (0, 0, 0, 1, 2, 4, 8, 16)  # mostly one button or none, as people press them


def micropython() -> str:
    return find_program("micropython")


def random_runs(count: int, seed: int = 0, longest: int = 3000) -> list[list]:
    """``count`` runs, ``[seed, ticks, inputs]``, with random seeds and random button changes."""
    rng = random.Random(seed)
    runs = []
    for _ in range(count):
        ticks = rng.randrange(1, longest)
        inputs = []
        tick = rng.randrange(8)
        held = 0
        while tick < ticks:
            buttons = rng.choice(BUTTON_CHOICES) if rng.randrange(8) else rng.randrange(32)
            if buttons != held:
                inputs.append([tick, buttons])
                held = buttons
            tick += rng.randrange(1, 24)
        runs.append([rng.randrange(2**31), ticks, inputs])
    return runs


def play_runs(interpreter: str, folder: Path, runs: list[list]) -> list[list]:
    """Plays ``runs`` of the ``badge.py`` in ``folder``: ``[score, ticks played, over]`` for each."""
    command = [interpreter, str(PLAYBACK), str(folder)]
    if Path(interpreter).name.startswith("micropython"):
        command[1:1] = ["-X", f"heapsize={BADGE_HEAP}"]
    else:
        command[1:1] = ["-B"]  # leave no __pycache__ beside the game
    batch = "".join(json.dumps(run) + "\n" for run in runs)
    result = subprocess.run(command, input=batch, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {result.stderr.strip()}")
    return [json.loads(line) for line in result.stdout.splitlines()]


def disagreements(folder: Path, runs: list[list]) -> list[str]:
    """Where MicroPython and this CPython play the same run differently; empty when they agree."""
    badge = play_runs(micropython(), folder, runs)
    server = play_runs(sys.executable, folder, runs)
    if len(badge) != len(runs) or len(server) != len(runs):
        return [f"played {len(badge)} runs under MicroPython and {len(server)} under CPython, of {len(runs)}"]
    return [
        f"run {run}: MicroPython reached {on_badge}, CPython {on_server}"
        for run, on_badge, on_server in zip(runs, badge, server)
        if on_badge != on_server
    ]


NOT_IN_RULES = {"time", "utime", "random", "urandom", "os", "machine"}


def hazards(source: str) -> list[str]:
    """What in a badge module's source could make the badge and the server disagree."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, float):
            found.append((node.lineno, f"the float {node.value!r}; use integers (fixed point)"))
        elif isinstance(node, (ast.BinOp, ast.AugAssign)) and isinstance(node.op, ast.Div):
            found.append((node.lineno, "/ makes a float; use //"))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "float":
            found.append((node.lineno, "float(); use integers"))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            found += [
                (node.lineno, f"import {name}; take time from ticks, chance from a PRNG seeded in __init__")
                for name in names
                if name.split(".")[0] in NOT_IN_RULES
            ]
    return [f"line {line}: {what}" for line, what in sorted(found)]
