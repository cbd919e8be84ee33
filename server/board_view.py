"""A leaderboard row as pages and live events show it: the picture the arcade serves (never the
player's URL) and the time in the event's time zone. The server renders these into the pages,
and sends the same in a live event, so a page updates itself from the event without asking."""

from datetime import datetime
from zoneinfo import ZoneInfo

import msgspec

from arcade.sdk.models import LeaderboardEntry, PlayerRef, ScoreAccepted
from arcade.server.pictures import Pictures


class Row(msgspec.Struct, kw_only=True):
    game: str
    rank: int
    id: str
    name: str
    picture: str
    """A path on the arcade: ``/pictures/<hash>.jpg`` or the generated avatar."""
    score: int
    when: str
    """Day and time in the event's time zone, as shown."""
    at: str
    """ISO 8601, for ``<time datetime>``."""


class BoardView:
    def __init__(self, pictures: Pictures, zone: ZoneInfo):
        self.pictures = pictures
        self.zone = zone

    def when(self, at: datetime, form: str = "%d %b %H:%M %Z") -> str:
        """The time in the event's zone; the pages' templates have it as the ``local`` filter."""
        return at.astimezone(self.zone).strftime(form)

    async def row(self, game: str, rank: int, player: PlayerRef, score: int, at: datetime) -> Row:
        return Row(
            game=game,
            rank=rank,
            id=player.id,
            name=player.name,
            picture=await self.pictures.path(player.id, player.picture),
            score=score,
            when=self.when(at),
            at=at.isoformat(),
        )

    async def rows(self, game: str, entries: list[LeaderboardEntry]) -> list[Row]:
        return [await self.row(game, entry.rank, entry.player, entry.score, entry.at) for entry in entries]

    async def accepted(self, record: ScoreAccepted) -> Row:
        """The row of a score just accepted: its player's best and rank after it."""
        return await self.row(record.game, record.rank, record.player, record.best, record.at)

    async def event(self, record: ScoreAccepted, players: int) -> dict:
        """A live event's data: the board's change (the player's new row, if a new best; a page
        moves the rows it beats down one itself) and the score for the tickers."""
        latest = await self.row(record.game, record.rank, record.player, record.score, record.at)
        row = await self.accepted(record) if record.new_best else None
        return {
            "game": record.game,
            "submission_id": record.submission_id,
            "players": players,
            "row": row,
            "latest": latest,
        }
