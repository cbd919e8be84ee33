"""Headers every answer carries, so no page can be framed, sniffed or made to run injected script.

A ``before_send`` hook, so the 404s of unknown paths carry them too; a header a handler set
itself is left alone.
"""

from litestar.datastructures import MutableScopeHeaders

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",  # players' pictures too: the arcade serves them itself (pictures.py)
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ]
)
HSTS_MAX_AGE_S = 180 * 24 * 3600


def security_headers(https: bool):
    """The hook for an arcade served at an ``https`` public URL or not."""
    headers = {
        "content-security-policy": CONTENT_SECURITY_POLICY,
        "x-frame-options": "DENY",
        "x-content-type-options": "nosniff",
        "referrer-policy": "same-origin",  # verification links carry a secret: no other site sees them
    }
    if https:
        headers["strict-transport-security"] = f"max-age={HSTS_MAX_AGE_S}"

    async def add_headers(message, scope) -> None:
        if message["type"] == "http.response.start":
            present = MutableScopeHeaders.from_message(message)
            for name, value in headers.items():
                if name not in present:
                    present[name] = value

    return add_headers
