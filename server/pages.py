"""The leaderboard pages: every game, one game (live), one player."""

from arcade.server.api import find_game
from arcade.server.avatars import identicon_svg
from arcade.server.live import LiveScores
from litestar import Controller, Response, get
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.response import ServerSentEvent, Template

from arcade.platform.assembly import Arcade
from arcade.sdk.store import BadCursor

PAGE_SIZE = 50
TOP = 3


class PagesController(Controller):
    include_in_schema = False

    @get("/")
    async def index(self, arcade: NamedDependency[Arcade]) -> Template:
        boards = [(game, await arcade.store.leaderboard(game, TOP)) for game in arcade.ordered_games()]
        return Template("index.html", context={"boards": boards})

    @get("/games/{game_id:str}")
    async def game(self, game_id: str, arcade: NamedDependency[Arcade], cursor: str | None = None) -> Template:
        game = find_game(arcade, game_id)
        try:
            board = await arcade.store.leaderboard(game, PAGE_SIZE, cursor)
        except BadCursor:
            raise NotFoundException(f"no such page of the {game.title} leaderboard; it starts at /games/{game.id}") from None
        return Template("game.html", context={"game": game, "board": board, "first_page": cursor is None})

    @get("/games/{game_id:str}/rows")
    async def rows(self, game_id: str, arcade: NamedDependency[Arcade]) -> Template:
        """The first page's table rows, fetched by the live page when a score lands."""
        game = find_game(arcade, game_id)
        board = await arcade.store.leaderboard(game, PAGE_SIZE)
        return Template("_rows.html", context={"game": game, "board": board}, headers={"X-Players": str(board.players)})

    @get("/games/{game_id:str}/events")
    async def events(self, game_id: str, arcade: NamedDependency[Arcade], live: NamedDependency[LiveScores]) -> ServerSentEvent:
        find_game(arcade, game_id)
        return ServerSentEvent(live.stream(game_id))

    @get("/players/{player:str}")
    async def player(self, player: str, arcade: NamedDependency[Arcade]) -> Template:
        found = await arcade.store.player(player)
        if found is None:
            raise NotFoundException(f"no player {player!r}")
        games = {game.id: game for game in arcade.ordered_games()}
        bests = await arcade.store.player_bests(player, list(games.values()))
        return Template("player.html", context={"player": found, "bests": bests, "games": games})

    @get("/players/{player:str}/avatar.svg", cache_control=CacheControlHeader(max_age=86400))
    async def avatar(self, player: str) -> Response[str]:
        return Response(identicon_svg(player), media_type="image/svg+xml")
