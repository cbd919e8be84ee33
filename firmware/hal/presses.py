"""Presses latched between reads of the buttons, so a tap is never lost.

The firmware reads the buttons only between blocking e-ink refreshes (250 ms in turbo, 900 ms
for a fast full one): a 60 ms tap can start and end in between. The latch keeps, for each
button, the moment of its first press since the last read. A read then answers the buttons held
now and those pressed since, and with ``until`` only those pressed by then: a game running the
ticks a refresh held up gives a press to the tick it fell in, not to the first tick after.

On the badge, pin interrupts feed it (``watch``); in the simulator, the scripted presses. The
interrupt handler runs as a hard IRQ, so ``edge`` allocates nothing: the latch's arrays are made
once, and a bound method is called without making one.
"""

import time
from array import array

BUTTONS = 5
"""Bits 0..4 of a button mask, as in hal: A, B, C, UP, DOWN."""
DEBOUNCE_MS = 20
"""A contact's bounces come within this of the edge before: not new presses."""
TOGETHER_MS = 50
"""Presses this close are one chord (A+C): they come out together."""


class Latch:
    def __init__(self):
        self._at = array("i", [0] * BUTTONS)  # ticks_ms of each button's first unread press
        self._latched = bytearray(BUTTONS)  # one slot each: an interrupt never races another button's read
        self._edges = array("i", [0] * BUTTONS)  # ticks_ms of each pin's last edge, for debouncing
        self._answered = 0  # what the last read answered

    def press(self, mask, at):
        """The buttons of ``mask`` went down at ``at`` (ticks_ms)."""
        for index in range(BUTTONS):
            if mask >> index & 1:
                self._press(index, at)

    def edge(self, index, level, now):
        """A pin interrupt: the pin of button ``index`` changed and reads ``level``."""
        quiet = time.ticks_diff(now, self._edges[index]) >= DEBOUNCE_MS
        self._edges[index] = now
        if level and quiet:
            self._press(index, now)

    def _press(self, index, at):
        if not self._latched[index]:  # a press already waiting keeps its time
            self._at[index] = at
            self._latched[index] = 1

    def read(self, held, until=None):
        """``held`` (the buttons down now) with the presses latched by ``until`` (ticks_ms; None: all).

        Presses come out in the order they came, one (or one chord) a read, so a game that counts a
        press when a button goes down counts each: a press waits, reading up, while an earlier one
        is answered, and a button pressed again after the last read saw it down reads up once first
        (it was let go in between). A button pressed after ``until`` was up then: a later read takes it.
        """
        first = None  # the time of the earliest press due
        for index in range(BUTTONS):
            if self._due(index, until) and (first is None or time.ticks_diff(first, self._at[index]) > 0):
                first = self._at[index]
        answer = 0
        for index in range(BUTTONS):
            bit = 1 << index
            if not self._latched[index]:
                answer |= held & bit
            elif (
                self._due(index, until)
                and not self._answered & bit
                and time.ticks_diff(self._at[index], first) < TOGETHER_MS
            ):
                self._latched[index] = 0
                answer |= bit
            # else it reads up: pressed after ``until``, pressed again since the last read, or after an earlier press
        self._answered = answer
        return answer

    def _due(self, index, until):
        """Whether button ``index`` has a press latched by ``until``."""
        return self._latched[index] and (until is None or time.ticks_diff(until, self._at[index]) >= 0)


def watch(latch, pins, trigger):
    """Latches presses of ``pins`` (machine.Pin, in button order) from edge interrupts (``trigger``:
    both edges), as hard IRQs: they run during a blocking refresh, when the time of a press is true."""
    for index, pin in enumerate(pins):
        pin.irq(handler=_handler(latch, index), trigger=trigger, hard=True)


def _handler(latch, index):
    def on_edge(pin):
        latch.edge(index, pin.value(), time.ticks_ms())

    return on_edge
