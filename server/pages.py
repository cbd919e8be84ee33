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
from arcade.server.boards import board_windows, find_archive, find_window, window_board
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
        arcade: NamedDependency[Arcade],
        game: NamedDependency[GameInfo],
        store: NamedDependency[SkipValidation[Store]],
        cursor: FromQuery[str | None] = None,
        window: FromQuery[str | None] = None,
    ) -> Template:
        chosen = find_window(arcade, window)
        board = await window_board(store, game, chosen, PAGE_SIZE, cursor)
        context = {
            "game": game,
            "board": board,
            "first_page": cursor is None,
            "window": chosen,
            "windows": board_windows(arcade),
            "archives": await store.archives(game),
        }
        return Template("game.html", context=context)

    @get("/games/{game_id:str}/archives/{archive:int}")
    async def archive(
        self,
        archive: FromPath[int],
        game: NamedDependency[GameInfo],
        store: NamedDependency[SkipValidation[Store]],
        cursor: FromQuery[str | None] = None,
    ) -> Template:
        """An archived board, browsable as it was, each entry with how its run verified."""
        found = await find_archive(store, game, archive)
        board = await store.archived_board(game, archive, PAGE_SIZE, cursor)
        return Template("archive.html", context={"game": game, "board": board, "archive": found})

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
