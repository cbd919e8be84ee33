"""Dino: jump the cacti; the score grows with the distance run, and the pace rises.

A Badge Arcade game (see docs/badge.md): MicroPython on the badge, and importable by
CPython so the server can replay a run. Integer arithmetic only, and every random choice
comes from the seeded generator, so the same seed and inputs always give the same score.
"""

TITLE = "Dino"

BUTTON_A = 1  # the arcade's button bits
BUTTON_UP = 8
JUMP_BUTTONS = BUTTON_A | BUTTON_UP

WIDTH = 296
FP = 16  # positions and speeds are in 1/16 pixel
GROUND_Y = 112  # screen row of the ground line
BAND_Y = 16  # the rows that change while running: 16..119
BAND_H = 104
RUNNER_X = 24
RUNNER_SIZE = 16
RUNNER_HITBOX = (3, 12)  # left offset and width that collide, a little forgiving
JUMP_SPEED = 7 * FP
GRAVITY = 12
START_SPEED = 40  # 2.5 px a tick
MAX_SPEED = 112  # 7 px a tick
SPEED_UP_TICKS = 40  # one more 1/16 px a tick every this many ticks
POINT = 8 * FP  # a point every 8 pixels run
# Cactus shapes (width, height): the taller, the narrower, so each can be jumped at any pace.
CACTI = ((6, 26), (8, 22), (10, 20), (14, 16), (16, 14), (24, 12))
MIN_GAP = 40  # pixels of ground on top of one jump's length
EXTRA_GAP = 120


def _rows(*rows):
    data = bytearray()
    for row in rows:
        data.append(row >> 8)
        data.append(row & 0xFF)
    return bytes(data)


_BODY = (
    0b0000000001111110,
    0b0000000011011111,
    0b0000000011111111,
    0b0000000011111111,
    0b0000000011110000,
    0b0000000011111100,
    0b1000000111110000,
    0b1000001111110000,
    0b1100011111111000,
    0b1110111111101000,
    0b0111111111100000,
    0b0011111111000000,
    0b0001111110000000,
)
RUNNER = (
    _rows(*(_BODY + (0b0000110011000000, 0b0000100001000000, 0b0000110001100000))),
    _rows(*(_BODY + (0b0000110011000000, 0b0000011010000000, 0b0000000011000000))),
)


class Random:
    """xorshift32: the same numbers from the same seed on the badge and on the server."""

    def __init__(self, seed):
        self.state = (seed ^ 0x2545F491) & 0xFFFFFFFF or 1

    def below(self, n):
        x = self.state
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.state = x
        return x % n


class Game:
    TICK_MS = 50

    def __init__(self, seed):
        self.random = Random(seed)
        self.score = 0
        self.ticks = 0
        self.distance = 0
        self.speed = START_SPEED
        self.height = 0  # of the runner's feet above the ground, in FP
        self.rising = 0  # vertical speed, in FP a tick
        self.held = 0
        self.cacti = []  # [x in FP, width, height] from left to right
        self.gap = WIDTH  # pixels to run before the next cactus appears
        self.over = False

    def tick(self, buttons):
        """One step: jump on a fresh press, run, spawn, collide. False once the runner hits a cactus."""
        pressed = buttons & ~self.held
        self.held = buttons
        if pressed & JUMP_BUTTONS and self.height == 0:
            self.rising = JUMP_SPEED
        if self.height or self.rising:
            self.height += self.rising
            self.rising -= GRAVITY
            if self.height <= 0:
                self.height = 0
                self.rising = 0
        self.ticks += 1
        self.speed = min(MAX_SPEED, START_SPEED + self.ticks // SPEED_UP_TICKS)
        self.distance += self.speed
        self.score = self.distance // POINT
        for cactus in self.cacti:
            cactus[0] -= self.speed
        if self.cacti and self.cacti[0][0] + self.cacti[0][1] * FP < 0:
            self.cacti.pop(0)
        self.gap -= self.speed
        if self.gap <= 0:
            self._spawn()
        self.over = self._hit()
        return not self.over

    def _spawn(self):
        width, height = CACTI[self.random.below(len(CACTI))]
        self.cacti.append([WIDTH * FP, width, height])
        airtime = 2 * JUMP_SPEED // GRAVITY
        jump_length = airtime * self.speed // FP
        self.gap = (width + jump_length + MIN_GAP + self.random.below(EXTRA_GAP)) * FP

    def _hit(self):
        left = RUNNER_X * FP + RUNNER_HITBOX[0] * FP
        right = left + RUNNER_HITBOX[1] * FP
        for x, width, height in self.cacti:
            if x < right and x + width * FP > left and self.height < height * FP:
                return True
        return False

    def draw(self, screen):
        """Draws the whole screen; answers the band of rows that changes while running."""
        screen.set_pen(15)
        screen.clear()
        screen.set_pen(0)
        screen.text("DINO    A or UP: jump", 4, 4)
        score = "%05d" % self.score
        screen.text(score, WIDTH - 4 - screen.measure_text(score, 2), BAND_Y + 4, 2)
        screen.rectangle(0, GROUND_Y, WIDTH, 1)
        for i in range(self.distance // FP % 12, WIDTH, 12):  # pebbles that scroll with the pace
            screen.pixel(WIDTH - 1 - i, GROUND_Y + 3)
        for x, width, height in self.cacti:
            self._cactus(screen, x // FP, width, height)
        feet = GROUND_Y - self.height // FP
        legs = 0 if self.height else self.distance // (6 * FP) % 2
        screen.image(RUNNER[legs], RUNNER_SIZE, RUNNER_SIZE, RUNNER_X, feet - RUNNER_SIZE)
        if self.over:
            screen.text("GAME OVER", WIDTH // 2 - screen.measure_text("GAME OVER", 2) // 2, 56, 2)
        return (BAND_Y, BAND_H)

    @staticmethod
    def _cactus(screen, x, width, height):
        trunk = max(4, width // 3)
        middle = x + (width - trunk) // 2
        screen.rectangle(middle, GROUND_Y - height, trunk, height)
        if width >= 10:
            arm = height // 2
            screen.rectangle(x, GROUND_Y - arm - 4, middle - x, 2)
            screen.rectangle(x, GROUND_Y - arm - 8, 2, 6)
            screen.rectangle(middle + trunk, GROUND_Y - arm - 2, x + width - middle - trunk, 2)
            screen.rectangle(x + width - 2, GROUND_Y - arm - 6, 2, 6)
