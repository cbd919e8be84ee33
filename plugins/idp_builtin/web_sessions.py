"""Who is logged in on the verification pages: an HttpOnly, SameSite cookie naming a record in the store."""

import time

import msgspec
from arcade.plugins.idp_builtin import accounts
from arcade.plugins.idp_builtin.codes import digest, new_secret
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie

from arcade.sdk.store import Store

KIND = "web_session"
COOKIE = "arcade_session"
PATH = "/device"


def cookie_place(name: str, secure: bool) -> tuple[str, str]:
    """A cookie's name and path: under https a ``__Host-`` cookie, which browsers take only from
    this very origin (never set by a sibling subdomain) and only with ``Path=/``."""
    return (f"__Host-{name}", "/") if secure else (name, PATH)


class WebSession(msgspec.Struct, kw_only=True):
    account: str
    """The username key."""
    created_at: int
    """When the person logged in: the ``auth_time`` of what they approve."""


class WebSessions:
    def __init__(self, store: Store, ttl: int, secure: bool):
        self.store = store
        self.ttl = ttl
        self.secure = secure
        self.cookie, self.path = cookie_place(COOKIE, secure)

    async def person(self, connection: ASGIConnection) -> tuple[accounts.Account, WebSession] | None:
        """The logged-in person and their session, or None."""
        secret = connection.cookies.get(self.cookie)
        record = secret and await self.store.get_record(KIND, digest(secret))
        if not record:
            return None
        session = msgspec.convert(record.value, WebSession)
        account = await accounts.find(self.store, session.account)
        return None if account is None else (account, session)

    async def begin(self, account: accounts.Account) -> Cookie:
        """Log ``account`` in; the cookie to set."""
        secret = new_secret()
        session = WebSession(account=account.username, created_at=int(time.time()))
        value, expires_at = msgspec.to_builtins(session), session.created_at + self.ttl
        await self.store.put_record(KIND, digest(secret), value, version=0, expires_at=expires_at)
        return self._cookie(secret, self.ttl)

    async def end(self, connection: ASGIConnection) -> Cookie:
        """Log out; the cookie that clears the browser's."""
        secret = connection.cookies.get(self.cookie)
        record = secret and await self.store.get_record(KIND, digest(secret))
        if record:
            await self.store.put_record(KIND, digest(secret), record.value, version=record.version, expires_at=0)
        return self._cookie("", 0)

    def _cookie(self, value: str, max_age: int) -> Cookie:
        return Cookie(
            key=self.cookie,
            value=value,
            max_age=max_age,
            path=self.path,
            httponly=True,
            samesite="lax",
            secure=self.secure,
        )
