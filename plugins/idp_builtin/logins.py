"""A badge's login: what an approved device grant leaves behind, with its refresh-token family.

One record per login, keyed by the digest of the family id; access tokens name
it in their ``sid`` claim, so revoking the login ends them too. A refresh token
is ``<family id>.<secret>`` and the record keeps the digests of the current
token and of the one before it:

- the current token works once (compare-and-set), and returns a new token;
- the one before, again within the grace window, gets the very same answer,
  because a badge's radio can lose the answer (replays.py);
- any other token of the family, or the one before after the window, is a
  replayed old token: the whole login is revoked (OAuth security BCP,
  RFC 9700 §4.14.2).
"""

import hmac
import time
from collections.abc import Awaitable, Callable

import msgspec
from arcade.plugins.idp_builtin import accounts, replays
from arcade.plugins.idp_builtin.codes import digest, new_secret
from arcade.plugins.idp_builtin.errors import OAuthError

from arcade.sdk.store import Record, Store

KIND = "login"
UNKNOWN = "unknown or expired refresh token; log in again on the badge"
_ATTEMPTS = 3
"""Compare-and-set rounds before giving up on a login many requests change at once."""


class Login(msgspec.Struct, kw_only=True):
    account: str
    """The account's username key."""
    client_id: str
    scope: str
    auth_time: int
    revoked: bool = False
    current: str | None = None
    """Digest of the refresh token that works now; None without ``offline_access``."""
    previous: str | None = None
    rotated_at: float | None = None
    replay: str | None = None
    """The answer ``previous`` got, encrypted under a key derived from that token."""


Answer = Callable[[Login, str, str | None], Awaitable[dict]]
"""Builds the token response for a login, its id and its new refresh token (None: no refresh)."""


class Logins:
    def __init__(self, store: Store, refresh_token_ttl: int, access_token_ttl: int, grace: int):
        self.store = store
        self.refresh_token_ttl = refresh_token_ttl
        self.access_token_ttl = access_token_ttl
        self.grace = grace

    async def start(self, login: Login, answer: Answer, refreshable: bool) -> dict:
        """Record a new login and answer its first tokens."""
        family = new_secret(16)
        sid = digest(family)
        token = f"{family}.{new_secret()}" if refreshable else None
        login.current = None if token is None else digest(token)
        await self.store.put_record(KIND, sid, msgspec.to_builtins(login), version=0, expires_at=self._expiry(login))
        return await answer(login, sid, token)

    async def refresh(self, token: str, client_id: str, answer: Answer) -> dict:
        """The answer to a refresh token: rotate it, replay within the grace window, or revoke."""
        family, _, secret = token.partition(".")
        sid = digest(family)
        presented = digest(token)
        for _ in range(_ATTEMPTS):
            record = await self.store.get_record(KIND, sid)
            if not secret or record is None:
                raise OAuthError("invalid_grant", UNKNOWN)
            login = msgspec.convert(record.value, Login)
            if login.client_id != client_id:
                raise OAuthError("invalid_grant", "this refresh token was issued to another client")
            if login.revoked:
                raise OAuthError("invalid_grant", "this login was revoked; log in again on the badge")
            if hmac.compare_digest(presented, login.current or ""):
                new_token = f"{family}.{new_secret()}"
                response = await answer(login, sid, new_token)
                login.previous, login.current = presented, digest(new_token)
                login.rotated_at = time.time()
                login.replay = replays.lock(response, token)
                if await self._put(sid, login, record):
                    return response
            elif hmac.compare_digest(presented, login.previous or "") and time.time() - login.rotated_at <= self.grace:
                return replays.unlock(login.replay, token, UNKNOWN)
            elif await self._revoke(sid, login, record):
                raise OAuthError(
                    "invalid_grant",
                    "this refresh token was already used, so the login was revoked to stop whoever copied it; "
                    "log in again on the badge",
                )
        raise OAuthError("invalid_grant", "this login is changing too fast; log in again on the badge")

    async def is_active(self, sid: str) -> bool:
        """Not revoked, and its account still exists: deleting an account ends every login of it."""
        record = await self.store.get_record(KIND, sid)
        if record is None or record.value["revoked"]:
            return False
        return await accounts.find(self.store, record.value["account"]) is not None

    async def revoke(self, sid: str) -> None:
        """End a login and every token it issued (RFC 7009); unknown logins are already gone."""
        for _ in range(_ATTEMPTS):
            record = await self.store.get_record(KIND, sid)
            if record is None or await self._revoke(sid, msgspec.convert(record.value, Login), record):
                return

    async def revoke_by_refresh_token(self, token: str) -> None:
        await self.revoke(digest(token.partition(".")[0]))

    async def _revoke(self, sid: str, login: Login, record: Record) -> bool:
        login.revoked, login.replay = True, None
        return await self._put(sid, login, record)

    async def _put(self, sid: str, login: Login, record: Record) -> bool:
        written = await self.store.put_record(
            KIND, sid, msgspec.to_builtins(login), version=record.version, expires_at=self._expiry(login)
        )
        return written is not None

    def _expiry(self, login: Login) -> float:
        """A login lasts as long as a token it issued can still be used or replayed."""
        lifetime = self.refresh_token_ttl if login.current else self.access_token_ttl
        return time.time() + max(lifetime, self.access_token_ttl) + 60
