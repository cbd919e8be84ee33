"""Accepted scores POSTed as signed JSON to the URLs of ``[plugins.webhook]`` (docs/plugins.md).

Each URL has its own lane: a bounded queue and one background task sending its deliveries in
order, so a receiver that is down or slow delays only its own deliveries and never a badge's
request. A failed attempt is retried with exponential backoff and jitter, a bounded number of
times; a full queue drops its oldest delivery. Both are logged, never silent.
"""

import asyncio
import contextlib
import hashlib
import hmac
import logging
import random
import time
import uuid
from dataclasses import dataclass
from typing import Annotated

import httpx
import msgspec

from arcade.sdk.hookspecs import hookimpl
from arcade.sdk.models import ScoreAccepted

log = logging.getLogger(__name__)

EVENT = "score.accepted"
Seconds = Annotated[float, msgspec.Meta(gt=0, le=3600)]


class WebhookSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    urls: list[str] = []
    """Where each accepted score is POSTed; with none the plugin does nothing."""
    secret: str | None = None
    """Signs every delivery; give it in the environment: ``ARCADE_PLUGINS__WEBHOOK__SECRET``."""
    timeout: Seconds = 5.0
    """How long one attempt may take, connecting included."""
    attempts: Annotated[int, msgspec.Meta(ge=1, le=20)] = 5
    backoff: Seconds = 1.0
    """The wait before the first retry; it doubles with each retry, up to ``max_backoff``, jittered."""
    max_backoff: Seconds = 60.0
    queue: Annotated[int, msgspec.Meta(ge=1)] = 1000
    """How many deliveries may wait per URL; one more drops the oldest."""
    grace: Annotated[float, msgspec.Meta(ge=0, le=60)] = 5.0
    """At shutdown, how long the deliveries still waiting or in flight may take."""


class ScoreEvent(msgspec.Struct, kw_only=True):
    """The body of a delivery."""

    id: str
    """Unique per score and the same in every retry, so a receiver can ignore one it has seen."""
    type: str
    game: str
    record: ScoreAccepted


@dataclass(frozen=True)
class Delivery:
    id: str
    body: bytes


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>." + body>``. The time is signed with the body,
    so a receiver can refuse a delivery replayed later."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class Lane:
    """The deliveries to one URL: a bounded queue and the task that sends them, in order."""

    def __init__(self, url: str, options: WebhookSettings, client: httpx.AsyncClient):
        self.url, self.options, self.client = url, options, client
        self.queue: asyncio.Queue[Delivery] = asyncio.Queue(options.queue)
        self.sending: Delivery | None = None
        self.task = asyncio.create_task(self._run(), name=f"webhook {url}")

    def put(self, delivery: Delivery) -> None:
        if self.queue.full():
            dropped = self.queue.get_nowait()
            self.queue.task_done()
            log.warning(
                "webhook %s: queue full (%d); dropped the oldest delivery, %s", self.url, self.queue.maxsize, dropped.id
            )
        self.queue.put_nowait(delivery)

    async def _run(self) -> None:
        while True:
            self.sending = await self.queue.get()
            try:
                await self._deliver(self.sending)
            except Exception:  # a bug must not silence every later delivery
                log.exception("webhook %s: delivery %s failed", self.url, self.sending.id)
            self.sending = None
            self.queue.task_done()

    async def _deliver(self, delivery: Delivery) -> None:
        attempts = self.options.attempts
        for attempt in range(1, attempts + 1):
            failure = await self._attempt(delivery)
            if failure is None:
                return
            if attempt == attempts:
                log.warning(
                    "webhook %s: gave up on delivery %s after %d attempts: %s", self.url, delivery.id, attempts, failure
                )
                return
            ceiling = min(self.options.max_backoff, self.options.backoff * 2 ** (attempt - 1))
            delay = ceiling / 2 + random.uniform(0, ceiling / 2)
            log.warning(
                "webhook %s: delivery %s attempt %d of %d failed: %s; next in %.2f s",
                self.url, delivery.id, attempt, attempts, failure, delay,
            )
            await asyncio.sleep(delay)

    async def _attempt(self, delivery: Delivery) -> str | None:
        """Why the attempt failed, or ``None`` when the receiver took the delivery (any 2xx)."""
        signed = signature(self.options.secret, delivery.body, int(time.time()))
        headers = {"Arcade-Delivery": delivery.id, "Arcade-Signature": signed}
        try:
            async with asyncio.timeout(self.options.timeout):
                response = await self.client.post(self.url, content=delivery.body, headers=headers)
        except (httpx.HTTPError, TimeoutError) as error:
            return repr(error)
        return None if response.is_success else f"answered {response.status_code}"

    async def close(self) -> None:
        """Give the deliveries waiting or in flight ``grace`` seconds, then log those not delivered."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.options.grace):
                await self.queue.join()
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        lost = [self.sending] if self.sending else []
        while not self.queue.empty():
            lost.append(self.queue.get_nowait())
        if lost:
            ids = ", ".join(delivery.id for delivery in lost)
            log.warning("webhook %s: shut down with %d deliveries not delivered: %s", self.url, len(lost), ids)


class Webhooks:
    """The plugin while the arcade serves: a lane per URL, sharing one HTTP client."""

    def __init__(self):
        self.lanes: list[Lane] = []
        self.client: httpx.AsyncClient | None = None

    def start(self, options: WebhookSettings) -> None:
        if options.urls:
            headers = {"Content-Type": "application/json", "Arcade-Event": EVENT, "User-Agent": "badge-arcade-webhook"}
            self.client = httpx.AsyncClient(timeout=options.timeout, headers=headers)
            self.lanes = [Lane(url, options, self.client) for url in options.urls]

    def send(self, game, record: ScoreAccepted) -> None:
        if self.lanes:
            event = ScoreEvent(id=uuid.uuid4().hex, type=EVENT, game=game.id, record=record)
            delivery = Delivery(event.id, msgspec.json.encode(event))
            for lane in self.lanes:
                lane.put(delivery)

    async def stop(self) -> None:
        lanes, self.lanes = self.lanes, []
        await asyncio.gather(*(lane.close() for lane in lanes))
        if self.client is not None:
            await self.client.aclose()
            self.client = None


webhooks = Webhooks()


@hookimpl
def arcade_startup(settings):
    options = settings.decode(WebhookSettings)
    for index, url in enumerate(options.urls):
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL:
            parsed = None
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
            raise settings.error(f"urls[{index}]", f"expected an http:// or https:// URL, got {url!r}")
    if options.urls and not options.secret:
        raise settings.error("secret", "expected a secret to sign deliveries with (ARCADE_PLUGINS__WEBHOOK__SECRET)")
    webhooks.start(options)


@hookimpl
def arcade_score_accepted(game, record):
    webhooks.send(game, record)


@hookimpl
async def arcade_shutdown():
    await webhooks.stop()
