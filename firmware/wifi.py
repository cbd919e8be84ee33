"""Joining the Wi-Fi, drawn by the arcade and bounded: C gives up, and so does a silent access point.

Pimoroni's ``Badger2040.connect()`` draws its own "Connecting..." screen over the arcade's and
waits up to two minutes; the HAL only starts the join (``badge.connect()``) and answers how it
goes, and this loop decides how long to wait and what the player sees meanwhile.
"""

import time

from hal import BUTTON_C

TIMEOUT_MS = 8000
POLL_MS = 100


def join(badge, show):
    """Returns once the badge is on the Wi-Fi; raises OSError saying why it is not (C pressed, no
    answer in time, a refusal). ``show(text)`` draws the progress on the caller's screen, so the
    screen keeps what it says (a score) and the Wi-Fi status goes where the caller wants it."""
    if badge.isconnected():
        return
    badge.connect()
    show("Joining the Wi-Fi %s... C: cancel" % badge.wifi_name())
    started = badge.ticks_ms()
    held = badge.buttons()
    while not badge.isconnected():
        problem = badge.wifi_problem()
        if problem:
            badge.disconnect()
            raise OSError("Wi-Fi %s: %s" % (badge.wifi_name(), problem))
        now = badge.buttons()
        if now & ~held & BUTTON_C:
            badge.disconnect()
            raise OSError("Wi-Fi: cancelled")
        held = now
        if time.ticks_diff(badge.ticks_ms(), started) >= TIMEOUT_MS:
            badge.disconnect()
            raise OSError("Wi-Fi %s: no answer in %d s" % (badge.wifi_name(), TIMEOUT_MS // 1000))
        badge.sleep_ms(POLL_MS)
