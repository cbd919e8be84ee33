"""Players' pictures, served by the arcade itself: a page never carries a URL a player chose.

A picture URL a page is about to show is looked up in the store: once fetched
(:mod:`arcade.server.picture_fetch`) the page shows ``/pictures/<hash>.jpg``, served from the
store with a year's cache, since its name changes with its content; until then, and when
the fetch fails, it shows the generated avatar, and the fetch is tried again later, a few
times, further apart each time. What was fetched and what failed are records in the store, so
every process of an arcade sharing a PostgreSQL database shows the same picture and fetches it
once. A player whose picture field is cleared (an admin's reset) gets the avatar at once, since
the page only ever asks about the URL the player has now.
"""

import asyncio
import base64
import hashlib
import logging
import time
from collections import OrderedDict

import httpx

from arcade.platform.config import PictureSettings
from arcade.sdk.store import Store
from arcade.server.picture_fetch import PictureRefused, fetch_picture

FETCHED = "picture"
"""Record kind: a picture as served, under its content hash."""
SOURCE = "picture-source"
"""Record kind: what became of a URL, under the URL's hash: the picture's hash, or the failures."""
RETRY_AFTER_S = (60, 600, 3600)
"""The waits after each failed fetch of a URL; after the last, it is tried again once a day."""
GIVE_UP_FOR_S = 86400
FETCHES_AT_ONCE = 4
FETCHES_WAITING = 256
"""URLs waiting for a fetch; one more is left for a later page to ask for again."""
REMEMBERED = 4096
"""URLs whose outcome this process keeps in memory (most recently used)."""

log = logging.getLogger("arcade.pictures")


def avatar_path(player_id: str) -> str:
    return f"/players/{player_id}/avatar.svg"


def url_key(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:40]


class Pictures:
    """Where each picture URL is shown from, and the bounded work of fetching the new ones."""

    def __init__(self, store: Store, limits: PictureSettings, own_url: str):
        self.store = store
        self.limits = limits
        self.own_prefix = own_url.rstrip("/") + "/"
        self._known: OrderedDict[str, tuple[str | None, float]] = OrderedDict()
        """URL → (its /pictures path or None, until when that answer holds)."""
        self._waiting: set[str] = set()
        self._slots = asyncio.Semaphore(FETCHES_AT_ONCE)
        self._tasks: set[asyncio.Task] = set()
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        # trust_env=False: no proxy from the environment, where the address checks would not apply
        self._client = httpx.AsyncClient(follow_redirects=False, trust_env=False, timeout=self.limits.timeout_seconds)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()

    async def path(self, player_id: str, url: str | None) -> str:
        """What a page shows for the player with picture ``url``: their fetched picture, else the avatar."""
        if not url or url.startswith(self.own_prefix):  # the built-in provider names the arcade's own avatar
            return avatar_path(player_id)
        return await self._fetched(url) or avatar_path(player_id)

    async def _fetched(self, url: str) -> str | None:
        now = time.time()
        known = self._known.get(url)
        if known is not None and known[1] > now:
            self._known.move_to_end(url)
            return known[0]
        record = await self.store.get_record(SOURCE, url_key(url))
        if record is not None and record.value.get("hash"):
            return self._remember(url, f"/pictures/{record.value['hash']}.jpg", float("inf"))
        due = record.value.get("retry_at", 0) if record is not None else 0
        if due <= now:
            self._want(url)
            due = now + 1  # asked again a second later, when the fetch may be done
        return self._remember(url, None, due)

    def _remember(self, url: str, path: str | None, until: float) -> str | None:
        self._known[url] = (path, until)
        self._known.move_to_end(url)
        while len(self._known) > REMEMBERED:
            self._known.popitem(last=False)
        return path

    def _want(self, url: str) -> None:
        if url in self._waiting or len(self._waiting) >= FETCHES_WAITING or self._client is None:
            return
        self._waiting.add(url)
        task = asyncio.get_running_loop().create_task(self._fetch(url))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _fetch(self, url: str) -> None:
        try:
            async with self._slots:
                try:
                    picture = await fetch_picture(url, self.limits, self._client)
                except PictureRefused as refused:
                    log.info("picture %s not shown: %s", url_key(url), refused)
                    await self._failed(url, str(refused))
                else:
                    await self._stored(url, picture)
        except Exception:  # a store outage: the next page showing the URL asks again
            log.exception("picture %s: could not record the fetch", url_key(url))
        finally:
            self._waiting.discard(url)

    async def _stored(self, url: str, picture: bytes) -> None:
        digest = hashlib.sha256(picture).hexdigest()[:32]
        if await self.store.get_record(FETCHED, digest) is None:
            value = {"type": "image/jpeg", "data": base64.b64encode(picture).decode()}
            await self.store.put_record(FETCHED, digest, value, version=0)  # None: another process stored it
        await self._write_source(url, {"url": url, "hash": digest})
        self._known.pop(url, None)

    async def _failed(self, url: str, why: str) -> None:
        record = await self.store.get_record(SOURCE, url_key(url))
        failures = (record.value.get("failures", 0) if record is not None else 0) + 1
        if failures <= len(RETRY_AFTER_S):
            wait, expires = RETRY_AFTER_S[failures - 1], None
        else:  # given up: the record goes after a day, and with it the count, so it is tried afresh
            wait = GIVE_UP_FOR_S
            expires = time.time() + GIVE_UP_FOR_S
        value = {"url": url, "failures": failures, "why": why, "retry_at": time.time() + wait}
        await self._write_source(url, value, expires)
        self._known.pop(url, None)

    async def _write_source(self, url: str, value: dict, expires_at: float | None = None) -> None:
        """Compare-and-set; of processes racing over one URL, the first write stands."""
        record = await self.store.get_record(SOURCE, url_key(url))
        await self.store.put_record(
            SOURCE, url_key(url), value, version=record.version if record else 0, expires_at=expires_at
        )

    async def served(self, digest: str) -> bytes | None:
        """The stored picture of content hash ``digest``, or None."""
        record = await self.store.get_record(FETCHED, digest)
        return base64.b64decode(record.value["data"]) if record is not None else None
