"""Who is signed in on the arcade's own pages (the admin pages, a player's account page).

The active provider signs people in (``arcade.sdk.identity.SignsInOnTheWeb``: the built-in provider's
log-in pages and session, an external provider's authorization-code flow) and keeps the session
server-side; this module only asks it. Every post of these pages must come from the arcade's own
origin (``arcade.sdk.origins``) and carry the CSRF token the session gives its forms: in the form's
``_csrf_token`` field, or the ``X-CSRF-Token`` header for the admin JSON API.
"""

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler
from litestar.response import Redirect, Template

from arcade.sdk.errors import ArcadeError
from arcade.sdk.identity import SignsInOnTheWeb, WebUser
from arcade.sdk.origins import SAFE_METHODS
from arcade.server.errors import answer, wants_page

FORM_FIELD = "_csrf_token"
CSRF_HEADER = "x-csrf-token"


class NotSignedIn(ArcadeError):
    """The page needs a signed-in person; ``then`` is where to come back after signing in."""

    def __init__(self, then: str):
        super().__init__("sign in first")
        self.then = then


def provider_of(connection: ASGIConnection) -> SignsInOnTheWeb:
    provider = connection.app.state.arcade.identity
    if not isinstance(provider, SignsInOnTheWeb):
        raise NotFoundException(
            f"the identity provider {provider.name!r} offers no sign-in on the web, which these pages need"
        )
    return provider


def user_of(request: Request) -> WebUser:
    """The person the :func:`signed_in` guard found."""
    return request.scope["web_user"]


async def signed_in(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Guard: the browser's session names a person (a visitor without one is sent to sign in), and
    a post carries the CSRF token of that session."""
    provider = provider_of(connection)
    user = await provider.web_user(connection)
    if user is None:
        raise NotSignedIn(connection.url.path)
    if connection.scope["method"] not in SAFE_METHODS:
        token = connection.headers.get(CSRF_HEADER)
        if token is None:
            fields = await connection.form()  # the guard's connection is the request
            token = fields.get(FORM_FIELD) if isinstance(fields.get(FORM_FIELD), str) else ""
        if not await provider.form_token_matches(connection, token):
            raise PermissionDeniedException(
                "the form's CSRF token is not this session's; reload the page and try again"
            )
    connection.scope["web_user"] = user


async def render(request: Request, template: str, status_code: int = 200, **context) -> Template:
    """A page with forms: the person signed in, the CSRF token of their session and where to sign out."""
    provider = provider_of(request)
    token, cookie = await provider.form_token(request)
    context = {"user": user_of(request), "csrf": token, "sign_out": provider.sign_out_url(), **context}
    return Template(template, context=context, status_code=status_code, cookies=[cookie] if cookie else [])


def not_signed_in(request: Request, error: NotSignedIn) -> Response:
    """A page sends the browser to sign in, and back here after; a JSON client is told where."""
    url = provider_of(request).sign_in_url(error.then)
    if wants_page(request) and request.method in SAFE_METHODS:
        return Redirect(url, status_code=303)
    return answer(request, 401, f"sign in first, at {url}")


HANDLERS = {NotSignedIn: not_signed_in}
