"""A bound on the request head (request line and headers) before the app sees any of it.

uvicorn's httptools protocol takes headers of any size: an 8 MB header was parsed and answered.
This protocol counts the bytes of each request's head as they arrive and answers 431 past
:data:`MAX_HEAD`, closing the connection before the rest is read. Bodies have their own limits
(``request_max_body_size`` on the routes).
"""

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEAD = 32 * 1024
"""Bytes a request line and its headers may take: a badge's are under 1 KiB, a browser's a few."""
TOO_LARGE = b"request head too large: send at most 32 KiB of request line and headers"


class BoundedHttpTools(HttpToolsProtocol):
    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self.head_bytes = 0
        self.in_head = True

    def data_received(self, data: bytes) -> None:
        if self.in_head:
            self.head_bytes += len(data)
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
        self.in_head, self.head_bytes = True, 0  # what comes next is the next request's head
