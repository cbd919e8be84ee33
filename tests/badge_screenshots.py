"""The badge's screenshots in docs/ (badge-menu.png, badge-login.png, badge-get-games.png), taken from
the simulator as a player meets the screens: a real `arcade serve` on port 8000 (as `make run` starts
it; another free port when it is taken), the build of this checkout under the MicroPython unix port.

    .venv/bin/python -m tests.badge_screenshots [FOLDER]     # FOLDER: docs/ by default
"""

import shutil
import socket
import sys
import tempfile
from pathlib import Path

import httpx

from tests.conftest import FIXTURES, ROOT, RunningServer, free_port, install, on_path, run_arcade, write_config
from tests.simulator import Badge, logged_in_badge

MENU = "wait menu\n1 a\n2 -\nwait dino\nwait result\n1 a\n2 -\nwait menu\nexit\n"
"""Dino once (the runner never jumps), for a best on the menu, then the menu."""
LOGIN = "wait menu\n1 b\n2 -\nwait account\n1 a\n2 -\nwait login\nexit\n"
GET_GAMES = "wait menu\n1 down\n2 -\n3 down\n4 -\n5 down\n6 -\n7 a\n8 -\nwait get-games\nexit\n"
"""Down to the last row, Get games: the server's Balloon is a game the build lacks."""


def port() -> int:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", 8000))
        except OSError:
            return free_port()
    return 8000


def last_shot(badge: Badge, script: str, shots: Path, screen: str) -> Path:
    result = badge.play(script, screenshots=shots)
    assert result.returncode == 0, result.output
    return max(shots.glob(f"*-{screen}.png"))


def main(out: Path) -> None:
    with tempfile.TemporaryDirectory() as base:
        base = Path(base)
        games = base / "site-packages"
        install(FIXTURES / "arcade-game-balloon", games)
        build = base / "badge"
        built = run_arcade("build", "--out", str(build), cwd=ROOT)
        assert built.returncode == 0, built.stderr
        server = RunningServer(folder=base / "site", port=port(), env=on_path({}, games))
        write_config(server.folder, server.url, "")
        server.start()
        try:
            assert httpx.get(f"{server.url}/api/v1/badge", timeout=60).json()["catalog"] is not None  # its badge key
            ada = logged_in_badge(build, base / "ada", server, server.token("ada"), arcade=server.folder)
            shots = {
                "badge-menu.png": last_shot(ada, MENU, base / "menu", "menu"),
                "badge-get-games.png": last_shot(ada, GET_GAMES, base / "get-games", "get-games"),
                "badge-login.png": last_shot(Badge(build, base / "new", server.url), LOGIN, base / "login", "login"),
            }
        finally:
            server.stop()
        for name, shot in shots.items():
            shutil.copyfile(shot, out / name)
            print(f"{out / name}  from the screen {shot.name}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "docs"))
