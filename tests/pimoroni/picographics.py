"""A strict fake of Pimoroni's ``picographics`` for the Badger's e-ink panel (``DISPLAY_INKY_PACK``),
the methods Pimoroni's MicroPython has and their arguments, drawn by the simulator (firmware/hal/sim.py)
so each refresh is reported like the simulator's own. A method the real module lacks is an
``AttributeError``; a wrong argument a ``TypeError`` or ``ValueError``, as on the badge."""

import _rig

DISPLAY_INKY_PACK = 21
PEN_1BIT = 0
_FONTS = ("bitmap6", "bitmap8", "bitmap14_outline", "sans", "gothic", "cursive", "serif", "serif_italic")


class PicoGraphics:
    def __init__(self, display, rotate=-1, bus=None, buffer=None, pen_type=None, extra_pins=None, i2c_address=None):
        if display != DISPLAY_INKY_PACK:
            raise ValueError("the Badger 2040 W's panel is DISPLAY_INKY_PACK")
        self._panel = _rig.panel()
        self._font = "bitmap8"

    def get_bounds(self):
        return (296, 128)

    def set_pen(self, pen):
        if not isinstance(pen, int) or not 0 <= pen <= 15:
            raise ValueError("the panel's pens are 0 (black) to 15 (white), got %r" % (pen,))
        self._panel.set_pen(pen)

    def set_font(self, font):
        if font not in _FONTS:
            raise ValueError("unknown font %r" % (font,))
        self._font = font

    def set_thickness(self, thickness):
        pass

    def clear(self):
        self._panel.clear()

    def pixel(self, x, y):
        self._panel.pixel(_int(x), _int(y))

    def line(self, x1, y1, x2, y2, thickness=1):
        self._panel.line(_int(x1), _int(y1), _int(x2), _int(y2))

    def rectangle(self, x, y, w, h):
        self._panel.rectangle(_int(x), _int(y), _int(w), _int(h))

    def text(self, text, x, y, wordwrap=2147483647, scale=2.0, angle=0, spacing=1, fixed_width=False):
        if not isinstance(text, str):
            raise TypeError("can't convert %s to str" % type(text).__name__)
        self._panel.text(text, _int(x), _int(y), max(1, int(scale)))

    def measure_text(self, text, scale=2.0, spacing=1, fixed_width=False):
        if not isinstance(text, str):
            raise TypeError("can't convert %s to str" % type(text).__name__)
        return self._panel.measure_text(text, max(1, int(scale)))

    def set_update_speed(self, speed):
        if speed not in (0, 1, 2, 3):
            raise ValueError("update speed is 0 (normal) to 3 (turbo)")
        self._panel.set_update_speed(speed)

    def update(self):
        self._panel.update()

    def partial_update(self, x, y, w, h):
        self._panel.partial_update(_int(x), _int(y), _int(w), _int(h))


def _int(value):
    if not isinstance(value, int):
        raise TypeError("can't convert %s to int" % type(value).__name__)
    return value
