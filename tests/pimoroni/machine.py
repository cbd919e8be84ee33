"""A strict fake of MicroPython's ``machine`` on the RP2040 (Pimoroni's Badger 2040 W build), the
parts the arcade and ``badger2040`` reach: ``Pin``, ``WDT``, ``mem32`` (the watchdog's register),
``reset``, ``reset_cause``, ``freq``, ``unique_id``. Anything else is missing, as an ``AttributeError``, so the firmware cannot lean on
what the unix port's ``machine`` has and the badge's lacks."""

import _rig

PWRON_RESET = 1
WDT_RESET = 3

_ENABLE_3V3 = 10
_WDT_MAX_MS = 8388


class Pin:
    IN = 0
    OUT = 1
    OPEN_DRAIN = 2
    ALT = 3
    PULL_UP = 1
    PULL_DOWN = 2
    IRQ_LEVEL_LOW = 1
    IRQ_LEVEL_HIGH = 2
    IRQ_FALLING = 4
    IRQ_RISING = 8

    def __init__(self, id, mode=-1, pull=-1, *, value=None, alt=-1):
        if not isinstance(id, int) or not 0 <= id <= 29:
            raise ValueError("invalid pin")
        self._id = id
        self._level = 0
        self.init(mode, pull, value=value)

    def init(self, mode=-1, pull=-1, *, value=None, alt=-1):
        if value is not None:
            self.value(value)

    def value(self, level=None):
        if level is None:
            if self._id in _rig.PINS:
                return 1 if _rig.button(self._id) else 0
            return self._level
        self._level = 1 if level else 0
        if self._id == _ENABLE_3V3 and not self._level and _rig.on_battery():
            _rig.power_off()  # the 3V3 regulator off: on battery nothing holds the power on
        return None

    def __call__(self, level=None):
        return self.value(level)

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)

    def high(self):
        self.value(1)

    def low(self):
        self.value(0)

    def toggle(self):
        self.value(not self._level)

    def irq(self, handler=None, trigger=IRQ_FALLING | IRQ_RISING, hard=False):
        """Edges of a button are seen when the bench reads the script's buttons (see _rig.button)."""
        if self._id in _rig.PINS:
            _rig.interrupts[self._id] = (self, handler, trigger)


class WDT:
    def __init__(self, id=0, timeout=5000):
        if id != 0:
            raise ValueError("WDT(%d) doesn't exist" % id)
        if timeout > _WDT_MAX_MS:
            raise ValueError("WDT timeout too long")
        _rig.start_watchdog(timeout)

    def feed(self):
        _rig.feed()


class _Memory:
    """``machine.mem32``: only the watchdog's control register is there (the firmware stops the watchdog
    through it); any other address is refused rather than pretended."""

    _WATCHDOG_CTRL = 0x40058000
    _ENABLE = 1 << 30

    def __getitem__(self, address):
        self._check(address)
        return self._ENABLE if _rig.watchdog_running() else 0

    def __setitem__(self, address, value):
        self._check(address)
        if not value & self._ENABLE:
            _rig.stop_watchdog()

    def _check(self, address):
        if address != self._WATCHDOG_CTRL:
            raise ValueError("the bench models no register at 0x%08x" % address)


mem32 = _Memory()


def reset():
    _rig.reset()


def soft_reset():
    _rig.reset()


def reset_cause():
    return _rig.reset_cause()


def freq(hz=None):
    return 125000000 if hz is None else None


def unique_id():
    return b"\xe6\x61\x4c\x31\x13\x25\x2a\x2f"
