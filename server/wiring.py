"""What handlers are given: the arcade's parts as Litestar dependencies, and the guards.

Handlers name what they need (``store``, ``identity``, ``game``, ``live``, ``replays``, ``catalog``) and never reach
into ``app.state``; :func:`dependencies` is the one place they are provided.
"""

import time

from litestar.connection import ASGIConnection
from litestar.di import Provide
from litestar.exceptions import NotFoundException
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath

from arcade.platform.assembly import Arcade
from arcade.scoring.replay import Replays
from arcade.sdk import budgets
from arcade.sdk.budgets import Budget, TooManyAttempts
from arcade.sdk.game import GameInfo
from arcade.sdk.models import player_id
from arcade.server.live import LiveScores


def find_game(arcade: Arcade, game_id: str) -> GameInfo:
    game = arcade.games.get(game_id)
    if game is None:
        raise NotFoundException(f"no game {game_id!r} on this arcade; GET /api/v1/games lists them")
    return game


async def game_exists(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Guard: an unknown game is a 404 before the token or the body is looked at."""
    find_game(connection.app.state.arcade, connection.path_params["game_id"])


async def plain_path(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Guard of the static files: a NUL byte names no file (the file system refuses to look)."""
    if "\x00" in connection.url.path:
        raise NotFoundException("no such file")


async def submission_budget(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Guard after the token's: a player, and a client address, may send only so many scores a
    minute (429 with ``Retry-After`` beyond), counted in the store so every process agrees."""
    arcade: Arcade = connection.app.state.arcade
    principal = connection.scope["user"]
    limits = arcade.settings.server
    player = player_id(principal.issuer, principal.subject)
    try:
        await budgets.spend(
            arcade.store,
            int(time.time()),
            Budget(f"scores:{player}", limits.scores_per_minute, budgets.MINUTE),
            Budget(
                f"scores-from:{budgets.address_of(connection)}", limits.scores_per_minute_per_address, budgets.MINUTE
            ),
        )
    except TooManyAttempts as error:
        raise TooManyAttempts(error.retry_after, "too many scores sent in a minute; keep this one and send it later")


def dependencies(arcade: Arcade, live: LiveScores, replays: Replays, **parts) -> dict[str, Provide]:
    """``parts``: the pages' helpers by name (``catalog``, ``pictures``, ``view``, ``ticker``)."""

    def provide_game(game_id: FromPath[str]) -> GameInfo:
        return find_game(arcade, game_id)

    def constant(value):
        return Provide(lambda: value, use_cache=True, sync_to_thread=False)

    return {
        "arcade": constant(arcade),
        "store": constant(arcade.store),
        "identity": constant(arcade.identity),
        "live": constant(live),
        "replays": constant(replays),
        "game": Provide(provide_game, sync_to_thread=False),
        **{name: constant(part) for name, part in parts.items()},
    }
