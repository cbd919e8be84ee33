"""Genuine runs of the games, made with each game's own rules: what a badge would send.

A run is the API's JSON: ``{"seed": ..., "inputs": [[tick, buttons], ...], "ticks": ...}``,
with the buttons changing only at the listed ticks, as the launcher records it.
"""

import copy
import importlib.util
import itertools
from collections import deque
from functools import cache
from pathlib import Path

from arcade.games.dino import badge as dino
from arcade.games.maze import badge as maze
from arcade.games.tiles import badge as tiles

BALLOON_BADGE = Path(__file__).parent / "fixtures" / "arcade-game-balloon" / "balloon" / "badge.py"
A, B, C, UP, DOWN = 1, 2, 4, 8, 16


@cache
def balloon_rules():
    """The third-party Balloon's badge module, read from its source in tests/fixtures."""
    spec = importlib.util.spec_from_file_location("balloon_badge", BALLOON_BADGE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def balloon_run(score: int) -> dict:
    """A Balloon run that banks ``score`` pumps: the first seed whose balloon lasts that long."""
    for seed in itertools.count(1):
        game = balloon_rules().Game(seed)
        if all(game.tick(A) for _ in range(score)):
            inputs = ([[0, A]] if score else []) + [[score, B]]
            return {"seed": seed, "inputs": inputs, "ticks": score + 1}


def presses(buttons: list[int], start: int = 0) -> tuple[list[list[int]], int]:
    """Each button pressed for one tick and released for one: (inputs, ticks used)."""
    inputs = []
    for number, button in enumerate(buttons):
        inputs += [[start + 2 * number, button], [start + 2 * number + 1, 0]]
    return inputs, start + 2 * len(buttons)


def run_of(buttons: list[int], seed: int) -> dict:
    """A run pressing ``buttons`` one after the other, the last press ending the game."""
    inputs, ticks = presses(buttons)
    return {"seed": seed, "inputs": inputs[:-1], "ticks": ticks - 1}


def maze_ways(walls: bytes, cell: int):
    """The cells one step from ``cell`` in a maze, each with the button that goes there."""
    cols = maze.COLS
    x = cell % cols
    if x < cols - 1 and not walls[cell] & maze.EAST:
        yield cell + 1, C
    if x and not walls[cell - 1] & maze.EAST:
        yield cell - 1, A
    if cell + cols < maze.CELLS and not walls[cell] & maze.SOUTH:
        yield cell + cols, DOWN
    if cell >= cols and not walls[cell - cols] & maze.SOUTH:
        yield cell - cols, UP


def maze_routes(walls: bytes) -> dict:
    """Breadth first from the start: for each cell reached, the cell before it and the button."""
    came = {0: None}
    queue = deque([0])
    while queue:
        cell = queue.popleft()
        for near, button in maze_ways(walls, cell):
            if near not in came:
                came[near] = (cell, button)
                queue.append(near)
    return came


def maze_path(seed: int) -> list[int]:
    """The buttons of the shortest way through the maze of ``seed``."""
    return maze_way_out(maze.Game(seed).walls)


def maze_way_out(walls: bytes) -> list[int]:
    """The buttons of the shortest way from the top-left cell of a maze to its exit."""
    came = maze_routes(walls)
    path = []
    cell = maze.EXIT
    while came[cell]:
        cell, button = came[cell]
        path.append(button)
    return path[::-1]


def tiles_moves(seed: int, limit: int = 10_000) -> list[int]:
    """A whole game of 2048 by a simple player: the first of up, left, right, down that moves."""
    game = tiles.Game(seed)
    moves = []
    while len(moves) < limit:
        for move in (UP, A, C, DOWN):
            before = bytes(game.cells)
            if not game.tick(move):
                return moves + [move]
            game.tick(0)
            if bytes(game.cells) != before:
                moves.append(move)
                break
    raise AssertionError(f"2048 with seed {seed} still goes on after {limit} moves")


def dino_run(seed: int, longest: int = 3000) -> dict:
    """A dino run by a player who jumps when a cactus is about to hit and a jump clears it;
    they still fail once the pace is high enough (or at ``longest`` ticks, unfinished)."""

    def hit_within(game, ticks: int, buttons: int) -> bool:
        future = copy.deepcopy(game)
        return not all(future.tick(buttons if tick == 0 else 0) for tick in range(ticks))

    game = dino.Game(seed)
    inputs, held = [], 0
    for tick in range(longest):
        jump = not held and not game.height and hit_within(game, 14, 0) and not hit_within(game, 40, A)
        if jump != bool(held):
            held = A if jump else 0
            inputs.append([tick, held])
        if not game.tick(held):
            return {"seed": seed, "inputs": inputs, "ticks": tick + 1}
    return {"seed": seed, "inputs": inputs, "ticks": longest}
