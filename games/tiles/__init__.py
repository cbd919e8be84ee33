"""2048: merge the tiles; every merge scores the tile it makes."""

from arcade.sdk.game import GameInfo
from arcade.sdk.hookspecs import hookimpl

TILES = GameInfo(
    id="tiles",
    title="2048",
    version="1.0.0",
    package=__name__,
    order="higher",
    unit="points",
    min_score=0,
    max_score=4_000_000,  # more than a 4x4 board can score
    sort_order=30,
    max_ticks=216_000,  # six hours at 100 ms a tick: a long game is slow on e-ink
)


@hookimpl
def arcade_register_games(register):
    register(TILES)
