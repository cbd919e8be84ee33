"""The bench under the fakes of Pimoroni's modules (not one of them): the panel, the buttons and the
script are the simulator's (firmware/hal/sim.py), so ``arcade sim --lib tests/pimoroni`` reports
every refresh as ``arcade sim`` always does while the real ``hal/badger2040w.py`` drives the fakes.

The host (arcade/badge/sim.py) sets, through the environment: ARCADE_SIM_POWER (``usb`` or
``battery``), ARCADE_SIM_WIFI (what the access point does: ``joins``, ``silent``,
``wrong-password``, ``no-ap``), ARCADE_SIM_WAKE (the buttons, as the HAL's bits, that powered the
badge on), ARCADE_SIM_RESET_CAUSE and ARCADE_SIM_WATCHDOG=1 (a watchdog the host enforces).
"""

import os
import sys

import time

RESET_STATUS = 80
"""The exit status of a reset (machine.reset, the watchdog): the host boots the badge again."""
POWER_OFF_STATUS = 81
"""The exit status of a power-off on battery: the host boots the badge again when a button wakes it."""

PINS = {12: 1, 13: 2, 14: 4, 15: 8, 11: 16}
"""Pimoroni's button pins (badger2040.BUTTON_A...) and the HAL's button bits."""

_panel = None
interrupts = {}
"""Pin -> (pin, handler, trigger) set by machine.Pin.irq."""
_read = []
_mask = 0
_watchdog_ms = None
_fed = 0
_dispatching = False


def panel():
    """The simulator's badge, made once: it draws, reports refreshes and reads the script. Its own
    clock runs at 1: the fake ``time`` module is already sped up."""
    global _panel
    if _panel is None:
        os.putenv("ARCADE_SIM_SPEED", "1")
        from hal.sim import Badge

        _panel = Badge()
        _name_screens()
    return _panel


def _name_screens():
    """The real HAL's ``set_screen`` does nothing (Pimoroni's modules have no screen names); the
    bench's copy hands the name to the simulator, for ``wait NAME`` and the reports."""
    hal = sys.modules.get("hal.badger2040w")
    if hal:
        hal.Badge.set_screen = lambda badge, name: _panel.set_screen(name)


def button(pin):
    """Whether button ``pin`` is down. The five pins read one after another are one read of the
    script's buttons: a frame starts when a pin is read again."""
    global _mask, _dispatching
    if _dispatching:  # an interrupt handler reading its pin: the level that fired it, not a new read
        return bool(_mask & PINS[pin])
    if not _read or pin in _read:
        _read.clear()
        before, _mask = _mask, panel().buttons()
        _dispatching = True
        try:
            _interrupt(before, _mask)
        finally:
            _dispatching = False
    _read.append(pin)
    return bool(_mask & PINS[pin])


def _interrupt(before, now):
    for pin, (source, handler, trigger) in interrupts.items():
        bit = PINS[pin]
        rising, falling = now & ~before & bit, before & ~now & bit
        if handler and (rising and trigger & 8 or falling and trigger & 4):
            handler(source)


def woke_by():
    """The wakeup GPIO state: a bit per pin pressed to power the badge on."""
    wake = int(os.getenv("ARCADE_SIM_WAKE") or "0")
    return sum(1 << pin for pin, bit in PINS.items() if wake & bit)


def on_battery():
    return os.getenv("ARCADE_SIM_POWER") == "battery"


def access_point():
    return os.getenv("ARCADE_SIM_WIFI") or "joins"


def reset_cause():
    return int(os.getenv("ARCADE_SIM_RESET_CAUSE") or "1")


def power_off():
    print("@@power off")
    sys.exit(POWER_OFF_STATUS)


def reset():
    print("@@reset")
    sys.exit(RESET_STATUS)


def start_watchdog(timeout_ms):
    """Only when the host asked for one (ARCADE_SIM_WATCHDOG=1): it kills and boots again a badge
    that says nothing on stdout for the timeout in real time."""
    global _watchdog_ms, _fed
    if os.getenv("ARCADE_SIM_WATCHDOG") != "1":
        return
    _watchdog_ms = timeout_ms
    _fed = time.ticks_ms()
    print("@@watchdog %d" % max(1, timeout_ms // time.SPEED))


def watchdog_running():
    return bool(_watchdog_ms)


def stop_watchdog():
    global _watchdog_ms
    if _watchdog_ms:
        _watchdog_ms = None
        print("@@watchdog 0")


def feed():
    """Tells the host, a few times per timeout, that the watchdog was fed."""
    global _fed
    if _watchdog_ms and time.ticks_diff(time.ticks_ms(), _fed) >= _watchdog_ms // 4:
        _fed = time.ticks_ms()
        print("@@feed")
