"""The boards beyond the live one, in the v1 API: time windows, archived boards, and board files.

An unknown window is a 404 that names the known ones, so a mistyped ``?window=`` says what to type.
A board file (CSV or JSON, ``arcade.platform.board_files``) is streamed a page of the store at a
time, so a board of any size costs the server the same memory.
"""

from datetime import UTC, datetime
from typing import Annotated, Literal

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromQuery, PathParameter, QueryParameter, SkipValidation
from litestar.response import Stream

from arcade.platform import admin_windows, board_files
from arcade.platform.assembly import Arcade
from arcade.platform.windows import Window, Windows
from arcade.sdk.game import GameInfo
from arcade.sdk.models import LeaderboardPage
from arcade.sdk.store import Archive, Store
from arcade.sdk.web import errors
from arcade.server.errors import NoBadRequest, invalid
from arcade.server.wiring import game_exists

MAX_PAGE = 100
NO_GAME = "no game with this id (GET /api/v1/games lists them)"
NOT_EXPORTED = "no game with this id, no time window with this id (the answer lists them), or no such archived board"
EXPORT_REFUSED = "the archive number is out of range, or both window and archive were given"
MAX_ARCHIVE = 2**62


class BoardWindow(msgspec.Struct, kw_only=True):
    """A time-window board of the event; ``start`` and ``end`` are absent for the whole event."""

    id: str
    title: str
    kind: Literal["event", "day", "session"]
    start: datetime | None = None
    end: datetime | None = None
    state: Literal["upcoming", "open", "ended"]
    """An ended window is archived: it stays browsable, and no new score joins it."""
    source: Literal["config", "admin"] = "config"
    """Set in arcade.toml's ``[event]``, or by an admin on the admin pages."""


async def event_windows(arcade: Arcade, store: Store) -> Windows:
    """The windows of ``[event]`` and the sessions admins added (``arcade.platform.admin_windows``)."""
    return await admin_windows.event_windows(arcade.settings.windows, store)


async def find_window(arcade: Arcade, store: Store, window_id: str | None) -> Window:
    """The window asked for (none: the whole event); unknown is a 404 listing the known ones."""
    windows = await event_windows(arcade, store)
    found = windows.get(window_id)
    if found is None:
        raise NotFoundException(f"no window {window_id!r}; the windows are: {', '.join(windows.ids())}")
    return found


async def board_windows(arcade: Arcade, store: Store) -> list[BoardWindow]:
    now = datetime.now(UTC)
    return [
        BoardWindow(
            id=window.id,
            title=window.title,
            kind=window.kind,
            start=window.start,
            end=window.end,
            state=window.state(now),
            source=window.source,
        )
        for window in await event_windows(arcade, store)
    ]


async def find_archive(store: Store, game: GameInfo, archive_id: int) -> Archive:
    found = next((archive for archive in await store.archives(game) if archive.id == archive_id), None)
    if found is None:
        raise NotFoundException(f"{game.id} has no archived board {archive_id} (GET .../archives lists them)")
    return found


async def window_board(
    store: Store, game: GameInfo, window: Window, limit: int, cursor: str | None = None, around: str | None = None
) -> LeaderboardPage:
    """A page of the window's board, or the page around a player."""
    if window.start is None:
        if around is not None:
            return await store.around(game, around, limit)
        return await store.leaderboard(game, limit, cursor)
    if around is not None:
        return await store.around_between(game, window.start, window.end, around, limit)
    return await store.leaderboard_between(game, window.start, window.end, limit, cursor)


def board_file_route(kind: Literal["csv", "json"], media_type: str, description: str):
    """``GET .../board.csv`` or ``.../board.json``: one handler shape, the file's kind its only difference."""

    async def handler(
        self,
        arcade: NamedDependency[Arcade],
        game: NamedDependency[GameInfo],
        store: NamedDependency[SkipValidation[Store]],
        window: FromQuery[str | None] = None,
        archive: Annotated[int | None, QueryParameter(ge=1, le=MAX_ARCHIVE)] = None,
    ) -> Stream:
        return await board_file(arcade, store, game, window, archive, kind)

    handler.__name__ = handler.__qualname__ = f"board_{kind}"  # the operationId it always had
    handler.__doc__ = (
        f"The board of the event, a window or an archive as {kind.upper()}, each entry with its verification"
        + ("; text cells a spreadsheet would run as a formula start with ``'``." if kind == "csv" else ".")
    )
    return get(
        f"/board.{kind}",
        media_type=media_type,
        operation_class=NoBadRequest,
        responses=errors({404: NOT_EXPORTED, 422: EXPORT_REFUSED}),
        response_description=description,
    )(handler)


class BoardsController(Controller):
    path = "/api/v1/games/{game_id:str}"
    tags = ["api"]
    guards = [game_exists]

    @get("/windows", responses=errors({404: NO_GAME}))
    async def windows(
        self, arcade: NamedDependency[Arcade], store: NamedDependency[SkipValidation[Store]]
    ) -> list[BoardWindow]:
        """The event's time-window boards (``[event]`` of arcade.toml, and the sessions admins added);
        pass an id as ``window=``."""
        return await board_windows(arcade, store)

    @get("/archives", operation_class=NoBadRequest, responses=errors({404: NO_GAME}))
    async def archives(
        self, game: NamedDependency[GameInfo], store: NamedDependency[SkipValidation[Store]]
    ) -> list[Archive]:
        """The game's archived boards, oldest first: each is the board as a re-adjudication found it."""
        return await store.archives(game)

    @get(
        "/archives/{archive:int}",
        operation_class=NoBadRequest,
        responses=errors(
            {
                404: "no game with this id, or no archived board with this number",
                422: "the number, limit or cursor is out of range or was not handed out",
            }
        ),
    )
    async def archived_board(
        self,
        archive: Annotated[int, PathParameter(ge=1, le=MAX_ARCHIVE)],
        game: NamedDependency[GameInfo],
        store: NamedDependency[SkipValidation[Store]],
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 25,
        cursor: FromQuery[str | None] = None,
    ) -> LeaderboardPage:
        """A page of an archived board as it was; each entry says whether its run verified then."""
        await find_archive(store, game, archive)
        return await store.archived_board(game, archive, limit, cursor)

    board_csv = board_file_route(
        "csv", "text/csv", "the board as CSV (docs/running-an-event.md, Exports), as an attachment"
    )
    board_json = board_file_route(
        "json", "application/json", "the board as JSON, format badge-arcade.board/1 (docs/running-an-event.md, Exports)"
    )


async def board_file(
    arcade: Arcade, store: Store, game: GameInfo, window: str | None, archive: int | None, kind: str
) -> Stream:
    """The file, streamed a page of the store at a time, so a board of any size is served in the same memory."""
    if archive is not None and window is not None:
        raise invalid("archive", "cannot be combined with window", "query", "export a window or an archive")
    if archive is not None:
        source = board_files.Source.of_archive(await find_archive(store, game, archive))
    else:
        source = board_files.Source.of_window(await find_window(arcade, store, window))
    name = board_files.file_name(game, source, kind)
    return Stream(
        board_files.write(store, game, source, kind),
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
