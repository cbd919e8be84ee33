"""Badge Arcade: runs the launcher, and stops relaunching it when it keeps crashing."""

import sys

from hal import BLACK, BUTTON_A, WHITE, Badge

MAX_CRASHES = 3


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


def main():
    badge = Badge()
    crashes = 0
    while True:
        try:
            import launcher

            launcher.run(badge)
        except Exception as error:  # keep the badge usable whatever broke
            sys.print_exception(error)
            crashes += 1
            show_crash(badge, error, crashes)
            sys.modules.pop("launcher", None)
            if crashes >= MAX_CRASHES:
                while not badge.buttons() & BUTTON_A:
                    badge.sleep_ms(50)
                crashes = 0


main()
