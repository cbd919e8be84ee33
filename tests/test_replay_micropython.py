"""The badge and the server play every game alike: the same runs, played by the real
MicroPython unix port and by CPython, reach the same scores at the same ticks."""

import sys
from importlib import resources
from pathlib import Path

import pytest

from arcade.platform import loader
from arcade.platform.assembly import collect_games
from arcade.scoring.gamecheck import disagreements, hazards, play_runs, random_runs
from tests.runs import BALLOON_BADGE, balloon_run, dino_run, maze_path, run_of, tiles_moves

GAMES = {game.id: Path(str(resources.files(game.package))) for game in collect_games(loader.load()).values()}
GAMES["balloon"] = BALLOON_BADGE.parent

# Runs that go deep into each game, on top of the random ones that mostly end early.
PLAYED = {
    "dino": dino_run,
    "maze": lambda seed: run_of(maze_path(seed), seed),
    "tiles": lambda seed: run_of(tiles_moves(seed), seed),
    "balloon": lambda seed: balloon_run(seed * 37 % 600),
}


def as_playback(run: dict) -> list:
    return [run["seed"], run["ticks"], run["inputs"]]


@pytest.mark.parametrize("game", sorted(GAMES))
def test_micropython_and_cpython_reach_the_same_score_at_the_same_tick(game):
    runs = random_runs(300, seed=len(game)) + [as_playback(PLAYED[game](seed)) for seed in range(12)]

    assert disagreements(GAMES[game], runs) == []

    reached = play_runs(sys.executable, GAMES[game], runs)
    assert len({score for score, _, _ in reached}) >= 10, "the runs should explore the game, not repeat one end"
    assert any(over for _, _, over in reached)


@pytest.mark.parametrize("game", sorted(GAMES))
def test_no_game_rule_uses_floats_a_clock_or_an_unseeded_random(game):
    """The unix port has 64-bit floats like CPython; the badge has 32, so floats are looked for in the source."""
    assert hazards((GAMES[game] / "badge.py").read_text()) == []


def test_every_game_is_checked():
    assert set(PLAYED) == set(GAMES)
