"""One map from the project's errors to HTTP answers, so handlers raise and never translate.

Badges and OAuth clients read JSON, so under :data:`JSON_PATHS` every error is JSON; elsewhere a
browser gets an HTML page, and a client that asks only for JSON gets JSON.
"""

import logging
from dataclasses import dataclass

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.spec import Operation
from litestar.response import Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from arcade.scoring.replay import ReplayTooSlow, RunRefused
from arcade.sdk.budgets import TooManyAttempts
from arcade.sdk.models import player_id
from arcade.sdk.store import BadCursor, PlayerBanned, StoreUnavailable, SubmissionConflict
from arcade.sdk.web import ErrorBody
from arcade.server.access_log import shown_path
from arcade.server.live import TooManyStreams

log = logging.getLogger("arcade.errors")

JSON_PATHS = ("/api/", "/oauth/", "/.well-known/", "/schema/", "/admin/api/")
TITLES = {
    400: "That request did not make sense",
    401: "Please log in",
    403: "Not allowed",
    404: "Nothing here",
    405: "Not like that",
    409: "Already taken",
    422: "That could not be used",
    429: "Slow down",
    503: "Please try again",
}
STORE_RETRY_AFTER_S = 2
CLIENT_GONE = "client disconnected prematurely"
"""What Litestar says when a request's body stops arriving: the client went away (a badge's Wi-Fi
dropped), which is no failure of the server."""


def wants_page(request: Request) -> bool:
    if request.url.path.startswith(JSON_PATHS):
        return False
    accept = request.headers.get("accept", "*/*")
    return "text/html" in accept or "*/*" in accept


def answer(
    request: Request, status: int, detail: str, headers: dict | None = None, extra: list | None = None
) -> Response:
    """The error as a page or as an :class:`ErrorBody`."""
    if wants_page(request):
        title = TITLES.get(status, "Something went wrong")
        context = {"status": status, "title": title, "detail": detail}
        return Template("error.html", context=context, status_code=status, headers=headers)
    content = ErrorBody(status_code=status, detail=detail, extra=extra or None)
    return Response(content, status_code=status, headers=headers, media_type=MediaType.JSON)


def invalid(key: str, message: str, source: str = "body", detail: str | None = None) -> ValidationException:
    """A 422 naming the field and why."""
    return ValidationException(
        detail=detail or f"{key}: {message}", extra=[{"key": key, "source": source, "message": message}]
    )


@dataclass
class NoBadRequest(Operation):
    """The OpenAPI operation of a route that never answers 400: Litestar documents a 400 for the
    ValidationException of every route with parameters, which :func:`unprocessable` answers 422."""

    def __post_init__(self) -> None:
        if self.responses:
            self.responses.pop("400", None)


def http_error(request: Request, error: HTTPException) -> Response:
    if isinstance(error, ValidationException):
        return unprocessable(request, error)
    if error.status_code == HTTP_500_INTERNAL_SERVER_ERROR and error.detail == CLIENT_GONE:
        log.info(
            "%s %s: the client went away before its request arrived whole", request.method, shown_path(request.scope)
        )
        return answer(request, 400, "the request did not arrive whole; send it again")
    if error.status_code == HTTP_500_INTERNAL_SERVER_ERROR:  # a failure, not an answer: log it
        return internal_error(request, error)
    return answer(request, error.status_code, error.detail, error.headers)


def unprocessable(request: Request, error: ValidationException) -> Response:
    """Malformed input is a 422 that names the field and says why (Litestar's default is 400)."""
    detail, extra = error.detail, error.extra if isinstance(error.extra, list) else None
    if extra and detail.startswith("Validation failed"):  # Litestar's generic text: say which field
        detail = "; ".join(f"{item.get('key')}: {item.get('message')}" for item in extra)
    return answer(request, 422, detail, error.headers, extra)


def run_refused(request: Request, error: RunRefused) -> Response:
    """A run the replay does not confirm: kept out of the board, and said in the log."""
    principal = request.scope.get("user")
    who = player_id(principal.issuer, principal.subject) if principal else "?"
    log.warning("refused run: player %s, game %s: %s", who, request.path_params.get("game_id"), error)
    return unprocessable(request, invalid("run", str(error)))


def busy(request: Request, error: ReplayTooSlow | TooManyStreams) -> Response:
    """The server has no room for this now: a 503 saying when to come back."""
    return answer(request, 503, str(error), {"Retry-After": str(error.retry_after)})


def store_unavailable(request: Request, error: StoreUnavailable) -> Response:
    log.error("the store is unavailable: %s", error)
    return answer(request, 503, str(error), {"Retry-After": str(STORE_RETRY_AFTER_S)})


def submission_conflict(request: Request, error: SubmissionConflict) -> Response:
    return answer(request, 409, str(error))


def banned(request: Request, error: PlayerBanned) -> Response:
    """The badge shows this and stops sending the score: retrying cannot help."""
    return answer(request, 403, f"this player is banned from the arcade's boards: {error}; ask the organisers")


def bad_cursor(request: Request, error: BadCursor) -> Response:
    """On a page, a cursor is part of the address (404); in the API it is a parameter (422)."""
    if wants_page(request):
        return answer(request, 404, f"no such page of this leaderboard; it starts at {request.url.path}")
    return unprocessable(request, invalid("cursor", str(error), "query", str(error)))


def too_deep(request: Request, error: RecursionError) -> Response:
    """JSON nested deeper than the decoder recurses: bad input, not a failure of the server."""
    return answer(request, 400, "the body is nested too deeply to read; send the documented shape")


def too_many(request: Request, error: TooManyAttempts) -> Response:
    return answer(request, 429, str(error), {"Retry-After": str(error.retry_after)})


def internal_error(request: Request, error: Exception) -> Response:
    log.exception("%s %s failed", request.method, request.url.path, exc_info=error)
    return answer(
        request, HTTP_500_INTERNAL_SERVER_ERROR, "the server failed on this request; it is in the server's log"
    )


HANDLERS = {
    HTTPException: http_error,
    RunRefused: run_refused,
    ReplayTooSlow: busy,
    TooManyStreams: busy,
    StoreUnavailable: store_unavailable,
    SubmissionConflict: submission_conflict,
    PlayerBanned: banned,
    BadCursor: bad_cursor,
    TooManyAttempts: too_many,
    RecursionError: too_deep,
    Exception: internal_error,
}
"""What ``create_app`` installs; a plugin's controller may still answer its own errors its own way."""
