"""A small web kit for plugins that serve routes: bearer-token guards (RFC 6750) by the active
identity provider, and the check that keeps player-supplied picture URLs safe to show."""

import logging
import re
from typing import Any
from urllib.parse import quote

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException, ServiceUnavailableException
from litestar.handlers import BaseRouteHandler

from arcade.sdk.identity import InvalidToken, ProviderUnavailable

REALM = "arcade"
PRIVATE_PATH = "private_path"
"""A route ``opt`` key: set it true where the path itself is a secret (a one-time link), and the
access log shows the route's template (``/device/{link}``) instead of the path."""
PROVIDER_RETRY_AFTER_S = 30

log = logging.getLogger("arcade.auth")


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
        _refused(connection, str(error))
        description = str(error).replace('"', "'")
        raise NotAuthorizedException(
            detail=f"invalid access token: {error}",
            headers={
                "WWW-Authenticate": f'Bearer realm="{REALM}", error="invalid_token", error_description="{description}"'
            },
        ) from None
    except ProviderUnavailable as error:
        _refused(connection, f"the token could not be checked now: {error}")
        raise ServiceUnavailableException(
            detail=f"the token could not be checked now: {error}",
            headers={"Retry-After": str(PROVIDER_RETRY_AFTER_S)},
        ) from None
    connection.scope["user"] = principal
    connection.scope["auth"] = token


def _refused(connection: ASGIConnection, check: str) -> None:
    """Which check refused the request, and whose it was; never the token, which would let anyone
    reading the log use it. The path stays percent-encoded, so it cannot forge a line."""
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


def safe_picture(url: Any) -> str | None:
    """Only http(s) pictures reach a page; anything else falls back to the generated avatar."""
    if isinstance(url, str) and _URL.fullmatch(url) and len(url) <= 2000:
        return url
    return None


_URL = re.compile(r"https?://[^\x00-\x20\x7f-\x9f]+")
"""A URL as a page may link it: no spaces, no control characters (nor a NUL no store keeps)."""
