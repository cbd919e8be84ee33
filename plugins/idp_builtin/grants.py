"""Device grants (RFC 8628): one badge asking to log in, from its codes to the person's decision.

A grant is stored under the digest of its device code, which only the badge
knows. A person reaches it by one of two keys: the user code they type, or the
link in the badge's QR code, which carries a long random secret instead of the
user code so that scanning never counts against the user-code guessing budget.

An approved grant is used up by the poll that gets its tokens, and keeps that answer for the grace
window (replays.py): a badge whose answer a server stop or its radio cut off polls again and logs
in, where it would otherwise hear that its code was used while the person saw Approved.
"""

import time
from collections.abc import Awaitable, Callable
from typing import Literal

import msgspec
from arcade.plugins.idp_builtin import replays
from arcade.plugins.idp_builtin.codes import digest, new_secret, new_user_code
from arcade.plugins.idp_builtin.errors import OAuthError

from arcade.sdk.store import Store

KIND = "device_grant"
BY_USER_CODE = "device_grant_user_code"
BY_LINK = "device_grant_link"
SLOW_DOWN_STEP = 5
"""Seconds a ``slow_down`` adds to the interval, for this and every later poll (RFC 8628 §3.5)."""
_NEW_CODE_ATTEMPTS = 10
USED = "this device_code was already used; a device code works once"


class DeviceGrant(msgspec.Struct, kw_only=True):
    client_id: str
    scope: str
    user_code: str
    link: str
    device_name: str | None
    """What the badge said about itself; shown to the person, never trusted."""
    address: str
    """The client address the badge asked from."""
    created_at: float
    expires_at: float
    interval: int
    last_poll_at: float | None = None
    status: Literal["pending", "approved", "denied", "used"] = "pending"
    account: str | None = None
    """The username key of the person who approved."""
    auth_time: int | None = None
    """When that person logged in on the verification pages."""
    used_at: float | None = None
    replay: str | None = None
    """The answer the poll that used the grant got, encrypted under a key derived from the device code."""


Start = Callable[[DeviceGrant], Awaitable[dict]]
"""Starts the login of an approved grant and answers its tokens."""


class FoundGrant(msgspec.Struct, kw_only=True):
    key: str
    grant: DeviceGrant
    version: int


class DeviceGrants:
    def __init__(self, store: Store, lifetime: int, interval: int, grace: int):
        self.store = store
        self.lifetime = lifetime
        self.interval = interval
        self.grace = grace

    async def start(
        self, client_id: str, scope: str, device_name: str | None, address: str
    ) -> tuple[str, DeviceGrant]:
        """A new pending grant and its device code, with a user code no live grant has."""
        device_code = new_secret()
        key = digest(device_code)
        now = time.time()
        grant = DeviceGrant(
            client_id=client_id,
            scope=scope,
            user_code="",
            link=new_secret(12),
            device_name=device_name,
            address=address,
            created_at=now,
            expires_at=now + self.lifetime,
            interval=self.interval,
        )
        pointer, expires_at = {"grant": key}, grant.expires_at
        for _ in range(_NEW_CODE_ATTEMPTS):
            grant.user_code = new_user_code()
            if await self.store.put_record(BY_USER_CODE, grant.user_code, pointer, version=0, expires_at=expires_at):
                break
        else:
            raise OAuthError("temporarily_unavailable", "no free user code was found; try again", status_code=503)
        await self.store.put_record(BY_LINK, grant.link, pointer, version=0, expires_at=expires_at)
        await self._put(key, grant, version=0)
        return device_code, grant

    async def by_user_code(self, user_code: str) -> FoundGrant | None:
        """The pending grant with this user code, or None."""
        return await self._pending_through(BY_USER_CODE, user_code)

    async def by_link(self, link: str) -> FoundGrant | None:
        """The pending grant the QR link points at, or None."""
        return await self._pending_through(BY_LINK, link)

    async def approve(self, found: FoundGrant, account: str, auth_time: int) -> bool:
        """Approve a pending grant as ``account``; False if it was decided or expired meanwhile."""
        found.grant.account, found.grant.auth_time = account, auth_time
        return await self._decide(found, "approved")

    async def deny(self, found: FoundGrant) -> bool:
        """Deny a pending grant; False if it was decided or expired meanwhile."""
        return await self._decide(found, "denied")

    async def poll(self, device_code: str, client_id: str, start: Start) -> dict:
        """The tokens of the approved grant, which ``start`` makes and this poll uses the grant up
        for (the same answer again within the grace window); else the RFC 8628 §3.5 error the
        badge acts on."""
        key = digest(device_code)
        record = await self.store.get_record(KIND, key)
        if record is None:
            raise OAuthError("invalid_grant", "unknown device_code; start the login again on the badge")
        grant = msgspec.convert(record.value, DeviceGrant)
        if grant.client_id != client_id:
            raise OAuthError("invalid_grant", "this device_code was issued to another client")
        if time.time() >= grant.expires_at:
            raise OAuthError("expired_token", "the device_code expired; start the login again on the badge")
        if grant.status == "used":
            if time.time() - (grant.used_at or 0) <= self.grace:
                return replays.unlock(grant.replay, device_code, USED)
            raise OAuthError("invalid_grant", USED)
        if grant.status == "denied":
            raise OAuthError("access_denied", "the person denied this login")
        if grant.status == "approved":
            # The login is saved before the grant is used up: a stop between the two leaves the
            # grant approved, and the badge's next poll starts a login again.
            answer = await start(grant)
            grant.status, grant.used_at, grant.replay = "used", time.time(), replays.lock(answer, device_code)
            if not await self._put(key, grant, record.version):
                raise OAuthError("invalid_grant", USED)
            return answer
        # Pending. Polls are timed from the moment the previous answer was written, which is
        # before the badge got it, so a badge that waits the interval is never too early.
        too_early = grant.last_poll_at is not None and time.time() - grant.last_poll_at < grant.interval
        if too_early:
            grant.interval += SLOW_DOWN_STEP
        grant.last_poll_at = time.time()
        await self._put(key, grant, record.version)
        if too_early:
            raise OAuthError("slow_down", f"polled too soon; wait {grant.interval} s between polls from now on")
        raise OAuthError("authorization_pending", "the person has not approved this login yet")

    async def _decide(self, found: FoundGrant, status: Literal["approved", "denied"]) -> bool:
        if time.time() >= found.grant.expires_at:
            return False
        found.grant.status = status
        return await self._put(found.key, found.grant, found.version)

    async def _pending_through(self, index: str, code: str) -> FoundGrant | None:
        pointer = await self.store.get_record(index, code)
        record = pointer and await self.store.get_record(KIND, pointer.value["grant"])
        if record is None:
            return None
        grant = msgspec.convert(record.value, DeviceGrant)
        if grant.status != "pending" or time.time() >= grant.expires_at:
            return None
        return FoundGrant(key=pointer.value["grant"], grant=grant, version=record.version)

    async def _put(self, key: str, grant: DeviceGrant, version: int) -> bool:
        written = await self.store.put_record(
            KIND, key, msgspec.to_builtins(grant), version=version, expires_at=self._kept_until(grant)
        )
        return written is not None

    def _kept_until(self, grant: DeviceGrant) -> float:
        """Kept one more lifetime after it expires, so a late poll hears ``expired_token``."""
        return grant.expires_at + self.lifetime
