"""The latest scores of every game, for the event screen's ticker.

Kept in one record of the store, so a restarted server, and every process of an arcade sharing
PostgreSQL, start the ticker where it was. Only the process that took a score writes it (in the
background, after the badge has its answer), and scores arriving while a write is under way go
into the next one, so a burst of scores costs a few writes, not one each.
"""

import asyncio
import logging
from datetime import datetime

import msgspec

from arcade.sdk.models import PlayerRef, ScoreAccepted
from arcade.sdk.store import Store

KIND, KEY = "live", "latest-scores"
SIZE = 12
ATTEMPTS = 5

log = logging.getLogger("arcade.live")


class Latest(msgspec.Struct, kw_only=True):
    game: str
    player: PlayerRef
    score: int
    at: datetime


class Ticker:
    def __init__(self, store: Store):
        self.store = store
        self._pending: list[Latest] = []
        self._writer: asyncio.Task | None = None

    def remember(self, record: ScoreAccepted) -> None:
        self._pending.append(Latest(game=record.game, player=record.player, score=record.score, at=record.at))
        del self._pending[:-SIZE]
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write())

    async def latest(self) -> list[Latest]:
        """Newest first."""
        record = await self.store.get_record(KIND, KEY)
        return msgspec.convert(record.value["scores"], list[Latest]) if record is not None else []

    async def _write(self) -> None:
        while self._pending:
            fresh, self._pending = self._pending[::-1], []
            for _ in range(ATTEMPTS):  # compare-and-set: another process may have written meanwhile
                try:
                    record = await self.store.get_record(KIND, KEY)
                    kept = record.value["scores"] if record is not None else []
                    scores = (msgspec.to_builtins(fresh) + kept)[:SIZE]
                    if await self.store.put_record(
                        KIND, KEY, {"scores": scores}, version=record.version if record else 0
                    ):
                        break
                except Exception:  # the ticker misses these scores; the boards do not
                    log.exception("the latest scores could not be kept")
                    break
