"""Badge Arcade: runs the launcher and the apps it hands over to, and stops relaunching it when it
keeps crashing.

An app is a module whose ``run(badge, session, *arguments)`` answers the next app as
``(module, *arguments)``; the launcher answers the one the player chose (online.py: a run's result
and its upload, sending what waits, logging out; login.py; getgames.py), which answers the
launcher again with where to come back, or another app (the login, then the sending). Each runs
with the one before forgotten, as badger_os runs its apps: a TLS connection takes some 34 KB of
the heap while it is open, and the menu's code would take another 14 KB beside it.
Only the modules that hold what must outlive an app stay loaded (RESIDENT).

The crashes are counted on flash (state/crashes.json), so a crash that ends in a reset (the
watchdog, the reset button, a flat battery) still counts; the launcher clears the count once it
runs. The watchdog resets a badge that hangs (a server or a DNS that never answers).
"""

import gc
import sys

import storage
from hal import BLACK, BUTTON_A, WHITE, Badge

MAX_CRASHES = 3
WATCHDOG_MS = 8000  # the RP2040's longest is 8388
CRASH_RESERVE = 2048
"""Bytes held while an app is imported, then freed to count and show a crash: the names of the
modules it loaded stay interned on the heap, so a crash that exhausted it leaves too little."""
RESIDENT = ("net", "session", "scores")
"""Kept from app to app: the login's tokens and their freshness (the session, and net's TLS
context), the runs waiting in memory on a full flash (scores)."""
BOOT = ("launcher", None)


def show_crash(badge, error, crashes):
    badge.set_screen("launcher-stopped" if crashes >= MAX_CRASHES else "launcher-crashed")
    badge.set_pen(WHITE)
    badge.clear()
    badge.set_pen(BLACK)
    badge.text("Badge Arcade crashed (%d of %d)" % (crashes, MAX_CRASHES), 4, 4)
    badge.text("%s: %s" % (type(error).__name__, error), 4, 24)
    if crashes >= MAX_CRASHES:
        badge.text("Stopped. Press A to try again.", 4, 44)
    badge.update()


def count_crash(crashes):
    """The crashes in a row, this one included: ``crashes`` seen since boot or the count on flash,
    where it is kept (in memory only if the flash is full)."""
    saved = storage.read_json(storage.CRASHES, 0)
    crashes = min(MAX_CRASHES, max(crashes, saved if isinstance(saved, int) else 0) + 1)
    try:
        storage.make_dirs(storage.STATE)
        storage.write_json(storage.CRASHES, crashes)
    except OSError as error:
        print("main: %s" % error)
    return crashes


def forget_modules(kept):
    """Drop the modules imported since boot but ``kept`` and collect them: the app that ended, so
    the next has its heap; all of them after a crash, so that one from an exhausted heap still
    leaves the memory to count it and to say so."""
    for name in [name for name in sys.modules if name not in kept]:
        del sys.modules[name]
    gc.collect()


def main():
    badge = Badge()
    badge.start_watchdog(WATCHDOG_MS)
    try:
        relaunch(badge)
    except KeyboardInterrupt:  # mpremote (arcade deploy) wants the REPL, which feeds no watchdog
        badge.stop_watchdog()
        raise


def relaunch(badge):
    crashes = 0
    kept = set(sys.modules)
    reserve = []
    session = None
    app = BOOT
    while True:
        try:
            reserve.append(bytearray(CRASH_RESERVE))
            if session is None:
                import net
                from session import Session

                net.feed_watchdog = badge.feed_watchdog  # each request's deadline has the watchdog's time
                session = Session(badge)
            module = __import__(app[0])
            reserve.clear()
            app = module.run(badge, session, *app[1:])
            module = None
            forget_modules(kept.union(RESIDENT))
        except Exception as error:  # keep the badge usable whatever broke
            reserve.clear()
            module = session = None
            forget_modules(kept)
            sys.print_exception(error)
            crashes = count_crash(crashes)
            show_crash(badge, error, crashes)
            app = BOOT
            if crashes >= MAX_CRASHES:
                while not badge.buttons() & BUTTON_A:
                    badge.sleep_ms(50)
                storage.remove(storage.CRASHES)
                crashes = 0


main()
