"""A bound on the request head (request line and headers) before the app sees any of it.

uvicorn's httptools protocol takes headers of any size: an 8 MB header was parsed and answered.
This protocol counts the bytes of each request's head as they arrive, up to the blank line that
ends it, and answers 431 past :data:`MAX_HEAD`, closing the connection before the rest is read.
What follows the blank line in the same packets is body: bodies have their own limits
(``request_max_body_size`` on the routes).
"""

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEAD = 32 * 1024
"""Bytes a request line and its headers may take: a badge's are under 1 KiB, a browser's a few."""
TOO_LARGE = b"request head too large: send at most 32 KiB of request line and headers"
END_OF_HEAD = b"\r\n\r\n"
"""The parser takes no other line ending (a bare LF is a 400)."""


class BoundedHttpTools(HttpToolsProtocol):
    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self.head_bytes = 0
        self.in_head = True
        self.last_bytes = b""  # the end of the head may span two packets

    def data_received(self, data: bytes) -> None:
        if self.in_head:
            seen = self.last_bytes + data
            end = seen.find(END_OF_HEAD)
            self.head_bytes += len(data) if end < 0 else max(end + len(END_OF_HEAD) - len(self.last_bytes), 0)
            self.last_bytes = seen[-(len(END_OF_HEAD) - 1) :]
            if self.head_bytes > MAX_HEAD:
                self.transport.write(
                    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain\r\n"
                    b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(TOO_LARGE), TOO_LARGE)
                )
                self.transport.close()
                return
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self.in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self.in_head, self.head_bytes, self.last_bytes = True, 0, b""  # what comes next is the next request's head
