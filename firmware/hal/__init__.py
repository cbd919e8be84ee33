"""The hardware abstraction: the only way the firmware reaches the screen, buttons, clock and Wi-Fi.

On a badge ``Badge`` wraps Pimoroni's ``badger2040`` module; on the unix port it is the
simulator. The button bits below are the arcade's own: games and recorded runs use them.
"""

WIDTH = 296
HEIGHT = 128

BUTTON_A = 1
BUTTON_B = 2
BUTTON_C = 4
BUTTON_UP = 8
BUTTON_DOWN = 16

UPDATE_NORMAL = 0
UPDATE_MEDIUM = 1
UPDATE_FAST = 2
UPDATE_TURBO = 3

BLACK = 0
WHITE = 15

CLOCK_SET = 1704067200
"""2024-01-01 in unix seconds: a clock before it was never set (the RP2040's starts in 2021)."""

try:
    import badger2040
except ImportError:  # not a badge: the unix port runs the simulator
    from hal.sim import Badge
else:
    del badger2040
    from hal.badger2040w import Badge
