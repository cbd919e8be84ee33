"""Fetching the picture a player's provider names, within limits, as a clean JPEG of our own.

The URL comes from a player (a claim they set at their provider), so it is treated as hostile:
only http(s); every address it resolves to must be a public one (else a player could make the
server probe the event's network or its own loopback) and the connection goes to the address
that was checked, so a second DNS answer cannot swap it; redirects are followed by hand, each
hop checked again; the body is capped while it is read and the whole fetch has one deadline.
Whether it is a picture is decided by its bytes, never by ``Content-Type``: Pillow must open it
as PNG, JPEG, GIF or WebP, and it is drawn again as a small JPEG, which leaves behind whatever
else the file carried (metadata, extra frames, a script in a polyglot).
"""

import asyncio
import io
import ipaddress
import socket
from urllib.parse import urljoin, urlsplit

import httpx
from PIL import Image

from arcade.platform.config import PictureSettings
from arcade.sdk.errors import ArcadeError

FORMATS = ["PNG", "JPEG", "GIF", "WEBP"]
SIDE = 192
"""Pixels of the stored picture's longer side: the event screen shows it at most this big at 4K."""
MAX_PIXELS = 25_000_000
"""A picture declaring more pixels than this is refused before it is decoded (a decompression bomb)."""
MAX_REDIRECTS = 3


class PictureRefused(ArcadeError):
    """This URL gives no picture to show (the message says why); the generated avatar is shown."""


async def fetch_picture(url: str, limits: PictureSettings, client: httpx.AsyncClient) -> bytes:
    """The picture at ``url`` as a JPEG at most :data:`SIDE` pixels wide and tall, or :class:`PictureRefused`."""
    try:
        async with asyncio.timeout(limits.timeout_seconds):
            body = await _download(url, limits, client)
    except TimeoutError:
        raise PictureRefused(f"the picture took longer than {limits.timeout_seconds:g} s to arrive") from None
    except httpx.HTTPError as error:
        raise PictureRefused(f"the picture could not be fetched: {error or type(error).__name__}") from None
    return await asyncio.to_thread(redrawn, body)


async def _download(url: str, limits: PictureSettings, client: httpx.AsyncClient) -> bytes:
    for _ in range(MAX_REDIRECTS + 1):
        request = await _pinned_request(url, limits.private_addresses, client)
        response = await client.send(request, stream=True)
        try:
            if response.is_redirect:
                url = urljoin(url, response.headers.get("location", ""))
                continue
            if response.status_code != 200:
                raise PictureRefused(f"the picture's host answered {response.status_code}")
            return await _capped_body(response, limits.max_bytes)
        finally:
            await response.aclose()
    raise PictureRefused(f"the picture's address redirects more than {MAX_REDIRECTS} times")


async def _pinned_request(url: str, private_addresses: bool, client: httpx.AsyncClient) -> httpx.Request:
    """A GET of ``url`` sent to the address its host resolved to, once that address is checked."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PictureRefused(f"a picture must be at an http or https address, not {url[:80]!r}")
    if parts.username is not None or parts.password is not None:
        raise PictureRefused("a picture's address may not carry a user name or password")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = await asyncio.get_running_loop().getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise PictureRefused(f"the picture's host {parts.hostname!r} is not known") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in found]
    if not private_addresses:
        for address in addresses:
            if not address.is_global or address.is_multicast:
                raise PictureRefused(f"the picture's host {parts.hostname!r} is at a private address ({address})")
    chosen = addresses[0]
    host = f"[{chosen}]" if chosen.version == 6 else str(chosen)
    target = parts._replace(netloc=f"{host}:{port}").geturl()
    request = client.build_request("GET", target, headers={"Host": parts.netloc, "Accept": "image/*"})
    request.extensions["sni_hostname"] = parts.hostname  # the certificate is checked for the name, not the address
    return request


async def _capped_body(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise PictureRefused(f"the picture is {int(declared):,} bytes, more than the {max_bytes:,} allowed")
    body = bytearray()
    async for chunk in response.aiter_raw():
        body += chunk
        if len(body) > max_bytes:
            raise PictureRefused(f"the picture is more than the {max_bytes:,} bytes allowed")
    return bytes(body)


def redrawn(body: bytes) -> bytes:
    """``body`` opened as one of :data:`FORMATS` by its content, drawn again as a small JPEG."""
    try:
        with Image.open(io.BytesIO(body), formats=FORMATS) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise PictureRefused(f"the picture is {width}×{height} pixels, more than {MAX_PIXELS:,} in all")
            image.draft("RGB", (SIDE, SIDE))  # a JPEG decodes at a fraction of its size
            picture = image.convert("RGBA")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise PictureRefused("the file is not a picture (PNG, JPEG, GIF or WebP)") from None
    picture.thumbnail((SIDE, SIDE))
    flat = Image.new("RGB", picture.size, "white")
    flat.paste(picture, mask=picture)
    out = io.BytesIO()
    flat.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()
