"""Serving an assembled arcade with uvicorn, as one process or as each worker of several."""

import asyncio
import socket
from collections.abc import Callable

import uvicorn

from arcade.platform.assembly import Arcade
from arcade.server.app import create_app
from arcade.server.http_limits import BoundedHttpTools

GRACE_S = 30
"""How long the requests in flight have to be answered after SIGTERM."""


def serve(
    arcade: Arcade,
    sockets: list[socket.socket] | None = None,
    on_ready: Callable[["GracefulServer"], None] | None = None,
) -> None:
    """Serve ``arcade`` until SIGTERM or SIGINT: on its host and port, or on ``sockets`` that a
    supervisor bound (the one process prints where it serves; a worker calls ``on_ready`` instead)."""
    app = create_app(arcade)
    server = GracefulServer(
        uvicorn.Config(
            app,
            host=arcade.settings.server.host,
            port=arcade.settings.server.port,
            log_config=None,  # uvicorn's warnings and errors in the one format the command set up
            log_level="warning",
            access_log=False,  # arcade.server.access_log writes one line a request instead
            http=BoundedHttpTools,
            timeout_graceful_shutdown=GRACE_S,
        ),
        on_exit=app.state.live.close,
        on_ready=on_ready,
    )
    # On the event loop uvicorn picks for itself (uvloop when installed), as `uvicorn.run` would.
    with asyncio.Runner(loop_factory=server.config.get_loop_factory()) as runner:
        runner.run(_serve_until_stopped(arcade, server, sockets))


async def _serve_until_stopped(arcade: Arcade, server: "GracefulServer", sockets) -> None:
    """Open the store before binding the port (a store that cannot open stops here with its own
    message), then serve until SIGTERM/SIGINT; the app's lifespan closes the store once the requests
    in flight are answered."""
    await arcade.start()
    try:
        if sockets is None:
            where = f"listening on {server.config.host}:{server.config.port}, data in {arcade.context.data_dir}"
            print(f"Badge Arcade on {arcade.settings.public_url} ({where})", flush=True)
        await server.serve(sockets)
    finally:
        await arcade.stop()


class GracefulServer(uvicorn.Server):
    """On SIGTERM/SIGINT: end the live pages' streams at once, then let uvicorn finish the
    requests in flight (a score being written is answered) before the store closes.

    Uvicorn re-raises the signal after its shutdown, which would kill the process
    before the store is closed; a graceful stop here ends with exit status 0 instead."""

    def __init__(self, config, on_exit, on_ready=None):
        super().__init__(config)
        self._on_exit = on_exit
        self._on_ready = on_ready

    async def startup(self, sockets=None):
        await super().startup(sockets)
        if self.started and self._on_ready is not None:
            self._on_ready(self)

    def handle_exit(self, sig, frame):
        try:
            asyncio.get_running_loop().call_soon_threadsafe(self._on_exit)
        except RuntimeError:  # no loop yet: nothing is streaming
            pass
        super().handle_exit(sig, frame)
        self._captured_signals.clear()
