"""MicroPython's ``time`` with its ticks running ARCADE_SIM_SPEED times faster, so the real HAL (which
reads ``time`` itself) sees the simulator's clock. Not one of Pimoroni's modules: the bench's."""

import os

import utime
from utime import gmtime, localtime, mktime, ticks_add, ticks_diff, time, time_ns  # noqa: F401

SPEED = int(os.getenv("ARCADE_SIM_SPEED") or "1")
_START_MS = utime.ticks_ms()
_START_US = utime.ticks_us()


def ticks_ms():
    return ticks_add(_START_MS, ticks_diff(utime.ticks_ms(), _START_MS) * SPEED)


def ticks_us():
    return ticks_add(_START_US, ticks_diff(utime.ticks_us(), _START_US) * SPEED)


def sleep_us(us):
    if us > 0:
        utime.sleep_us(us // SPEED)


def sleep_ms(ms):
    sleep_us(ms * 1000)


def sleep(seconds):
    sleep_us(int(seconds * 1000000))
