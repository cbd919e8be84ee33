"""The simulated badge for the MicroPython unix port, driven by ``arcade sim``.

Drawing goes into a ``framebuf``; every refresh is reported on stdout as one ``@@update``
line (screen name, the texts drawn, the live heap and, when asked, the refreshed rows'
pixels) for ``arcade sim``, which keeps what the panel shows, draws it in the terminal
and saves it as PNG. The panel's own memory stays out of the badge's heap, as on a badge. Buttons
come from a script of timed presses or from keys on stdin, latched as the badge's pin interrupts
latch them (hal/presses.py). The clock can run faster than real time, and a refresh blocks as
long as it blocks a badge, so games see the badge's timing.

Settings come from the environment (``arcade sim`` sets them):
ARCADE_SIM_SCRIPT (steps, one a line), ARCADE_SIM_SPEED, ARCADE_SIM_PANEL=1,
ARCADE_SIM_FLASH_FREE (bytes) for a nearly full flash (hal/simflash.py), ARCADE_SIM_CLOCK (the
RTC's unix seconds at boot; 0: never set), and ARCADE_SIM_LATCH=0
to read the buttons as the firmware did before presses were latched (only what is held).
"""

import gc
import json
import os
import select
import sys
import time
from binascii import b2a_base64

import framebuf
from hal import (
    BUTTON_A,
    BUTTON_B,
    BUTTON_C,
    BUTTON_DOWN,
    BUTTON_UP,
    CLOCK_SET,
    HEIGHT,
    UPDATE_FAST,
    UPDATE_MEDIUM,
    UPDATE_NORMAL,
    UPDATE_TURBO,
    WIDTH,
)
from hal.presses import Latch

# How long a refresh blocks the Badger 2040 W at each speed: Pimoroni's badger2040.update() waits
# at least these for a full one, partial_update() only for the panel (its uc8151 driver's times).
UPDATE_MS = {UPDATE_NORMAL: 4700, UPDATE_MEDIUM: 2600, UPDATE_FAST: 900, UPDATE_TURBO: 250}
PARTIAL_UPDATE_MS = {UPDATE_NORMAL: 4500, UPDATE_MEDIUM: 2000, UPDATE_FAST: 800, UPDATE_TURBO: 250}
KEYS = {"a": BUTTON_A, "b": BUTTON_B, "c": BUTTON_C, "u": BUTTON_UP, "d": BUTTON_DOWN}
KEY_HOLD_MS = 150
FONT = 8


class Badge:
    def __init__(self):
        self._pixels = bytearray(WIDTH * HEIGHT // 8)
        self._frame = framebuf.FrameBuffer(self._pixels, WIDTH, HEIGHT, framebuf.MONO_HLSB)
        self._ink = 1
        self._speed = UPDATE_NORMAL
        self._screen = ""
        self._texts = []
        self._send_panel = os.getenv("ARCADE_SIM_PANEL") == "1"
        self._clock = _Clock(int(os.getenv("ARCADE_SIM_SPEED") or "1"))
        self._boot_time = int(os.getenv("ARCADE_SIM_CLOCK") or "0")
        latch = Latch() if os.getenv("ARCADE_SIM_LATCH") != "0" else None
        self._input = _Input(os.getenv("ARCADE_SIM_SCRIPT") or "", self._clock, latch)
        free = os.getenv("ARCADE_SIM_FLASH_FREE")
        if free is not None:
            from hal.simflash import mount

            mount(int(free))

    def set_screen(self, name):
        """Names the screen being drawn, for scripts (``wait NAME``) and screenshots."""
        self._screen = name

    def set_pen(self, pen):
        self._ink = 1 if pen < 8 else 0

    def clear(self):
        self._frame.fill(self._ink)
        self._texts = []

    def text(self, text, x, y, scale=1):
        self._texts.append(text)
        if scale == 1:
            self._frame.text(text, x, y, self._ink)
            return
        glyph = framebuf.FrameBuffer(bytearray(FONT), FONT, FONT, framebuf.MONO_HLSB)
        for char in text:
            glyph.fill(0)
            glyph.text(char, 0, 0, 1)
            for gy in range(FONT):
                for gx in range(FONT):
                    if glyph.pixel(gx, gy):
                        self._frame.fill_rect(x + gx * scale, y + gy * scale, scale, scale, self._ink)
            x += FONT * scale

    def measure_text(self, text, scale=1):
        return len(text) * FONT * scale

    def rectangle(self, x, y, w, h):
        self._frame.fill_rect(x, y, w, h, self._ink)

    def line(self, x1, y1, x2, y2):
        self._frame.line(x1, y1, x2, y2, self._ink)

    def pixel(self, x, y):
        self._frame.pixel(x, y, self._ink)

    def image(self, data, w, h, x, y):
        """Draws a 1-bit image: rows of ``w`` bits, most significant bit first, 1 is ink."""
        sprite = framebuf.FrameBuffer(bytearray(data), w, h, framebuf.MONO_HLSB)
        self._frame.blit(sprite, x, y, 0)

    def update(self):
        self._refresh("full", 0, HEIGHT)

    def partial_update(self, x, y, w, h):
        if y % 8 or h % 8 or y < 0 or h <= 0 or y + h > HEIGHT:
            raise ValueError("partial_update needs y and h in multiples of 8 within the panel, got y=%d h=%d" % (y, h))
        self._refresh("partial", y, h)

    def set_update_speed(self, speed):
        self._speed = speed

    def _refresh(self, kind, y, h):
        gc.collect()
        report = {"kind": kind, "screen": self._screen, "y": y, "h": h, "texts": self._texts, "heap": gc.mem_alloc()}
        report = json.dumps(report)
        out = sys.stdout
        out.write("@@update ")
        out.write(report)
        if self._send_panel:  # the refreshed rows, in small pieces: no big buffer on the heap
            out.write("\t")
            rows = memoryview(self._pixels)[y * WIDTH // 8 : (y + h) * WIDTH // 8]
            for start in range(0, len(rows), 48):
                out.write(b2a_base64(rows[start : start + 48])[:-1])
        out.write("\n")
        took = (UPDATE_MS if kind == "full" else PARTIAL_UPDATE_MS)[self._speed]
        self._input.refreshed(self._screen, time.ticks_add(self._clock.now(), took))
        self._clock.sleep(took)

    def buttons(self, until=None):
        """As on the badge: held now, or pressed since the last read (by ``until``)."""
        return self._input.read(until)

    def ticks_ms(self):
        return self._clock.now()

    def sleep_ms(self, ms):
        self._clock.sleep(ms)

    def time(self):
        """As on the badge: the RTC's unix seconds, on the badge's clock; None when never set."""
        now = self._boot_time + time.ticks_diff(self._clock.now(), 0) // 1000
        return now if now >= CLOCK_SET else None

    def connect(self):
        """The unix port is always on the network, so firmware/wifi.py never waits here (``arcade sim --lib``
        fakes a Wi-Fi that does not answer at once)."""

    def isconnected(self):
        return True

    def halt(self):
        """As on USB power: nothing to power off; the badge goes on waiting for a button."""

    def start_watchdog(self, timeout_ms):
        """None here: a hang is the developer's to see (``arcade sim --lib --watchdog`` has one)."""

    def feed_watchdog(self):
        pass

    def stop_watchdog(self):
        pass


class _Clock:
    """Milliseconds that run ``speed`` times faster than real ones."""

    def __init__(self, speed):
        self.speed = speed
        self._real = time.ticks_ms()
        self._virtual = 0

    def now(self):
        return time.ticks_add(0, self._virtual + time.ticks_diff(time.ticks_ms(), self._real) * self.speed)

    def sleep(self, ms):
        """Exactly ``ms`` on this clock, as the badge's blocking refresh and sleep are: a busy host
        oversleeps, and counting that would start a game's ticks late after its first screen."""
        if ms > 0:
            end = time.ticks_add(self.now(), ms)
            time.sleep_us(ms * 1000 // self.speed)
            self._virtual = time.ticks_diff(end, 0)
            self._real = time.ticks_ms()

    def set_speed(self, speed):
        self._virtual = time.ticks_diff(self.now(), 0)
        self._real = time.ticks_ms()
        self.speed = speed


class _Input:
    """The buttons a player presses, on the badge's clock: a script's steps, then keys typed on stdin.

    Script steps: ``wait NAME`` (until the panel has shown the screen NAME: its refresh ended;
    times and frames count from then), ``press MASK MS`` (these buttons go down for MS
    milliseconds of the badge's clock, whenever the firmware reads them), ``pause MS``, ``FRAME
    MASK`` (from the FRAME-th read of the buttons on, these are held: read-exact, never lost),
    ``speed N`` and ``exit``. Presses go through the latch as the pin interrupts' do on a badge;
    without one (ARCADE_SIM_LATCH=0) a read sees only what is held at that moment.
    """

    def __init__(self, script, clock, latch):
        self._script = script  # one string, read a step at a time: a badge has no script in its heap
        self._next = 0  # where the next step starts in it
        self._clock = clock
        self._latch = latch
        self._shown = ""  # the screen on the panel, and when its refresh ended
        self._shown_at = clock.now()
        self._at = self._shown_at  # the script's time: where its next step starts
        self._frame = 0
        self._frame_mask = 0
        self._pressed = 0  # the mask of the press step under way
        self._keys = select.poll()
        self._keys.register(sys.stdin, select.POLLIN)
        self._typed = []
        self._key = 0
        self._key_until = 0

    def refreshed(self, screen, done):
        """The panel shows ``screen`` from ``done`` (ticks_ms) on: a ``wait`` for it ends then."""
        now = self._clock.now()
        self._play(now, False)
        self._shown = screen
        self._shown_at = done
        self._play(now, False)

    def read(self, until):
        now = self._clock.now()
        self._play(now, True)
        self._frame += 1
        held = self._frame_mask | self._pressed | self._read_keys(now)
        return self._latch.read(held, until) if self._latch else held

    def _play(self, now, reading):
        """Plays the steps due by ``now``; a read (``reading``) also counts frames and may exit."""
        script = self._script
        while self._next < len(script):
            end = script.find("\n", self._next)
            end = len(script) if end < 0 else end
            step = script[self._next : end].split(" ")
            if step[0] == "":
                pass
            elif step[0] == "wait":
                if self._shown != step[1]:
                    self._frame_mask = 0
                    return
                if time.ticks_diff(self._shown_at, self._at) > 0:
                    self._at = self._shown_at
                self._frame = 0
            elif step[0] == "press":
                if time.ticks_diff(now, self._at) < 0:
                    return
                if not self._pressed and self._latch:
                    self._latch.press(int(step[1]), self._at)
                self._pressed = int(step[1])
                release = time.ticks_add(self._at, int(step[2]))
                if time.ticks_diff(now, release) < 0:
                    return
                self._pressed = 0
                self._at = release
            elif step[0] == "pause":
                self._at = time.ticks_add(self._at, int(step[1]))
            elif step[0] == "speed":
                self._clock.set_speed(int(step[1]))
            elif not reading:
                return
            elif step[0] == "exit":
                raise SystemExit(0)
            elif int(step[0]) <= self._frame:
                self._frame_mask = int(step[1])
                self._at = now
            else:
                return
            self._next = end + 1

    def _read_keys(self, now):
        """Keys typed, one press each, in the order typed however fast they come: a key is held
        from the read that takes it for KEY_HOLD_MS, then one read sees it released."""
        while self._keys.poll(0):
            key = sys.stdin.read(1)
            if not key:
                self._keys.unregister(sys.stdin)  # stdin closed: no keyboard
                break
            if key in KEYS:
                self._typed.append(KEYS[key])
        if self._key:
            if time.ticks_diff(now, self._key_until) >= 0:
                self._key = 0
            return self._key
        if self._typed:
            self._key = self._typed.pop(0)
            self._key_until = time.ticks_add(now, KEY_HOLD_MS)
            if self._latch:
                self._latch.press(self._key, now)
        return self._key
