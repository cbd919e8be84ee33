"""The dino runner: jump the cacti, the score grows with the distance run."""

from arcade.sdk.game import GameInfo
from arcade.sdk.hookspecs import hookimpl

DINO = GameInfo(
    id="dino",
    title="Dino",
    version="1.0.0",
    package=__name__,
    order="higher",
    unit="points",
    min_score=0,
    max_score=999_999,
    sort_order=10,
)


@hookimpl
def arcade_register_games(register):
    register(DINO)
