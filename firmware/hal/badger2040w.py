"""The real Badger 2040 W behind the HAL: Pimoroni's ``badger2040`` module does the work.

The Wi-Fi is MicroPython's ``network.WLAN`` driven directly, not ``Badger2040.connect()``, which
draws its own screen and waits minutes; ``firmware/wifi.py`` bounds the join and draws it.
"""

import time

import badger2040
import machine
import network

from hal import BLACK, BUTTON_A, BUTTON_B, BUTTON_C, BUTTON_DOWN, BUTTON_UP, CLOCK_SET, WIDTH
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
        self._wlan = network.WLAN(network.STA_IF)
        self._watchdog = None
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
        self.feed_watchdog()  # a normal refresh blocks for seconds
        self._badger.update()
        self.feed_watchdog()  # what follows a screen has the watchdog's whole time: a request, its 6 s

    def partial_update(self, x, y, w, h):
        self.feed_watchdog()
        self._badger.partial_update(x, y, w, h)
        self.feed_watchdog()

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
        self.feed_watchdog()  # the loops that wait sleep: a loop that hangs stops feeding
        time.sleep_ms(ms)

    def time(self):
        """The RTC's unix seconds, or None when it was never set: only a checked games list trusts it."""
        now = time.time() + _EPOCH
        return now if now >= CLOCK_SET else None

    def connect(self):
        """Starts joining the Wi-Fi of WIFI_CONFIG.py and answers at once (firmware/wifi.py waits);
        OSError when WIFI_CONFIG.py is missing or empty."""
        config = _wifi_config()
        network.country(config.COUNTRY)
        self._wlan.active(True)
        self._wlan.connect(config.SSID, config.PSK)

    def isconnected(self):
        return self._wlan.isconnected()

    def wifi_problem(self):
        """Why the join failed, or None while it goes on or once it is done."""
        return _WIFI_PROBLEMS.get(self._wlan.status())

    def wifi_name(self):
        try:
            return _wifi_config().SSID
        except OSError:
            return "?"

    def disconnect(self):
        self._wlan.disconnect()
        self._wlan.active(False)

    # Power.
    def halt(self):
        """Powers the badge off on battery (a button powers it on again and main.py starts anew);
        on USB it cannot, and returns once a button is pressed."""
        self._badger.halt()
        self._badger.keepalive()  # on USB: stay on now that a button woke us

    def start_watchdog(self, timeout_ms):
        """Resets the badge unless it is fed within ``timeout_ms`` (at most 8388 on the RP2040)."""
        self._watchdog = machine.WDT(timeout=timeout_ms)

    def feed_watchdog(self):
        if self._watchdog:
            self._watchdog.feed()

    def stop_watchdog(self):
        """MicroPython cannot stop the RP2040's watchdog; its control register can. Needed when
        mpremote interrupts the program (arcade deploy): the REPL does not feed it."""
        machine.mem32[_WATCHDOG_CTRL] &= ~_WATCHDOG_ENABLE
        self._watchdog = None


_EPOCH = 946684800 if time.gmtime(0)[0] == 2000 else 0
"""Seconds from 1970 to the port's epoch: some MicroPython ports count from 2000."""
_WATCHDOG_CTRL = 0x40058000  # the RP2040 datasheet, 4.7.6: WATCHDOG_BASE, its CTRL register
_WATCHDOG_ENABLE = 1 << 30

_WIFI_PROBLEMS = {
    network.STAT_WRONG_PASSWORD: "the password (PSK in WIFI_CONFIG.py) is wrong",
    network.STAT_NO_AP_FOUND: "no such network in reach (SSID in WIFI_CONFIG.py)",
    network.STAT_CONNECT_FAIL: "the access point refused the badge",
}


def _wifi_config():
    try:
        import WIFI_CONFIG
    except ImportError:
        raise OSError("no WIFI_CONFIG.py on the badge")
    if not (WIFI_CONFIG.SSID and WIFI_CONFIG.COUNTRY):
        raise OSError("WIFI_CONFIG.py has no SSID or COUNTRY")
    return WIFI_CONFIG
