"""Dino's first cacti can always be cleared at the starting pace by a player whose jump may start
on any tick (the launcher hands a press to the tick it fell in: firmware/hal/presses.py).

Where the cacti are does not depend on the player, so a searching player can follow every choice
of jump ticks at once: the set of states the runner can be in (on the ground, or so many ticks
into a jump) after each tick, less those that hit a cactus. A seed is clearable when the set is
never empty; one way through is then played back with the game's own rules (games/dino/badge.py,
imported as the server's replay imports it) to show it really clears.
"""

from functools import cache

import pytest
from arcade.games.dino import badge as dino

SEEDS = 10_000
FIRST_CACTI = 5
LEFT = (dino.RUNNER_X + dino.RUNNER_HITBOX[0]) * dino.FP
RIGHT = LEFT + dino.RUNNER_HITBOX[1] * dino.FP


class Ghost(dino.Game):
    """The game run without a player: its cacti are every player's; it counts those it spawned."""

    spawned = 0

    def _spawn(self):
        super()._spawn()
        self.spawned += 1

    def passed(self) -> int:
        return self.spawned - sum(x + width * dino.FP > LEFT for x, width, _ in self.cacti)

    def tallest_on_the_runner(self) -> int:
        """The height (in FP) the runner must be above this tick, 0 when no cactus is under it."""
        return max(
            [height * dino.FP for x, width, height in self.cacti if x < RIGHT and x + width * dino.FP > LEFT] or [0]
        )


def jump_heights() -> list[int]:
    """The runner's height on each tick of a jump, from the tick it starts to the one it lands on."""
    game = dino.Game(0)
    game.tick(dino.BUTTON_A)
    heights = [game.height]
    while game.height:
        game.tick(0)
        heights.append(game.height)
    return heights


HEIGHTS = jump_heights()
STATES = len(HEIGHTS)
"""State 0: on the ground; state p: p ticks into a jump (the last one lands, back to 0)."""
AIR = (1 << STATES) - 2


def step(states: int) -> int:
    """Every state one tick on: the ground may stay or jump, a jump goes on or lands."""
    return ((states << 1) & AIR) | (states & 1) | (states >> (STATES - 1) & 1)


@cache
def hit(tallest: int) -> int:
    """The states in which the runner is lower than ``tallest``."""
    return sum(1 << p for p in range(STATES) if ([0] + HEIGHTS[:-1])[p] < tallest) if tallest else 0


def way_through(seed: int, cacti: int) -> list[int] | None:
    """Ticks to jump on that clear the first ``cacti`` cacti of ``seed``, or None when none do."""
    ghost = Ghost(seed)
    sets = [1]
    while ghost.passed() < cacti:
        ghost.tick(0)
        sets.append(step(sets[-1]) & ~hit(ghost.tallest_on_the_runner()))
        if not sets[-1]:
            return None
    jumps, state = [], (sets[-1] & -sets[-1]).bit_length() - 1
    for tick in range(len(sets) - 1, 0, -1):  # back from the end, one state the tick before led here
        if state == 1:
            jumps.append(tick - 1)
            state = 0
        elif state > 1:
            state -= 1
        else:
            state = 0 if sets[tick - 1] & 1 else STATES - 1
    return jumps[::-1]


def plays_through(seed: int, jumps: list[int], ticks: int) -> bool:
    game = dino.Game(seed)
    return all(game.tick(dino.BUTTON_A if tick in jumps else 0) for tick in range(ticks))


@pytest.mark.parametrize("part", range(2))
def test_the_first_cacti_of_every_seed_can_be_cleared_with_a_jump_on_any_tick(part):
    stuck = []
    for seed in range(part * SEEDS // 2, (part + 1) * SEEDS // 2):
        jumps = way_through(seed, FIRST_CACTI)
        if jumps is None or not plays_through(seed, set(jumps), jumps[-1] + STATES + 1):
            stuck.append(seed)
    assert stuck == []


def test_a_jump_only_on_every_fifth_tick_cannot_clear_them_all():
    """The launcher before: after each refresh it ran five ticks at once, so only the first of them
    saw a press. The same search finds seeds such a player cannot clear."""

    def every_fifth(seed):
        ghost, states = Ghost(seed), 1
        while ghost.passed() < FIRST_CACTI and states:
            jump = states & 1 if ghost.ticks % 5 == 1 else 0  # ghost.ticks: this tick's number
            ghost.tick(0)
            states = (((states & ~1) << 1) & AIR | jump << 1 | states & 1 | states >> (STATES - 1) & 1) & ~hit(
                ghost.tallest_on_the_runner()
            )
        return bool(states)

    assert sum(not every_fifth(seed) for seed in range(1000)) > 10
