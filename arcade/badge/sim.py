"""``arcade sim``: the badge build run by the real MicroPython unix port, with the simulated
HAL (firmware/hal/sim.py) drawing into a framebuf.

This side prepares the simulated flash (the build, ``config.json`` and the badge's
``state/`` kept between runs), starts ``micropython``, and turns the ``@@update`` lines it
prints into the e-ink screen drawn in the terminal with braille dots, PNG screenshots and
a log. Keys a, b, c and the arrows are the buttons; ``--script`` plays button presses
of given lengths at given times on the badge's clock instead (see docs/badge.md for the format).
"""

import base64
import json
import os
import shutil
import struct
import subprocess
import sys
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from arcade.badge.build import find_program, read_manifest
from arcade.badge.deploy import badge_config
from arcade.sdk.errors import ArcadeError

WIDTH = 296
HEIGHT = 128
BUTTONS = {"a": 1, "b": 2, "c": 4, "up": 8, "down": 16}
ARROW_UP = "\x1b[A"
ARROW_DOWN = "\x1b[B"
UPDATE_PREFIX = "@@update "
HEAP_PREFIX = "@@heap "
"""The live heap with a TLS connection's share held (firmware/hal/simtls.py), on the screen shown."""
TERMINAL_SIZE = (WIDTH // 2, HEIGHT // 4 + 1)
"""Columns and lines the panel takes in braille, 2 by 4 pixels a character, and the line of its texts."""
WATCHDOG_PREFIX = "@@watchdog "
"""The badge started its watchdog (tests/pimoroni): fed by ``@@feed`` lines within this many real ms."""
RESET_STATUS = 80
POWER_OFF_STATUS = 81
"""The exit statuses of the fakes' ``machine.reset()`` and of a power-off on battery (tests/pimoroni/_rig.py)."""
WDT_RESET = 3
HUNG_UP_STATUS = 129
"""The exit status when the terminal was closed (128 + SIGHUP, as the shell reports a hang-up)."""
GRACE_S = 5
"""How long after --timeout the simulator may take to end: past it, it exits as it is (its output may be
stuck in a terminal nobody reads)."""


class SimError(ArcadeError):
    """The simulator cannot start; the message says what to fix."""


def parse_script(text: str, name: str = "script") -> list[str]:
    """Checks a script and answers its steps in the form the simulated HAL reads.

    One step a line, ``#`` starts a comment: ``wait SCREEN``, ``press BUTTONS MS``, ``pause MS``,
    ``FRAME BUTTONS`` (buttons joined with ``+``, or ``-`` for none), ``speed N``, ``exit``, and
    ``boot`` or ``boot BUTTONS``: the badge restarts here (a reset, the watchdog, or a power-off woken
    by BUTTONS) and the steps below play on its next boot.
    """
    steps = []
    frame = 0
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        where = f"{name} line {number}"
        if words[0] == "wait" and len(words) == 2:
            steps.append(f"wait {words[1]}")
            frame = 0
        elif words[0] == "speed" and len(words) == 2 and _number(words[1]) and int(words[1]) > 0:
            steps.append(f"speed {words[1]}")
        elif words[0] == "press" and len(words) == 3 and _number(words[2]) and int(words[2]) > 0:
            steps.append(f"press {_mask(words[1], where)} {int(words[2])}")
        elif words[0] == "pause" and len(words) == 2 and _number(words[1]):
            steps.append(f"pause {int(words[1])}")
        elif words == ["exit"]:
            steps.append("exit")
        elif words[0] == "boot" and len(words) <= 2:
            steps.append(f"boot {_mask(words[1], where) if len(words) == 2 else 0}")
            frame = 0
        elif len(words) == 2 and _number(words[0]):
            if int(words[0]) < frame:
                raise SimError(f"{where}: frame {words[0]} comes before frame {frame}; frames only go forward")
            frame = int(words[0])
            steps.append(f"{frame} {_mask(words[1], where)}")
        else:
            raise SimError(
                f"{where}: cannot read {line.strip()!r}; steps are 'wait SCREEN', 'press BUTTONS MS' "
                f"(like 'press a+up 60': held 60 ms), 'pause MS', 'FRAME BUTTONS' (like '12 a+up' or '14 -'), "
                f"'speed N', 'boot [BUTTONS]' or 'exit'"
            )
    return steps


def _number(word: str) -> bool:
    """ASCII digits only: ``str.isdigit`` takes ``²``, which ``int`` refuses, and ``١٢``, which the
    badge's MicroPython cannot read."""
    return word.isascii() and word.isdigit()


def _mask(buttons: str, where: str) -> int:
    if buttons == "-":
        return 0
    mask = 0
    for button in buttons.split("+"):
        if button not in BUTTONS:
            raise SimError(f"{where}: unknown button {button!r}; use {', '.join(BUTTONS)} joined with +, or -")
        mask |= BUTTONS[button]
    return mask


@dataclass
class Simulator:
    build: Path
    root: Path
    server: str
    heap: str = "166K"
    speed: int = 1
    script: list[str] | None = None
    screenshots: Path | None = None
    timeout: float | None = None
    terminal: bool = False
    """Draw the panel in this terminal and read its keys; the terminal must be :data:`TERMINAL_SIZE` or larger."""
    flash_free: int | None = None
    """Bytes left on a nearly full flash: state/ then lives on littlefs (firmware/hal/simflash.py)."""
    latch: bool = True
    """False: the buttons are read as before presses were latched (firmware/hal/presses.py), only what is
    held at each read, to see what a badge without the latch loses."""
    games_keys: list[dict] = field(default_factory=list)
    """The public badge keys the badge trusts for games over the air, as ``arcade deploy`` writes them."""
    trusted: bytes = b""
    """DER certificates for the badge's ca.der (arcade.badge.trust); none: no ca.der."""
    lib: Path | None = None
    """Modules first on the MicroPython path: the fakes of Pimoroni's (tests/pimoroni) run the real HAL."""
    battery: bool = False
    wifi: str = "joins"
    watchdog: bool = False
    clock: int | None = None
    """The badge's RTC at boot, unix seconds (0: never set, as after its battery ran flat); None: this machine's."""
    peaks: dict[str, int] = field(default_factory=dict)
    updates: int = 0
    shown: str = ""
    panel: bytearray = field(default_factory=lambda: bytearray(WIDTH * HEIGHT // 8))
    """What the e-ink panel shows: the badge sends the rows each refresh changes."""

    def prepare(self) -> None:
        """Lays the build onto the simulated flash, keeping the badge's state/ from earlier runs."""
        manifest = read_manifest(self.build)
        self.root.mkdir(parents=True, exist_ok=True)
        for path in [entry.path for entry in manifest.files] + ["manifest.json"]:
            target = self.root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.build / path, target)
        config = badge_config(self.server, self.games_keys, time.time())  # each run a deploy: the build laid again
        (self.root / "config.json").write_text(json.dumps(config) + "\n")
        trusted = self.root / "ca.der"
        if self.trusted:
            trusted.write_bytes(self.trusted)
        else:
            trusted.unlink(missing_ok=True)
        if self.screenshots:
            self.screenshots.mkdir(parents=True, exist_ok=True)

    def run(self) -> int:
        """Runs the badge until it exits (script ``exit``, q, or Ctrl-C); answers its exit status, 0
        after q. A reset or a power-off followed by a ``boot`` step of the script boots it again."""
        self.prepare()
        if self.terminal:
            _check_size(os.get_terminal_size(sys.stdout.fileno()))
        elif self.script is None and self.timeout is None:
            raise SimError(
                f"standard {'input' if not sys.stdin.isatty() else 'output'} is not a terminal, so no key can press "
                "the badge's buttons and its screen cannot be drawn: run arcade sim in a terminal, or give it "
                "--script FILE (or --timeout SECONDS, to stop a badge nobody plays)"
            )
        boots = [[]]
        for step in self.script or []:
            if step.startswith("boot "):
                boots.append([step])
            else:
                boots[-1].append(step)
        self._timed_out = self._hung_up = False
        self._keys = None
        timer = threading.Timer(self.timeout, self._time_out) if self.timeout else None
        if timer:
            timer.daemon = True
            timer.start()
        try:
            wake = 0
            reset_cause = 1
            for number, steps in enumerate(boots):
                if steps and steps[0].startswith("boot "):
                    wake = int(steps.pop(0).split()[1])
                status, watchdog = self._boot(steps, wake, reset_cause)
                if self._hung_up:
                    return HUNG_UP_STATUS  # nothing more can be shown: the terminal is gone
                restarts = watchdog or status in (RESET_STATUS, POWER_OFF_STATUS)
                if self._timed_out or not restarts or number == len(boots) - 1:
                    break
                reset_cause = WDT_RESET if watchdog else 1
                print(f"arcade sim: the badge {'was reset by its watchdog' if watchdog else 'restarts'}", flush=True)
        except KeyboardInterrupt:
            self._child.terminate()
            status = self._child.wait()
        finally:
            if timer:
                timer.cancel()
        self._report()
        return status

    def _boot(self, steps: list[str], wake: int, reset_cause: int) -> tuple[int, bool]:
        """One power-on of the badge, to its exit: (exit status, whether the watchdog ended it)."""
        micropython = find_program("micropython")
        env = {
            **os.environ,
            "MICROPYPATH": f"{self.lib}:.frozen" if self.lib else ".frozen",
            "ARCADE_SIM_SPEED": str(self.speed),
            "ARCADE_SIM_SCRIPT": "\n".join(steps),
            "ARCADE_SIM_PANEL": "1" if self.terminal or self.screenshots else "0",
            "ARCADE_SIM_POWER": "battery" if self.battery else "usb",
            "ARCADE_SIM_WIFI": self.wifi,
            "ARCADE_SIM_WAKE": str(wake),
            "ARCADE_SIM_RESET_CAUSE": str(reset_cause),
            "ARCADE_SIM_WATCHDOG": "1" if self.watchdog else "0",
            "ARCADE_SIM_LATCH": "1" if self.latch else "0",
            "ARCADE_SIM_CLOCK": str(int(time.time()) if self.clock is None else self.clock),
        }
        if self.flash_free is not None:
            env["ARCADE_SIM_FLASH_FREE"] = str(self.flash_free)
        child = self._child = subprocess.Popen(
            [micropython, "-X", f"heapsize={self.heap}", "main.py"],
            cwd=self.root,
            env=env,
            stdin=subprocess.PIPE if self.terminal else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        dog = _Watchdog(child)
        keys = self._keys = _Keyboard(child, self._hang_up) if self.terminal else None
        try:
            for line in child.stdout:
                if line.startswith(HEAP_PREFIX) and line[len(HEAP_PREFIX) :].strip().isdigit():
                    self._peak(self.shown, int(line[len(HEAP_PREFIX) :]))
                elif line.startswith(WATCHDOG_PREFIX) and line[len(WATCHDOG_PREFIX) :].strip().isdigit():
                    dog.start(int(line[len(WATCHDOG_PREFIX) :]) / 1000)
                elif line.startswith("@@feed"):
                    dog.feed()
                elif not (line.startswith(UPDATE_PREFIX) and self._read_update(line)):
                    print(line, end="", flush=True)
        except OSError:  # EIO: the terminal it draws in was closed
            if not self.terminal:
                raise
            self._hang_up()
        finally:
            if child.poll() is None:  # the badge never outlives its simulator
                child.kill()
            status = child.wait()
            if keys:
                keys.close()
        if keys and keys.quit:  # the player stopped the badge: a normal end
            status = 0
        return status, dog.stop()

    def _read_update(self, line: str) -> bool:
        """Shows one refresh; False for a line cut short (the badge ran out of memory writing it)."""
        report, _, rows = line[len(UPDATE_PREFIX) :].rstrip("\n").partition("\t")
        try:
            self._update(json.loads(report), base64.b64decode(rows, validate=True) if rows else None)
        except ValueError:
            return False
        return True

    def _update(self, report: dict, rows: bytes | None) -> None:
        self.updates += 1
        screen = self.shown = report["screen"]
        self._peak(screen, report["heap"])
        if rows is not None:
            start = report["y"] * WIDTH // 8
            self.panel[start : start + len(rows)] = rows
            if self.screenshots:
                (self.screenshots / f"{self.updates:04d}-{screen}.png").write_bytes(png(self.panel))
            if self.terminal:
                sys.stdout.write("\x1b[H\x1b[2J" + braille(self.panel) + "\n")
        texts = " | ".join(report["texts"])
        print(f"screen {screen} ({report['kind']}): {texts}", flush=True)

    def _peak(self, screen: str, heap: int) -> None:
        self.peaks[screen] = max(self.peaks.get(screen, 0), heap)

    def _time_out(self) -> None:
        """Ends the badge, then this process within :data:`GRACE_S` whatever its threads wait for (a
        write to a terminal nobody reads blocks until it is read)."""
        self._timed_out = True
        self._child.kill()
        threading.Thread(target=self._exit_after_grace, daemon=True).start()
        try:
            print(f"arcade sim: stopped after {self.timeout:g} s (--timeout)", file=sys.stderr, flush=True)
        except OSError:  # the terminal is closed
            pass

    def _exit_after_grace(self) -> None:
        time.sleep(GRACE_S)
        if self._keys:
            self._keys.close()
        os._exit(self._child.wait() & 0xFF)

    def _hang_up(self) -> None:
        """The terminal was closed: the badge ends, and so does the simulator."""
        self._hung_up = True
        self._child.kill()

    def _report(self) -> None:
        if self.peaks:
            peaks = ", ".join(f"{screen} {heap / 1024:.1f} KB" for screen, heap in self.peaks.items())
            print(f"live heap (peak per screen, TLS included, -X heapsize={self.heap}): {peaks}", flush=True)


def _check_size(size: os.terminal_size) -> None:
    columns, lines = TERMINAL_SIZE
    if size.columns < columns or size.lines < lines:
        raise SimError(
            f"the terminal is {size.columns}x{size.lines} characters and the badge's screen needs {columns}x{lines}: "
            "make the window larger or its font smaller, or save the screens with --screenshots DIR and play a "
            "--script FILE"
        )


class _Watchdog:
    """The badge's watchdog, outside the badge as the RP2040's is: a badge that has not fed it within
    its timeout (real time: the badge's clock already runs ``--speed`` times faster) is killed."""

    def __init__(self, child: subprocess.Popen):
        self._child = child
        self._timer: threading.Timer | None = None
        self._timeout = 0.0
        self.fired = False

    def start(self, timeout: float) -> None:
        """Starts it, or stops it for a timeout of 0 (the firmware stopped it for the REPL)."""
        self._timeout = timeout
        if timeout:
            self.feed()
        elif self._timer:
            self._timer.cancel()

    def feed(self) -> None:
        if self._timer:
            self._timer.cancel()
        self._timer = threading.Timer(self._timeout, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        self._child.kill()

    def stop(self) -> bool:
        """Whether it fired."""
        if self._timer:
            self._timer.cancel()
        return self.fired


class _Keyboard:
    """Sends key presses from the terminal to the badge; q quits; ``hang_up`` is called when the
    terminal is closed (its end of file)."""

    def __init__(self, child: subprocess.Popen, hang_up):
        import termios
        import tty

        self.quit = False
        self._child = child
        self._hang_up = hang_up
        self._saved = termios.tcgetattr(sys.stdin)
        tty.setcbreak(sys.stdin)
        threading.Thread(target=self._forward, daemon=True).start()

    def _forward(self) -> None:
        while self._child.poll() is None:
            try:
                typed = os.read(sys.stdin.fileno(), 16).decode(errors="ignore")
            except OSError:  # EIO: the terminal was closed
                typed = ""
            if not typed:
                self._hang_up()
                return
            if "q" in typed:
                self.quit = True
                self._child.terminate()
                return
            keys = "".join(key for key in typed.replace(ARROW_UP, "u").replace(ARROW_DOWN, "d") if key in "abcud")
            try:
                self._child.stdin.write(keys)
                self._child.stdin.flush()
            except (BrokenPipeError, ValueError):
                return

    def close(self) -> None:
        """Gives the terminal back as it was, at once: waiting for the output to drain would wait forever
        on a terminal nobody reads."""
        import termios

        try:
            termios.tcsetattr(sys.stdin, termios.TCSANOW, self._saved)
        except termios.error:  # the terminal is closed
            pass


def png(panel: bytes) -> bytes:
    """A 1-bit PNG of the panel (its bytes are rows of pixels, most significant bit first, 1 = ink)."""
    row = WIDTH // 8
    raw = b"".join(b"\x00" + bytes(255 - byte for byte in panel[y * row : (y + 1) * row]) for y in range(HEIGHT))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", WIDTH, HEIGHT, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


_DOTS = ((0, 0, 0x01), (0, 1, 0x02), (0, 2, 0x04), (1, 0, 0x08), (1, 1, 0x10), (1, 2, 0x20), (0, 3, 0x40), (1, 3, 0x80))


def braille(panel: bytes) -> str:
    """The panel as braille characters, 2 by 4 pixels each: 148 columns, 32 lines."""

    def ink(x: int, y: int) -> bool:
        return bool(panel[y * (WIDTH // 8) + x // 8] & (0x80 >> (x % 8)))

    lines = []
    for y in range(0, HEIGHT, 4):
        cells = []
        for x in range(0, WIDTH, 2):
            bits = sum(bit for dx, dy, bit in _DOTS if ink(x + dx, y + dy))
            cells.append(chr(0x2800 + bits))
        lines.append("".join(cells))
    return "\n".join(lines)
