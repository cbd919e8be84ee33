"""MicroPython's ``time`` with the badge's sleeps run ARCADE_SIM_SPEED times faster, so the real HAL
(which reads ``time`` itself) sees the simulator's clock. Only sleeps are sped up (the panel's
refreshes and the waits between a game's ticks): the rest, a request to the real arcade above all,
takes its real time, as on a badge, so the firmware's 6 s request deadline is 6 real seconds at any
speed. Not one of Pimoroni's modules: the bench's."""

import os

import utime
from utime import gmtime, localtime, mktime, ticks_add, ticks_diff, time, time_ns  # noqa: F401

SPEED = int(os.getenv("ARCADE_SIM_SPEED") or "1")
_START_MS = utime.ticks_ms()
_START_US = utime.ticks_us()
_skipped_us = 0
"""What the sleeps so far did not sleep: the badge's clock is that far ahead of the host's."""


def ticks_ms():
    return ticks_add(_START_MS, ticks_diff(utime.ticks_ms(), _START_MS) + _skipped_us // 1000)


def ticks_us():
    return ticks_add(_START_US, ticks_diff(utime.ticks_us(), _START_US) + _skipped_us)


def sleep_us(us):
    global _skipped_us
    if us > 0:
        utime.sleep_us(us // SPEED)
        _skipped_us += us - us // SPEED


def sleep_ms(ms):
    sleep_us(ms * 1000)


def sleep(seconds):
    sleep_us(int(seconds * 1000000))
