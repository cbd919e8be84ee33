"""A board as a file: CSV for a spreadsheet, JSON for a program; the whole event, a window or an archive.

Why streamed: a board of 100,000 players is read a page at a time from the store and written as
it is read, so neither ``arcade export-board`` nor the HTTP route holds it whole.

CSV is made safe to open in a spreadsheet: a text cell that starts with ``=``, ``+``, ``-``, ``@``
(or a tab or carriage return) would be read as a formula, so it gets a leading ``'`` (OWASP's
advice against CSV injection); numbers are written as numbers.

The JSON is one object, ``format`` naming its version (``badge-arcade.board/1``), documented in
docs/running-an-event.md ("Exports"); fields are only ever added to it.
"""

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import msgspec

from arcade.platform.windows import Window
from arcade.sdk.game import GameInfo
from arcade.sdk.models import LeaderboardEntry, LeaderboardPage
from arcade.sdk.store import Archive, Store

FORMAT = "badge-arcade.board/1"
PAGE = 500
"""Entries read from the store at a time."""
COLUMNS = ["rank", "player_id", "player_name", "score", "unit", "reached_at", "verification"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class Source(msgspec.Struct, kw_only=True):
    """Which board a file holds: a window of the live board, or an archive of an old one."""

    window: str | None = None
    title: str
    start: datetime | None = None
    end: datetime | None = None
    archive: int | None = None
    archived_at: datetime | None = None
    archived_version: str | None = None
    """The game version of the re-adjudication that archived the board."""

    @classmethod
    def of_window(cls, window: Window) -> "Source":
        return cls(window=window.id, title=window.title, start=window.start, end=window.end)

    @classmethod
    def of_archive(cls, archive: Archive) -> "Source":
        return cls(
            title=f"Archived board {archive.id}",
            archive=archive.id,
            archived_at=archive.at,
            archived_version=archive.version,
        )


class _Game(msgspec.Struct):
    id: str
    title: str
    version: str
    order: str
    unit: str


class _Head(msgspec.Struct):
    format: str
    game: _Game
    board: Source
    exported_at: datetime
    players: int


class _Entry(msgspec.Struct):
    rank: int
    player: dict
    score: int
    reached_at: datetime
    verification: str


def file_name(game: GameInfo, source: Source, kind: str) -> str:
    board = f"archive-{source.archive}" if source.archive is not None else source.window
    return f"{game.id}-{board}.{kind}"


async def pages(store: Store, game: GameInfo, source: Source) -> AsyncIterator[LeaderboardPage]:
    """The board's pages from the store, first to last."""
    cursor = None
    while True:
        if source.archive is not None:
            page = await store.archived_board(game, source.archive, PAGE, cursor)
        elif source.start is None:
            page = await store.leaderboard(game, PAGE, cursor)
        else:
            page = await store.leaderboard_between(game, source.start, source.end, PAGE, cursor)
        yield page
        cursor = page.next_cursor
        if cursor is None:
            return


async def write(store: Store, game: GameInfo, source: Source, kind: str) -> AsyncIterator[bytes]:
    """The file, in chunks of a page each."""
    first = True
    async for page in pages(store, game, source):
        if kind == "csv":
            yield _csv_rows(game, page.entries, header=first)
        else:
            if first:
                head = _Head(
                    format=FORMAT,
                    game=_Game(game.id, game.title, game.version, game.order, game.unit),
                    board=source,
                    exported_at=datetime.now(UTC),
                    players=page.players,
                )
                yield msgspec.json.encode(head)[:-1] + b', "entries": ['
            entries = b",".join(b"\n  " + msgspec.json.encode(_entry(entry)) for entry in page.entries)
            yield (b"" if first or not page.entries else b",") + entries
        first = False
    if kind == "json":
        yield b"\n]}\n"


def _entry(entry: LeaderboardEntry) -> _Entry:
    player = {"id": entry.player.id, "name": entry.player.name}
    return _Entry(entry.rank, player, entry.score, entry.at, entry.verification)


def _csv_rows(game: GameInfo, entries: list[LeaderboardEntry], header: bool) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    if header:
        writer.writerow(COLUMNS)
    for entry in entries:
        writer.writerow(
            [
                entry.rank,
                safe_cell(entry.player.id),
                safe_cell(entry.player.name),
                entry.score,
                safe_cell(game.unit),
                entry.at.isoformat(),
                entry.verification,
            ]
        )
    return text.getvalue().encode()


def safe_cell(text: str) -> str:
    """A text cell a spreadsheet shows as text, never runs as a formula."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text
