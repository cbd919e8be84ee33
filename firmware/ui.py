"""Screens shared by the launcher and the login: a title bar, wrapped text, messages, lists.

Waiting for a button is where the badge saves power: after ``IDLE_MS`` without a press it halts
(off on battery, as badger_os apps do), and A+C held together goes home to the menu from anywhere.
"""

import time

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
ROW_GAP = 2
FOOTER_Y = HEIGHT - 10
POLL_MS = 20
IDLE_MS = 60000
HOME = BUTTON_A | BUTTON_C
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
    """Draws ``text`` wrapped at spaces, and a URL at its slashes: never inside its host or port.
    Only a piece wider than a line is cut where the line ends. Answers the y below it."""
    line = ""
    for word in text.split(" "):
        glue = " "
        for piece in pieces(word):
            candidate = line + glue + piece if line else piece
            glue = ""
            if badge.measure_text(candidate) <= width:
                line = candidate
                continue
            if line:
                badge.text(line, x, y)
                y += LINE_H
            while badge.measure_text(piece) > width:
                cut = len(piece) - 1
                while cut > 1 and badge.measure_text(piece[:cut]) > width:
                    cut -= 1
                badge.text(piece[:cut], x, y)
                y += LINE_H
                piece = piece[cut:]
            line = piece
    if line:
        badge.text(line, x, y)
        y += LINE_H
    return y


def pieces(word):
    """The parts of ``word`` a line may end between: a URL's scheme, its host and port, then each
    ``/path``; any other word whole."""
    start = word.find("://") + 3
    if start < 3:
        return [word]
    parts = word[start:].split("/")
    return [word[:start], parts[0]] + ["/" + part for part in parts[1:]]


def widest(badge, text):
    """The width of the widest piece of ``text`` no line may break."""
    return max(badge.measure_text(piece) for word in text.split(" ") for piece in pieces(word))


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


class Home(Exception):
    """A and C held together: the launcher goes back to the menu, whatever screen or game was on."""


def check_home(buttons):
    if buttons & HOME == HOME:
        raise Home()


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
        check_home(now)
        new = now & ~self._held
        self._held = now
        return new

    def wait(self, wanted=BUTTON_A | BUTTON_B | BUTTON_C | BUTTON_UP | BUTTON_DOWN, idle=None):
        """The first of ``wanted`` pressed. After IDLE_MS without a press the badge halts;
        ``idle()`` first, to save where the badge is for its wake."""
        badge = self._badge
        since = badge.ticks_ms()
        while True:
            pressed = self.pressed()
            if pressed & wanted:
                return pressed & wanted
            if pressed:
                since = badge.ticks_ms()
            elif time.ticks_diff(badge.ticks_ms(), since) >= IDLE_MS:
                if idle:
                    idle()
                badge.halt()
                since = badge.ticks_ms()
            badge.sleep_ms(POLL_MS)


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

    def remember():
        import wake  # loaded only to halt: the screens keep the memory

        wake.save(name, index)

    while True:
        pressed = buttons.wait(keys | BUTTON_UP | BUTTON_DOWN, remember)
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
        if chosen:  # inset: a white line keeps it apart from the title bar and the rows around it
            badge.rectangle(2, y + ROW_GAP, WIDTH - 4, ROW_H - ROW_GAP)
            badge.set_pen(WHITE)
        badge.text(label, 8, y + 5)
        if detail:
            badge.text(detail, WIDTH - 8 - badge.measure_text(detail), y + 5)
    badge.set_pen(BLACK)
