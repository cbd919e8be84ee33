"""Signing in on the arcade's own pages (the admin pages, a player's account page) through an
external OpenID provider: the authorization code flow with PKCE (OpenID Connect Core §3.1, RFC 7636).

``/sign-in`` sends the browser to the provider with a new ``state``, ``nonce`` and code challenge,
kept in the store under the state and bound to this browser by a cookie. ``/sign-in/callback``
takes the provider's answer once: it trades the code (with its verifier and the web client's
secret) for an ID token, verifies that token with the provider's published keys (issuer, audience,
expiry, nonce), adds what the provider's userinfo says of the person, and starts a session kept in
the store, as the built-in provider's is, so every process sharing the store knows it.
``/sign-out`` ends it.
"""

import base64
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus, urlencode

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import CacheControlHeader, Cookie
from litestar.exceptions import ClientException, PermissionDeniedException, ServiceUnavailableException
from litestar.response import Redirect

from arcade.sdk.errors import ArcadeError
from arcade.sdk.identity import InvalidToken, Principal, ProviderUnavailable, WebUser
from arcade.sdk.origins import posts_from
from arcade.sdk.store import Store
from arcade.sdk.web import cookie_place

SIGN_IN = "/sign-in"
CALLBACK = "/sign-in/callback"
SIGN_OUT = "/sign-out"
PENDING_KIND = "oidc_sign_in"
SESSION_KIND = "oidc_session"
PENDING_TTL = 600
"""Seconds a person has to sign in at the provider and come back."""
SESSION_COOKIE = "arcade_session"
PENDING_COOKIE = "arcade_sign_in"
FORM_FIELD = "_csrf_token"
CSRF_HEADER = "x-csrf-token"
START_AGAIN = "nothing was signed in; open the page you wanted again to start a new sign-in"

log = logging.getLogger(__name__)


class SignInRefused(ClientException):
    """A callback the arcade will not sign anyone in with: a 400 page saying why."""

    def __init__(self, why: str):
        super().__init__(detail=f"{why}; {START_AGAIN}")


class Pending(msgspec.Struct, kw_only=True):
    """A sign-in on its way through the provider, stored under the digest of its ``state``."""

    nonce: str
    verifier: str
    then: str
    browser: str
    """The digest of the browser's sign-in cookie: the callback must come back to the same browser."""


class WebSession(msgspec.Struct, kw_only=True):
    subject: str
    name: str
    claims: dict[str, Any]
    """The ID token's, for ``[admins] claim``."""
    csrf: str
    """The token this session's forms carry."""
    created_at: int


def digest(secret: str) -> str:
    """The key a secret is stored under, so the store never holds a usable cookie or state."""
    return hashlib.sha256(secret.encode()).hexdigest()


def code_challenge(verifier: str) -> str:
    """PKCE's S256: the unpadded base64url of the verifier's SHA-256."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def basic_credentials(client_id: str, secret: str) -> tuple[str, str]:
    """The web client's id and secret form-urlencoded, as RFC 6749 §2.3.1 has them in HTTP Basic:
    providers decode them (node-oidc-provider refuses a ``%`` left bare, and reads ``+`` as a space)."""
    return quote_plus(client_id), quote_plus(secret)


def local_path(then: str | None) -> str:
    """Where to return after signing in: only a path of this arcade, never another site."""
    if then and then.startswith("/") and not then.startswith("//") and "\\" not in then:
        return then
    return "/"


class WebSignIn:
    """The web client of an :class:`~arcade.plugins.idp_oidc.OidcProvider` (its discovery, HTTP
    client, published keys and ``web_*`` settings), its pending sign-ins and its sessions.
    ``name_of``: the name shown for an ID token's claims."""

    def __init__(self, provider, store: Store, public_url: str, name_of: Callable[[dict], str]):
        self.provider = provider
        self.client_id = provider.settings.web_client_id
        self.client_secret = provider.settings.web_client_secret
        self.store = store
        self.redirect_uri = f"{public_url}{CALLBACK}"
        self.session_ttl = provider.settings.browser_session_ttl
        self.name_of = name_of
        self.secure = public_url.startswith("https://")
        self.session_cookie, self.cookie_path = cookie_place(SESSION_COOKIE, self.secure)
        self.pending_cookie, _ = cookie_place(PENDING_COOKIE, self.secure)

    # -- the flow ----------------------------------------------------------------------------------

    async def begin(self, connection: ASGIConnection, then: str) -> Redirect:
        """The redirect to the provider's authorization endpoint, and the browser's sign-in cookie."""
        browser = connection.cookies.get(self.pending_cookie) or secrets.token_urlsafe(32)  # kept: two tabs
        state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(48)
        pending = Pending(nonce=nonce, verifier=verifier, then=local_path(then), browser=digest(browser))
        expires_at = int(time.time()) + PENDING_TTL
        await self.store.put_record(
            PENDING_KIND, digest(state), msgspec.to_builtins(pending), version=0, expires_at=expires_at
        )
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": self.provider.settings.web_scope,
            "state": state,
            "nonce": nonce,
            "code_challenge": code_challenge(verifier),
            "code_challenge_method": "S256",
        }
        url = f"{self.provider.discovery.authorization_endpoint}?{urlencode(query)}"
        return Redirect(url, status_code=303, cookies=[self._cookie(self.pending_cookie, browser, PENDING_TTL)])

    async def finish(self, connection: ASGIConnection) -> Redirect:
        """The provider's answer: the session's cookie and the way back, or :class:`SignInRefused`."""
        query = connection.query_params
        pending = await self._take_pending(connection, query.get("state") or "")
        if query.get("error"):
            said = f"{query['error']}: {query.get('error_description', '')}".rstrip(": ")
            raise SignInRefused(f"the identity provider did not sign you in ({said})")
        if not query.get("code"):
            raise SignInRefused("the identity provider's answer has no code")
        tokens = await self._redeem(query["code"], pending.verifier)
        claims = await self._with_userinfo(await self._verified_id_token(tokens["id_token"], pending.nonce), tokens)
        session = WebSession(
            subject=claims["sub"],
            name=self.name_of(claims),
            claims=claims,
            csrf=secrets.token_urlsafe(32),
            created_at=int(time.time()),
        )
        secret = secrets.token_urlsafe(32)
        expires_at = session.created_at + self.session_ttl
        await self.store.put_record(
            SESSION_KIND, digest(secret), msgspec.to_builtins(session), version=0, expires_at=expires_at
        )
        cookies = [
            self._cookie(self.session_cookie, secret, self.session_ttl),
            self._cookie(self.pending_cookie, "", 0),
        ]
        return Redirect(pending.then, status_code=303, cookies=cookies)

    async def _take_pending(self, connection: ASGIConnection, state: str) -> Pending:
        """The pending sign-in of ``state``, used up: a callback replayed finds none."""
        record = state and await self.store.get_record(PENDING_KIND, digest(state))
        if not record:
            raise SignInRefused("this sign-in's state is not one the arcade started, or it was used or has expired")
        pending = msgspec.convert(record.value, Pending)
        browser = connection.cookies.get(self.pending_cookie) or ""
        if not hmac.compare_digest(digest(browser), pending.browser):
            raise SignInRefused("this sign-in was started in another browser")
        used = await self.store.put_record(
            PENDING_KIND, digest(state), record.value, version=record.version, expires_at=0
        )
        if used is None:
            raise SignInRefused("this sign-in was already answered")
        return pending

    async def _redeem(self, code: str, verifier: str) -> dict:
        """The provider's token answer for ``code`` (RFC 6749 §4.1.3), which has an ID token."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": verifier,
            "client_id": self.client_id,
        }
        auth = basic_credentials(self.client_id, self.client_secret) if self.client_secret else None
        endpoint = self.provider.discovery.token_endpoint
        try:
            answer = await self.provider.fetch_in_thread("POST", endpoint, dict, data=form, auth=auth)
        except ArcadeError as error:  # the provider's FetchFailed: refused (a status), or not reached
            if getattr(error, "status", None) is None:
                raise ServiceUnavailableException(f"the identity provider could not be reached: {error}") from None
            raise SignInRefused(f"the identity provider refused the sign-in's code: {error}") from None
        if not isinstance(answer.get("id_token"), str):
            raise SignInRefused(f"the identity provider's token endpoint {endpoint} gave no ID token")
        return answer

    async def _verified_id_token(self, id_token: str, nonce: str) -> dict:
        """The ID token's claims, checked as OpenID Connect Core §3.1.3.7 says."""
        try:
            claims = await self.provider.verified_id_token(id_token, self.client_id)
        except ProviderUnavailable as error:
            raise ServiceUnavailableException(str(error)) from None
        except InvalidToken as error:
            raise SignInRefused(f"the identity provider's ID token was refused: {error}") from None
        if not isinstance(claims.get("nonce"), str) or not hmac.compare_digest(claims["nonce"], nonce):
            raise SignInRefused("the ID token's nonce is not this sign-in's: it was issued for another sign-in")
        return claims

    async def _with_userinfo(self, claims: dict, tokens: dict) -> dict:
        """The ID token's claims and what the provider's userinfo adds to them: with an access token
        in the answer, a provider may give the profile and groups there only (OpenID Connect Core
        §5.4; node-oidc-provider does). A userinfo that fails, or is about someone else (§5.3.2),
        adds nothing: the person is still signed in, by the ID token alone."""
        endpoint = self.provider.discovery.userinfo_endpoint
        if not endpoint or not isinstance(tokens.get("access_token"), str):
            return claims
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        try:
            info = await self.provider.fetch_in_thread("GET", endpoint, dict, headers=bearer)
        except ArcadeError as error:
            log.warning("sign-in of %s: the ID token's claims only: %s", claims["sub"], error)
            return claims
        if info.get("sub") != claims["sub"]:
            log.warning("sign-in of %s: the ID token's claims only: userinfo is about another subject", claims["sub"])
            return claims
        return {**info, **claims}

    # -- the session -------------------------------------------------------------------------------

    async def _session(self, connection: ASGIConnection) -> tuple[str, Any] | None:
        secret = connection.cookies.get(self.session_cookie)
        record = secret and await self.store.get_record(SESSION_KIND, digest(secret))
        return (digest(secret), record) if record else None

    async def web_user(self, connection: ASGIConnection) -> WebUser | None:
        found = await self._session(connection)
        if found is None:
            return None
        session = msgspec.convert(found[1].value, WebSession)
        principal = Principal(issuer=self.provider.issuer, subject=session.subject, claims=session.claims)
        return WebUser(principal=principal, name=session.name)

    async def form_token(self, connection: ASGIConnection) -> tuple[str, None]:
        found = await self._session(connection)
        return (found[1].value["csrf"] if found else ""), None

    async def form_token_matches(self, connection: ASGIConnection, token: str) -> bool:
        found = await self._session(connection)
        return found is not None and hmac.compare_digest(found[1].value["csrf"], token)

    async def end(self, connection: ASGIConnection) -> Cookie:
        """Sign out: the session is gone from the store, for every process; the cookie that clears it."""
        found = await self._session(connection)
        if found is not None:
            key, record = found
            await self.store.put_record(SESSION_KIND, key, record.value, version=record.version, expires_at=0)
        return self._cookie(self.session_cookie, "", 0)

    def _cookie(self, name: str, value: str, max_age: int) -> Cookie:
        return Cookie(
            key=name,
            value=value,
            max_age=max_age,
            path=self.cookie_path,
            httponly=True,
            samesite="lax",  # the provider's redirect back is a top-level GET: the cookie goes with it
            secure=self.secure,
        )


def sign_in_router(web: WebSignIn, public_url: str) -> Router:
    """``/sign-in``, its callback and ``/sign-out``, never cached (the access log leaves out the
    callback's query, its code and state)."""

    @get(SIGN_IN)
    async def sign_in(request: Request) -> Redirect:
        return await web.begin(request, request.query_params.get("then", "/"))

    @get(CALLBACK)
    async def callback(request: Request) -> Redirect:
        return await web.finish(request)

    @post(SIGN_OUT)
    async def sign_out(request: Request) -> Response:
        token = request.headers.get(CSRF_HEADER) or (await request.form()).get(FORM_FIELD, "")
        if await web.web_user(request) is not None and not await web.form_token_matches(request, str(token)):
            raise PermissionDeniedException(
                "the form's CSRF token is not this session's; reload the page and try again"
            )
        return Redirect("/", status_code=303, cookies=[await web.end(request)])

    return Router(
        path="/",
        route_handlers=[sign_in, callback, sign_out],
        guards=[posts_from(public_url)],
        cache_control=CacheControlHeader(no_store=True),
        include_in_schema=False,
    )
