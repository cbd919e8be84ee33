"""The maze: find the way out in as few steps as you can."""

from arcade.sdk.game import GameInfo
from arcade.sdk.hookspecs import hookimpl

MAZE = GameInfo(
    id="maze",
    title="Maze",
    version="1.0.0",
    package=__name__,
    order="lower",
    unit="steps",
    min_score=1,
    max_score=100_000,
    sort_order=20,
    max_ticks=36_000,  # an hour at 100 ms a tick
)


@hookimpl
def arcade_register_games(register):
    register(MAZE)
