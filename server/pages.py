"""The leaderboard pages: every game, one game (live), one player."""

from pathlib import Path

from litestar import Controller, Request, Response, get
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, SkipValidation
from litestar.response import ServerSentEvent, Template

from arcade.platform.assembly import Arcade
from arcade.sdk import budgets
from arcade.sdk.game import GameInfo
from arcade.sdk.store import Store
from arcade.server.avatars import identicon_svg
from arcade.server.live import LiveScores

FAVICON = Path(__file__).parent / "static" / "favicon.svg"
PAGE_SIZE = 50
TOP = 3


class PagesController(Controller):
    include_in_schema = False

    @get("/")
    async def index(self, arcade: NamedDependency[Arcade], store: NamedDependency[SkipValidation[Store]]) -> Template:
        boards = [(game, await store.leaderboard(game, TOP)) for game in arcade.ordered_games()]
        return Template("index.html", context={"boards": boards})

    @get("/games/{game_id:str}")
    async def game(
        self,
        game: NamedDependency[GameInfo],
        store: NamedDependency[SkipValidation[Store]],
        cursor: FromQuery[str | None] = None,
    ) -> Template:
        board = await store.leaderboard(game, PAGE_SIZE, cursor)
        return Template("game.html", context={"game": game, "board": board, "first_page": cursor is None})

    @get("/games/{game_id:str}/rows")
    async def rows(self, game: NamedDependency[GameInfo], store: NamedDependency[SkipValidation[Store]]) -> Template:
        """The first page's table rows, fetched by the live page when a score lands."""
        board = await store.leaderboard(game, PAGE_SIZE)
        return Template("_rows.html", context={"game": game, "board": board}, headers={"X-Players": str(board.players)})

    @get("/games/{game_id:str}/events")
    async def events(
        self, request: Request, game: NamedDependency[GameInfo], live: NamedDependency[LiveScores]
    ) -> ServerSentEvent:
        return ServerSentEvent(live.stream(game.id, budgets.address_of(request)))

    @get("/players/{player:str}")
    async def player(
        self, player: FromPath[str], arcade: NamedDependency[Arcade], store: NamedDependency[SkipValidation[Store]]
    ) -> Template:
        found = await store.player(player)
        if found is None:
            raise NotFoundException(f"no player {player!r}")
        games = {game.id: game for game in arcade.ordered_games()}
        bests = await store.player_bests(player, list(games.values()))
        return Template("player.html", context={"player": found, "bests": bests, "games": games})

    @get("/favicon.ico", cache_control=CacheControlHeader(max_age=86400))
    async def favicon(self) -> Response[bytes]:
        """Browsers ask here whatever the page says; the answer is the arcade's SVG icon."""
        return Response(FAVICON.read_bytes(), media_type="image/svg+xml")

    @get("/players/{player:str}/avatar.svg", cache_control=CacheControlHeader(max_age=86400))
    async def avatar(self, player: FromPath[str]) -> Response[str]:
        return Response(identicon_svg(player), media_type="image/svg+xml")
