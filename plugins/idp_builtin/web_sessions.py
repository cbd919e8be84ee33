"""Who is logged in on the verification pages: an HttpOnly, SameSite cookie naming a record in the
store; the CSRF token of the pages' forms, derived from that record's key; and which browsers have
logged in to an account before (a device cookie, as OWASP suggests against password guessing), so
that a stranger's wrong passwords never lock the owner out."""

import hashlib
import hmac
import time

import msgspec
from arcade.plugins.idp_builtin import accounts
from arcade.plugins.idp_builtin.codes import digest, new_secret
from arcade.plugins.idp_builtin.keys import KeyRing
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie

from arcade.sdk.store import Record, Store
from arcade.sdk.web import cookie_place

KIND = "web_session"
COOKIE = "arcade_session"
PATH = "/device"
"""The verification pages."""
DEVICE_KIND = "known_device"
DEVICE_COOKIE = "arcade_device"
DEVICE_TTL = 180 * 24 * 3600
FORM_COOKIE = "arcade_csrf"
"""A browser's own random secret, which the forms' token is derived from before it logs in."""
FORM_FIELD = "_csrf_token"


class WebSession(msgspec.Struct, kw_only=True):
    account: str
    """The username key."""
    created_at: int
    """When the person logged in: the ``auth_time`` of what they approve."""


class WebSessions:
    def __init__(self, store: Store, ttl: int, secure: bool, keys: KeyRing):
        self.store = store
        self.ttl = ttl
        self.secure = secure
        self._keys = keys
        self.cookie, self.path = cookie_place(COOKIE, secure)
        self.device_cookie, _ = cookie_place(DEVICE_COOKIE, secure)
        self.form_cookie, _ = cookie_place(FORM_COOKIE, secure)

    async def person(self, connection: ASGIConnection) -> tuple[accounts.Account, WebSession] | None:
        """The logged-in person and their session, or None."""
        found = await self._session(connection)
        if found is None:
            return None
        session = msgspec.convert(found[1].value, WebSession)
        account = await accounts.find(self.store, session.account)
        return None if account is None else (account, session)

    async def form_token(self, connection: ASGIConnection) -> tuple[str, Cookie | None]:
        """The CSRF token for the forms of a page, and the cookie to set with it, if any.

        Logged in, it is derived from the session's record in the store: a token or cookie planted
        by another port of this host or a sibling subdomain does not match it, and no page but ours
        can read it. Before logging in it is derived from the browser's own form cookie (a signed
        double submit), which a new browser is given here.
        """
        binding = await self._binding(connection)
        if binding is not None:
            return self._token(binding), None
        secret = new_secret()
        return self._token(f"browser\0{secret}"), self._cookie(secret, None, self.form_cookie)

    async def form_token_matches(self, connection: ASGIConnection, token: str) -> bool:
        """Whether a posted form's ``token`` is this browser's, as :meth:`form_token` gave it."""
        binding = await self._binding(connection)
        return binding is not None and hmac.compare_digest(self._token(binding), token)

    async def _binding(self, connection: ASGIConnection) -> str | None:
        found = await self._session(connection)
        if found is not None:
            return f"session\0{found[0]}"
        secret = connection.cookies.get(self.form_cookie)
        return f"browser\0{secret}" if secret else None

    def _token(self, binding: str) -> str:
        """Keyed by the key set's form secret, so every server process checks the same tokens."""
        return hmac.new(self._keys.current.form_secret, binding.encode(), hashlib.sha256).hexdigest()

    async def _session(self, connection: ASGIConnection) -> tuple[str, Record] | None:
        """The key and record of the browser's live session, or None."""
        secret = connection.cookies.get(self.cookie)
        record = secret and await self.store.get_record(KIND, digest(secret))
        return (digest(secret), record) if record else None

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
        found = await self._session(connection)
        if found is not None:
            key, record = found
            await self.store.put_record(KIND, key, record.value, version=record.version, expires_at=0)
        return self._cookie("", 0)

    def _cookie(self, value: str, max_age: int | None, name: str | None = None) -> Cookie:
        """``max_age`` None: until the browser closes."""
        return Cookie(
            key=name or self.cookie,
            value=value,
            max_age=max_age,
            path=self.path,
            httponly=True,
            samesite="lax",
            secure=self.secure,
        )
