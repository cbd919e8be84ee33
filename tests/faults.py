"""A server on loopback in front of the real arcade that breaks chosen requests the way servers
and networks break (the arcade itself never answers 500 on cue, garbles its JSON or hangs up
half-way): the badge's ``n``-th request meets ``faults[n]``, and every request past the list is
forwarded to the arcade unchanged.

    with FaultyServer(server.url) as faulty:
        faulty.faults = [answer(500, b"{}"), hang, None]    # None: forward this one
        badge = Badge(build, root, faulty.url)

A fault is a function of the connection's handler and the request; the ones below are what
the tests need. Every wait is bounded, and the server stops with the ``with`` block.
"""

import json
import select
import socket
import socketserver
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Self
from urllib.parse import urlsplit

HANG_S = 60
"""The longest a hanging answer keeps the badge waiting (it gives up well before)."""
TRICKLE_S = 0.5
"""The gap between the bytes of a trickled answer: each well within any one socket's time-out."""


@dataclass
class Request:
    """A request as the badge sent it: the head as received, the body read only when asked."""

    head: bytes
    stream: object = field(repr=False)
    _body: bytes | None = field(default=None, repr=False)

    @property
    def line(self) -> str:
        """``POST /api/v1/games/dino/scores``"""
        return " ".join(self.head.split(b"\r\n", 1)[0].decode().split(" ")[:2])

    def body(self) -> bytes:
        """The body, read from the badge the first time it is asked for."""
        if self._body is None:
            length = 0
            for header in self.head.split(b"\r\n")[1:]:
                name, _, value = header.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            self._body = self.stream.read(length)
        return self._body

    def with_header(self, name: str, value: str) -> bytes:
        """The head with header ``name`` set to ``value`` (replaced if the badge sent one)."""
        lines = [
            line
            for line in self.head.split(b"\r\n")
            if line and not line.lower().startswith(name.lower().encode() + b":")
        ]
        return b"\r\n".join([*lines, f"{name}: {value}".encode(), b"", b""])


class FaultyServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, upstream: str):
        super().__init__(("127.0.0.1", 0), _Handler)
        address = urlsplit(upstream)
        self.upstream = (address.hostname, address.port)
        self.faults: list = []
        self.seen: list[tuple[str, int]] = []
        """Each request's line and the HTTP status the badge was answered (0: none, the line dropped)."""
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def next_fault(self):
        with self._lock:
            return self.faults.pop(0) if self.faults else None

    def forward(self, request: Request, head: bytes | None = None) -> bytes:
        """The arcade's whole answer to ``request`` (sent as HTTP/1.0, so it closes when done)."""
        with socket.create_connection(self.upstream, timeout=30) as upstream:
            upstream.sendall((head or request.head) + request.body())
            answer = b""
            while chunk := upstream.recv(65536):
                answer += chunk
        return answer

    def __enter__(self) -> Self:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()


class _Handler(socketserver.StreamRequestHandler):
    def handle(self):
        head = b""
        while (line := self.rfile.readline()) not in (b"\r\n", b""):
            head += line
        request = Request(head + b"\r\n", self.rfile)
        fault = self.server.next_fault() or _forward
        self.server.seen.append((request.line, fault(self, request) or 0))

    def send(self, data: bytes) -> int:
        """Sends ``data`` to the badge; answers the HTTP status in it."""
        self.connection.sendall(data)
        return int(data.split(b" ", 2)[1])


def _forward(handler: _Handler, request: Request) -> int:
    return handler.send(handler.server.forward(request))


def answer(status: int, body: bytes, content_type: str = "application/json"):
    """Answers ``status`` with ``body`` in place of the arcade."""

    def fault(handler: _Handler, request: Request) -> int:
        request.body()  # read it all: closing on unread data would reset the connection instead
        head = f"HTTP/1.0 {status} Fault\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
        return handler.send(head.encode() + body)

    return fault


def hang(handler: _Handler, request: Request) -> None:
    """Takes the request and never answers, until the badge gives up and hangs up (or HANG_S)."""
    request.body()
    handler.connection.settimeout(HANG_S)
    try:
        handler.connection.recv(1)
    except OSError:
        pass


def trickle(handler: _Handler, request: Request) -> int:
    """Forwards the request (the arcade acts on it) and sends its answer a byte every TRICKLE_S,
    until the badge hangs up (the whole answer would take minutes)."""
    whole = handler.server.forward(request)
    for at in range(len(whole)):
        handler.connection.sendall(whole[at : at + 1])
        if select.select([handler.connection], [], [], TRICKLE_S)[0]:  # the badge hung up
            return 0
    return int(whole.split(b" ", 2)[1])


def slow(seconds: float):
    """Forwards the request and answers the arcade's answer whole, ``seconds`` later."""

    def fault(handler: _Handler, request: Request) -> int:
        whole = handler.server.forward(request)
        time.sleep(seconds)
        return handler.send(whole)

    return fault


def drop_mid_request(handler: _Handler, request: Request) -> None:
    """Resets the connection once the request's head is in, before its body."""
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.connection.close()


def drop_mid_response(handler: _Handler, request: Request) -> int:
    """Forwards the request (the arcade acts on it) and hangs up half-way through the answer."""
    whole = handler.server.forward(request)
    body_at = whole.index(b"\r\n\r\n") + 4
    return handler.send(whole[: body_at + (len(whole) - body_at) // 2])


def with_token(token: str):
    """Forwards the request with ``token`` in place of the badge's access token."""

    def fault(handler: _Handler, request: Request) -> int:
        return handler.send(handler.server.forward(request, request.with_header("Authorization", f"Bearer {token}")))

    return fault


def json_body(value) -> bytes:
    return json.dumps(value).encode()


def edited(edit):
    """Forwards the request and answers the arcade's answer with its body changed by ``edit``
    (bytes to bytes), its Content-Length set to match: a consistent answer, wrong inside."""

    def fault(handler: _Handler, request: Request) -> int:
        head, _, body = handler.server.forward(request).partition(b"\r\n\r\n")
        body = edit(body)
        lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"content-length:")]
        return handler.send(b"\r\n".join([*lines, b"Content-Length: %d" % len(body), b"", body]))

    return fault
