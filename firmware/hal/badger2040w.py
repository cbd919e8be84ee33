"""The real Badger 2040 W behind the HAL: Pimoroni's ``badger2040`` module does the work."""

import time

import badger2040
import machine
import micropython
from hal import BLACK, BUTTON_A, BUTTON_B, BUTTON_C, BUTTON_DOWN, BUTTON_UP, WIDTH
from hal.presses import Latch, watch

_PINS = (
    (BUTTON_A, badger2040.BUTTON_A),
    (BUTTON_B, badger2040.BUTTON_B),
    (BUTTON_C, badger2040.BUTTON_C),
    (BUTTON_UP, badger2040.BUTTON_UP),
    (BUTTON_DOWN, badger2040.BUTTON_DOWN),
)


class Badge:
    def __init__(self):
        self._badger = badger2040.Badger2040()
        self._badger.set_font("bitmap8")
        micropython.alloc_emergency_exception_buf(100)  # an error in the interrupt handler can be told
        self._latch = Latch()
        pins = [badger2040.BUTTONS[pin] for _, pin in _PINS]
        watch(self._latch, pins, machine.Pin.IRQ_RISING | machine.Pin.IRQ_FALLING)

    def set_screen(self, name):
        """Names the screen being drawn; only the simulator uses the name."""

    # Drawing: pens run from 0 (black) to 15 (white), as on PicoGraphics.
    def set_pen(self, pen):
        self._badger.set_pen(pen)

    def clear(self):
        self._badger.clear()

    def text(self, text, x, y, scale=1):
        self._badger.text(text, x, y, WIDTH, scale)

    def measure_text(self, text, scale=1):
        return self._badger.measure_text(text, scale)

    def rectangle(self, x, y, w, h):
        self._badger.rectangle(x, y, w, h)

    def line(self, x1, y1, x2, y2):
        self._badger.line(x1, y1, x2, y2)

    def pixel(self, x, y):
        self._badger.pixel(x, y)

    def image(self, data, w, h, x, y):
        """Draws a 1-bit image: rows of ``w`` bits, most significant bit first, 1 is ink."""
        self._badger.set_pen(BLACK)
        stride = (w + 7) // 8
        for row in range(h):
            base = row * stride
            for col in range(w):
                if data[base + (col >> 3)] & (0x80 >> (col & 7)):
                    self._badger.pixel(x + col, y + row)

    # The e-ink panel.
    def update(self):
        self._badger.update()

    def partial_update(self, x, y, w, h):
        self._badger.partial_update(x, y, w, h)

    def set_update_speed(self, speed):
        self._badger.set_update_speed(speed)

    # Input, time and network.
    def buttons(self, until=None):
        """The buttons held now, and those pressed since the last read (by ``until``, a ticks_ms):
        the pin interrupts latched them, so a tap during a blocking refresh is not lost."""
        held = 0
        for bit, pin in _PINS:
            if self._badger.pressed(pin):
                held |= bit
        return self._latch.read(held, until)

    def ticks_ms(self):
        return time.ticks_ms()

    def sleep_ms(self, ms):
        time.sleep_ms(ms)

    def connect(self):
        """Joins the Wi-Fi of WIFI_CONFIG.py; failures become OSError, like any network failure."""
        if self._badger.isconnected():
            return
        try:
            self._badger.connect()
        except Exception as error:
            raise OSError("Wi-Fi: %s" % error)
        if not self._badger.isconnected():
            raise OSError("Wi-Fi: not connected; check WIFI_CONFIG.py")

    def isconnected(self):
        return self._badger.isconnected()
