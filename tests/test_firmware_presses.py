"""Presses are never lost: taps of real length at real times, on the simulated badge under the real
MicroPython unix port (96 KB heap), against the panel's real refresh times.

A game reads the buttons only between blocking refreshes (250 ms each in turbo). The scripts here
press at given times on the badge's clock for given lengths, however often the firmware reads,
so a tap that starts and ends during a refresh reaches the game only through the latch
(firmware/hal/presses.py); ``--no-latch`` reads the buttons as the firmware did before.
"""

import json
import os
import select
import subprocess
import time

from PIL import Image

from arcade.badge.build import find_program
from tests.conftest import ARCADE
from tests.simulator import Badge, pseudo_terminal

NO_SERVER = "http://127.0.0.1:9"
TAPS_AT = (1030, 2080, 3130, 4180)
"""Milliseconds after the game's first screen is shown: 30 ms into ticks 21, 42, 63 and 84
(50 ms each), inside the refreshes of the ticks 21-25, 41-45... and ended before they end."""

INTERRUPTS = """
import micropython, time
from hal.presses import Latch, watch

class Pin:  # as machine.Pin: value(), and irq() with the keywords rp2's takes
    def __init__(self):
        self.level = 0
    def value(self):
        return self.level
    def irq(self, handler=None, trigger=0, hard=False):
        self.handler, self.trigger, self.hard = handler, trigger, hard

pins = [Pin() for _ in range(5)]
latch = Latch()
watch(latch, pins, 3)
print("hard", all(pin.hard and pin.trigger == 3 for pin in pins))

def edge(button, level):
    pins[button].level = level
    micropython.heap_lock()  # as in a hard interrupt: any allocation raises MemoryError
    try:
        pins[button].handler(pins[button])
    finally:
        micropython.heap_unlock()

edge(0, 1); edge(0, 0); edge(0, 1); edge(0, 0)  # a tap of A, its contact bouncing
time.sleep_ms(80)
edge(4, 1); edge(4, 0)  # then DOWN
print("taps", latch.read(0), latch.read(0), latch.read(0))
time.sleep_ms(30)
edge(1, 1)  # B goes down and stays
before = time.ticks_add(time.ticks_ms(), -10)
print("held", latch.read(2, before), latch.read(2), latch.read(2))
"""

TAPPING_RUN = """
wait menu
pause 100
press a 60
speed 1  # before the game starts: at 50, a host that stalls 1 ms before its first tick shifts its ticks by one
wait dino
pause 1030
press a 60
pause 990
press a 60
pause 990
press a 60
pause 990
press a 60
speed 50
wait result
exit
"""


def recorded_inputs(badge: Badge) -> list[list[int]]:
    [queued] = badge.queued()
    return json.loads((badge.root / "state" / "queue" / queued).read_text())["run"]["inputs"]


def runner_in_the_air(shot) -> bool:
    """No ink where the runner stands on the ground (x 24..39, the 8 rows above the ground line)."""
    image = Image.open(shot)
    return all(image.getpixel((x, y)) for x in range(24, 40) for y in range(104, 112))


def test_the_interrupt_handler_latches_each_tap_once_and_allocates_nothing(badge_build, tmp_path):
    """The hard IRQ handler of firmware/hal/presses.py (the build's .mpy) with the heap locked, as the
    RP2040 runs it: A's bounces are one tap; A then DOWN come out one a read, in order; B held after
    a tick reads up for that tick."""
    script = tmp_path / "interrupts.py"
    script.write_text(INTERRUPTS)
    run = subprocess.run(
        [find_program("micropython"), "-X", "heapsize=96K", str(script)],
        env={**os.environ, "MICROPYPATH": str(badge_build)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert run.returncode == 0, run.stderr + run.stdout
    assert run.stdout.split("\n")[:3] == ["hard True", "taps 1 16 0", "held 0 2 2"]


def test_taps_during_refreshes_reach_the_game_at_the_tick_they_fell_in(badge_build, tmp_path):
    badge = Badge(badge_build, tmp_path / "flash", NO_SERVER)
    shots = tmp_path / "shots"

    result = badge.play(TAPPING_RUN, screenshots=shots)

    assert result.returncode == 0, result.output
    assert result.names() == ["menu", "dino", "result"]
    # each tap is a jump, on the tick it fell in, not held to the first tick after a refresh: the taps,
    # 21 ticks apart, fall each at another point of the 5-tick refresh (21 is 1 more than 20), and land
    # 21 ticks apart, one tick each. The first is tick 21, or one either side: a host that stalls the
    # badge's process for 30 ms as the game starts shifts every tick (a loaded CI run saw 20)
    inputs = recorded_inputs(badge)
    assert inputs[0][0] in (20, 21, 22), inputs
    assert inputs == [[inputs[0][0] + 21 * tap + up, 1 - up] for tap in range(len(TAPS_AT)) for up in (0, 1)]
    # and the panel shows each: a jump is 19 ticks, about four turbo refreshes, two or three of them high
    assert sum(runner_in_the_air(shot) for shot in shots.glob("*-dino.png")) >= 2 * len(TAPS_AT)


def test_without_the_latch_the_same_taps_are_lost(badge_build, tmp_path):
    """The test above fails when taps are lost: the firmware before the latch saw only what was held
    when it read the buttons, between refreshes, and these taps end before the refresh does."""
    badge = Badge(badge_build, tmp_path / "flash", NO_SERVER)

    result = badge.play(TAPPING_RUN, latch=False)

    assert result.returncode == 0, result.output
    assert len(recorded_inputs(badge)) < 2 * len(TAPS_AT), "a tap inside a refresh reached the game unlatched"


def test_a_tap_during_the_menus_refresh_moves_the_choice(badge_build, tmp_path):
    """A press while a screen is still being refreshed counts on that screen; two taps of DOWN
    inside one turbo refresh of the list are two moves, the second taken after the first."""
    badge = Badge(badge_build, tmp_path / "flash", NO_SERVER)

    result = badge.play(
        "speed 1\nwait menu\npress down 60\npause 40\npress down 60\npause 40\npress b 60\nwait account\nexit\n"
    )

    assert result.returncode == 0, result.output
    assert [screen.kind for screen in result.screens] == ["full", "partial", "partial", "full"]
    assert result.names() == ["menu", "account"]


def test_keys_typed_five_times_a_second_are_each_one_press(badge_build, tmp_path):
    """At the terminal: ten DOWNs typed 200 ms apart, faster than the menu redraws its list (a turbo
    refresh each), all move the choice; then B opens the account screen."""
    main, terminal = pseudo_terminal()
    command = [ARCADE, "sim", "--build", str(badge_build), "--root", str(tmp_path / "flash"), "--server", NO_SERVER]
    process = subprocess.Popen(
        command + ["--timeout", "90"], stdin=terminal, stdout=terminal, stderr=terminal, cwd=tmp_path
    )
    os.close(terminal)
    seen = b""

    def read_until(text: str, count: int = 1) -> None:
        nonlocal seen
        while seen.count(text.encode()) < count:
            ready, _, _ = select.select([main], [], [], 60)
            assert ready, f"{count} of {text!r} not on the terminal:\n{seen.decode(errors='replace')[-3000:]}"
            seen += os.read(main, 65536)

    try:
        read_until("screen menu (full)")
        for _ in range(10):
            os.write(main, b"d")
            time.sleep(0.2)
        os.write(main, b"b")
        read_until("screen account (full)")
        os.write(main, b"q")
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(main)
    assert seen.count(b"screen menu (partial)") == 10
