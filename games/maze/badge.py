"""Maze: walk from the top-left corner to the way out on the right; the fewer steps, the better.

A Badge Arcade game (see docs/writing-a-game.md): MicroPython on the badge, and importable
by CPython so the server can replay a run. Integers only, and the maze comes from the
seeded generator, so the same seed and inputs always give the same score.
"""

TITLE = "Maze"

BUTTON_A = 1  # the arcade's button bits
BUTTON_C = 4
BUTTON_UP = 8
BUTTON_DOWN = 16
MOVES = BUTTON_A | BUTTON_C | BUTTON_UP | BUTTON_DOWN

COLS = 27
ROWS = 15
CELLS = COLS * ROWS
CELL = 8  # pixels
LEFT = 4
TOP = 4
PANEL_X = LEFT + COLS * CELL + 8
EAST = 1  # wall bits of a cell
SOUTH = 2
EXIT = CELLS - 1
STEPS = (-COLS, COLS, -1, 1)  # to the cell above, below, left, right


class Random:
    """xorshift32: the same numbers from the same seed on the badge and on the server."""

    def __init__(self, seed):
        self.state = (seed ^ 0x6D2B79F5) & 0xFFFFFFFF or 1

    def below(self, n):
        x = self.state
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.state = x
        return x % n


class Game:
    TICK_MS = 100

    def __init__(self, seed):
        self.walls = bytearray(b"\x03" * CELLS)
        self._carve(Random(seed))
        self.walls[EXIT] &= ~EAST  # the way out, an opening in the outer wall
        self.cell = 0
        self.score = 0  # steps taken
        self.held = 0

    def _carve(self, random):
        """A depth-first walk knocks walls down: one path between any two cells, long corridors.
        Its stack and the choices are allocated once: a maze is made without garbage."""
        visited = bytearray(CELLS)
        visited[0] = 1
        stack = [0] * CELLS
        depth = 1
        options = [0, 0, 0, 0]
        while depth:
            cell = stack[depth - 1]
            x = cell % COLS
            count = 0
            for step in STEPS:
                near = cell + step
                off_the_side = step == -1 and x == 0 or step == 1 and x == COLS - 1
                if 0 <= near < CELLS and not visited[near] and not off_the_side:
                    options[count] = near
                    count += 1
            if not count:
                depth -= 1
                continue
            near = options[random.below(count)]
            self.walls[min(cell, near)] &= ~(EAST if abs(near - cell) == 1 else SOUTH)
            visited[near] = 1
            stack[depth] = near
            depth += 1

    def tick(self, buttons):
        """A step for each fresh press of a direction (every step shows on the e-ink before the
        next, and a refresh never turns a held button into extra steps). False at the way out."""
        pressed = buttons & ~self.held & MOVES
        self.held = buttons
        pressed &= -pressed  # one direction at a time: the lowest button bit wins
        if pressed:
            self._step(pressed)
        return self.cell != EXIT

    def _step(self, direction):
        cell = self.cell
        x = cell % COLS
        if direction == BUTTON_C and x < COLS - 1 and not self.walls[cell] & EAST:
            cell += 1
        elif direction == BUTTON_A and x and not self.walls[cell - 1] & EAST:
            cell -= 1
        elif direction == BUTTON_DOWN and cell + COLS < CELLS and not self.walls[cell] & SOUTH:
            cell += COLS
        elif direction == BUTTON_UP and cell >= COLS and not self.walls[cell - COLS] & SOUTH:
            cell -= COLS
        if cell != self.cell:
            self.cell = cell
            self.score += 1

    def draw(self, screen):
        """Draws the whole screen; answers the band of rows that changes (all of them)."""
        screen.set_pen(15)
        screen.clear()
        screen.set_pen(0)
        screen.rectangle(LEFT, TOP, COLS * CELL + 1, 1)
        screen.rectangle(LEFT, TOP, 1, ROWS * CELL + 1)
        self._walls(screen, SOUTH)
        self._walls(screen, EAST)
        x = LEFT + self.cell % COLS * CELL
        y = TOP + self.cell // COLS * CELL
        screen.rectangle(x + 2, y + 2, CELL - 3, CELL - 3)
        screen.text("MAZE", PANEL_X, TOP, 2)
        screen.text("steps", PANEL_X, TOP + 28)
        screen.text(str(self.score), PANEL_X, TOP + 40, 2)
        screen.text("UP DOWN", PANEL_X, TOP + 84)
        screen.text("A left", PANEL_X, TOP + 96)
        screen.text("C right", PANEL_X, TOP + 108)
        return (0, 128)

    def _walls(self, screen, side):
        """Draws the walls on one side of every cell, each straight run of them as one rectangle."""
        lines, length = (ROWS, COLS) if side == SOUTH else (COLS, ROWS)
        for line in range(lines):
            start = -1
            for at in range(length + 1):
                wall = False
                if at < length:
                    cell = line * COLS + at if side == SOUTH else at * COLS + line
                    wall = self.walls[cell] & side
                if wall and start < 0:
                    start = at
                elif not wall and start >= 0:
                    offset = (line + 1) * CELL
                    run = (at - start) * CELL + 1
                    if side == SOUTH:
                        screen.rectangle(LEFT + start * CELL, TOP + offset, run, 1)
                    else:
                        screen.rectangle(LEFT + offset, TOP + start * CELL, 1, run)
                    start = -1
