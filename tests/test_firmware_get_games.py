"""Games over the air, as a player meets them on the badge under the MicroPython unix port, against a
real server building games with mpy-cross: "Get games" lists what is new or updated, a download
shows its progress and is checked (free flash, every hash, the signature, the .mpy version) before
it is renamed into place; whatever goes wrong on the way, the badge keeps its games working and
says what happened."""

import json
import shutil
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, install, on_path, run_arcade
from tests.faults import FaultyServer, answer, drop_mid_response, json_body
from tests.runs import DOWN, A, B, C
from tests.simulator import Badge, logged_in_badge
from tests.test_games_on_badge import Player

GET_GAMES = 5  # the menu row after Dino, Maze, 2048 and Balloon
TO_GET_GAMES = "".join(f"{2 * n + 1} down\n{2 * n + 2} -\n" for n in range(GET_GAMES - 1 + 1))
"""Script lines that move the menu cursor from Dino down to "Get games"."""


def badge_of(server, build, root, **options) -> Badge:
    return Badge(build, root, server.url, arcade=server.folder, **options)


def get_first_game(extra: str = "") -> str:
    """From the menu: open Get games and get the first game offered (or read why not)."""
    return f"wait menu\n{TO_GET_GAMES}20 a\n21 -\n{extra}"


@pytest.fixture(scope="module")
def whack(tmp_path_factory) -> Path:
    """A game made by `arcade new-game` and pip-installed where only a restarted server sees it."""
    base = tmp_path_factory.mktemp("whack")
    assert run_arcade("new-game", "whack", cwd=base).returncode == 0
    install(base / "arcade-game-whack", base / "site-packages")
    return base / "site-packages"


def test_a_game_pip_installed_on_the_server_reaches_a_running_badge_without_usb(
    make_server, badge_build, tmp_path, whack
):
    server = make_server()
    httpx.get(f"{server.url}/api/v1/badge")  # the server makes its badge key, which the deploy writes
    root = tmp_path / "flash"
    logged_in_badge(badge_build, root, server, server.token("ada"))
    options = ("--config", str(server.folder / "arcade.toml"), "--data", str(server.folder / "arcade-data"))
    player = Player(badge_build, root, server.url, tmp_path / "shots", options)
    assert player.wait_for("menu").split(" | ")[1:5] == ["Dino", "Maze", "2048", "Get games"]
    for button in [DOWN, DOWN, DOWN]:
        player.press(button)
        player.wait_for("menu")
    player.press(A)
    assert player.wait_for("get-games").split(" | ")[1:3] == ["Balloon", "new"]  # the fixture game the build lacks
    player.press(C)
    player.wait_for("menu")

    server.env = on_path(server.env, whack)
    server.restart()  # the organiser pip-installed a game and restarted the server; the badge runs on
    player.press(A)
    offered = player.wait_for("get-games").split(" | ")
    assert offered[1:5] == ["Balloon", "new", "Whack", "new"]
    player.press(DOWN)
    player.wait_for("get-games")
    shots = tmp_path / "shots"
    shutil.copyfile(max(shots.iterdir()), tmp_path / "get-games.png")  # docs/badge-get-games.png is this
    player.press(A)
    assert "Downloading Whack 0.1.0" in player.wait_for("games-download")
    installed = player.wait_for("games-installed")
    assert installed.replace(" | ", " ").startswith("Get games Whack 0.1.0 is installed: it is on the menu.")
    player.press(A)
    assert player.wait_for("get-games").split(" | ")[1:3] == ["Balloon", "new"]  # what is left to get
    player.press(C)
    assert player.wait_for("menu").split(" | ")[1:6] == ["Dino", "Maze", "2048", "Whack", "Get games"]
    player.press(A)  # the cursor stayed on the fourth row: Whack now
    player.wait_for("whack")
    player.press(A)
    player.wait_for("whack")
    player.press(B)
    assert "Rank #1" in player.wait_for("result", "Rank")
    player.press(A)
    player.wait_for("menu")
    player.quit()

    board = httpx.get(f"{server.url}/api/v1/games/whack/leaderboard").json()
    assert [entry["player"]["name"] for entry in board["entries"]] == ["ada"]
    assert sorted(path.name for path in (root / "state" / "games").iterdir()) == ["index.json", "new", "whack.mpy"]
