"""Generated avatars: a symmetric 5×5 identicon per player, for players without a picture."""

import hashlib


def identicon_svg(seed: str) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    hue = digest[0] * 360 // 256
    cells = []
    for row in range(5):
        for column in range(3):
            if digest[1 + row * 3 + column] & 1:
                for x in {column, 4 - column}:
                    cells.append(f'<rect x="{x + 1}" y="{row + 1}" width="1" height="1"/>')
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 7 7" shape-rendering="crispEdges">'
        f'<rect width="7" height="7" fill="hsl({hue},45%,92%)"/>'
        f'<g fill="hsl({hue},55%,38%)">{"".join(cells)}</g></svg>'
    )
