"""Where a post may come from: the arcade's own pages, or a device that is not a browser.

Browsers say where a request was made (``Sec-Fetch-Site``, ``Origin``); badges send neither. A
page on another site, on another port of this host or on a sibling subdomain could otherwise post
Approve with the person's cookies, and no CSRF token it can plant itself would stop it.
"""

from urllib.parse import urlsplit

from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException
from litestar.handlers import BaseRouteHandler

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
OWN_SITE = {"same-origin", "none"}
"""``none``: the person typed the address or followed a bookmark."""


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def posts_from(issuer: str):
    """A guard refusing a post a browser made from anywhere but ``issuer``'s own origin."""
    own = origin_of(issuer)

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        if connection.scope["method"] in SAFE_METHODS:
            return
        site = connection.headers.get("sec-fetch-site")
        origin = connection.headers.get("origin")
        if (site is not None and site not in OWN_SITE) or (origin is not None and origin != own):
            raise PermissionDeniedException(
                f"this form was sent from {origin or site}, not from {own}; open the page at {own} and send it there"
            )

    return guard
