"""Who is logged in on the verification pages: an HttpOnly, SameSite cookie naming a record in the
store; and which browsers have logged in to an account before (a device cookie, as OWASP suggests
against password guessing), so that a stranger's wrong passwords never lock the owner out."""

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
DEVICE_KIND = "known_device"
DEVICE_COOKIE = "arcade_device"
DEVICE_TTL = 180 * 24 * 3600


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
        self.device_cookie, _ = cookie_place(DEVICE_COOKIE, secure)

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

    async def known_device(self, connection: ASGIConnection, account: str) -> str | None:
        """This browser's device id if it has logged in as ``account`` (a username key) before."""
        secret = connection.cookies.get(self.device_cookie)
        record = secret and await self.store.get_record(DEVICE_KIND, digest(secret))
        return digest(secret) if record and record.value["account"] == account else None

    async def remember_device(self, account: accounts.Account) -> Cookie:
        """The device cookie that marks this browser as one ``account`` logged in from."""
        secret = new_secret()
        expires_at = int(time.time()) + DEVICE_TTL
        await self.store.put_record(
            DEVICE_KIND, digest(secret), {"account": account.username}, version=0, expires_at=expires_at
        )
        return self._cookie(secret, DEVICE_TTL, self.device_cookie)

    async def end(self, connection: ASGIConnection) -> Cookie:
        """Log out; the cookie that clears the browser's."""
        secret = connection.cookies.get(self.cookie)
        record = secret and await self.store.get_record(KIND, digest(secret))
        if record:
            await self.store.put_record(KIND, digest(secret), record.value, version=record.version, expires_at=0)
        return self._cookie("", 0)

    def _cookie(self, value: str, max_age: int, name: str | None = None) -> Cookie:
        return Cookie(
            key=name or self.cookie,
            value=value,
            max_age=max_age,
            path=self.path,
            httponly=True,
            samesite="lax",
            secure=self.secure,
        )
