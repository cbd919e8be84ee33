"""Any OpenID Connect provider with the device flow as the arcade's identity provider.

Keycloak, Okta, Entra ID, Google, or another arcade's built-in provider: at start-up the arcade
reads the provider's discovery document and keys (a wrong issuer stops start-up saying what was
tried and what came back), points badges at the provider's device-flow endpoints, and verifies
the badges' access tokens with the provider's published keys. While the provider is down, the
keys already fetched keep verifying and the pages keep serving.
"""

import asyncio
import logging
import ssl
import time
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import httpx
import msgspec
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from arcade.sdk import tokens
from arcade.sdk.errors import ArcadeError, PluginError
from arcade.sdk.hookspecs import hookimpl
from arcade.sdk.settings import PluginSettings
from arcade.sdk.identity import DeviceSettings, InvalidToken, Principal, Profile, ProviderUnavailable

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


class Discovery(msgspec.Struct, kw_only=True):
    """The parts of an OpenID Provider's discovery document the arcade uses."""

    issuer: str
    jwks_uri: str
    token_endpoint: str
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

    def __init__(self, settings: OidcSettings, where: str):
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

    async def named_by(self, id_token: str, principal: Principal) -> Profile | None:
        """The profile an ID token gives, if the provider signed it for the badges (``aud`` their
        client id) about the access token's subject and it names them; None otherwise (logged)."""
        try:
            keys = await self.keys.for_key(tokens.key_id(id_token))
            claims = tokens.verify(
                id_token,
                keys,
                issuer=self.issuer,
                audience=self.settings.client_id,
                algorithms=list(self.settings.algorithms),
                typ=None,
                leeway=self.settings.leeway,
            )
            if claims["sub"] != principal.subject:
                raise InvalidToken("it is about another subject")
            if claims.get("azp", self.settings.client_id) != self.settings.client_id:
                raise InvalidToken("it was issued to another client (azp)")
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
    return OidcProvider(options, settings.where)


def require_https(issuer: str, settings: PluginSettings) -> None:
    """Keys fetched over plain HTTP could be swapped by anyone on the event's network, and with
    them every token; plain HTTP is for a provider on this machine only."""
    parts = urlsplit(issuer)
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK):
        return
    raise settings.error("issuer", f"expected an https:// URL (http:// only on this machine), got {issuer!r}")
