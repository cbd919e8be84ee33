"""The launcher on the simulated badge, run by the real MicroPython unix port in a 96 KB heap:
the menu, a game's run and its record, a crashing game, a game built for another MicroPython."""

import hashlib
import json
import shutil

from arcade.games.dino import badge as dino

from tests.conftest import ROOT, run_arcade
from tests.simulator import Badge, write_game

NO_SERVER = "http://127.0.0.1:9"  # nothing listens on the discard port

JUMPING_RUN = """
wait menu
1 a
2 -
wait dino
20 a
24 -
70 up
72 -
wait result
60 a  # the result takes presses after a second
61 -
wait menu
exit
"""


def replay(body: dict) -> int:
    """The score CPython reaches replaying the recorded run with the same badge.py."""
    run = body["run"]
    changes = dict(run["inputs"])
    game = dino.Game(run["seed"])
    buttons = 0
    for tick in range(run["ticks"]):
        buttons = changes.get(tick, buttons)
        alive = game.tick(buttons)
    assert not alive
    return game.score


def test_a_run_is_recorded_as_its_seed_and_button_changes_and_waits_on_the_badge(badge_build, tmp_path):
    badge = Badge(badge_build, tmp_path / "flash", NO_SERVER)
    result = badge.play(JUMPING_RUN)

    assert result.returncode == 0, result.output
    assert result.names() == ["menu", "dino", "result", "menu"]
    score = int(result.last("result").text.split(" | ")[2].split()[0])
    assert "Not logged in: the score waits on the badge." in result.last("result").said
    assert f"best {score} *" in result.last("menu").text  # the best, marked as not sent yet
    [queued] = badge.queued()
    body = json.loads((tmp_path / "flash" / "state" / "queue" / queued).read_text())
    assert queued == f"dino.{body['submission_id']}.json"
    assert body["score"] == score
    assert [tick for tick, _ in body["run"]["inputs"]] == [20, 24, 70, 72]
    assert [buttons for _, buttons in body["run"]["inputs"]] == [1, 0, 8, 0]
    assert replay(body) == score  # MicroPython on the badge and CPython on the server agree


CRASHY = """
TITLE = "Crashy"

class Game:
    TICK_MS = 50

    def __init__(self, seed):
        self.score = 0

    def tick(self, buttons):
        self.score += 1
        if self.score == 3:
            return self.score // 0
        return True

    def draw(self, screen):
        screen.set_pen(15)
        screen.clear()
        return (0, 8)
"""


def test_a_crashing_game_shows_its_error_and_the_badge_goes_back_to_the_menu(tmp_path):
    env = write_game(tmp_path / "plugins", "crashy", CRASHY)
    build = tmp_path / "badge"
    built = run_arcade("build", "--out", str(build), cwd=ROOT, env=env)
    assert built.returncode == 0, built.stderr
    badge = Badge(build, tmp_path / "flash", NO_SERVER)

    result = badge.play(
        """
        wait menu
        1 a
        2 -
        wait game-crashed
        1 a
        2 -
        wait menu
        1 down
        2 -
        3 a
        4 -
        wait result
        exit
        """
    )

    assert result.returncode == 0, result.output
    assert result.names() == ["menu", "crashy", "game-crashed", "menu", "dino", "result"]
    crash = result.last("game-crashed").text
    assert crash.startswith("Crashy crashed")
    assert "ZeroDivisionError" in crash and 'games/crashy.py", line 13' in result.last("game-crashed").said
    assert badge.queued() == [name for name in badge.queued() if name.startswith("dino.")]  # the crash left no score


def test_a_game_built_for_another_micropython_is_refused_saying_how_to_rebuild(badge_build, tmp_path):
    build = tmp_path / "badge"
    shutil.copytree(badge_build, build)
    game = build / "games" / "dino.mpy"
    data = bytearray(game.read_bytes())
    data[1] = 5  # the .mpy version of MicroPython 1.12 to 1.18
    game.write_bytes(bytes(data))
    manifest = json.loads((build / "manifest.json").read_text())  # as that build would record it
    for entry in manifest["files"]:
        if entry["path"] == "games/dino.mpy":
            entry["sha256"] = hashlib.sha256(data).hexdigest()
    (build / "manifest.json").write_text(json.dumps(manifest))
    badge = Badge(build, tmp_path / "flash", NO_SERVER)

    result = badge.play("wait menu\n1 a\n2 -\nwait game-error\nexit\n")

    message = result.last("game-error").said
    assert "games/dino.mpy is .mpy version 5; this badge runs version 6" in message
    assert "arcade build --mpy" in message


def test_a_damaged_state_file_is_kept_aside_and_the_badge_still_starts(badge_build, tmp_path):
    state = tmp_path / "flash" / "state"
    state.mkdir(parents=True)
    (state / "bests.json").write_text('{"dino": {"best": 12')
    badge = Badge(badge_build, tmp_path / "flash", NO_SERVER)

    result = badge.play("wait menu\nexit\n")

    assert result.returncode == 0, result.output
    assert result.last("menu").text.split(" | ")[1] == "Dino"
    assert "best" not in result.last("menu").text  # the unreadable bests are not guessed
    assert (state / "bests.json.bad").read_text() == '{"dino": {"best": 12'
    assert "state/bests.json is not valid JSON; kept as state/bests.json.bad" in result.output
