"""The OAuth endpoints badges talk to: device authorization (RFC 8628), token, revocation (RFC 7009)
and userinfo. They take form posts from devices, so they need no CSRF token, and answer JSON."""

import time
from typing import Any

from arcade.plugins.idp_builtin.codes import show_user_code
from arcade.plugins.idp_builtin.errors import OAuthError
from arcade.plugins.idp_builtin.logins import Login
from arcade.plugins.idp_builtin.provider import SCOPES, BuiltinProvider
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency

from arcade.sdk import budgets
from arcade.sdk.budgets import Budget, TooManyAttempts
from arcade.sdk.identity import InvalidToken, Principal
from arcade.sdk.store import StoreUnavailable
from arcade.sdk.web import bearer_token

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
REFRESH_TOKEN_GRANT = "refresh_token"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
MAX_DEVICE_NAME = 64
FORM = "application/x-www-form-urlencoded"


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


async def read_form(request: Request, *names: str) -> dict[str, str]:
    """The named parameters of a form post (RFC 8628 §3.1, RFC 6749 §3.1).

    Unknown parameters are ignored, an empty one counts as not sent, and one
    sent twice is an error.
    """
    content_type, _ = request.content_type
    if content_type != FORM:
        raise OAuthError("invalid_request", f"send the parameters as {FORM}, not {content_type or 'nothing'}")
    form = await request.form()
    values = {}
    for name in names:
        given = form.getall(name, [])
        if len(given) > 1:
            raise OAuthError("invalid_request", f"the parameter {name} was sent more than once")
        if given and given[0]:
            values[name] = given[0]
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

    @post("/device_authorization", status_code=200)
    async def device_authorization(self, request: Request, provider: NamedDependency[BuiltinProvider]) -> Response:
        """Start a badge's login: a device code for the badge, a user code and link for the person.

        ``device_name`` (optional, up to 64 characters) is what the badge says
        about itself; the verification page shows it to the person.
        """
        values = await read_form(request, "client_id", "scope", "device_name")
        client_id = client_of(provider, values)
        scope = scope_of(values)
        device_name = values.get("device_name")
        if device_name is not None and (len(device_name) > MAX_DEVICE_NAME or not device_name.isprintable()):
            raise OAuthError("invalid_request", f"device_name must be 1 to {MAX_DEVICE_NAME} printable characters")
        await rate_limit(
            provider, request, "device-authorization", provider.settings.limits.device_authorizations_per_minute
        )
        device_code, grant = await provider.grants.start(client_id, scope, device_name, budgets.address_of(request))
        body = {
            "device_code": device_code,
            "user_code": show_user_code(grant.user_code),
            "verification_uri": f"{provider.issuer}/device",
            "verification_uri_complete": f"{provider.issuer}/device/{grant.link}",
            "expires_in": provider.settings.device_code_ttl,
            "interval": grant.interval,
        }
        return Response(body, headers=NO_STORE)

    @post("/token", status_code=200)
    async def token(self, request: Request, provider: NamedDependency[BuiltinProvider]) -> Response:
        """Poll a device code (RFC 8628 §3.4) or use a refresh token (RFC 6749 §6)."""
        values = await read_form(request, "grant_type", "client_id", "device_code", "refresh_token", "scope")
        grant_type = required(values, "grant_type")
        client_id = client_of(provider, values)
        limit = provider.settings.limits.token_requests_per_minute
        if grant_type == DEVICE_CODE_GRANT:
            try:
                await rate_limit(provider, request, "token", limit)
            except TooManyAttempts as error:
                description = f"too many polls from this address; retry in {error.retry_after} s"
                raise OAuthError("slow_down", description) from None
            grant = await provider.grants.poll(required(values, "device_code"), client_id)
            login = Login(account=grant.account, client_id=client_id, scope=grant.scope, auth_time=grant.auth_time)
            refreshable = "offline_access" in grant.scope.split()
            answer = await provider.logins.start(login, provider.token_response, refreshable)
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

    @post("/revoke", status_code=200)
    async def revoke(self, request: Request, provider: NamedDependency[BuiltinProvider]) -> Response:
        """Revoke a refresh or access token and the login behind it (RFC 7009).

        An unknown, expired or already revoked token is answered 200 as well.
        """
        values = await read_form(request, "token", "token_type_hint", "client_id")
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
        return Response(b"", headers=NO_STORE)

    @get("/userinfo", guards=[bearer_token], security=[{"bearer": []}])
    async def userinfo(self, request: Request[Principal, str, Any]) -> Response:
        """Who the access token speaks for (OpenID Connect UserInfo)."""
        claims = request.user.claims
        body = {key: claims[key] for key in ("sub", "name", "picture") if key in claims}
        return Response(body, headers=NO_STORE)
