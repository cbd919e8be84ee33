"""A TCP forwarder on a loopback port that a test can cut and restore, to take a service away
from the arcade and give it back without touching the service itself. With ``tls`` it ends
TLS in front of a plain-HTTP service, as a reverse proxy does, and keeps what its clients sent:
in another certificate it is the look-alike that would read a badge's tokens. With ``trickle`` it
hands what the service says on a byte at a time, as a bad Wi-Fi or a hostile one can: in front of
a TLS service, TLS's handshake trickles."""

import asyncio
import ssl
import threading
from typing import Self


class TcpProxy:
    """Forwards 127.0.0.1:``port`` to ``target`` from a thread of its own (ending TLS with ``tls``).

    :meth:`cut` closes every forwarded connection and stops listening, so new ones are refused,
    as when the service's machine goes away; :meth:`restore` listens again on the same port."""

    def __init__(self, target: tuple[str, int], tls: ssl.SSLContext | None = None, trickle: float | None = None):
        self.target = target
        self.tls = tls
        self.trickle = trickle
        """Seconds between the bytes it hands on to clients; None: as they come."""
        """Read when it listens: change it between :meth:`cut` and :meth:`restore`."""
        self.received = bytearray()
        """Every byte clients sent through it (after TLS: the plain text)."""
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    def __enter__(self) -> Self:
        self._thread.start()
        self.restore()
        return self

    def __exit__(self, *exc) -> None:
        self.cut()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def restore(self) -> None:
        self._call(self._listen())

    def cut(self) -> None:
        self._call(self._close())

    def _call(self, coroutine) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(
            self._forward, "127.0.0.1", self.port, reuse_address=True, ssl=self.tls
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _close(self) -> None:
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        await self._server.wait_closed()

    async def _forward(self, client_reader, client_writer) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            return
        pair = {client_writer, upstream_writer}
        self._writers |= pair
        try:
            await asyncio.gather(
                _pipe(client_reader, upstream_writer, self.received),
                _pipe(upstream_reader, client_writer, trickle=self.trickle),
            )
        finally:
            self._writers -= pair
            for writer in pair:
                writer.transport.abort()


async def _pipe(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    keep: bytearray | None = None,
    trickle: float | None = None,
) -> None:
    try:
        while data := await reader.read(1 if trickle else 65536):
            if keep is not None:
                keep += data
            writer.write(data)
            await writer.drain()
            if trickle:
                await asyncio.sleep(trickle)
    except OSError:
        pass
    finally:
        writer.transport.abort()
