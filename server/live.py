"""Live leaderboards: accepted scores fanned out to open pages as server-sent events."""

import asyncio
from collections.abc import AsyncIterator

import msgspec
from litestar.response import ServerSentEventMessage

from arcade.sdk.hookspecs import hookimpl

HEARTBEAT_SECONDS = 15
QUEUE_SIZE = 64


class LiveScores:
    """A plugin (``arcade_score_accepted``) that feeds one queue per open page."""

    def __init__(self):
        self._listeners: dict[str, set[asyncio.Queue]] = {}

    @hookimpl
    def arcade_score_accepted(self, game, record):
        for queue in self._listeners.get(game.id, ()):
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

    async def stream(self, game_id: str) -> AsyncIterator[ServerSentEventMessage]:
        queue: asyncio.Queue = asyncio.Queue(QUEUE_SIZE)
        listeners = self._listeners.setdefault(game_id, set())
        listeners.add(queue)
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
