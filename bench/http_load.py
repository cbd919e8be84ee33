"""A keep-alive HTTP/1.1 load generator for loopback benchmarks, bounded in time and in count.

A fixed number of connections each send one request, read the whole answer,
and send the next. It is kept minimal so that the client, not the server,
spends the least CPU per request: the figures then measure the server.
"""

import asyncio
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)


@dataclass
class Result:
    statuses: Counter
    seconds: float

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def unexpected(self, expected: int) -> Counter:
        """The answers whose status was not ``expected``, by status."""
        return Counter({status: n for status, n in self.statuses.items() if status != expected})


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> tuple[int, bytes]:
    """Send one request and read its whole answer; return the status code and the body."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    length = _CONTENT_LENGTH.search(head)
    if length is None:
        raise ConnectionError(f"an answer without Content-Length: {head[:200]!r}")
    return int(head[9:12]), await reader.readexactly(int(length[1]))


async def run(
    host: str,
    port: int,
    next_request: Callable[[], bytes],
    *,
    connections: int,
    seconds: float,
    max_requests: int,
) -> Result:
    """Keep ``connections`` busy for ``seconds`` or until ``max_requests`` were sent.

    Connections are opened before the clock starts; requests still in flight
    at the deadline are awaited and counted, with the time they took.
    """
    streams = [await asyncio.open_connection(host, port) for _ in range(connections)]
    statuses: Counter = Counter()
    left = max_requests
    deadline = time.monotonic() + seconds

    async def drive(reader, writer):
        nonlocal left
        while left > 0 and time.monotonic() < deadline:
            left -= 1
            status, _ = await exchange(reader, writer, next_request())
            statuses[status] += 1

    start = time.monotonic()
    try:
        await asyncio.gather(*(drive(reader, writer) for reader, writer in streams))
    finally:
        for _, writer in streams:
            writer.close()
    return Result(statuses=statuses, seconds=time.monotonic() - start)
