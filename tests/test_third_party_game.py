"""A game from outside the project: Balloon, pip-installed from its own distribution in
tests/fixtures, is in `arcade plugins`, in the server's game list and pages, in `arcade build`,
on the badge menu, and a run played on the badge lands on its leaderboard."""

import json
from pathlib import Path

import httpx

from tests.conftest import ROOT, on_path, run_arcade
from tests.simulator import Badge, Finished
from tests.test_firmware_scores import logged_in_badge

MENU = ["Dino", "Maze", "2048"]  # the built-in games, first on the menu


def build_with(env: dict, out: Path) -> dict:
    """`arcade build` of this checkout with the plugins ``env`` installs; answers the manifest."""
    result = run_arcade("build", "--out", str(out), cwd=ROOT, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads((out / "manifest.json").read_text())


def play_from_menu(badge: Badge, title: str, screen: str, moves: str) -> tuple[Finished, int]:
    """Goes down the badge menu to ``title``, plays ``moves`` (script lines) on its screen, goes
    back to the menu; answers what the badge showed and the score on its result screen."""
    downs = "".join(f"{2 * n + 1} down\n{2 * n + 2} -\n" for n in range(len(MENU)))
    script = f"wait menu\n{downs}9 a\n10 -\nwait {screen}\n{moves}wait result\n60 a\n61 -\nwait menu\nexit\n"
    result = badge.play(script)
    assert result.returncode == 0, result.output
    assert result.last("menu").text.split(" | ")[1:5] == [*MENU, title]
    return result, int(result.last("result").text.split(" | ")[2].split()[0])


def test_balloon_is_listed_with_its_own_distribution(fixture_games, tmp_path):
    listing = json.loads(run_arcade("plugins", "--json", cwd=tmp_path, env=on_path({}, fixture_games)).stdout)
    balloon = next(row for row in listing["plugins"] if row["name"] == "balloon")
    assert (balloon["distribution"], balloon["version"]) == ("arcade-game-balloon", "1.2.0")
    assert balloon["hooks"] == ["arcade_register_games"]
    assert listing["games"] == ["balloon", "dino", "maze", "tiles"]


def test_balloon_has_a_leaderboard_on_the_server(app):
    """The app finds Balloon through its entry point, as `arcade serve` does."""
    games = {game["id"]: game for game in app.get("/api/v1/games").json()}
    assert games["balloon"] == {
        "id": "balloon", "title": "Balloon", "version": "1.2.0", "order": "higher", "unit": "pumps",
        "min_score": 0, "max_score": 999,
    }
    assert "balloon" in [game["id"] for game in app.get("/api/v1/badge").json()["games"]]
    assert "Balloon" in app.get("/").text
    page = app.get("/games/balloon")
    assert page.status_code == 200 and "Balloon" in page.text


def test_balloon_is_built_onto_the_badge_and_played_from_its_menu(server, fixture_games, tmp_path):
    manifest = build_with(on_path({}, fixture_games), tmp_path / "build")
    [entry] = [game for game in manifest["games"] if game["id"] == "balloon"]
    assert entry["module"] == "games/balloon.mpy" and (tmp_path / "build" / entry["module"]).is_file()

    badge = logged_in_badge(tmp_path / "build", tmp_path / "flash", server, server.token("ada"))
    result, score = play_from_menu(badge, "Balloon", "balloon", "2 a\n9 -\n11 b\n12 -\n")

    assert result.last("result").said.endswith(f"Rank #1 of 1, best {score}. A: menu")
    board = httpx.get(f"{server.url}/api/v1/games/balloon/leaderboard").json()
    assert [(entry["player"]["name"], entry["score"]) for entry in board["entries"]] == [("ada", score)]
