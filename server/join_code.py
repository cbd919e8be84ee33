"""The event screen's QR code, drawn as SVG by the badge's own encoder (``firmware/qr.py``, plain
Python that runs the same on CPython): no second QR library for one code."""

from arcade.firmware import qr

QUIET_ZONE = 4
"""Modules of white around the code, as ISO/IEC 18004 asks, so a phone finds it on any backdrop."""


def qr_svg(text: str) -> str:
    code = qr.QRCode(qr.ECC_MEDIUM)
    code.set_text(text)
    size, _ = code.get_size()
    dark = "".join(
        f"M{x + QUIET_ZONE} {y + QUIET_ZONE}h1v1h-1z" for y in range(size) for x in range(size) if code.get_module(x, y)
    )
    side = size + 2 * QUIET_ZONE
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}" shape-rendering="crispEdges" '
        f'role="img" aria-label="QR code"><rect width="{side}" height="{side}" fill="#fff"/>'
        f'<path fill="#000" d="{dark}"/></svg>'
    )
