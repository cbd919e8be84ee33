"""A small web kit for plugins that serve routes: bearer-token guards (RFC 6750) by the active
identity provider, the error body every route answers with and how a route documents it, and the
check that keeps player-supplied picture URLs safe to show."""

import logging
import re
from typing import Any
from urllib.parse import quote

import msgspec
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException, ServiceUnavailableException
from litestar.handlers import BaseRouteHandler
from litestar.openapi.datastructures import ResponseSpec

from arcade.sdk.identity import InvalidToken, ProviderUnavailable

REALM = "arcade"
PRIVATE_PATH = "private_path"
"""A route ``opt`` key: set it true where the path itself is a secret (a one-time link), and the
access log shows the route's template (``/device/{link}``) instead of the path."""
PROVIDER_RETRY_AFTER_S = 30
TOKEN_REFUSED = "no access token, or one that does not verify (WWW-Authenticate names the check)"
"""What a route guarded by :func:`bearer_token` says of its 401, in its OpenAPI document."""

_NOT_QUOTABLE = re.compile(r"[^\x20-\x21\x23-\x5b\x5d-\x7e]")

log = logging.getLogger("arcade.auth")


class ErrorBody(msgspec.Struct, omit_defaults=True):
    """What the arcade answers an error with, as JSON: the status, what was wrong and what to do,
    and for a malformed request each field at fault (``key``, ``source``, ``message``)."""

    status_code: int
    detail: str
    extra: list[dict[str, Any]] | None = None


def errors(when: dict[int, str]) -> dict[int, ResponseSpec]:
    """A route's error answers for its OpenAPI document (``responses=``): each status is an
    :class:`ErrorBody`, described by when it happens."""
    return {status: ResponseSpec(ErrorBody, description=text, generate_examples=False) for status, text in when.items()}


async def bearer_token(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Guard: sets ``request.user`` to the token's :class:`Principal` and ``request.auth`` to the token.

    A guard rather than middleware so that it runs after the route's other guards
    (an unknown game is a 404 whoever asks) and before the body is parsed.
    """
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        _refused(connection, "no bearer token")
        raise NotAuthorizedException(
            detail="this request needs 'Authorization: Bearer <access token>'; log in on the badge first",
            headers={"WWW-Authenticate": f'Bearer realm="{REALM}"'},
        )
    try:
        principal = await connection.app.state.arcade.identity.verify(token)
    except InvalidToken as error:
        description = quotable(str(error))
        _refused(connection, description)
        raise NotAuthorizedException(
            detail=f"invalid access token: {description}",
            headers={
                "WWW-Authenticate": f'Bearer realm="{REALM}", error="invalid_token", error_description="{description}"'
            },
        ) from None
    except ProviderUnavailable as error:
        _refused(connection, quotable(f"the token could not be checked now: {error}"))
        raise ServiceUnavailableException(
            detail=f"the token could not be checked now: {error}",
            headers={"Retry-After": str(PROVIDER_RETRY_AFTER_S)},
        ) from None
    connection.scope["user"] = principal
    connection.scope["auth"] = token


def quotable(text: str) -> str:
    """``text`` as RFC 6750 §3 allows an ``error_description``: printable ASCII without ``"`` and
    ``\\``. Why a token fails can quote its own header (its ``alg``, its ``kid``), which must reach
    neither a header (a line break there ends the answer, a non-Latin-1 letter makes it a 500) nor
    a log line as it was sent."""
    return _NOT_QUOTABLE.sub("?", text.replace('"', "'"))


def _refused(connection: ASGIConnection, check: str) -> None:
    """Which check refused the request (a :func:`quotable` text), and whose it was; never the token,
    which would let anyone reading the log use it. The path stays percent-encoded, so it cannot
    forge a line."""
    client = connection.client.host if connection.client else "-"
    log.warning("refused %s %s %s: %s", client, connection.scope["method"], quote(connection.scope["path"]), check)


async def score_scope(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Guard after :func:`bearer_token`: the token must carry the provider's score scope (RFC 6750 §3.1)."""
    required = connection.app.state.arcade.identity.score_scope
    if required and required not in connection.scope["user"].scope.split():
        _refused(connection, f"the token does not carry the {required!r} scope")
        raise PermissionDeniedException(
            detail=f"this access token does not carry the {required!r} scope needed to post scores; log in again",
            headers={"WWW-Authenticate": f'Bearer realm="{REALM}", error="insufficient_scope", scope="{required}"'},
        )


def cookie_place(name: str, secure: bool) -> tuple[str, str]:
    """A cookie's name and path, reaching every page of the arcade (``Path=/``): under https a
    ``__Host-`` cookie, which browsers take only from this very origin, never set by a sibling
    subdomain."""
    return (f"__Host-{name}" if secure else name), "/"


def safe_picture(url: Any) -> str | None:
    """Only http(s) pictures reach a page; anything else falls back to the generated avatar."""
    if isinstance(url, str) and _URL.fullmatch(url) and len(url) <= 2000:
        return url
    return None


_URL = re.compile(r"https?://[^\x00-\x20\x7f-\x9f]+")
"""A URL as a page may link it: no spaces, no control characters (nor a NUL no store keeps)."""
