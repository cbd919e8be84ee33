"""The badge as a player meets it: ``arcade build``, then ``arcade sim`` playing a script.

``arcade sim`` prints one line per e-ink refresh (``screen NAME (full): text | text``); the
helpers here read those lines back as the screens a player saw.
"""

import fcntl
import json
import pty
import re
import struct
import subprocess
import termios
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import ARCADE

SCREEN_LINE = re.compile(r"^screen (\S+) \((full|partial)\): (.*)$")
PLAY_DINO = """
wait menu
1 a
2 -
wait dino
30 a
33 -
wait result
60 a  # the result takes presses after a second
61 -
wait menu
exit
"""
"""A script: Dino from the menu, one jump, the result read and left, back at the menu."""


@dataclass
class Screen:
    name: str
    kind: str
    text: str
    """The texts drawn since the screen was last cleared, joined with " | "."""

    @property
    def said(self) -> str:
        """The texts as one phrase, whatever the line breaks."""
        return self.text.replace(" | ", " ")


def screens_in(output: str) -> list[Screen]:
    return [Screen(*match.groups()) for match in map(SCREEN_LINE.match, output.splitlines()) if match]


@dataclass
class Badge:
    """A simulated badge with its own flash folder, run by ``arcade sim``."""

    build: Path
    root: Path
    server: str
    heap: str = "96K"
    flash_free: int | None = None
    """Bytes left on a nearly full flash (``arcade sim --flash-free``); None: state/ is a folder here."""
    arcade: Path | None = None
    """The folder of the server's arcade (its arcade.toml and data): the badge trusts its badge keys, as
    `arcade deploy` run there makes it; None: no keys (no games over the air)."""
    ca: tuple[Path, ...] = ()
    """The certificates the badge checks https servers against (``arcade sim --ca``)."""
    lib: Path | None = None
    """``arcade sim --lib``: the fakes of Pimoroni's modules (tests/pimoroni) under the badge's real HAL."""
    battery: bool = False
    wifi: str = "joins"
    watchdog: bool = False
    clock: int | None = None
    """The badge's clock at boot (``arcade sim --clock``): unix seconds, 0 never set; None: this machine's."""
    log: list[str] = field(default_factory=list)

    def state(self, name: str):
        path = self.root / "state" / name
        return json.loads(path.read_text()) if path.exists() else None

    def queued(self) -> list[str]:
        folder = self.root / "state" / "queue"
        return sorted(path.name for path in folder.glob("*.json")) if folder.exists() else []

    def start(
        self, script: str, speed: int = 50, timeout: float = 90, screenshots: Path | None = None, latch: bool = True
    ) -> "Running":
        script_file = self.root.parent / f"{self.root.name}-script-{len(self.log)}.txt"
        script_file.write_text(script)
        arguments = [
            ARCADE,
            "sim",
            "--build",
            str(self.build),
            "--root",
            str(self.root),
            "--server",
            self.server,
            "--script",
            str(script_file),
            "--heap",
            self.heap,
            "--speed",
            str(speed),
            "--timeout",
            str(timeout),
        ]
        if screenshots:
            arguments += ["--screenshots", str(screenshots)]
        if not latch:
            arguments.append("--no-latch")
        if self.clock is not None:
            arguments += ["--clock", str(self.clock)]
        if self.flash_free is not None:
            arguments += ["--flash-free", str(self.flash_free)]
        if self.arcade is not None:
            arguments += ["--config", str(self.arcade / "arcade.toml"), "--data", str(self.arcade / "arcade-data")]
        for file in self.ca:
            arguments += ["--ca", str(file)]
        if self.lib is not None:
            arguments += ["--lib", str(self.lib), "--wifi", self.wifi]
            arguments += ["--battery"] * self.battery + ["--watchdog"] * self.watchdog
        process = subprocess.Popen(
            arguments, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=self.root.parent
        )
        return Running(self, process)

    def play(self, script: str, **options) -> "Finished":
        return self.start(script, **options).finish()


@dataclass
class Finished:
    returncode: int
    output: str

    @property
    def screens(self) -> list[Screen]:
        return screens_in(self.output)

    def names(self) -> list[str]:
        """The screens in the order they appeared, each run of refreshes of one screen once."""
        names = []
        for screen in self.screens:
            if not names or names[-1] != screen.name:
                names.append(screen.name)
        return names

    def first(self, name: str) -> Screen:
        return [screen for screen in self.screens if screen.name == name][0]

    def last(self, name: str) -> Screen:
        return [screen for screen in self.screens if screen.name == name][-1]


class Running:
    """A badge still running: read its screens as they come, then let it finish."""

    def __init__(self, badge: Badge, process: subprocess.Popen):
        self.badge = badge
        self.process = process
        self.lines: list[str] = []

    def wait_for(self, name: str) -> Screen:
        """Reads the badge's output until the screen ``name`` is refreshed (the sim's --timeout bounds it)."""
        for line in self.process.stdout:
            self.lines.append(line)
            match = SCREEN_LINE.match(line)
            if match and match.group(1) == name:
                return Screen(*match.groups())
        raise AssertionError(f"the badge stopped before showing {name!r}:\n{''.join(self.lines)}")

    def finish(self) -> Finished:
        output, _ = self.process.communicate(timeout=120)
        self.lines.append(output)
        result = Finished(self.process.returncode, "".join(self.lines))
        self.badge.log.append(result.output)
        return result


def pseudo_terminal(columns: int = 150, lines: int = 40) -> tuple[int, int]:
    """A new pseudo-terminal of this size, (its main end, the end ``arcade sim`` runs in): large
    enough for the panel unless told otherwise."""
    main, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
    return main, terminal


def logged_in_badge(build: Path, root: Path, server, token: str, **options) -> Badge:
    """A badge of ``server`` (anything with a ``url``) whose session holds ``token``, with no refresh
    token (the login itself is tested in test_firmware_login); ``options`` for :class:`Badge`."""
    (root / "state").mkdir(parents=True)
    session = {
        "access_token": token,
        "token_endpoint": f"{server.url}/oauth/token",
        "client_id": "badge",
        "name": "ada",
    }
    (root / "state" / "session.json").write_text(json.dumps(session))
    return Badge(build, root, server.url, **options)


def write_game(folder: Path, name: str, badge_source: str) -> dict:
    """A third-party game plugin, installed as its own distribution with an ``arcade`` entry point."""
    package = folder / name
    package.mkdir(parents=True)
    (package / "badge.py").write_text(textwrap.dedent(badge_source))
    (package / "__init__.py").write_text(
        textwrap.dedent(f"""
        from arcade.sdk.game import GameInfo

        def arcade_register_games(register):
            register(GameInfo(id="{name}", title="{name.title()}", version="0.1", package=__name__, sort_order=1))
        """)
    )
    info = folder / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[arcade]\n{name} = {name}\n")
    return {"PYTHONPATH": str(folder)}
