"""2048: slide the tiles, equal tiles merge into their sum, and each merge scores that sum.
The game ends when no move is left, or when the player presses B to keep the score so far.

A Badge Arcade game (see docs/writing-a-game.md): MicroPython on the badge, and importable
by CPython so the server can replay a run. A tile is kept as its power of two in one byte;
every new tile comes from the seeded generator, so the same run always scores the same.
"""

TITLE = "2048"

BUTTON_A = 1  # the arcade's button bits
BUTTON_B = 2
BUTTON_C = 4
BUTTON_UP = 8
BUTTON_DOWN = 16
MOVES = BUTTON_A | BUTTON_C | BUTTON_UP | BUTTON_DOWN

SIZE = 4
# For each move: the first cell of the first line, the step along a line towards the wall
# the tiles slide to, and the step from one line to the next.
LINES = {
    BUTTON_A: (0, 1, SIZE),
    BUTTON_C: (SIZE - 1, -1, SIZE),
    BUTTON_UP: (0, SIZE, 1),
    BUTTON_DOWN: (SIZE * (SIZE - 1), -SIZE, 1),
}
CELL_W = 44
CELL_H = 30
LEFT = 4
TOP = 4
PANEL_X = LEFT + SIZE * CELL_W + 12


class Random:
    """xorshift32: the same numbers from the same seed on the badge and on the server."""

    def __init__(self, seed):
        self.state = (seed ^ 0x1B873593) & 0xFFFFFFFF or 1

    def below(self, n):
        x = self.state
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.state = x
        return x % n


def _label(tile):
    """A tile's value as it fits a tile with a margin: 16384 and up as "16K"."""
    value = 1 << tile
    return str(value) if value < 10000 else "%dK" % (value >> 10)


class Game:
    TICK_MS = 100

    def __init__(self, seed):
        self.random = Random(seed)
        self.cells = bytearray(SIZE * SIZE)  # 0 is empty, n is a tile of 2**n
        self.score = 0
        self.held = 0
        self._spawn()
        self._spawn()

    def tick(self, buttons):
        """Slides on a fresh press of a direction; False once no move is left, or on B."""
        pressed = buttons & ~self.held
        self.held = buttons
        if pressed & BUTTON_B:
            return False  # the player stops here and keeps the score
        pressed &= MOVES
        pressed &= -pressed  # one move at a time: the lowest button bit wins
        if pressed and self._slide(LINES[pressed]):
            self._spawn()
            return self._can_move()
        return True

    def _slide(self, lines):
        """Slides and merges every line; answers whether any tile moved."""
        first, along, across = lines
        cells = self.cells
        moved = False
        for line in range(SIZE):
            cell = first + line * across
            target = cell  # where the next tile comes to rest
            mergeable = 0  # the tile just before target, while it may still merge
            for _ in range(SIZE):
                tile = cells[cell]
                if tile:
                    cells[cell] = 0
                    if tile == mergeable:
                        cells[target - along] = tile + 1
                        self.score += 1 << (tile + 1)
                        mergeable = 0
                        moved = True
                    else:
                        cells[target] = tile
                        moved = moved or target != cell
                        mergeable = tile
                        target += along
                cell += along
        return moved

    def _spawn(self):
        """A 2 (or one time in ten a 4) on a random empty cell."""
        cells = self.cells
        left = self.random.below(cells.count(b"\x00"))
        for cell in range(SIZE * SIZE):
            if not cells[cell]:
                if not left:
                    cells[cell] = 2 if self.random.below(10) == 0 else 1
                    return
                left -= 1

    def _can_move(self):
        cells = self.cells
        for cell in range(SIZE * SIZE):
            tile = cells[cell]
            if not tile:
                return True
            if cell % SIZE < SIZE - 1 and cells[cell + 1] == tile:
                return True
            if cell < SIZE * (SIZE - 1) and cells[cell + SIZE] == tile:
                return True
        return False

    def draw(self, screen):
        """Draws the whole screen; answers the band of rows that changes (all of them)."""
        screen.set_pen(15)
        screen.clear()
        screen.set_pen(0)
        for cell in range(SIZE * SIZE):
            x = LEFT + cell % SIZE * CELL_W
            y = TOP + cell // SIZE * CELL_H
            tile = self.cells[cell]
            if not tile:
                screen.rectangle(x + CELL_W // 2 - 1, y + CELL_H // 2 - 1, 3, 3)
                continue
            screen.rectangle(x + 1, y + 1, CELL_W - 2, CELL_H - 2)
            screen.set_pen(15)
            label = _label(tile)
            scale = 2 if screen.measure_text(label, 2) <= CELL_W - 8 else 1
            width = screen.measure_text(label, scale)
            screen.text(label, x + (CELL_W - width) // 2, y + (CELL_H - 8 * scale) // 2, scale)
            screen.set_pen(0)
        screen.text("2048", PANEL_X, TOP, 2)
        screen.text("score", PANEL_X, TOP + 28)
        screen.text(str(self.score), PANEL_X, TOP + 40, 2)
        screen.text("B: stop", PANEL_X, TOP + 64)
        screen.text("UP DOWN", PANEL_X, TOP + 84)
        screen.text("A left", PANEL_X, TOP + 96)
        screen.text("C right", PANEL_X, TOP + 108)
        return (0, 128)
