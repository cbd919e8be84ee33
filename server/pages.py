"""The leaderboard pages: every game, one game, one player (live), and the event screen."""

import re
from pathlib import Path
from typing import Annotated

from litestar import Controller, Request, Response, get
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, QueryParameter, SkipValidation
from litestar.response import ServerSentEvent, Template

from arcade.platform.assembly import Arcade
from arcade.sdk import budgets
from arcade.sdk.game import GameInfo
from arcade.sdk.store import Store
from arcade.server.avatars import identicon_svg
from arcade.server.board_view import BoardView
from arcade.server.join_code import qr_svg
from arcade.server.live import EVERY_GAME, LiveScores
from arcade.server.pictures import Pictures
from arcade.server.ticker import Ticker
from arcade.server.boards import board_windows, find_archive, find_window, window_board

FAVICON = Path(__file__).parent / "static" / "favicon.svg"
PAGE_SIZE = 50
TOP = 5
SCREEN_ROWS = 10
SCREEN_SECONDS = 20
HASH = re.compile(r"[0-9a-f]{32}")
PICTURE_CACHE = CacheControlHeader(max_age=365 * 86400, public=True, immutable=True)


class PagesController(Controller):
    include_in_schema = False

    @get("/")
    async def index(
        self,
        arcade: NamedDependency[Arcade],
        store: NamedDependency[SkipValidation[Store]],
        view: NamedDependency[BoardView],
        live: NamedDependency[LiveScores],
    ) -> Template:
        boards = []
        for game in arcade.ordered_games():
            board = await store.leaderboard(game, TOP)
            boards.append((game, board, await view.rows(game.id, board.entries)))
        return Template("index.html", context={"boards": boards, "size": TOP, "after": live.last_id})

    @get("/games/{game_id:str}")
    async def game(
        self,
        arcade: NamedDependency[Arcade],
        game: NamedDependency[GameInfo],
        store: NamedDependency[SkipValidation[Store]],
        view: NamedDependency[BoardView],
        live: NamedDependency[LiveScores],
        cursor: FromQuery[str | None] = None,
        window: FromQuery[str | None] = None,
    ) -> Template:
        chosen = await find_window(arcade, store, window)
        board = await window_board(store, game, chosen, PAGE_SIZE, cursor)
        context = {
            "game": game,
            "board": board,
            "rows": await view.rows(game.id, board.entries),
            "first_page": cursor is None,
            "live_board": cursor is None and chosen.start is None,  # only the whole event's first page is live
            "after": live.last_id,
            "size": PAGE_SIZE,
            "window": chosen,
            "windows": await board_windows(arcade, store),
            "archives": await store.archives(game),
        }
        return Template("game.html", context=context)

    @get("/games/{game_id:str}/archives/{archive:int}")
    async def archive(
        self,
        archive: FromPath[int],
        game: NamedDependency[GameInfo],
        store: NamedDependency[SkipValidation[Store]],
        view: NamedDependency[BoardView],
        cursor: FromQuery[str | None] = None,
    ) -> Template:
        """An archived board, browsable as it was, each entry with how its run verified."""
        found = await find_archive(store, game, archive)
        board = await store.archived_board(game, archive, PAGE_SIZE, cursor)
        rows = zip(await view.rows(game.id, board.entries), board.entries, strict=True)
        return Template("archive.html", context={"game": game, "board": board, "rows": rows, "archive": found})

    @get("/games/{game_id:str}/rows")
    async def rows(
        self,
        game: NamedDependency[GameInfo],
        store: NamedDependency[SkipValidation[Store]],
        view: NamedDependency[BoardView],
        size: FromQuery[int] = PAGE_SIZE,
    ) -> Template:
        """A board's first rows, fetched by a live page that missed events (or was refused a stream)."""
        board = await store.leaderboard(game, max(1, min(size, PAGE_SIZE)))
        context = {"game": game, "board": board, "rows": await view.rows(game.id, board.entries)}
        return Template("_rows.html", context=context, headers={"X-Players": str(board.players)})

    @get("/games/{game_id:str}/events")
    async def events(
        self,
        request: Request,
        game: NamedDependency[GameInfo],
        live: NamedDependency[LiveScores],
        after: FromQuery[str | None] = None,
    ) -> ServerSentEvent:
        return ServerSentEvent(live.stream(game.id, budgets.address_of(request), last_event(request, after)))

    @get("/events")
    async def every_game_events(
        self, request: Request, live: NamedDependency[LiveScores], after: FromQuery[str | None] = None
    ) -> ServerSentEvent:
        """Every game's scores: the front page and the event screen."""
        return ServerSentEvent(live.stream(EVERY_GAME, budgets.address_of(request), last_event(request, after)))

    @get("/players/{player:str}")
    async def player(
        self,
        player: FromPath[str],
        arcade: NamedDependency[Arcade],
        store: NamedDependency[SkipValidation[Store]],
        view: NamedDependency[BoardView],
        pictures: NamedDependency[Pictures],
    ) -> Template:
        found = await store.player(player)
        if found is None:
            raise NotFoundException(f"no player {player!r}")
        games = {game.id: game for game in arcade.ordered_games()}
        bests = await store.player_bests(player, list(games.values()))
        picture = await pictures.path(found.id, found.picture)
        context = {"player": found, "picture": picture, "bests": bests, "games": games, "when": view.when}
        return Template("player.html", context=context)

    @get("/favicon.ico", cache_control=CacheControlHeader(max_age=86400))
    async def favicon(self) -> Response[bytes]:
        """Browsers ask here whatever the page says; the answer is the arcade's SVG icon."""
        return Response(FAVICON.read_bytes(), media_type="image/svg+xml")

    @get("/players/{player:str}/avatar.svg", cache_control=CacheControlHeader(max_age=86400))
    async def avatar(self, player: FromPath[str]) -> Response[str]:
        return Response(identicon_svg(player), media_type="image/svg+xml")

    @get("/pictures/{name:str}", cache_control=PICTURE_CACHE)
    async def picture(self, name: FromPath[str], pictures: NamedDependency[Pictures]) -> Response[bytes]:
        """A player's picture as the arcade fetched and redrew it; its name is its content's hash."""
        digest, _, extension = name.partition(".")
        picture = await pictures.served(digest) if extension == "jpg" and HASH.fullmatch(digest) else None
        if picture is None:
            raise NotFoundException(f"no picture {name!r}")
        return Response(picture, media_type="image/jpeg")

    # --- The event screen (issue 12): a kiosk page for the big screen.
    @get("/screen")
    async def screen(
        self,
        arcade: NamedDependency[Arcade],
        store: NamedDependency[SkipValidation[Store]],
        view: NamedDependency[BoardView],
        live: NamedDependency[LiveScores],
        ticker: NamedDependency[Ticker],
        pinned: Annotated[str | None, QueryParameter(name="game")] = None,
        seconds: FromQuery[int] = SCREEN_SECONDS,
    ) -> Template:
        """Every game in turn, ``seconds`` each, or only ``?game=``; the latest scores; how to join."""
        games = arcade.ordered_games()
        if pinned is not None:
            games = [game for game in games if game.id == pinned]
            if not games:
                raise NotFoundException(f"no game {pinned!r} on this arcade; /screen without ?game= shows them all")
        boards = []
        for shown in games:
            board = await store.leaderboard(shown, SCREEN_ROWS)
            boards.append((shown, board, await view.rows(shown.id, board.entries)))
        latest = [
            (arcade.games.get(item.game), await view.row(item.game, 0, item.player, item.score, item.at))
            for item in await ticker.latest()
        ]
        event = arcade.settings.event
        join = event.join_url or join_url(arcade)
        context = {
            "event": event,
            "boards": boards,
            "size": SCREEN_ROWS,
            "latest": [(shown, row) for shown, row in latest if shown is not None],
            "join_url": join,
            "qr": qr_svg(join),
            "seconds": max(5, min(seconds, 600)),
            "after": live.last_id,
            "titles": {shown.id: shown.title for shown in arcade.ordered_games()},
        }
        return Template("screen.html", context=context)


def join_url(arcade: Arcade) -> str:
    """Where a player logs a badge in: the built-in provider's verification page; with another
    provider, whose page the arcade cannot know before a badge asks, the front page (set
    ``[event] join_url`` to the provider's)."""
    public = arcade.settings.public_url
    return f"{public}/device" if arcade.identity.name == "builtin" else public


def last_event(request: Request, after: str | None) -> str | None:
    """The last event a reconnecting page saw (the browser's ``Last-Event-ID``), else the one its HTML was made at."""
    return request.headers.get("last-event-id") or after
