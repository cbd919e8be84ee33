"""A real HTTP server on loopback standing in for the picture hosts players name: good pictures,
huge, slow and fake ones, and redirects, each request counted."""

import io
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image

SLOW_S = 3


def png(width: int, height: int, colour=(200, 40, 90, 255)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), colour).save(out, "PNG")
    return out.getvalue()


class PictureHost:
    """Paths: ``/good.png`` (a 600×400 PNG, served as ``text/plain`` to show the type is read from
    the bytes), ``/other.png``, ``/huge.png`` (3 MB), ``/slow.png`` (a byte every second),
    ``/not-a-picture.png`` (HTML claiming ``image/png``), ``/redirect`` (to ``/good.png``),
    ``/to-file`` (to ``file:///etc/passwd``), ``/loop`` (to itself), ``/gone`` (404)."""

    def __init__(self):
        self.asked: Counter[str] = Counter()
        host = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                host.asked[self.path] += 1
                host.answer(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path
        redirects = {"/redirect": "/good.png", "/to-file": "file:///etc/passwd", "/loop": "/loop"}
        if path in redirects:
            handler.send_response(302)
            handler.send_header("Location", redirects[path])
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        bodies = {
            "/good.png": (png(600, 400), "text/plain"),
            "/other.png": (png(64, 64, (20, 120, 200, 255)), "image/png"),
            "/huge.png": (png(64, 64) + b"\0" * 3_000_000, "image/png"),
            "/not-a-picture.png": (b"<html><script>alert(1)</script></html>", "image/png"),
        }
        if path == "/slow.png":
            handler.send_response(200)
            handler.send_header("Content-Type", "image/png")
            handler.send_header("Content-Length", "1000")
            handler.end_headers()
            for _ in range(SLOW_S * 4):
                try:
                    handler.wfile.write(b"\x89")
                    handler.wfile.flush()
                except OSError:
                    return
                time.sleep(1)
            return
        if path not in bodies:
            handler.send_error(404)
            return
        body, kind = bodies[path]
        handler.send_response(200)
        handler.send_header("Content-Type", kind)
        if path != "/huge.png":  # the huge one says nothing of its length: the cap must hold while reading
            handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def __enter__(self) -> "PictureHost":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
