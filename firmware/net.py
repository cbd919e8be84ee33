"""HTTP for the badge: JSON and form requests whose responses are always closed.

Every call answers ``(status, body)`` where ``body`` is the decoded JSON object, or ``{}``
when the body is not one; a network failure, or an answer that is not HTTP, raises ``OSError``.
"""

import gc

try:
    import requests
except ImportError:  # older badge firmware
    import urequests as requests

TIMEOUT_S = 15
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
OUT_OF_MEMORY = "the badge ran out of memory reading the answer"
_UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"


class ServerTrouble(OSError):
    """A server answered, but not usefully (a 5xx, garbage): try again later, as when offline."""


def quote(text):
    """Percent-encodes everything but RFC 3986's unreserved characters."""
    out = []
    for byte in str(text).encode():
        out.append(chr(byte) if byte in _UNRESERVED else "%%%02X" % byte)
    return "".join(out)


def urlencode(fields):
    """A form body from ``fields`` (name -> value); fields whose value is None are left out."""
    return "&".join(quote(name) + "=" + quote(fields[name]) for name in fields if fields[name] is not None)


def request(method, url, body=None, content_type=None, token=None):
    headers = {"Accept": JSON}
    if content_type:
        headers["Content-Type"] = content_type
    if token:
        headers["Authorization"] = "Bearer " + token
    try:
        response = requests.request(method, url, data=body, headers=headers, timeout=TIMEOUT_S)
    except (ValueError, NotImplementedError) as error:
        # Not an HTTP answer (a hang-up, a captive portal): the library raises these, not OSError,
        # and leaves its socket open; the collection runs the socket's finaliser, which closes it.
        gc.collect()
        raise OSError("not an HTTP answer: %s" % error)
    except MemoryError:
        gc.collect()
        raise OSError(OUT_OF_MEMORY)
    try:
        status = response.status_code
        try:
            answer = response.json()
        except ValueError:
            answer = None
        except MemoryError:
            # A fragmented heap: the request is answered again (a score by its submission_id, a
            # device code's tokens within the grace window), so it is a failure to try again.
            gc.collect()
            raise OSError(OUT_OF_MEMORY)
    finally:
        response.close()
    return status, answer if isinstance(answer, dict) else {}


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


def get_json(url, token=None):
    return request("GET", url, token=token)


def post_form(url, fields):
    return request("POST", url, urlencode(fields), FORM)


def post_json(url, body, token=None):
    """Posts ``body``, JSON text already encoded, so a queued run is sent byte for byte."""
    return request("POST", url, body, JSON, token)


def download(url, write, size):
    """Streams ``url``'s body to ``write`` in small reads, so a game never sits whole in the heap.
    Raises ServerTrouble unless the answer is a 200 of ``size`` bytes, OSError for a network
    failure or an answer cut short."""
    try:
        response = requests.request("GET", url, headers={"Accept": "application/octet-stream"}, timeout=TIMEOUT_S)
    except (ValueError, NotImplementedError) as error:
        gc.collect()
        raise OSError("not an HTTP answer: %s" % error)
    try:
        if response.status_code != 200:
            raise ServerTrouble("the server answered %d" % response.status_code)
        got = 0
        while got < size:
            chunk = response.raw.read(min(512, size - got))
            if not chunk:
                raise OSError("the download was cut short at %d of %d bytes" % (got, size))
            got += len(chunk)
            write(chunk)
        if response.raw.read(1):
            raise ServerTrouble("the file is longer than the games list says")
    finally:
        response.close()
