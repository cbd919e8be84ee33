"""Auth0 as the arcade's identity provider: OpenID Connect plus Auth0's own ways.

The issuer is ``https://DOMAIN/``; badges send the API's ``audience`` with the device-code
request (Auth0 issues a JWT access token only for a named API) and ask for ``offline_access``
to get a refresh token. Auth0 signs with RS256. Players' names and pictures come from the
Management API when machine-to-machine credentials are given, since Auth0 rate-limits
``/userinfo`` per user; otherwise from ``/userinfo``, cached like everything else.
"""

import threading
import time
from typing import Annotated, Literal
from urllib.parse import quote

import msgspec
from arcade.plugins.idp_oidc import (
    FetchFailed,
    OidcProvider,
    OidcSettings,
    ProviderHttp,
    profile_from,
    secret_from_environment,
)

from arcade.sdk.hookspecs import hookimpl
from arcade.sdk.identity import Principal, Profile

NAME = "auth0"
TOKEN_MARGIN_S = 60


class Auth0Settings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    domain: str
    """The tenant's domain (``example.eu.auth0.com``) or its custom domain, without ``https://``."""
    client_id: str
    """The badges' Native application, with the Device Code (and Refresh Token) grants."""
    audience: str
    """The identifier of the API registered for the arcade."""
    scope: str = "openid profile offline_access"
    typ: Literal["jwt", "at+jwt"] = "jwt"
    """``jwt`` for the API's default token profile ("Auth0"), ``at+jwt`` for the "RFC 9068" one."""
    leeway: Annotated[int, msgspec.Meta(ge=0, le=300)] = 30
    ca_file: str | None = None
    score_scope: str | None = None
    """A permission of the arcade's API that access tokens must carry to post scores; None: any."""
    management_client_id: str | None = None
    """A Machine-to-Machine application allowed ``read:users`` on the Management API."""
    management_client_secret: str | None = None
    """Its secret: give it in the environment, ``ARCADE_IDENTITY__AUTH0__MANAGEMENT_CLIENT_SECRET``."""
    web_client_id: str | None = None
    """A Regular Web Application, its Allowed Callback URL ``<public_url>/sign-in/callback``, for
    signing in on the admin and account pages; None: no sign-in on the web."""
    web_client_secret: str | None = None
    """Its secret, from the environment only: ``ARCADE_IDENTITY__AUTH0__WEB_CLIENT_SECRET``."""
    web_scope: str = "openid profile"
    browser_session_ttl: Annotated[int, msgspec.Meta(ge=60)] = 3600

    def oidc(self) -> OidcSettings:
        return OidcSettings(
            issuer=f"https://{self.domain}/",
            client_id=self.client_id,
            audience=self.audience,
            scope=self.scope,
            algorithms=["RS256"],
            typ=self.typ,
            leeway=self.leeway,
            ca_file=self.ca_file,
            score_scope=self.score_scope,
            web_client_id=self.web_client_id,
            web_client_secret=self.web_client_secret,
            web_scope=self.web_scope,
            browser_session_ttl=self.browser_session_ttl,
        )


class ManagementToken(msgspec.Struct):
    access_token: str
    expires_in: int


class ManagementApi:
    """Auth0's Management API with client credentials.

    Its token is kept until shortly before it expires: Auth0 counts, and caps per month, the
    machine-to-machine tokens a tenant issues.
    """

    def __init__(self, http: ProviderHttp, domain: str, client_id: str, client_secret: str):
        self._http = http
        self._token_url = f"https://{domain}/oauth/token"
        self._audience = f"https://{domain}/api/v2/"
        self._credentials = {"client_id": client_id, "client_secret": client_secret}
        self._token: tuple[float, str] | None = None
        self._lock = threading.Lock()

    def user(self, user_id: str) -> dict:
        """Get-user-by-id: the user's ``name``, ``nickname``, ``picture`` and the rest."""
        url = f"{self._audience}users/{quote(user_id, safe='')}"
        try:
            return self._http.fetch("GET", url, dict, headers={"Authorization": f"Bearer {self._access_token()}"})
        except FetchFailed as error:
            if error.status == 401:  # revoked early: the next call gets a new one
                self._token = None
            raise

    def _access_token(self) -> str:
        with self._lock:
            if self._token is None or self._token[0] <= time.monotonic():
                answer = self._http.fetch(
                    "POST",
                    self._token_url,
                    ManagementToken,
                    data={"grant_type": "client_credentials", "audience": self._audience, **self._credentials},
                )
                self._token = (time.monotonic() + answer.expires_in - TOKEN_MARGIN_S, answer.access_token)
            return self._token[1]


class Auth0Provider(OidcProvider):
    name = NAME

    def __init__(self, settings: Auth0Settings, where: str, public_url: str = "", store=None):
        super().__init__(settings.oidc(), where, public_url, store)
        self.management = None
        if settings.management_client_id and settings.management_client_secret:
            self.management = ManagementApi(
                self.http, settings.domain, settings.management_client_id, settings.management_client_secret
            )

    def fetch_profile(self, principal: Principal, token: str) -> Profile:
        if self.management is None:
            return super().fetch_profile(principal, token)
        return profile_from(self.management.user(principal.subject), principal.subject)


@hookimpl
def arcade_identity_provider(name, settings, context):
    if name != NAME:
        return None
    options = settings.decode(Auth0Settings)
    if "/" in options.domain or not options.domain:
        raise settings.error(
            "domain", f"expected the tenant's host name only, e.g. example.eu.auth0.com, got {options.domain!r}"
        )
    if bool(options.management_client_id) != bool(options.management_client_secret):
        raise settings.error(
            "management_client_secret",
            "management_client_id and management_client_secret go together; give both "
            "(the secret in ARCADE_IDENTITY__AUTH0__MANAGEMENT_CLIENT_SECRET) or neither",
        )
    secret_from_environment(options.web_client_secret, settings)
    return Auth0Provider(options, settings.where, context.public_url, context.store)
