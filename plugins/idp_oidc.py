"""Any OpenID Connect provider with the device flow as the arcade's identity provider.

Keycloak, Okta, Entra ID, Google, or another arcade's built-in provider: at start-up the arcade
reads the provider's discovery document and keys (a wrong issuer stops start-up saying what was
tried and what came back), points badges at the provider's device-flow endpoints, and verifies
the badges' access tokens with the provider's published keys. While the provider is down, the
keys already fetched keep verifying and the pages keep serving. With a web client
(``web_client_id``), people sign in on the arcade's own pages at the provider too (``oidc_sign_in``).
"""

import asyncio
import logging
import ssl
import time
from typing import Annotated, Any, Literal
from urllib.parse import urlencode, urlsplit

import httpx
import msgspec
from arcade.plugins.oidc_sign_in import SIGN_IN, SIGN_OUT, WebSignIn, sign_in_router
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from litestar.exceptions import NotFoundException

from arcade.sdk import tokens
from arcade.sdk.errors import ArcadeError, PluginError
from arcade.sdk.hookspecs import hookimpl
from arcade.sdk.identity import DeviceSettings, InvalidToken, Principal, Profile, ProviderUnavailable, WebUser
from arcade.sdk.settings import PluginSettings

NAME = "oidc"
TIMEOUT_S = 5
REFETCH_INTERVAL_S = 60
"""At most one fetch of the keys a minute, however many tokens name a key the arcade has not seen."""
KEYS_MAX_AGE_S = 3600
"""Keys are fetched again after an hour, so a key the provider retired stops verifying."""
PROFILE_TTL_S = 3600
FAILED_PROFILE_TTL_S = 600
"""A lookup the provider refused or could not answer is not tried again for ten minutes: a provider
that refuses the API's access tokens at userinfo (node-oidc-provider does) is not asked per score."""
PROFILE_CACHE_SIZE = 10_000
NAME_CLAIMS = ("name", "nickname", "preferred_username", "given_name")
LOOPBACK = {"127.0.0.1", "::1", "localhost"}

log = logging.getLogger(__name__)

Algorithm = Literal["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
"""Asymmetric algorithms only: the arcade holds the provider's public keys, never a shared secret."""

TypPolicy = Literal["at+jwt", "jwt", "any"]
"""What the token's ``typ`` header must say: ``at+jwt`` (RFC 9068), ``jwt``, or ``any`` (unchecked,
for providers that send none; the audience check then keeps ID tokens out)."""


class OidcSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    issuer: str
    """Exactly the provider's issuer, as its discovery document and its tokens spell it."""
    client_id: str
    """The badges' client id at the provider: a public client allowed the device-code grant."""
    audience: str
    """What the access tokens' ``aud`` must hold: the arcade's API as registered at the provider."""
    scope: str = "openid profile offline_access"
    algorithms: Annotated[list[Algorithm], msgspec.Meta(min_length=1)] = msgspec.field(
        default_factory=lambda: ["RS256"]
    )
    typ: TypPolicy = "at+jwt"
    leeway: Annotated[int, msgspec.Meta(ge=0, le=300)] = 30
    """Seconds of clock difference tolerated on ``exp`` and ``nbf``."""
    ca_file: str | None = None
    """A PEM file of CAs to trust besides the usual ones, for a provider behind a private CA."""
    score_scope: str | None = None
    """A scope access tokens must carry to post scores (e.g. ``scores:write``); None: any token for the audience."""
    web_client_id: str | None = None
    """The arcade's web application at the provider (authorization code flow, redirect URI
    ``<public_url>/sign-in/callback``), for signing in on the admin and account pages; None: no sign-in on the web."""
    web_client_secret: str | None = None
    """Its secret, from the environment only (``ARCADE_IDENTITY__OIDC__WEB_CLIENT_SECRET``); None for a public client."""
    web_scope: str = "openid profile"
    """What the web sign-in asks for; add what puts ``[admins] claim`` in the ID token (e.g. ``groups``)."""
    browser_session_ttl: Annotated[int, msgspec.Meta(ge=60)] = 3600
    """Seconds a person stays signed in on the arcade's pages."""


class Discovery(msgspec.Struct, kw_only=True):
    """The parts of an OpenID Provider's discovery document the arcade uses."""

    issuer: str
    jwks_uri: str
    token_endpoint: str
    authorization_endpoint: str | None = None
    device_authorization_endpoint: str | None = None
    userinfo_endpoint: str | None = None
    revocation_endpoint: str | None = None


class FetchFailed(ArcadeError):
    """A provider's answer could not be had; the message says what was tried and what came back."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class ProviderHttp:
    """HTTPS to a provider, trusting ``ca_file`` besides the usual CAs.

    Blocking, so that start-up checks can run before the event loop; at run time the
    provider calls it in a worker thread.
    """

    def __init__(self, ca_file: str | None):
        tls = httpx.create_ssl_context()
        if ca_file:
            try:
                tls.load_verify_locations(ca_file)
            except (OSError, ssl.SSLError) as error:
                raise FetchFailed(f"ca_file {ca_file!r} could not be read as PEM certificates ({error})") from None
        self._client = httpx.Client(verify=tls, timeout=TIMEOUT_S, headers={"Accept": "application/json"})

    def fetch(self, method: str, url: str, kind: type, **request: Any):
        """The JSON answer decoded as ``kind``; :class:`FetchFailed` naming the request and the answer."""
        attempt = f"tried {method} {url}"
        try:
            response = self._client.request(method, url, **request)
        except httpx.HTTPError as error:
            hint = ""
            if "CERTIFICATE_VERIFY_FAILED" in str(error):
                hint = "; if the provider's certificate comes from a private CA, give that CA's PEM file as ca_file"
            raise FetchFailed(f"{attempt} and got no answer ({type(error).__name__}: {error}){hint}") from None
        if response.status_code != 200:
            raise FetchFailed(
                f"{attempt} and got HTTP {response.status_code}: {response.text[:200]!r}", response.status_code
            )
        try:
            return msgspec.json.decode(response.content, type=kind)
        except msgspec.ValidationError as error:  # a DecodeError too, so it goes first
            raise FetchFailed(f"{attempt} and got JSON without what the arcade needs: {error}") from None
        except msgspec.DecodeError:
            raise FetchFailed(f"{attempt} and got a body that is not JSON: {response.text[:200]!r}") from None

    def keys(self, url: str) -> KeySet:
        try:
            return KeySet.import_key_set(self.fetch("GET", url, dict))
        except (JoseError, ValueError, KeyError, TypeError) as error:
            raise FetchFailed(f"tried GET {url} and got no usable JWK set ({error})") from None


def discover(http: ProviderHttp, issuer: str) -> Discovery:
    """The provider's discovery document, refused unless it is for ``issuer`` and offers the device flow."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    discovery = http.fetch("GET", url, Discovery)
    if discovery.issuer != issuer:
        raise FetchFailed(
            f"tried GET {url} and got the document of issuer {discovery.issuer!r}, not {issuer!r}; "
            "set issuer to exactly the provider's issuer"
        )
    if not discovery.device_authorization_endpoint:
        raise FetchFailed(
            f"tried GET {url} and got no device_authorization_endpoint: this provider does not offer the "
            "device flow (RFC 8628) that badges log in with; enable it at the provider or choose another"
        )
    return discovery


class PublishedKeys:
    """The provider's key set, fetched again for a token naming an unknown key or after an hour.

    Refetches are spaced by :data:`REFETCH_INTERVAL_S`, so tokens with made-up key ids cannot
    turn the arcade against the provider; a failed refetch keeps the cached keys.
    """

    def __init__(self, http: ProviderHttp, url: str, keys: KeySet):
        self._http = http
        self._url = url
        self.current = keys
        self._fetched_at = time.monotonic()
        self._next_fetch_at = 0.0  # the first rotation after start-up is picked up at once
        self._last_failure: str | None = None
        self._lock = asyncio.Lock()

    def knows(self, kid: str | None) -> bool:
        return kid is None or any(key.kid == kid for key in self.current.keys)

    def _usable_for(self, kid: str | None) -> bool:
        return self.knows(kid) and time.monotonic() - self._fetched_at <= KEYS_MAX_AGE_S

    async def for_key(self, kid: str | None) -> KeySet:
        """The keys to verify a token signed with ``kid``; :class:`ProviderUnavailable` if unknown
        while the provider cannot be reached."""
        if self._usable_for(kid) or (self.knows(kid) and self._lock.locked()):
            return self.current
        async with self._lock:  # one fetch at a time; the requests waiting then see its result
            if not self._usable_for(kid) and time.monotonic() >= self._next_fetch_at:
                self._next_fetch_at = time.monotonic() + REFETCH_INTERVAL_S
                await self._refetch()
        if not self.knows(kid) and self._last_failure:
            raise ProviderUnavailable(f"the identity provider's keys could not be fetched: {self._last_failure}")
        return self.current

    async def _refetch(self) -> None:
        try:
            self.current = await asyncio.to_thread(self._http.keys, self._url)
        except FetchFailed as error:
            self._last_failure = str(error)
            log.warning("identity provider: keeping the cached keys: %s", error)
            return
        self._fetched_at = time.monotonic()
        self._last_failure = None


def display_name(claims: dict) -> str | None:
    """The first name-like claim; an e-mail address is cut to its local part, so no leaderboard shows one."""
    for claim in NAME_CLAIMS:
        value = claims.get(claim)
        if isinstance(value, str) and value.strip():
            return value.strip().split("@")[0] or None
    return None


def profile_from(claims: dict, subject: str) -> Profile:
    picture = claims.get("picture")
    return Profile(name=display_name(claims) or subject, picture=picture if isinstance(picture, str) else None)


class OidcProvider:
    """An OpenID Provider the arcade relies on; connects (discovery and keys) when made."""

    name = NAME

    def __init__(self, settings: OidcSettings, where: str, public_url: str = "", store=None):
        self.settings = settings
        self.issuer = settings.issuer
        self.score_scope = settings.score_scope
        try:
            self.http = ProviderHttp(settings.ca_file)
            self.discovery = discover(self.http, settings.issuer)
            keys = self.http.keys(self.discovery.jwks_uri)
        except FetchFailed as error:
            raise PluginError(f"{where}: {error}") from None
        self.keys = PublishedKeys(self.http, self.discovery.jwks_uri, keys)
        self._profiles: dict[tuple[str, str], tuple[float, Profile]] = {}
        self.web: WebSignIn | None = None
        if settings.web_client_id and store is not None:
            if not self.discovery.authorization_endpoint:
                raise PluginError(
                    f"{where}.web_client_id: the provider's discovery document names no authorization_endpoint, "
                    "so people cannot sign in there on the web; leave web_client_id out or choose another provider"
                )
            self.web = WebSignIn(
                self, store, public_url, name_of=lambda claims: profile_from(claims, claims["sub"]).name
            )

    def device_settings(self) -> DeviceSettings:
        return DeviceSettings(
            issuer=self.issuer,
            device_authorization_endpoint=self.discovery.device_authorization_endpoint,
            token_endpoint=self.discovery.token_endpoint,
            revocation_endpoint=self.discovery.revocation_endpoint,
            client_id=self.settings.client_id,
            scope=self.settings.scope,
            audience=self.settings.audience,
        )

    async def verify(self, token: str) -> Principal:
        keys = await self.keys.for_key(tokens.key_id(token))
        claims = tokens.verify(
            token,
            keys,
            issuer=self.issuer,
            audience=self.settings.audience,
            algorithms=list(self.settings.algorithms),
            typ=None if self.settings.typ == "any" else self.settings.typ,
            leeway=self.settings.leeway,
        )
        if not isinstance(claims["sub"], str):
            raise InvalidToken("the token's sub must be a string")
        return Principal(issuer=self.issuer, subject=claims["sub"], scope=str(claims.get("scope", "")), claims=claims)

    async def profile(self, principal: Principal, token: str, id_token: str | None = None) -> Profile:
        """From the cache for an hour; else from the badge's ID token, when it verifies; else the
        provider's userinfo. When the provider cannot answer: the last known profile, else the
        token's own claims (a score is never refused for want of a name), kept for ten minutes
        before the provider is asked again."""
        key = (principal.issuer, principal.subject)
        cached = self._profiles.get(key)
        fresh = cached is not None and cached[0] > time.monotonic()
        if fresh and (cached[1].known or not id_token):
            return cached[1]
        named = await self.named_by(id_token, principal) if id_token else None
        if named:
            profile, lifetime = named, PROFILE_TTL_S
        elif fresh:  # an ID token refused: the provider is not asked again before its time
            return cached[1]
        else:
            try:
                profile = await asyncio.to_thread(self.fetch_profile, principal, token)
                lifetime = PROFILE_TTL_S
            except FetchFailed as error:
                log.warning("identity provider %s: no profile for %s: %s", self.name, principal.subject, error)
                profile = cached[1] if cached else unknown_profile(principal)
                lifetime = FAILED_PROFILE_TTL_S
        self._profiles.pop(key, None)
        self._profiles[key] = (time.monotonic() + lifetime, profile)
        if len(self._profiles) > PROFILE_CACHE_SIZE:
            del self._profiles[next(iter(self._profiles))]  # the least recently fetched
        return profile

    async def fetch_in_thread(self, method: str, url: str, kind: type, **request: Any):
        return await asyncio.to_thread(self.http.fetch, method, url, kind, **request)

    async def verified_id_token(self, id_token: str, client_id: str) -> dict:
        """An ID token's claims, checked for the client ``client_id`` as OpenID Connect Core §3.1.3.7
        says: the provider's keys and issuer, ``aud`` naming the client, ``azp`` when present or needed."""
        keys = await self.keys.for_key(tokens.key_id(id_token))
        claims = tokens.verify(
            id_token,
            keys,
            issuer=self.issuer,
            audience=client_id,
            algorithms=list(self.settings.algorithms),
            typ=None,
            leeway=self.settings.leeway,
        )
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if (len(audiences) > 1 or "azp" in claims) and claims.get("azp") != client_id:
            raise InvalidToken(f"it was issued to {claims.get('azp')!r}, not to {client_id!r} (azp)")
        if not isinstance(claims.get("sub"), str):
            raise InvalidToken("its sub is not a string")
        return claims

    async def named_by(self, id_token: str, principal: Principal) -> Profile | None:
        """The profile an ID token gives, if the provider signed it for the badges (``aud`` their
        client id) about the access token's subject and it names them; None otherwise (logged)."""
        try:
            claims = await self.verified_id_token(id_token, self.settings.client_id)
            if claims["sub"] != principal.subject:
                raise InvalidToken("it is about another subject")
        except (InvalidToken, ProviderUnavailable) as error:
            log.warning(
                "identity provider %s: an ID token sent for %s is refused: %s", self.name, principal.subject, error
            )
            return None
        return profile_from(claims, principal.subject) if display_name(claims) else None

    def fetch_profile(self, principal: Principal, token: str) -> Profile:
        """The token's name claims if it has them, else the provider's userinfo (runs in a thread)."""
        endpoint = self.discovery.userinfo_endpoint
        if display_name(principal.claims) or not endpoint:
            return profile_from(principal.claims, principal.subject)
        info = self.http.fetch("GET", endpoint, dict, headers={"Authorization": f"Bearer {token}"})
        if info.get("sub") != principal.subject:
            raise FetchFailed(f"tried GET {endpoint} and got the profile of another subject")
        return profile_from(info, principal.subject)

    # -- signing in on the arcade's own pages (arcade.sdk.identity.SignsInOnTheWeb) -----------

    def _web(self) -> WebSignIn:
        if self.web is None:
            raise NotFoundException(
                f"the identity provider {self.name!r} has no web client for signing in on the arcade's pages; "
                f"register one at the provider and set [identity.{self.name}] web_client_id (docs/identity-providers.md)"
            )
        return self.web

    def sign_in_url(self, then: str) -> str:
        return f"{SIGN_IN}?{urlencode({'then': then})}"

    def sign_out_url(self) -> str:
        return SIGN_OUT

    async def web_user(self, connection) -> WebUser | None:
        return await self._web().web_user(connection)

    async def form_token(self, connection):
        return await self._web().form_token(connection)

    async def form_token_matches(self, connection, token: str) -> bool:
        return await self._web().form_token_matches(connection, token)

    async def rename(self, user: WebUser, name: str) -> None:
        """The provider keeps its own name; the arcade keeps the new one against it (the store's rename)."""

    async def forget(self, connection, user: WebUser) -> list:
        """The account at the provider is the person's own: here only the arcade's session ends."""
        return [await self._web().end(connection)]


def unknown_profile(principal: Principal) -> Profile:
    """What the access token itself says; ``known`` only when it names the player."""
    return msgspec.structs.replace(
        profile_from(principal.claims, principal.subject), known=bool(display_name(principal.claims))
    )


@hookimpl
def arcade_identity_provider(name, settings, context):
    if name != NAME:
        return None
    options = settings.decode(OidcSettings)
    require_https(options.issuer, settings)
    secret_from_environment(options.web_client_secret, settings)
    return OidcProvider(options, settings.where, context.public_url, context.store)


@hookimpl
def arcade_routes(context):
    """The web sign-in's routes, for this provider or one built on it (``auth0``)."""
    provider = context.identity
    if isinstance(provider, OidcProvider) and provider.web is not None:
        return [sign_in_router(provider.web, context.public_url)]
    return []


def secret_from_environment(secret: str | None, settings: PluginSettings) -> None:
    """A secret in arcade.toml ends up in backups, repositories and screenshots: refused there."""
    key = f"{settings.where}.web_client_secret"
    if secret is not None and key not in settings.origins:
        variable = "ARCADE_" + key.upper().replace(".", "__")
        raise settings.error("web_client_secret", f"give the secret in the environment, {variable}, not in the file")


def require_https(issuer: str, settings: PluginSettings) -> None:
    """Keys fetched over plain HTTP could be swapped by anyone on the event's network, and with
    them every token; plain HTTP is for a provider on this machine only."""
    parts = urlsplit(issuer)
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK):
        return
    raise settings.error("issuer", f"expected an https:// URL (http:// only on this machine), got {issuer!r}")
