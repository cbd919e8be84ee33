"""Live leaderboards: accepted scores fanned out to open pages as server-sent events.

Each open page holds a connection, so streams are capped, in total (half the process's open-file
limit, the rest is for everything else) and per client address; a page refused a stream (503)
polls its rows instead (``static/live.js``).
"""

import asyncio
import resource
from collections import Counter
from collections.abc import AsyncIterator

import msgspec
from litestar.response import ServerSentEventMessage

from arcade.sdk.errors import ArcadeError
from arcade.sdk.hookspecs import hookimpl
from arcade.sdk.models import ScoreAccepted

HEARTBEAT_SECONDS = 15
QUEUE_SIZE = 64


class TooManyStreams(ArcadeError):
    """No stream for this page now: it polls instead, and may ask again after ``retry_after`` s."""

    retry_after = 60


def stream_limit() -> int:
    """Half of the open-file limit: every stream holds a socket, and the store needs its files."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(1, soft // 2) if soft != resource.RLIM_INFINITY else 4096


class LiveScores:
    """A plugin (``arcade_score_accepted``) that feeds one queue per open page."""

    def __init__(self, per_address: int, total: int | None = None):
        self._listeners: dict[str, set[asyncio.Queue]] = {}
        self.per_address = per_address
        self.total = stream_limit() if total is None else total
        self.open: Counter[str] = Counter()

    @hookimpl
    def arcade_score_accepted(self, game, record):
        self.publish(record)

    def publish(self, record: ScoreAccepted) -> None:
        """Send ``record`` to its game's open pages: a score this process took, or one that its store
        heard another process take (:class:`arcade.sdk.store.FollowsScores`)."""
        for queue in self._listeners.get(record.game, ()):
            if queue.full():  # a stalled page loses the oldest event, never blocks a score
                queue.get_nowait()
            queue.put_nowait(record)

    def close(self) -> None:
        """End every stream, so a shutting-down server need not wait for open pages."""
        for queues in self._listeners.values():
            for queue in queues:
                if queue.full():
                    queue.get_nowait()
                queue.put_nowait(None)

    def stream(self, game_id: str, address: str) -> AsyncIterator[ServerSentEventMessage]:
        """The page's stream, or :class:`TooManyStreams` if this address or the server has its fill."""
        if self.open.total() >= self.total:
            raise TooManyStreams(f"the server has {self.total} live pages open; this one updates by itself less often")
        if self.open[address] >= self.per_address:
            raise TooManyStreams(f"{self.per_address} live pages are open from your address; this one polls instead")
        return self._stream(game_id, address)

    async def _stream(self, game_id: str, address: str) -> AsyncIterator[ServerSentEventMessage]:
        """Counted from its first message to its end, so a stream never started holds no place."""
        queue: asyncio.Queue = asyncio.Queue(QUEUE_SIZE)
        listeners = self._listeners.setdefault(game_id, set())
        listeners.add(queue)
        self.open[address] += 1
        try:
            yield ServerSentEventMessage(comment="live", retry=3000)
            while True:
                try:
                    record = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield ServerSentEventMessage(comment="heartbeat")
                    continue
                if record is None:
                    return
                yield ServerSentEventMessage(event="score", data=msgspec.json.encode(record).decode())
        finally:
            listeners.discard(queue)
            self.open[address] -= 1
            if not self.open[address]:
                del self.open[address]
