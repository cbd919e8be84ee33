"""`arcade new-game NAME` makes a game that, once pip-installed, is everywhere with no other
change: its own tests pass, `arcade plugins` lists it, the server gives it a leaderboard,
`arcade build` puts it on the badge menu, and a run played on the badge ranks."""

import json
import os
import subprocess
import sys

import httpx
import pytest

from tests.conftest import install, on_path, run_arcade
from tests.test_firmware_scores import logged_in_badge
from tests.test_third_party_game import build_with, play_from_menu


@pytest.fixture(scope="module")
def whack(tmp_path_factory) -> dict:
    """The game 'whack' made by `arcade new-game` and installed: answers the folder and env."""
    base = tmp_path_factory.mktemp("new-game")
    made = run_arcade("new-game", "whack", cwd=base)
    assert made.returncode == 0, made.stderr
    folder = base / "arcade-game-whack"
    install(folder, base / "site-packages")
    return {"folder": folder, "made": made.stdout, "env": on_path({}, base / "site-packages")}


def test_it_writes_a_distribution_and_says_what_to_do_next(whack):
    folder = whack["folder"]
    for part in ["pyproject.toml", "whack/__init__.py", "whack/badge.py", "tests/test_whack.py"]:
        assert (folder / part).is_file(), part
    assert 'whack = "whack"' in (folder / "pyproject.toml").read_text()  # its entry point
    assert "pip install -e arcade-game-whack" in whack["made"] and "arcade sim" in whack["made"]


def test_its_own_tests_pass(whack):
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=whack["folder"], env={**os.environ, **whack["env"]}, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout


def test_it_is_a_plugin_with_a_leaderboard(whack, make_server, tmp_path):
    listing = json.loads(run_arcade("plugins", "--json", cwd=tmp_path, env=whack["env"]).stdout)
    assert "whack" in listing["games"]
    assert {
        "name": "whack", "distribution": "arcade-game-whack", "version": "0.1.0", "status": "loaded", "reason": None,
        "hooks": ["arcade_register_games"],
    } in listing["plugins"]
    server = make_server(env=whack["env"])
    assert {"id": "whack", "title": "Whack", "version": "0.1.0", "order": "higher", "unit": "hits"} in (
        httpx.get(f"{server.url}/api/v1/badge").json()["games"]
    )
    assert httpx.get(f"{server.url}/games/whack").status_code == 200


def test_it_is_on_the_badge_menu_and_its_run_ranks(whack, make_server, tmp_path):
    server = make_server(env=whack["env"])
    build_with(whack["env"], tmp_path / "build")
    badge = logged_in_badge(tmp_path / "build", tmp_path / "flash", server, server.token("ada"))

    result, score = play_from_menu(badge, "Whack", "whack", "5 a\n6 -\n15 b\n16 -\n")

    assert result.last("result").said.endswith(f"Rank #1 of 1, best {score}. A: menu")
    board = httpx.get(f"{server.url}/api/v1/games/whack/leaderboard").json()
    assert [(entry["player"]["name"], entry["score"]) for entry in board["entries"]] == [("ada", score)]


@pytest.mark.parametrize(
    "name, message",
    [
        ("Snake", "'Snake' cannot name a game: use 2 to 32 lowercase letters, digits or _"),
        ("maze", "a game called 'maze' is installed already"),
        ("json", "a Python module called 'json' exists already"),
    ],
)
def test_a_name_that_cannot_be_used_is_refused_saying_why(tmp_path, name, message):
    result = run_arcade("new-game", name, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_existing_folder_is_left_alone(tmp_path):
    (tmp_path / "arcade-game-whack").mkdir()
    (tmp_path / "arcade-game-whack" / "notes.txt").write_text("mine")
    result = run_arcade("new-game", "whack", cwd=tmp_path)
    assert result.returncode == 2 and "exists already" in result.stderr
    assert [path.name for path in (tmp_path / "arcade-game-whack").iterdir()] == ["notes.txt"]
