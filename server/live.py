"""Live pages: each accepted score sent to the open pages as a server-sent event that carries the
change itself, so a page updates from it without asking the server anything.

An update costs the server the same however many pages are open: the event is built once (one
store read, for the number of players) and the same bytes are queued to every page. Events are
numbered ``<epoch>.<n>``, the epoch new with each process; a page that reconnects names the last
one it saw (``Last-Event-ID``, or ``?after=`` for the number its HTML was rendered at), and gets
what it missed from the last :data:`REPLAYED` events, or, when those do not reach back that far
(the server restarted, or another worker answers), a ``reset`` event telling it to fetch its rows
once.

Each open page holds a connection, so streams are capped, in total (half the process's open-file
limit, the rest is for everything else) and per client address; a page refused a stream (503)
polls its rows instead (``static/live.js``).
"""

import asyncio
import logging
import resource
import secrets
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable

import msgspec
from litestar.response import ServerSentEventMessage

from arcade.sdk.errors import ArcadeError
from arcade.sdk.hookspecs import hookimpl
from arcade.sdk.models import ScoreAccepted

HEARTBEAT_SECONDS = 15
QUEUE_SIZE = 64
REPLAYED = 256
"""Events kept to send again to a page that reconnects."""
ACCEPTED_WAITING = 1024
"""Scores waiting to become events (the store is slow to answer); past it the oldest is dropped."""
EVERY_GAME = "*"
"""The topic of the pages that show every game (the front page, the event screen)."""

log = logging.getLogger("arcade.live")


class TooManyStreams(ArcadeError):
    """No stream for this page now: it polls instead, and may ask again after ``retry_after`` s."""

    retry_after = 60


def stream_limit() -> int:
    """Half of the open-file limit: every stream holds a socket, and the store needs its files."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(1, soft // 2) if soft != resource.RLIM_INFINITY else 4096


class LiveScores:
    """A plugin (``arcade_score_accepted``) that turns each score into one event for every open page.

    ``describe`` makes the event's data (a JSON-able dict) from an accepted score, once per score;
    ``remember`` is told of the scores this process took (the event screen's ticker keeps them)."""

    def __init__(
        self,
        per_address: int,
        total: int | None = None,
        describe: Callable[[ScoreAccepted], Awaitable[dict]] | None = None,
        remember: Callable[[ScoreAccepted], None] | None = None,
    ):
        self._listeners: dict[str, set[asyncio.Queue]] = {}
        self.per_address = per_address
        self.total = stream_limit() if total is None else total
        self.open: Counter[str] = Counter()
        self.describe = describe or (lambda record: _as_dict(record))
        self.remember = remember
        self.epoch = secrets.token_hex(4)
        self.sent = 0
        self._recent: deque[tuple[int, str, Encoded]] = deque(maxlen=REPLAYED)
        self._accepted: deque[ScoreAccepted] = deque(maxlen=ACCEPTED_WAITING)
        self._wake = asyncio.Event()
        self._worker: asyncio.Task | None = None

    @hookimpl
    def arcade_score_accepted(self, game, record):
        if self.remember is not None:
            self.remember(record)
        self.publish(record)

    def publish(self, record: ScoreAccepted) -> None:
        """Queue ``record`` for its pages: a score this process took, or one that its store heard
        another process take (:class:`arcade.sdk.store.FollowsScores`). Never blocks a score."""
        self._accepted.append(record)
        self._wake.set()
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._deliver())

    @property
    def last_id(self) -> str:
        return f"{self.epoch}.{self.sent}"

    async def _deliver(self) -> None:
        """One score at a time, in order: built once, then the same message to every page."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._accepted:
                record = self._accepted.popleft()
                try:
                    data = msgspec.json.encode(await self.describe(record)).decode()
                except Exception:  # the store did not answer: the pages miss this one, not the next
                    log.exception("live event for a score in %s could not be made", record.game)
                    continue
                self.sent += 1
                message = Encoded(ServerSentEventMessage(event="score", data=data, id=self.last_id))
                self._recent.append((self.sent, record.game, message))
                for topic in (record.game, EVERY_GAME):
                    for queue in self._listeners.get(topic, ()):
                        if queue.full():  # a stalled page loses the oldest event, never blocks a score
                            queue.get_nowait()
                        queue.put_nowait(message)

    def close(self) -> None:
        """End every stream, so a shutting-down server need not wait for open pages."""
        if self._worker is not None:
            self._worker.cancel()
        for queues in self._listeners.values():
            for queue in queues:
                if queue.full():
                    queue.get_nowait()
                queue.put_nowait(None)

    def stream(self, topic: str, address: str, after: str | None = None) -> AsyncIterator[ServerSentEventMessage]:
        """The page's stream of ``topic`` (a game id, or :data:`EVERY_GAME`) from after the event
        ``after``, or :class:`TooManyStreams` if this address or the server has its fill."""
        if self.open.total() >= self.total:
            raise TooManyStreams(f"the server has {self.total} live pages open; this one updates by itself less often")
        if self.open[address] >= self.per_address:
            raise TooManyStreams(f"{self.per_address} live pages are open from your address; this one polls instead")
        return self._stream(topic, address, after)

    def _missed(self, topic: str, after: str | None) -> list["Encoded"] | None:
        """The events of ``topic`` after ``after``, or None when this process cannot tell them all."""
        if after is None:
            return []
        epoch, _, number = after.partition(".")
        if epoch != self.epoch or not number.isdigit() or int(number) > self.sent:
            return None
        seen = int(number)
        if seen < self.sent and (not self._recent or self._recent[0][0] > seen + 1):
            return None
        return [message for n, game, message in self._recent if n > seen and topic in (game, EVERY_GAME)]

    async def _stream(self, topic: str, address: str, after: str | None) -> AsyncIterator[ServerSentEventMessage]:
        """Counted from its first message to its end, so a stream never started holds no place."""
        queue: asyncio.Queue = asyncio.Queue(QUEUE_SIZE)
        listeners = self._listeners.setdefault(topic, set())
        listeners.add(queue)  # and the missed events taken with no await between: none lost, none twice
        missed = self._missed(topic, after)
        self.open[address] += 1
        try:
            # the page's last event id moves only once it has everything before it
            caught_up = self.last_id if missed == [] else None
            yield ServerSentEventMessage(event="live", data="{}", id=caught_up, retry=3000)
            if missed is None:
                yield ServerSentEventMessage(event="reset", data="{}", id=self.last_id)
            for message in missed or ():
                yield message
            while True:
                try:
                    message = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield ServerSentEventMessage(comment="heartbeat")
                    continue
                if message is None:
                    return
                yield message
        finally:
            listeners.discard(queue)
            self.open[address] -= 1
            if not self.open[address]:
                del self.open[address]


class Encoded(ServerSentEventMessage):
    """A message encoded once, for all the pages it goes to."""

    def __init__(self, message: ServerSentEventMessage):
        self.encoded = message.encode()

    def encode(self) -> bytes:
        return self.encoded


async def _as_dict(record: ScoreAccepted) -> dict:
    return msgspec.to_builtins(record)
