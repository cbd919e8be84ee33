"""One log line a request (``arcade.access``): client, method, path, status and duration.

Pure ASGI around the whole app, so requests no route answers (404, 405) are logged too. The
query string and the headers are left out: they carry codes and tokens; so is a path that is a
secret itself (a route marked :data:`~arcade.sdk.web.PRIVATE_PATH`), logged as its template. A
streaming response (the live pages' server-sent events) is logged when it ends, its duration
the stream's life.
"""

import logging
import time
from urllib.parse import quote

from arcade.sdk.web import PRIVATE_PATH

log = logging.getLogger("arcade.access")


class AccessLog:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = 500  # if the app fails before answering, the server answers 500

        async def noting_status(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        finally:
            client = scope["client"][0] if scope.get("client") else "-"
            milliseconds = (time.perf_counter() - started) * 1000
            log.info("%s %s %s %d %.1f ms", client, scope["method"], shown_path(scope), status, milliseconds)


def shown_path(scope) -> str:
    """The path, percent-encoded so it cannot forge a line, or its route's template if it is private."""
    handler = scope.get("route_handler")
    if handler is not None and handler.opt.get(PRIVATE_PATH):
        return scope.get("path_template", "(private)")
    return quote(scope["path"])
