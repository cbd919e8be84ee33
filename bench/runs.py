"""Dino runs for the benchmark: played by a bot with the game's own rules, so the server's replay accepts them.

The bot jumps every cactus in time until the run has lasted the ticks it was
asked for, then stops jumping and hits the next one. Its runs are as long as a
person's and cost the server the same replay.
"""

import random

import msgspec
from arcade.games.dino.badge import BUTTON_A, FP, RUNNER_HITBOX, RUNNER_X, Game

_FRONT = (RUNNER_X + RUNNER_HITBOX[0] + RUNNER_HITBOX[1]) * FP
_REACTION_TICKS = 4
"""Jump when the next cactus is this many ticks away: clears every cactus at every pace."""


class Recorded(msgspec.Struct, frozen=True):
    score: int
    ticks: int
    run_json: bytes
    """The ``run`` of a score submission: seed, button changes, ticks."""


def play(seed: int, length: int) -> Recorded:
    """Play from ``seed``, jumping in time for ``length`` ticks, until the runner hits a cactus."""
    game = Game(seed)
    inputs = []
    held = ticks = 0
    while True:
        buttons = 0
        if ticks < length and game.height == 0 and not held:
            ahead = [x for x, _, _ in game.cacti if x > _FRONT - RUNNER_HITBOX[1] * FP]
            if ahead and (ahead[0] - _FRONT) // game.speed <= _REACTION_TICKS:
                buttons = BUTTON_A
        if buttons != held:
            inputs.append((ticks, buttons))
            held = buttons
        ticks += 1
        if not game.tick(held):
            run = {"seed": seed, "inputs": inputs, "ticks": ticks}
            return Recorded(score=game.score, ticks=ticks, run_json=msgspec.json.encode(run))


def longest(max_ticks: int, seed: int = 5) -> Recorded:
    """The longest run the bot plays that still ends within ``max_ticks``: the costliest replay the
    server accepts (a run stops short of the last cactus it meets, so a few lengths are tried)."""
    for length in range(max_ticks, 0, -50):
        run = play(seed, length)
        if run.ticks <= max_ticks:
            return run
    raise ValueError(f"no run of seed {seed} ends within {max_ticks} ticks")


def recorded_runs(count: int, shortest: int = 200, longest: int = 1200) -> list[Recorded]:
    """``count`` runs whose lengths spread evenly-at-random between ``shortest`` and ``longest`` ticks."""
    lengths = random.Random(count)
    return [play(seed, lengths.randint(shortest, longest)) for seed in range(1, count + 1)]
