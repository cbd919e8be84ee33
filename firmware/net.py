"""HTTP for the badge: JSON and form requests on sockets it opens itself, always closed.

Every call answers ``(status, body)`` where ``body`` is the decoded JSON object, or ``{}``
when the body is not one; a network failure, or an answer that is not HTTP, raises ``OSError``.

The badge speaks HTTP/1.0 itself rather than through MicroPython's ``requests``, which turns
certificate checks off and sends ``Host`` without the port. An ``https://`` server must prove
itself with a certificate that chains to one of those ``arcade deploy --ca`` wrote to
``ca.der``; one that does not (a look-alike on the Wi-Fi) raises :class:`Untrusted` before a
byte of the request, tokens included, is sent.
"""

import gc
import json
import select
import socket
import sys
import time

DEADLINE_MS = 6000
"""A request's whole time, from connect to the answer's last byte (a download's, to each piece):
under the watchdog's 8 s, which nothing else feeds while a request runs, so a server that trickles
its answer is given up as one that does not answer, not reset for."""
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
NO_SERVER = "no server is set: put {\"server\": URL} in config.json (arcade deploy --server URL)."
TRUSTED = "ca.der"
"""The certificates the badge trusts, in DER, one after another (written by arcade deploy --ca)."""
_UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
_EAGAIN = 11
_ETIMEDOUT = 110
_VERIFY_FAILED = -0x2700  # MBEDTLS_ERR_X509_CERT_VERIFY_FAILED, as an older mbedtls build raises it

try:  # the simulator holds the heap the badge's TLS takes (the unix port's mbedtls uses malloc)
    from hal.simtls import hold_tls_heap, report_heap
except ImportError:
    hold_tls_heap = None

TLS_ROOM = 18 * 1024
"""Bytes kept free from one https request to the next, for the next one's TLS buffers: mbedtls's
16 KB record buffer must be one block, and a game played between two requests can leave the heap
with no block that big (docs/badge.md, Memory)."""

_context = None
_room = None
feed_watchdog = None
"""The badge's (main.py sets it), fed as each deadline starts: requests in a row, or the pieces of a
download, each have theirs under the watchdog's time; a DNS look-up that hangs still starves it."""


class ServerTrouble(OSError):
    """A server answered, but not usefully (a 5xx, garbage): try again later, as when offline."""


class OutOfMemory(OSError):
    """The heap had no room for TLS's buffers or the answer (too full, or too fragmented): the
    request may go again, after a restart if need be."""

    ADVICE = "The badge ran out of memory for the request. Restart the badge and try again."

    def __init__(self):
        super().__init__("the badge ran out of memory for the request")


class Untrusted(OSError):
    """An https server whose certificate the badge does not trust; nothing was sent to it."""

    ADVICE = "Nothing was sent to it. A look-alike on this Wi-Fi? Or deploy again with the server's CA (arcade deploy --ca)."

    def __init__(self, host, reason):
        super().__init__("%s did not prove it is the server deployed to this badge: %s" % (host, reason))
        self.host = host


def quote(text):
    """Percent-encodes everything but RFC 3986's unreserved characters."""
    out = []
    for byte in str(text).encode():
        out.append(chr(byte) if byte in _UNRESERVED else "%%%02X" % byte)
    return "".join(out)


def urlencode(fields):
    """A form body from ``fields`` (name -> value); fields whose value is None are left out."""
    return "&".join(quote(name) + "=" + quote(fields[name]) for name in fields if fields[name] is not None)


def split_url(url):
    """(secure, host, port, path) of an http:// or https:// URL; ValueError for anything else."""
    scheme, _, rest = url.partition("://")
    if scheme not in ("http", "https"):
        raise ValueError("not an http:// or https:// URL: %s" % url)
    where, slash, path = rest.partition("/")
    host, colon, port = where.rpartition(":")
    if not colon or "]" in port:
        host, port = where, ""
    host = host.strip("[]")
    if not host:
        raise ValueError("no host in %s" % url)
    secure = scheme == "https"
    return secure, host, int(port) if port else (443 if secure else 80), (slash + path) or "/"


def request(method, url, body=None, content_type=None, token=None, headers=None):
    """The answer's body is read whole while the connection is open, and decoded once it is closed:
    what it decodes to (tokens, the games list) is built in the heap TLS's share gave back, not
    scattered where the next connection's share must fit."""
    status, answer = _exchange(method, url, _whole, body, content_type, token, JSON, headers)
    try:
        answer = json.loads(answer)
    except ValueError:
        answer = None
    except MemoryError:  # a fragmented heap; the request is answered again (a score by its
        # submission_id, a device code's tokens within the grace window): a failure to try again
        raise OutOfMemory()
    return status, answer if isinstance(answer, dict) else {}


def _exchange(method, url, read, body=None, content_type=None, token=None, accept=JSON, headers=None):
    """Sends the request (with ``headers``, name -> value, besides its own), reads the status line
    and headers, then answers ``read(stream, status, length)`` (length: the Content-Length, or
    None); the connection is closed whatever happens."""
    try:
        secure, host, port, path = split_url(url)
    except ValueError as error:
        raise OSError(str(error))
    if isinstance(body, str):
        body = body.encode()
    head = "%s %s HTTP/1.0\r\nHost: %s\r\nAccept: %s\r\n" % (method, path, _host_header(host, port, secure), accept)
    if body is not None:
        head += "Content-Type: %s\r\nContent-Length: %d\r\n" % (content_type, len(body))
    if token:
        head += "Authorization: Bearer " + token + "\r\n"
    for name in headers or ():
        head += name + ": " + headers[name] + "\r\n"
    head += "\r\n"
    held = None
    gc.collect()  # the answer and TLS's buffers want contiguous room
    raw = socket.socket()
    stream = _Timed(raw)
    try:
        address = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0][-1]
        stream.arm()
        raw.connect(address)
        if secure:
            context = _trust(host)
            _give_room()
            held = hold_tls_heap() if hold_tls_heap else None
            stream.stream = context.wrap_socket(raw, server_hostname=host, do_handshake_on_connect=False)
        stream.unblock()
        _write_head(stream, head, host)
        del head
        if body:
            stream.write(body)
        status, length = _status(stream)
        return read(stream, status, length)
    except MemoryError:  # TLS's buffers, the answer: a heap too full or too fragmented
        raise OutOfMemory()
    except OSError as error:
        if error.args and error.args[0] == _EAGAIN:  # a socket operation out of time, as some ports say it
            raise OSError(_ETIMEDOUT)
        raise
    finally:
        if held:
            report_heap()
        stream.stream.close()
        del held
        gc.collect()
        if secure:
            _keep_room()


class _Timed:
    """The connection, every operation of it bounded by what is left of the deadline: connect
    blocks with that as its timeout; TLS's handshake, the writes and the answer's reads do not
    block, waiting for the socket only as long as is left, so a byte now and then does not keep
    them going (a blocking read waits for all it asked for, each byte within the timeout)."""

    def __init__(self, raw):
        self.raw = raw
        self.stream = raw
        self.poll = None
        self.renew()

    def renew(self):
        self.until = time.ticks_add(time.ticks_ms(), DEADLINE_MS)
        if feed_watchdog:
            feed_watchdog()

    def left(self):
        left = time.ticks_diff(self.until, time.ticks_ms())
        if left <= 0:
            raise OSError(_ETIMEDOUT)  # as a socket's own time-out: "did not answer in time"
        return left

    def arm(self):
        self.raw.settimeout(self.left() / 1000)

    def unblock(self):
        """From here on nothing blocks: the TLS stream is polled itself, as it knows whether its
        handshake waits to read or to write, and what it holds already decrypted."""
        self.raw.setblocking(False)
        self.poll = select.poll()
        self.poll.register(self.stream, select.POLLIN)

    def wait(self, events):
        self.poll.modify(self.stream, events)
        if not self.poll.poll(self.left()):
            raise OSError(_ETIMEDOUT)

    def write(self, data):
        """Writes all of ``data`` (a str is a buffer: no copy of the tokens beside TLS's share)."""
        data = memoryview(data)
        while data:
            sent = self.stream.write(data)
            if sent is None:  # no room yet, or TLS's handshake (the first write makes it) waits
                self.wait(select.POLLIN | select.POLLOUT)
            else:
                data = data[sent:]

    def readinto(self, buffer):
        """Reads some bytes into ``buffer`` (a memoryview); 0 at the end of the answer."""
        while True:
            got = self.stream.readinto(buffer)
            if got is not None:
                return got
            self.wait(select.POLLIN)

    def read(self, size=None):
        """``size`` bytes, fewer only at the end of the answer (all that is left when None)."""
        if size is None:  # grown in place, a piece at a time into one buffer
            out = bytearray()
            piece = memoryview(bytearray(512))
            while True:
                got = self.readinto(piece)
                if not got:
                    return out
                out += piece[:got]
        buffer = bytearray(size)
        view = memoryview(buffer)
        got = 0
        while got < size:
            more = self.readinto(view[got:])
            if not more:
                return buffer[:got]
            got += more
        return buffer

    def readline(self):
        line = bytearray()
        byte = memoryview(bytearray(1))
        while self.readinto(byte):
            line.append(byte[0])
            if byte[0] == 10:
                break
        return bytes(line)


def _host_header(host, port, secure):
    """``Host`` with the port unless it is the scheme's own: a provider builds its links from it."""
    if ":" in host:
        host = "[" + host + "]"
    return host if port == (443 if secure else 80) else "%s:%d" % (host, port)


def _write_head(stream, head, host):
    """Sends the request's head; over TLS the handshake goes first, and a server whose certificate
    is refused is Untrusted with not a byte of the head sent to it."""
    try:
        stream.write(head)
    except ValueError as error:  # mbedtls says why the certificate is refused
        raise Untrusted(host, str(error).strip() or "its certificate was refused")
    except OSError as error:
        if error.args and error.args[0] == _VERIFY_FAILED:
            raise Untrusted(host, "its certificate was refused")
        raise


def _give_room():
    """Frees the room kept for TLS, just before its buffers are taken: the record buffer lands there
    if no lower block fits it."""
    global _room
    _room = None
    gc.collect()


def _keep_room():
    """Keeps room for the next request's TLS buffers, where this one's were (still kept when this one
    ended before TLS: a server that cannot be reached)."""
    global _room
    if _room is None:
        try:
            _room = bytearray(TLS_ROOM)
        except MemoryError:  # none left: the next request does without
            pass


def _trust(host):
    """The TLS context that checks servers against ``ca.der``; made once, kept for every request."""
    global _context
    if _context is None:
        import ssl

        try:
            with open(TRUSTED, "rb") as file:
                trusted = file.read()
        except OSError:
            raise Untrusted(host, "the badge has no certificate to check https servers with (arcade deploy --ca)")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.verify_mode = ssl.CERT_REQUIRED
        start = 0
        while start < len(trusted):  # each DER certificate is a SEQUENCE: its length is in its header
            end = start + _der_length(host, trusted, start)
            context.load_verify_locations(cadata=trusted[start:end])
            start = end
        _context = context
    return _context


def _der_length(host, data, start):
    if data[start] != 0x30 or start + 2 > len(data):
        raise Untrusted(host, "ca.der is not DER certificates; deploy again with arcade deploy --ca")
    size = data[start + 1]
    if size < 0x80:
        return 2 + size
    count = size & 0x7F
    length = 0
    for byte in data[start + 2 : start + 2 + count]:
        length = length << 8 | byte
    return 2 + count + length


def _status(stream):
    """The answer's status and Content-Length (None without one), its headers read past (HTTP/1.0:
    the body ends where the stream does)."""
    line = stream.readline().split(None, 2)
    if len(line) < 2 or not line[0].startswith(b"HTTP/") or not line[1].isdigit():
        raise OSError("not an HTTP answer")
    length = None
    while True:
        header = stream.readline()
        if not header or header == b"\r\n":
            return int(line[1]), length
        name, _, value = header.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            length = int(value.strip())


def _whole(stream, status, length):
    """(status, the body): read in one buffer of its length when the server gives it, not grown."""
    return status, stream.read(length) if length is not None else stream.read()


def has_strings(value, keys, optional=()):
    """Whether ``value``, decoded JSON, is an object whose ``keys`` all hold strings, and whose
    ``optional`` keys hold strings or nothing."""
    if not isinstance(value, dict):
        return False
    for key in keys:
        if not isinstance(value.get(key), str):
            return False
    for key in optional:
        if value.get(key) is not None and not isinstance(value[key], str):
            return False
    return True


def join(badge, show):
    """firmware/wifi.py's join, loaded only while the badge is off the Wi-Fi."""
    if badge.isconnected():
        return
    import wifi

    try:
        wifi.join(badge, show)
    finally:
        sys.modules.pop("wifi", None)
        gc.collect()


def get_json(url, token=None):
    return request("GET", url, token=token)


def post_form(url, fields):
    return request("POST", url, urlencode(fields), FORM)


def post_json(url, body, token=None, headers=None):
    """Posts ``body``, JSON text already encoded, so a queued run is sent byte for byte."""
    return request("POST", url, body, JSON, token, headers)


def download(url, write, size):
    """Streams ``url``'s body to ``write`` in small reads, so a game never sits whole in the heap.
    Raises ServerTrouble unless the answer is a 200 of ``size`` bytes, OSError for a network
    failure or an answer cut short."""

    def save(stream, status, length):
        if status != 200:
            raise ServerTrouble("the server answered %d" % status)
        got = 0
        while got < size:
            chunk = stream.read(min(512, size - got))
            if not chunk:
                raise OSError("the download was cut short at %d of %d bytes" % (got, size))
            got += len(chunk)
            stream.renew()  # a download runs as long as it moves: its own deadline per piece
            write(chunk)
        if stream.read(1):
            raise ServerTrouble("the file is longer than the games list says")

    _exchange("GET", url, save, accept="application/octet-stream")
