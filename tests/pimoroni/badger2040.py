"""A strict fake of Pimoroni's ``badger2040`` module (the Badger 2040 W build), written from its
interface: the same constants, functions and ``Badger2040`` methods, each doing what the real one
does to the badge, on the fakes of ``machine``, ``network`` and ``picographics`` here. Drawing goes
through ``__getattr__`` to PicoGraphics as on the badge, so whatever neither has is an
``AttributeError``. ``connect()`` behaves as Pimoroni's does (its own "Connecting..." screen, a
minute per try, two tries) so a test can see that the arcade does not call it."""

import time

import _rig
import machine
from picographics import DISPLAY_INKY_PACK, PicoGraphics

BUTTON_DOWN = 11
BUTTON_A = 12
BUTTON_B = 13
BUTTON_C = 14
BUTTON_UP = 15
BUTTON_USER = None

BUTTON_MASK = 0b11111 << 11

SYSTEM_VERY_SLOW = 0
SYSTEM_SLOW = 1
SYSTEM_NORMAL = 2
SYSTEM_FAST = 3
SYSTEM_TURBO = 4

UPDATE_NORMAL = 0
UPDATE_MEDIUM = 1
UPDATE_FAST = 2
UPDATE_TURBO = 3

RTC_ALARM = 8
LED = 22
ENABLE_3V3 = 10
BUSY = 26

WIDTH = 296
HEIGHT = 128

_REFRESH_MS = (4700, 2600, 900, 250)
"""How long Pimoroni's ``update()`` blocks at each speed, whatever the panel took."""

BUTTONS = dict((pin, machine.Pin(pin, machine.Pin.IN, machine.Pin.PULL_DOWN)) for pin in (11, 12, 13, 14, 15))
_enable = machine.Pin(ENABLE_3V3, machine.Pin.OUT)
_enable.on()
_taken = 0


def is_wireless():
    return True


def woken_by_rtc():
    return False


def woken_by_button():
    return _rig.woke_by() & BUTTON_MASK > 0


def pressed_to_wake(button):
    return _rig.woke_by() & (1 << button) > 0


def reset_pressed_to_wake():
    global _taken
    _taken = BUTTON_MASK


def pressed_to_wake_get_once(button):
    global _taken
    result = _rig.woke_by() & ~_taken & (1 << button) > 0
    _taken |= 1 << button
    return result


def system_speed(speed):
    pass


def turn_on():
    _enable.on()


def turn_off():
    """Cuts the power: on battery the badge is off (the process ends); on USB it cannot be, and this
    waits for a button as Pimoroni's does (polling every 10 ms rather than spinning)."""
    time.sleep(0.05)
    _enable.off()
    print("@@halt: on USB, waiting for a button")
    while not any(pin.value() for pin in BUTTONS.values()):
        time.sleep_ms(10)


def sleep_for(minutes):
    turn_off()


class Badger2040:
    def __init__(self):
        self.display = PicoGraphics(DISPLAY_INKY_PACK)
        self._update_speed = 0

    def __getattr__(self, item):
        return getattr(self.display, item)

    def update(self):
        started = time.ticks_ms()
        self.display.update()
        left = _REFRESH_MS[self._update_speed] - time.ticks_diff(time.ticks_ms(), started)
        if left > 0:
            time.sleep_ms(left)

    def set_update_speed(self, speed):
        self.display.set_update_speed(speed)
        self._update_speed = speed

    def led(self, brightness):
        pass

    def invert(self, invert):
        raise RuntimeError("Display invert not supported in PicoGraphics.")

    def thickness(self, thickness):
        raise RuntimeError("Thickness not supported in PicoGraphics.")

    def halt(self):
        turn_off()

    def keepalive(self):
        turn_on()

    def pressed(self, button):
        return BUTTONS[button].value() == 1 or pressed_to_wake_get_once(button)

    def pressed_any(self):
        return any(pin.value() for pin in BUTTONS.values())

    def icon(self, data, index, data_w, icon_size, x, y):
        raise NotImplementedError("not used by the arcade")

    def image(self, data, w, h, x, y):
        for row in range(h):
            bits = data[row]
            for col in range(w):
                if not bits & 1:
                    self.display.pixel(x + col, y + row)
                bits >>= 1

    def status_handler(self, mode, status, ip):
        self.display.set_update_speed(2)
        self.display.set_pen(15)
        self.display.clear()
        self.display.set_pen(0)
        if status:
            self.display.text("Connected!", 10, 10, 300, 0.5)
            self.display.text(ip, 10, 30, 300, 0.5)
        elif status is None:
            self.display.text("Connecting...", 10, 10, 300, 0.5)
        else:
            self.display.text("Connection failed!", 10, 10, 300, 0.5)
        self.update()

    def isconnected(self):
        import network

        return network.WLAN(network.STA_IF).isconnected()

    def ip_address(self):
        import network

        return network.WLAN(network.STA_IF).ifconfig()[0]

    def connect(self, **args):
        """Pimoroni's: its status screen once a second, ``timeout`` seconds a try, ``retries`` tries."""
        import network
        import WIFI_CONFIG

        status_handler = args.get("status_handler", self.status_handler)
        timeout_ms = args.get("timeout", 60) * 1000
        if WIFI_CONFIG.COUNTRY == "":
            raise RuntimeError("You must populate WIFI_CONFIG.py for networking.")
        network.country(WIFI_CONFIG.COUNTRY)
        wlan = network.WLAN(network.STA_IF)
        wlan.active(True)
        for _ in range(args.get("retries", 2)):
            wlan.connect(WIFI_CONFIG.SSID, WIFI_CONFIG.PSK)
            started = time.ticks_ms()
            while time.ticks_diff(time.ticks_ms(), started) < timeout_ms:
                if wlan.isconnected():
                    status_handler("Client", True, wlan.ifconfig()[0])
                    return
                if wlan.status() < 0:
                    raise RuntimeError("WIFI Client Failed")
                status_handler("Client", None, wlan.ifconfig()[0])
                time.sleep_ms(1000)
        wlan.active(False)
        status_handler("Client", False, "0.0.0.0")
        raise RuntimeError("WIFI Client Failed")
