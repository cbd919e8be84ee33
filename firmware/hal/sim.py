"""The simulated badge for the MicroPython unix port, driven by ``arcade sim``.

Drawing goes into a ``framebuf``; every refresh is reported on stdout as one ``@@update``
line (screen name, the texts drawn, the live heap and, when asked, the refreshed rows'
pixels) for ``arcade sim``, which keeps what the panel shows, draws it in the terminal
and saves it as PNG. The panel's own memory stays out of the badge's heap, as on a badge. Buttons come from a script of
input frames or from keys on stdin. The clock can run faster than real time, and a refresh
costs the time the real panel takes, so games see the badge's timing.

Settings come from the environment (``arcade sim`` sets them):
ARCADE_SIM_SCRIPT (steps, one a line), ARCADE_SIM_SPEED, ARCADE_SIM_PANEL=1, and
ARCADE_SIM_FLASH_FREE (bytes) for a nearly full flash (hal/simflash.py).
"""

import gc
import json
import os
import select
import sys
import time

import framebuf
from binascii import b2a_base64

from hal import (
    BUTTON_A,
    BUTTON_B,
    BUTTON_C,
    BUTTON_DOWN,
    BUTTON_UP,
    HEIGHT,
    UPDATE_FAST,
    UPDATE_MEDIUM,
    UPDATE_NORMAL,
    UPDATE_TURBO,
    WIDTH,
)

# Roughly how long the Badger 2040 W's panel takes to refresh at each speed.
REFRESH_MS = {UPDATE_NORMAL: 1000, UPDATE_MEDIUM: 700, UPDATE_FAST: 400, UPDATE_TURBO: 250}
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
        self._shown = ""
        self._texts = []
        self._send_panel = os.getenv("ARCADE_SIM_PANEL") == "1"
        self._clock = _Clock(int(os.getenv("ARCADE_SIM_SPEED") or "1"))
        self._input = _Input(os.getenv("ARCADE_SIM_SCRIPT") or "", self._clock)
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
        self._shown = self._screen
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
        self._clock.sleep(REFRESH_MS[self._speed])

    def buttons(self):
        return self._input.read(self._shown)

    def ticks_ms(self):
        return self._clock.now()

    def sleep_ms(self, ms):
        self._clock.sleep(ms)

    def connect(self):
        """The unix port is always on the network, so firmware/wifi.py never waits here (``arcade sim --lib``
        fakes a Wi-Fi that does not answer at once)."""

    def isconnected(self):
        return True

    def halt(self):
        """As on USB power: nothing to power off; the badge goes on waiting for a button."""

    def start_watchdog(self, timeout_ms):
        """None here: a hang is the developer's to see (``arcade sim --lib --watchdog`` has one)."""

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
        if ms > 0:
            time.sleep_us(ms * 1000 // self.speed)

    def set_speed(self, speed):
        self._virtual = time.ticks_diff(self.now(), 0)
        self._real = time.ticks_ms()
        self.speed = speed


class _Input:
    """Buttons from a script of input frames, then from keys sent on stdin.

    A frame is one read of the buttons. Script steps: ``wait NAME`` (until the screen NAME
    is on the panel; frames count from 0 again), ``FRAME MASK`` (from that frame on, these
    buttons are held), ``speed N`` and ``exit``.
    """

    def __init__(self, script, clock):
        self._script = script  # one string, read a step at a time: a badge has no script in its heap
        self._next = 0  # where the next step starts in it
        self._frame = 0
        self._mask = 0
        self._clock = clock
        self._keys = select.poll()
        self._keys.register(sys.stdin, select.POLLIN)
        self._key_mask = 0
        self._key_until = 0
        self._key_seen = False

    def read(self, shown):
        script = self._script
        while self._next < len(script):
            end = script.find("\n", self._next)
            end = len(script) if end < 0 else end
            step = script[self._next : end].split(" ")
            if step[0] == "":
                pass
            elif step[0] == "wait":
                if shown != step[1]:
                    self._mask = 0
                    break
                self._frame = 0
            elif step[0] == "speed":
                self._clock.set_speed(int(step[1]))
            elif step[0] == "exit":
                raise SystemExit(0)
            elif int(step[0]) <= self._frame:
                self._mask = int(step[1])
            else:
                break
            self._next = end + 1
        self._frame += 1
        return self._mask | self._read_keys()

    def _read_keys(self):
        """A key is a press: released on the read that finds it, then held for a while and for
        at least one read, so whoever reads the buttons sees it go down, even across a refresh."""
        now = self._clock.now()
        if self._keys.poll(0):
            key = sys.stdin.read(1)
            if key:
                self._key_mask = KEYS.get(key, 0)
                self._key_until = time.ticks_add(now, KEY_HOLD_MS)
                self._key_seen = False
                return 0
            self._keys.unregister(sys.stdin)  # stdin closed: no keyboard
        if self._key_mask and self._key_seen and time.ticks_diff(self._key_until, now) <= 0:
            self._key_mask = 0
        self._key_seen = True
        return self._key_mask
