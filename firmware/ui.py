"""Screens shared by the launcher and the login: a title bar, wrapped text, messages, lists."""

from hal import (
    BLACK,
    BUTTON_A,
    BUTTON_B,
    BUTTON_C,
    BUTTON_DOWN,
    BUTTON_UP,
    HEIGHT,
    UPDATE_FAST,
    UPDATE_TURBO,
    WHITE,
    WIDTH,
)

TITLE_H = 16
LINE_H = 11
ROW_H = 16
FOOTER_Y = HEIGHT - 10
POLL_MS = 20
LIST_Y = TITLE_H
LIST_ROWS = (FOOTER_Y - LIST_Y) // ROW_H


def begin(badge, name, title=None):
    """Starts drawing the screen called ``name``: simulator scripts wait for screens by name."""
    badge.set_screen(name)
    badge.set_pen(WHITE)
    badge.clear()
    badge.set_pen(BLACK)
    if title:
        badge.rectangle(0, 0, WIDTH, TITLE_H)
        badge.set_pen(WHITE)
        badge.text(title, 4, 4)
        badge.set_pen(BLACK)


def paragraph(badge, text, x, y, width):
    """Draws ``text`` wrapped at spaces, cutting a word wider than a line (a URL) where the
    line ends; answers the y below it."""
    line = ""
    for word in text.split(" "):
        candidate = line + " " + word if line else word
        if badge.measure_text(candidate) <= width:
            line = candidate
            continue
        if line:
            badge.text(line, x, y)
            y += LINE_H
        while badge.measure_text(word) > width:
            cut = len(word) - 1
            while cut > 1 and badge.measure_text(word[:cut]) > width:
                cut -= 1
            badge.text(word[:cut], x, y)
            y += LINE_H
            word = word[cut:]
        line = word
    if line:
        badge.text(line, x, y)
        y += LINE_H
    return y


def footer(badge, text):
    badge.text(text, 4, FOOTER_Y)


def show(badge, speed=UPDATE_FAST):
    badge.set_update_speed(speed)
    badge.update()


def status(badge, name, title, text):
    """A screen that stays while the badge works (connecting, sending)."""
    begin(badge, name, title)
    paragraph(badge, text, 4, TITLE_H + 8, WIDTH - 8)
    show(badge)


def message(badge, name, title, text, hint="A: OK"):
    """A message that stays until a button is pressed; answers that button."""
    begin(badge, name, title)
    paragraph(badge, text, 4, TITLE_H + 8, WIDTH - 8)
    footer(badge, hint)
    since = badge.ticks_ms()
    show(badge)
    return Buttons(badge, since).wait()


class Buttons:
    """Turns the held buttons into presses: a button counts once, when it goes down.

    ``since`` (a ticks_ms: when the screen began to be shown): a press from then on counts, though
    it came while the panel was still refreshing; without it, a press that came before is ignored.
    """

    def __init__(self, badge, since=None):
        self._badge = badge
        self._held = badge.buttons(since)

    def pressed(self):
        now = self._badge.buttons()
        new = now & ~self._held
        self._held = now
        return new

    def wait(self, wanted=BUTTON_A | BUTTON_B | BUTTON_C | BUTTON_UP | BUTTON_DOWN):
        while True:
            pressed = self.pressed() & wanted
            if pressed:
                return pressed
            self._badge.sleep_ms(POLL_MS)


def choose(badge, name, title, rows, index, hint, keys=BUTTON_A | BUTTON_B | BUTTON_C):
    """A list to pick from with UP and DOWN; ``rows`` are (label, detail) pairs.

    Answers (index, button) once one of ``keys`` is pressed.
    """
    begin(badge, name, title)
    _rows(badge, rows, index)
    footer(badge, hint)
    since = badge.ticks_ms()
    show(badge)
    buttons = Buttons(badge, since)
    while True:
        pressed = buttons.wait(keys | BUTTON_UP | BUTTON_DOWN)
        if pressed & keys:
            return index, pressed & keys
        if rows:
            index = (index + (1 if pressed & BUTTON_DOWN else -1)) % len(rows)
            _rows(badge, rows, index)
            badge.set_update_speed(UPDATE_TURBO)
            badge.partial_update(0, LIST_Y, WIDTH, LIST_ROWS * ROW_H)


def _rows(badge, rows, index):
    badge.set_pen(WHITE)
    badge.rectangle(0, LIST_Y, WIDTH, LIST_ROWS * ROW_H)
    first = min(max(0, index - LIST_ROWS + 1), max(0, len(rows) - LIST_ROWS))
    for slot in range(min(LIST_ROWS, len(rows) - first)):
        label, detail = rows[first + slot]
        y = LIST_Y + slot * ROW_H
        chosen = first + slot == index
        badge.set_pen(BLACK)
        if chosen:
            badge.rectangle(0, y, WIDTH, ROW_H)
            badge.set_pen(WHITE)
        badge.text(label, 8, y + 4)
        if detail:
            badge.text(detail, WIDTH - 8 - badge.measure_text(detail), y + 4)
    badge.set_pen(BLACK)
