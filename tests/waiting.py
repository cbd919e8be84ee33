"""Waiting for what a server does in the background (its log is written by a logging thread),
always with a deadline."""

import time


def until(condition, what: str, timeout: float = 15.0):
    """Poll ``condition`` until it answers something truthy, and answer that; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not (answer := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout} s waiting for {what}")
        time.sleep(0.02)
    return answer


def logged(server, text: str) -> str:
    """Wait until ``text`` is in the server's log; answer the log."""
    return until(lambda: text in server.log.read_text() and server.log.read_text(), f"{text!r} in {server.log}")
