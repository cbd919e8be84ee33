"""The built-in identity provider: it signs the arcade's own tokens and verifies them."""

import secrets
import time
from typing import Annotated
from urllib.parse import urlencode

import msgspec
from arcade.plugins.idp_builtin import accounts
from arcade.plugins.idp_builtin.addresses import PLAYERS_ISSUER
from arcade.plugins.idp_builtin.errors import OAuthError
from arcade.plugins.idp_builtin.grants import DeviceGrants
from arcade.plugins.idp_builtin.keys import RECORD, KeyRing
from arcade.plugins.idp_builtin.limits import Limits
from arcade.plugins.idp_builtin.logins import Login, Logins
from arcade.plugins.idp_builtin.web_sessions import PATH, WebSessions
from joserfc import jwt

from arcade.sdk import tokens
from arcade.sdk.identity import DeviceSettings, InvalidToken, Principal, Profile, WebUser
from arcade.sdk.models import player_id
from arcade.sdk.store import Store

ALGORITHM = "ES256"
SCORES_SCOPE = "scores:write"
API_SCOPES = (SCORES_SCOPE,)
"""Scopes that go into access tokens; the others shape the ID token and the refresh token."""
SCOPES = ("openid", "profile", "offline_access", SCORES_SCOPE)

WRONG_ADDRESS = (
    "it was minted for another address of the arcade, or the arcade's address (port or public_url) changed "
    "since; log in again on the badge, or run `arcade token` with the same --host, --port and --public-url "
    "as `arcade serve`"
)
"""Why a token of this provider names another issuer: its issuer is the arcade's address."""

Seconds = Annotated[int, msgspec.Meta(ge=1)]


class BuiltinSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``[identity.builtin]``; every lifetime is in seconds."""

    client_id: str = "badge"
    """The client id badges use; the only client this provider knows."""
    audience: str | None = None
    """The ``aud`` of access tokens; defaults to ``<public_url>/api``."""
    access_token_ttl: Seconds = 3600
    leeway: Annotated[int, msgspec.Meta(ge=0)] = 30
    """Seconds of clock difference tolerated on ``exp`` and ``nbf``."""
    device_code_ttl: Seconds = 600
    """How long a badge's device code and user code can be used (``expires_in``)."""
    interval: Seconds = 5
    """The least time between a badge's polls; each ``slow_down`` adds 5 for that grant."""
    refresh_token_ttl: Seconds = 90 * 24 * 3600
    """How long an unused refresh token lasts; each use starts the time again."""
    refresh_grace: Annotated[int, msgspec.Meta(ge=0)] = 60
    """How long a used refresh token or device code still gets the same answer, for a badge that lost it."""
    browser_session_ttl: Seconds = 3600
    """How long a person stays logged in on the verification pages."""
    limits: Limits = msgspec.field(default_factory=Limits)


class BuiltinProvider:
    name = "builtin"
    score_scope = SCORES_SCOPE

    def __init__(self, issuer: str, keys: KeyRing, settings: BuiltinSettings, store: Store | None = None):
        self.issuer = issuer
        self.keys = keys
        self.settings = settings
        self.audience = settings.audience or f"{issuer}/api"
        self.store = store
        self.grants = DeviceGrants(store, settings.device_code_ttl, settings.interval, settings.refresh_grace)
        self.logins = Logins(store, settings.refresh_token_ttl, settings.access_token_ttl, settings.refresh_grace)
        self.secure = issuer.startswith("https://")
        """Under https its cookies are Secure."""
        self.sessions = WebSessions(store, settings.browser_session_ttl, self.secure, keys)

    def device_settings(self) -> DeviceSettings:
        return DeviceSettings(
            issuer=self.issuer,
            device_authorization_endpoint=f"{self.issuer}/oauth/device_authorization",
            token_endpoint=f"{self.issuer}/oauth/token",
            revocation_endpoint=f"{self.issuer}/oauth/revoke",
            client_id=self.settings.client_id,
            scope=" ".join(SCOPES),
            audience=self.audience,
        )

    def public_keys(self) -> dict:
        return self.keys.current.verifying.as_dict(private=False)

    keys_record = RECORD
    """The record a shared store keeps the signing keys in: ``arcade export`` carries them apart, from
    :meth:`signing_keys`, wherever they are kept."""

    async def signing_keys(self) -> dict | None:
        """The signing keys with their retiring times and form secret, for ``arcade export`` to carry to
        the arcade that takes the event over: its badges' tokens and browsers' sessions go on working."""
        return await self.keys.document()

    async def save_signing_keys(self, document: dict) -> None:
        """Sign and verify with ``document`` (from :meth:`signing_keys`) from now on, for ``arcade import``."""
        await self.keys.replace(document)

    async def rotate_keys(self) -> tuple[str, str, float]:
        """A new signing key; the old one verifies until the tokens it signed have expired (``keys.py``)."""
        return await self.keys.rotate(self.settings.access_token_ttl + self.settings.leeway)

    def issue_access_token(
        self, subject: str, name: str, picture: str | None = None, *, scope: str = SCORES_SCOPE, sid: str | None = None
    ) -> str:
        """A signed RFC 9068 access token for ``subject``, carrying the name shown on leaderboards.

        ``sid`` names the login it belongs to; revoking that login ends the token.
        """
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": self.audience,
            "iat": now,
            "nbf": now,
            "exp": now + self.settings.access_token_ttl,
            "jti": secrets.token_urlsafe(16),
            "client_id": self.settings.client_id,
            "scope": scope,
            "name": name,
        }
        if picture:
            claims["picture"] = picture
        if sid:
            claims["sid"] = sid
        return self._sign("at+jwt", claims)

    def issue_id_token(self, account: accounts.Account, login: Login, sid: str) -> str:
        """An OpenID Connect ID token: who approved the login, with their name and picture."""
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": account.subject,
            "aud": login.client_id,
            "iat": now,
            "exp": now + self.settings.access_token_ttl,
            "auth_time": login.auth_time,
            "sid": sid,
        }
        if "profile" in login.scope.split():
            avatar = f"{self.issuer}/players/{player_id(PLAYERS_ISSUER, account.subject)}/avatar.svg"
            claims.update(name=account.name, preferred_username=account.username, picture=account.picture or avatar)
        return self._sign("JWT", claims)

    async def token_response(self, login: Login, sid: str, refresh_token: str | None, scope: str | None = None) -> dict:
        """The token endpoint's answer for a login (RFC 6749 §5.1), for all of its scope or ``scope``."""
        scopes = login.scope.split() if scope is None else scope.split()
        beyond = [name for name in scopes if name not in login.scope.split()]
        if beyond:
            raise OAuthError("invalid_scope", f"scope {beyond[0]!r} was not granted to this login")
        account = await accounts.find(self.store, login.account)
        if account is None:
            raise OAuthError("invalid_grant", "the account behind this login no longer exists")
        access_scope = " ".join(scope for scope in scopes if scope in API_SCOPES)
        response = {
            "access_token": self.issue_access_token(
                account.subject, account.name, account.picture, scope=access_scope, sid=sid
            ),
            "token_type": "Bearer",
            "expires_in": self.settings.access_token_ttl,
            "scope": " ".join(scopes),
        }
        if "openid" in scopes:
            response["id_token"] = self.issue_id_token(account, login, sid)
        if refresh_token:
            response["refresh_token"] = refresh_token
        return response

    async def verify(self, token: str) -> Principal:
        claims = tokens.verify(
            token,
            await self.keys.verifying(tokens.key_id(token)),
            issuer=self.issuer,
            audience=self.audience,
            algorithms=[ALGORITHM],
            typ="at+jwt",
            leeway=self.settings.leeway,
            other_issuer=WRONG_ADDRESS,
        )
        if "sid" in claims and not await self.logins.is_active(claims["sid"]):
            raise InvalidToken("this login was revoked or has ended; log in again on the badge")
        return Principal(issuer=PLAYERS_ISSUER, subject=claims["sub"], scope=claims.get("scope", ""), claims=claims)

    async def profile(self, principal: Principal, token: str, id_token: str | None = None) -> Profile:
        claims = principal.claims
        return Profile(name=str(claims.get("name") or principal.subject), picture=claims.get("picture"))

    def _sign(self, typ: str, claims: dict) -> str:
        signing_key = self.keys.current.signing
        return jwt.encode({"alg": ALGORITHM, "typ": typ, "kid": signing_key.kid}, claims, signing_key)

    # -- signing in on the arcade's own pages (arcade.sdk.identity.SignsInOnTheWeb) -----------

    def sign_in_url(self, then: str) -> str:
        """The code entry page, which logs the person in first, then sends them back to ``then``."""
        return f"{PATH}?{urlencode({'then': then})}"

    def sign_out_url(self) -> str:
        return f"{PATH}/log-out"

    async def web_user(self, connection) -> WebUser | None:
        person = await self.sessions.person(connection)
        if person is None:
            return None
        account = person[0]
        principal = Principal(issuer=PLAYERS_ISSUER, subject=account.subject)
        return WebUser(principal=principal, name=account.name, account=account.username)

    async def form_token(self, connection):
        return await self.sessions.form_token(connection)

    async def form_token_matches(self, connection, token: str) -> bool:
        return await self.sessions.form_token_matches(connection, token)

    async def rename(self, user: WebUser, name: str) -> None:
        await accounts.rename(self.store, user.account, name)

    async def forget(self, connection, user: WebUser) -> list:
        """The account goes; its logins stop verifying with it (``Logins.is_active``), and so do the
        sessions of other browsers (``WebSessions.person``)."""
        await accounts.delete(self.store, user.account)
        return [await self.sessions.end(connection)]
