"""What a game plugin registers: the facts the server and the badge need about a game."""

import importlib
from typing import Annotated, Literal

import msgspec

GameId = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{1,31}$")]


class GameInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A game as a plugin registers it with ``register(GameInfo(...))``."""

    id: GameId
    title: str
    version: str
    package: str
    """Import name of the package whose ``badge.py`` is the game's MicroPython module."""
    order: Literal["higher", "lower"] = "higher"
    """Which scores are better: "higher" (points) or "lower" (a time, a number of moves)."""
    unit: str = "points"
    min_score: int = 0
    max_score: int = 1_000_000
    sort_order: int = 100
    """Position in menus and on the front page; smaller comes first."""
    max_ticks: int = 72_000
    """The longest run the server replays, in ticks: an hour at 50 ms a tick by default."""

    def ordered(self, score: int) -> int:
        """A key where smaller is always better, whatever the game's order."""
        return -score if self.order == "higher" else score

    def rules(self) -> type:
        """The ``Game`` class of the package's ``badge.py``: the rules the server replays runs with."""
        return importlib.import_module(f"{self.package}.badge").Game
