'''``arcade new-game NAME``: a new game as its own distribution, ready to install and play.

The folder it writes is what any third-party game is: a ``pyproject.toml`` registering the
plugin under the ``arcade`` entry-point group, a package whose ``__init__.py`` registers the
game and whose ``badge.py`` is its rules, and a test. Once installed (``pip install -e``),
``arcade build`` puts the game on the badge menu and ``arcade serve`` gives it a leaderboard,
with no change anywhere else. The game it starts from is a small working one: guess a number.
'''

import importlib.util
import re
from pathlib import Path
from string import Template

NAME = re.compile(r"^[a-z][a-z0-9_]{1,31}$")


class ScaffoldError(Exception):
    """The game cannot be made as asked; the message says what to change."""


def new_game(name: str, parent: Path, taken: set[str]) -> Path:
    """Writes the distribution ``arcade-game-NAME`` into ``parent``; answers its folder.

    ``taken`` holds the ids of the games already installed.
    """
    if not NAME.match(name):
        raise ScaffoldError(
            f"{name!r} cannot name a game: use 2 to 32 lowercase letters, digits or _, starting with a letter"
        )
    if name in taken:
        raise ScaffoldError(f"a game called {name!r} is installed already; choose another name")
    if importlib.util.find_spec(name) is not None:
        raise ScaffoldError(f"a Python module called {name!r} exists already, so the game's package would clash; choose another name")
    folder = parent / f"arcade-game-{name.replace('_', '-')}"
    if folder.exists():
        raise ScaffoldError(f"{folder} exists already; move it away or choose another name")
    fields = {"name": name, "title": name.replace("_", " ").title(), "distribution": folder.name}
    for path, template in FILES.items():
        target = folder / Template(path).substitute(fields)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(Template(template).substitute(fields))
    return folder


PYPROJECT = """\
[build-system]
requires = ["setuptools>=70.1"]
build-backend = "setuptools.build_meta"

[project]
name = "$distribution"
version = "0.1.0"
description = "$title, a game for Badge Arcade."
requires-python = ">=3.11"
dependencies = ["badge-arcade"]

[project.entry-points.arcade]
$name = "$name"

[tool.setuptools]
packages = ["$name"]
"""

PLUGIN = '''\
"""$title on the server: what the arcade needs to list the game and replay its runs."""

from arcade.games import GameInfo
from arcade.hookspecs import hookimpl

GAME = GameInfo(
    id="$name",
    title="$title",
    version="0.1.0",
    package=__name__,
    order="lower",  # fewer tries is better
    unit="tries",
    min_score=1,
    max_score=99,
    max_ticks=36_000,  # an hour at 100 ms a tick: longer runs are refused
)


@hookimpl
def arcade_register_games(register):
    register(GAME)
'''

BADGE = '''\
"""$title: find the secret number from 1 to 99 in as few tries as you can.

This module is the game's rules. It runs on the badge under MicroPython and on the server
under CPython, which replays every run to check its score; so it keeps to integers, takes
every chance from the PRNG seeded in __init__, and never reads a clock.
"""

TITLE = "$title"

BUTTON_A = 1  # the arcade's button bits
BUTTON_UP = 8
BUTTON_DOWN = 16
LOWEST = 1
HIGHEST = 99


class Random:
    """xorshift32: the same numbers from the same seed on the badge and on the server."""

    def __init__(self, seed):
        self.state = (seed ^ 0x9E3779B9) & 0xFFFFFFFF or 1

    def below(self, n):
        x = self.state
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.state = x
        return x % n


class Game:
    TICK_MS = 100

    def __init__(self, seed):
        self.secret = LOWEST + Random(seed).below(HIGHEST - LOWEST + 1)
        self.guess = (LOWEST + HIGHEST) // 2
        self.score = 0  # tries so far
        self.hint = "UP/DOWN: choose  A: try"
        self.held = 0

    def tick(self, buttons):
        """UP or DOWN held moves the guess a step a tick; A tries it. False once it is right."""
        pressed = buttons & ~self.held
        self.held = buttons
        if buttons & BUTTON_UP:
            self.guess = min(HIGHEST, self.guess + 1)
        elif buttons & BUTTON_DOWN:
            self.guess = max(LOWEST, self.guess - 1)
        if pressed & BUTTON_A:
            self.score += 1
            if self.guess == self.secret:
                self.hint = "Right!"
                return False
            self.hint = "Higher than %d" % self.guess if self.guess < self.secret else "Lower than %d" % self.guess
        return True

    def draw(self, screen):
        """Draws the whole screen; answers the band of rows to refresh (all of them)."""
        screen.set_pen(15)
        screen.clear()
        screen.set_pen(0)
        screen.text(TITLE, 4, 4, 2)
        screen.text(str(self.guess), 4, 36, 6)
        screen.text(self.hint, 4, 92)
        screen.text("tries: %d" % self.score, 4, 110)
        return (0, 128)
'''

TEST = '''\
"""$title's rules, and the badge (MicroPython) and the server (CPython) agreeing on them."""

from pathlib import Path

from arcade.gamecheck import disagreements, hazards, random_runs

from $name.badge import BUTTON_A, BUTTON_DOWN, BUTTON_UP, Game

PACKAGE = Path(__file__).resolve().parent.parent / "$name"


def test_the_right_guess_ends_the_game_and_scores_the_tries():
    game = Game(seed=7)
    button = BUTTON_UP if game.guess < game.secret else BUTTON_DOWN
    while game.guess != game.secret:
        assert game.tick(button)
    assert game.tick(0)
    assert not game.tick(BUTTON_A)
    assert game.score == 1


def test_a_wrong_try_says_which_way_to_go_and_counts():
    game = Game(seed=7)
    for _ in range(100):
        game.tick(BUTTON_DOWN)  # held: down to the lowest guess
    game.tick(0)
    assert game.guess == 1 != game.secret
    assert game.tick(BUTTON_A)
    assert (game.hint, game.score) == ("Higher than 1", 1)


def test_micropython_and_cpython_play_every_run_alike():
    assert disagreements(PACKAGE, random_runs(200)) == []


def test_the_rules_use_no_float_clock_or_unseeded_random():
    assert hazards((PACKAGE / "badge.py").read_text()) == []
'''

FILES = {
    "pyproject.toml": PYPROJECT,
    "$name/__init__.py": PLUGIN,
    "$name/badge.py": BADGE,
    "tests/test_$name.py": TEST,
}
