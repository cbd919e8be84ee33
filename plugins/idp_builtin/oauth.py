"""The OAuth endpoints badges talk to: device authorization (RFC 8628), token, revocation (RFC 7009)
and userinfo. They take form posts from devices, so they need no CSRF token, and answer JSON."""

import time
from typing import Annotated, Any, Literal, TypeVar

import msgspec
from arcade.plugins.idp_builtin.codes import show_user_code
from arcade.plugins.idp_builtin.errors import OAuthError
from arcade.plugins.idp_builtin.grants import DeviceGrant
from arcade.plugins.idp_builtin.logins import Login
from arcade.plugins.idp_builtin.provider import SCOPES, BuiltinProvider
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body, SkipValidation

from arcade.sdk import budgets
from arcade.sdk.budgets import Budget, TooManyAttempts
from arcade.sdk.identity import InvalidToken, Principal
from arcade.sdk.store import StoreUnavailable
from arcade.sdk.web import TOKEN_REFUSED, bearer_token, errors

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
REFRESH_TOKEN_GRANT = "refresh_token"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
MAX_DEVICE_NAME = 64
FORM = "application/x-www-form-urlencoded"

T = TypeVar("T")
Form = Annotated[SkipValidation[T], Body(media_type=RequestEncodingType.URL_ENCODED)]
"""A form post, documented as ``T``; Litestar hands it over unchecked, as a dict of what was sent,
for :func:`read_form` to apply the RFC's rules (its own checks would answer 422, not an RFC 6749 error)."""

ClientId = Annotated[str, msgspec.Meta(min_length=1, description="the badges' client id: GET /api/v1/badge gives it")]
Secret = Annotated[str, msgspec.Meta(min_length=1)]
"""A code or token the server handed out (an empty parameter counts as not sent)."""
Scope = Annotated[
    str,
    msgspec.Meta(pattern=f"^({'|'.join(SCOPES)})( ({'|'.join(SCOPES)}))*$", description="scopes, separated by spaces"),
]


class DeviceAuthorizationRequest(msgspec.Struct, kw_only=True):
    """RFC 8628 §3.1."""

    client_id: ClientId
    scope: Scope = " ".join(SCOPES)
    device_name: Annotated[
        str,
        msgspec.Meta(
            max_length=MAX_DEVICE_NAME,
            pattern="^[ -~]*$",
            description="what the badge says about itself, shown to the person approving: up to 64 "
            "printable characters",
        ),
    ] = ""


class DeviceCodeTokenRequest(msgspec.Struct, kw_only=True):
    """RFC 8628 §3.4: a badge polling for the tokens of its login."""

    grant_type: Literal[DEVICE_CODE_GRANT]
    client_id: ClientId
    device_code: Secret


class RefreshTokenRequest(msgspec.Struct, kw_only=True):
    """RFC 6749 §6, with the scope narrowed if given."""

    grant_type: Literal[REFRESH_TOKEN_GRANT]
    client_id: ClientId
    refresh_token: Secret
    scope: Scope | msgspec.UnsetType = msgspec.UNSET
    """Fewer scopes than the login's; all of them if not sent."""


class RevocationRequest(msgspec.Struct, kw_only=True):
    """RFC 7009 §2.1: a refresh token or an access token."""

    client_id: ClientId
    token: Secret
    token_type_hint: Literal["refresh_token", "access_token"] | msgspec.UnsetType = msgspec.UNSET


class DeviceAuthorization(msgspec.Struct, kw_only=True):
    """RFC 8628 §3.2."""

    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str
    expires_in: int
    interval: int


class TokenResponse(msgspec.Struct, kw_only=True):
    """RFC 6749 §5.1; ``id_token`` with the ``openid`` scope, ``refresh_token`` with ``offline_access``."""

    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    scope: str
    id_token: str | None = None
    refresh_token: str | None = None


class UserInfo(msgspec.Struct, kw_only=True):
    sub: str
    name: str | None = None
    picture: str | None = None


class OAuthErrorBody(msgspec.Struct):
    """RFC 6749 §5.2 and RFC 8628 §3.5."""

    error: Literal[
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "invalid_scope",
        "unsupported_grant_type",
        "authorization_pending",
        "slow_down",
        "access_denied",
        "expired_token",
        "temporarily_unavailable",
    ]
    error_description: str


def form_errors(bad_request: str) -> dict[int, ResponseSpec]:
    """The answers of a form endpoint besides its 200: RFC 6749 errors (400, 429, 503), and the
    arcade's own for a post from another site (403) or an oversized form (413)."""
    oauth = {
        400: bad_request,
        429: "too many requests from this address; send it again after Retry-After",
        503: "the server could not save this; send it again after Retry-After",
    }
    return {
        **{
            status: ResponseSpec(OAuthErrorBody, description=text, generate_examples=False)
            for status, text in oauth.items()
        },
        **errors({403: "a browser sent this from another site", 413: "the form is over 16 KiB"}),
    }


def oauth_error(_: Request, error: OAuthError) -> Response:
    body = {"error": error.error, "error_description": error.description}
    return Response(body, status_code=error.status_code, headers=NO_STORE)


def too_many_requests(_: Request, error: TooManyAttempts) -> Response:
    description = f"too many requests; retry in {error.retry_after} s"
    body = {"error": "temporarily_unavailable", "error_description": description}
    return Response(body, status_code=429, headers={**NO_STORE, "Retry-After": str(error.retry_after)})


def store_unavailable(_: Request, error: StoreUnavailable) -> Response:
    body = {"error": "temporarily_unavailable", "error_description": "the server could not save this; retry soon"}
    return Response(body, status_code=503, headers={**NO_STORE, "Retry-After": "2"})


def read_form(request: Request, form: dict[str, str | list[str]], *shapes: type[msgspec.Struct]) -> dict[str, str]:
    """The parameters ``shapes`` declare, from a form post (RFC 8628 §3.1, RFC 6749 §3.1).

    Unknown parameters are ignored, an empty one counts as not sent, and one
    sent twice is an error.
    """
    content_type, _ = request.content_type
    if content_type != FORM:
        raise OAuthError("invalid_request", f"send the parameters as {FORM}, not {content_type or 'nothing'}")
    values = {}
    for name in dict.fromkeys(name for shape in shapes for name in shape.__struct_fields__):
        given = form.get(name)
        if isinstance(given, list):
            raise OAuthError("invalid_request", f"the parameter {name} was sent more than once")
        if given:
            values[name] = given
    return values


def required(values: dict[str, str], name: str) -> str:
    if name not in values:
        raise OAuthError("invalid_request", f"the parameter {name} is missing")
    return values[name]


def client_of(provider: BuiltinProvider, values: dict[str, str]) -> str:
    client_id = values.get("client_id")
    if client_id != provider.settings.client_id:
        raise OAuthError(
            "invalid_client",
            f"unknown client_id {client_id!r}; badges of this arcade use {provider.settings.client_id!r} "
            "(GET /api/v1/badge says so)",
        )
    return client_id


def scope_of(values: dict[str, str]) -> str:
    requested = values.get("scope", " ".join(SCOPES)).split()
    unknown = [scope for scope in requested if scope not in SCOPES]
    if unknown:
        raise OAuthError("invalid_scope", f"unknown scope {unknown[0]!r}; this arcade offers {' '.join(SCOPES)}")
    return " ".join(dict.fromkeys(requested))


async def rate_limit(provider: BuiltinProvider, request: Request, name: str, limit: int) -> None:
    address = budgets.address_of(request)
    await budgets.spend(provider.store, int(time.time()), Budget(f"{name}:{address}", limit, budgets.MINUTE))


class OAuth(Controller):
    path = "/oauth"
    tags = ["identity"]
    exception_handlers = {
        OAuthError: oauth_error,
        TooManyAttempts: too_many_requests,
        StoreUnavailable: store_unavailable,
    }

    @post(
        "/device_authorization",
        status_code=200,
        responses=form_errors("invalid_request, invalid_client or invalid_scope: error_description says why"),
    )
    async def device_authorization(
        self, request: Request, provider: NamedDependency[BuiltinProvider], data: Form[DeviceAuthorizationRequest]
    ) -> Response[DeviceAuthorization]:
        """Start a badge's login: a device code for the badge, a user code and link for the person.

        ``device_name`` (optional, up to 64 characters) is what the badge says
        about itself; the verification page shows it to the person.
        """
        values = read_form(request, data, DeviceAuthorizationRequest)
        client_id = client_of(provider, values)
        scope = scope_of(values)
        device_name = values.get("device_name")
        if device_name is not None and (len(device_name) > MAX_DEVICE_NAME or not device_name.isprintable()):
            raise OAuthError("invalid_request", f"device_name must be 1 to {MAX_DEVICE_NAME} printable characters")
        await rate_limit(
            provider, request, "device-authorization", provider.settings.limits.device_authorizations_per_minute
        )
        device_code, grant = await provider.grants.start(client_id, scope, device_name, budgets.address_of(request))
        body = DeviceAuthorization(
            device_code=device_code,
            user_code=show_user_code(grant.user_code),
            verification_uri=f"{provider.issuer}/device",
            verification_uri_complete=f"{provider.issuer}/device/{grant.link}",
            expires_in=provider.settings.device_code_ttl,
            interval=grant.interval,
        )
        return Response(body, headers=NO_STORE)

    @post(
        "/token",
        status_code=200,
        responses=form_errors(
            "the RFC 6749 or RFC 8628 error the badge acts on (authorization_pending, slow_down, access_denied, "
            "expired_token, invalid_grant, ...): error_description says why"
        ),
    )
    async def token(
        self,
        request: Request,
        provider: NamedDependency[BuiltinProvider],
        data: Form[DeviceCodeTokenRequest | RefreshTokenRequest],
    ) -> Response[TokenResponse]:
        """Poll a device code (RFC 8628 §3.4) or use a refresh token (RFC 6749 §6)."""
        values = read_form(request, data, DeviceCodeTokenRequest, RefreshTokenRequest)
        grant_type = required(values, "grant_type")
        client_id = client_of(provider, values)
        limit = provider.settings.limits.token_requests_per_minute
        if grant_type == DEVICE_CODE_GRANT:
            try:
                await rate_limit(provider, request, "token", limit)
            except TooManyAttempts as error:
                description = f"too many polls from this address; retry in {error.retry_after} s"
                raise OAuthError("slow_down", description) from None

            async def start(grant: DeviceGrant) -> dict:
                login = Login(account=grant.account, client_id=client_id, scope=grant.scope, auth_time=grant.auth_time)
                refreshable = "offline_access" in grant.scope.split()
                return await provider.logins.start(login, provider.token_response, refreshable)

            answer = await provider.grants.poll(required(values, "device_code"), client_id, start)
        elif grant_type == REFRESH_TOKEN_GRANT:
            await rate_limit(provider, request, "token", limit)
            narrower = values.get("scope")

            async def respond(login: Login, sid: str, refresh_token: str | None) -> dict:
                return await provider.token_response(login, sid, refresh_token, scope=narrower)

            answer = await provider.logins.refresh(required(values, "refresh_token"), client_id, respond)
        else:
            raise OAuthError(
                "unsupported_grant_type", f"grant_type must be {DEVICE_CODE_GRANT} or {REFRESH_TOKEN_GRANT}"
            )
        return Response(answer, headers=NO_STORE)

    @post(
        "/revoke",
        status_code=200,
        responses={
            200: ResponseSpec(None, description="revoked, or nothing to revoke; no body"),
            **form_errors("invalid_request or invalid_client: error_description says why"),
        },
    )
    async def revoke(
        self, request: Request, provider: NamedDependency[BuiltinProvider], data: Form[RevocationRequest]
    ) -> Response[None]:
        """Revoke a refresh or access token and the login behind it (RFC 7009).

        An unknown, expired or already revoked token is answered 200 as well.
        """
        values = read_form(request, data, RevocationRequest)
        client_of(provider, values)
        await rate_limit(provider, request, "token", provider.settings.limits.token_requests_per_minute)
        token = required(values, "token")
        if token.count(".") == 2:  # a JWT: an access token
            try:
                principal = await provider.verify(token)
            except InvalidToken:
                principal = None
            if principal is not None and "sid" in principal.claims:
                await provider.logins.revoke(principal.claims["sid"])
        else:
            await provider.logins.revoke_by_refresh_token(token)
        return Response(None, headers=NO_STORE, media_type=MediaType.TEXT)  # RFC 7009 §2.2: no body

    @get(
        "/userinfo",
        guards=[bearer_token],
        security=[{"bearer": []}],
        responses=errors({401: TOKEN_REFUSED}),
    )
    async def userinfo(self, request: Request[Principal, str, Any]) -> Response[UserInfo]:
        """Who the access token speaks for (OpenID Connect UserInfo)."""
        claims = request.user.claims
        body = {key: claims[key] for key in ("sub", "name", "picture") if key in claims}
        return Response(body, headers=NO_STORE)
