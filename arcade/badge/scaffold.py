"""``arcade new-game NAME``: a new game as its own distribution, ready to install and play.

The folder it writes is what any third-party game is: a ``pyproject.toml`` registering the
plugin under the ``arcade`` entry-point group, a package whose ``__init__.py`` registers the
game and whose ``badge.py`` is its rules, and a test. Once installed (``pip install -e``),
``arcade build`` puts the game on the badge menu and ``arcade serve`` gives it a leaderboard,
with no change anywhere else. The game it starts from is a small working one: hit the letter shown.
"""

import importlib.util
import re
from pathlib import Path
from string import Template

from arcade.sdk.errors import ArcadeError

NAME = re.compile(r"^[a-z][a-z0-9_]{1,31}$")


class ScaffoldError(ArcadeError):
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
        raise ScaffoldError(
            f"a Python module called {name!r} exists already, so the game's package would clash; choose another name"
        )
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

from arcade.sdk.game import GameInfo
from arcade.sdk.hookspecs import hookimpl

GAME = GameInfo(
    id="$name",
    title="$title",
    version="0.1.0",
    package=__name__,
    order="higher",  # more is better; "lower" for a time or a number of moves
    unit="hits",
    min_score=0,
    max_score=20,
    max_ticks=200,  # the game lasts 20 seconds: a longer run cannot be one of it
)


@hookimpl
def arcade_register_games(register):
    register(GAME)
'''

BADGE = '''\
"""$title: a letter, A, B or C, shows each second; press that button before the next one
for a hit. Twenty letters, one try each.

This module is the game's rules. It runs on the badge under MicroPython and on the server
under CPython, which replays every run to check its score; so it keeps to integers, counts
time in ticks, takes every chance from the PRNG seeded in __init__, and reads no clock.
"""

TITLE = "$title"

BUTTON_A = 1  # the arcade's button bits
BUTTON_B = 2
BUTTON_C = 4
LETTERS = ((BUTTON_A, "A"), (BUTTON_B, "B"), (BUTTON_C, "C"))
ROUNDS = 20
ROUND_TICKS = 10  # a letter a second, at 100 ms a tick


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
        self.random = Random(seed)
        self.score = 0
        self.ticks = 0
        self.held = 0
        self.letter = self.random.below(len(LETTERS))
        self.tried = False

    def tick(self, buttons):
        """A fresh press is the try for this letter. False after the last letter."""
        pressed = buttons & ~self.held
        self.held = buttons
        if pressed and not self.tried:
            self.tried = True
            if pressed == LETTERS[self.letter][0]:
                self.score += 1
        self.ticks += 1
        if self.ticks % ROUND_TICKS == 0:
            if self.ticks == ROUNDS * ROUND_TICKS:
                return False
            self.letter = self.random.below(len(LETTERS))
            self.tried = False
        return True

    def draw(self, screen):
        """Draws the whole screen; answers the band of rows to refresh (all of them)."""
        screen.set_pen(15)
        screen.clear()
        screen.set_pen(0)
        screen.text(TITLE, 4, 4, 2)
        screen.text("hits %d" % self.score, 4, 40, 2)
        screen.text("letter %d of %d" % (min(self.ticks // ROUND_TICKS + 1, ROUNDS), ROUNDS), 4, 110)
        screen.text(LETTERS[self.letter][1], 200, 24, 10)
        return (0, 128)
'''

TEST = '''\
"""$title's rules, and the badge (MicroPython) and the server (CPython) agreeing on them."""

from pathlib import Path

from arcade.scoring.gamecheck import disagreements, hazards, random_runs

from $name.badge import LETTERS, ROUND_TICKS, ROUNDS, Game

PACKAGE = Path(__file__).resolve().parent.parent / "$name"


def wait_for_next_letter(game):
    while True:
        assert game.tick(0)
        if game.ticks % ROUND_TICKS == 0:
            return


def test_the_right_button_is_a_hit_and_a_second_try_is_not():
    game = Game(seed=7)
    right = LETTERS[game.letter][0]
    game.tick(right)
    game.tick(0)
    game.tick(right)
    assert game.score == 1
    wait_for_next_letter(game)
    wrong = LETTERS[(game.letter + 1) % len(LETTERS)][0]
    game.tick(wrong)
    game.tick(0)
    game.tick(LETTERS[game.letter][0])
    assert game.score == 1


def test_the_game_ends_after_the_last_letter():
    game = Game(seed=7)
    assert all(game.tick(0) for _ in range(ROUNDS * ROUND_TICKS - 1))
    assert not game.tick(0)


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
