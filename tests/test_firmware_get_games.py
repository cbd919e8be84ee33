"""Games over the air, as a player meets them on the badge under the MicroPython unix port, against a
real server building games with mpy-cross: "Get games" lists what is new or updated, a download
shows its progress and is checked (free flash, every hash, the signature, the .mpy version) before
it is renamed into place; whatever goes wrong on the way, the badge keeps its games working and
says what happened."""

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, install, on_path, run_arcade
from tests.faults import FaultyServer, answer, drop_mid_response, edited, json_body
from tests.runs import DOWN, UP, A, B, C
from tests.simulator import Badge, logged_in_badge, write_game
from tests.test_games_on_badge import Player

OPEN_GET_GAMES = "wait menu\n1 down\n2 -\n3 down\n4 -\n5 down\n6 -\n7 a\n8 -\n"
"""From the menu of the build (Dino, Maze, 2048, Get games): open Get games."""
PLAY_DINO = "wait menu\n1 down\n2 -\n3 a\n4 -\nwait dino\nwait result\n60 a\n61 -\nwait menu\nexit\n"
"""Back on the menu with the cursor on Get games: play Dino (the runner never jumps), back to the menu."""
GET_BALLOON = OPEN_GET_GAMES + "wait get-games\n1 a\n2 -\n"
"""Get Balloon, the server's game the build lacks, first on the list."""
AFTER_A_FAILED_DOWNLOAD = "wait games-failed\n1 a\n2 -\nwait get-games\n1 c\n2 -\n" + PLAY_DINO
AFTER_A_REFUSED_LIST = "wait games-failed\n1 a\n2 -\n" + PLAY_DINO
BALLOON_INSTALLED = "wait games-installed\n1 a\n2 -\nwait games-none\n1 a\n2 -\nwait menu\nexit\n"
"""After Get Balloon: the list has nothing more to offer; back on the menu."""


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
    keys_of(server)
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
    player.dismiss_result()
    player.wait_for("menu")
    player.quit()

    board = httpx.get(f"{server.url}/api/v1/games/whack/leaderboard").json()
    assert [entry["player"]["name"] for entry in board["entries"]] == ["ada"]
    assert sorted(path.name for path in (root / "state" / "games").iterdir()) == ["index.json", "new", "whack.mpy"]


def keys_of(server) -> None:
    """Has the server make its badge key (its first games list does), as `arcade deploy` would."""
    assert httpx.get(f"{server.url}/api/v1/badge", timeout=60).json()["catalog"] is not None


def the_games_are_as_they_were(finished, root) -> None:
    """The badge shows the build's games, plays Dino to its result, and holds no game half installed."""
    assert finished.returncode == 0, finished.output
    rows = [text for text in finished.last("menu").text.split(" | ")[1:] if not text.startswith("best")]
    assert rows[:4] == ["Dino", "Maze", "2048", "Get games"]
    assert finished.last("result").text.startswith("Dino | Score")
    games = root / "state" / "games"
    assert not (games / "index.json").exists() and not (games / "balloon.mpy").exists()
    assert not (games / "new").exists() or not any((games / "new").iterdir())


def flip_a_bit(body: bytes) -> bytes:
    return body[:100] + bytes([body[100] ^ 0x01]) + body[101:]


@pytest.mark.parametrize(
    "fault, said",
    [
        (edited(lambda body: body[: len(body) // 2]), "The download of Balloon stopped: the download was cut short at"),
        (drop_mid_response, "The download of Balloon stopped: the download was cut short at"),
        (edited(flip_a_bit), "Balloon arrived damaged: its sha256 is not the one the signed list gives. Try again."),
        (answer(503, b"busy"), "The download of Balloon stopped: the server answered 503. Try again."),
    ],
    ids=["truncated", "server-stops-mid-download", "flipped-bit", "server-error"],
)
def test_a_download_that_goes_wrong_changes_nothing_and_says_what_happened(
    make_server, badge_build, tmp_path, fault, said
):
    server = make_server()
    keys_of(server)
    with FaultyServer(server.url) as faulty:
        faulty.faults = [None, fault]  # the games list, then the file
        badge = Badge(badge_build, tmp_path / "flash", faulty.url, arcade=server.folder)
        finished = badge.play(GET_BALLOON + AFTER_A_FAILED_DOWNLOAD)
    assert finished.last("games-failed").said.startswith(f"Get games {said}")
    assert finished.last("games-failed").said.endswith("Your games are as they were. A: OK")
    the_games_are_as_they_were(finished, tmp_path / "flash")


def test_a_full_flash_is_found_before_the_download(make_server, badge_build, tmp_path):
    server = make_server()
    keys_of(server)
    # A littlefs flash and the games list's signature check together, in 96K: Get games runs as an
    # app, with the launcher unloaded (firmware/main.py).
    badge = Badge(badge_build, tmp_path / "flash", server.url, arcade=server.folder, flash_free=4096, heap="96K")
    dino_on_a_full_flash = PLAY_DINO.replace("wait result", "wait flash-full\n1 a\n2 -\nwait result")
    finished = badge.play(
        GET_BALLOON + "wait games-failed\n1 a\n2 -\nwait get-games\n1 c\n2 -\n" + dino_on_a_full_flash
    )
    said = finished.last("games-failed").said
    assert "Balloon needs 13 KB of flash and 4 KB are free. Make room with mpremote" in said, said
    the_games_are_as_they_were(finished, tmp_path / "flash")


def wrong_signature(body: bytes) -> bytes:
    info = json.loads(body)
    signature = info["catalog"]["signatures"][0]
    signature["sig"] = ("0" if signature["sig"][0] != "0" else "1") + signature["sig"][1:]
    return json.dumps(info).encode()


def more_games(body: bytes) -> bytes:
    """The list with a game's hash changed: a look-alike server offering its own file."""
    info = json.loads(body)
    info["catalog"]["manifest"] = info["catalog"]["manifest"].replace('"sha256":"', '"sha256":"0', 1)
    return json.dumps(info).encode()


@pytest.mark.parametrize(
    "fault, said",
    [
        (edited(wrong_signature), "the games list's signature is wrong: it was changed on the way"),
        (edited(more_games), "the games list's signature is wrong: it was changed on the way"),
        (answer(200, json_body({"catalog": None})), "the server sent no games list"),
    ],
    ids=["wrong-signature", "changed-list", "no-list"],
)
def test_a_games_list_that_is_not_the_arcades_is_refused(make_server, badge_build, tmp_path, fault, said):
    server = make_server()
    keys_of(server)
    with FaultyServer(server.url) as faulty:
        faulty.faults = [fault]
        badge = Badge(badge_build, tmp_path / "flash", faulty.url, arcade=server.folder)
        finished = badge.play(OPEN_GET_GAMES + AFTER_A_REFUSED_LIST)
    assert said in finished.last("games-failed").said
    the_games_are_as_they_were(finished, tmp_path / "flash")


def test_a_list_signed_by_another_arcades_key_is_refused(make_server, badge_build, tmp_path):
    ours, theirs = make_server(), make_server()
    keys_of(ours)
    badge = Badge(badge_build, tmp_path / "flash", theirs.url, arcade=ours.folder)  # deployed for ours
    finished = badge.play(OPEN_GET_GAMES + AFTER_A_REFUSED_LIST)
    assert "the games list is signed by a key this badge does not trust: another arcade's server?" in (
        finished.last("games-failed").said
    )
    the_games_are_as_they_were(finished, tmp_path / "flash")


def test_a_badge_deployed_with_no_key_says_to_deploy_again(make_server, badge_build, tmp_path):
    server = make_server()
    finished = Badge(badge_build, tmp_path / "flash", server.url).play(OPEN_GET_GAMES + AFTER_A_REFUSED_LIST)
    assert "this badge holds no key to check games with: copy the build again with arcade deploy" in (
        finished.last("games-failed").said
    )
    the_games_are_as_they_were(finished, tmp_path / "flash")


SNAKE = """
TITLE = "Snake"

class Game:
    TICK_MS = 50

    def __init__(self, seed):
        self.score = 0
        self.ticks = 0

    def tick(self, buttons):
        self.ticks += 1
        BROKEN
        return self.ticks < 10

    def draw(self, screen):
        screen.set_pen(15)
        screen.clear()
        screen.set_pen(0)
        screen.text("snake %d" % self.ticks, 4, 4)
"""


def snake(folder: Path, version: str, broken: bool) -> dict:
    """The game Snake at ``version`` in ``folder`` (a plugin on its PYTHONPATH); ``broken``: its
    tick raises from the fourth on."""
    if (folder / "snake").exists():
        shutil.rmtree(folder)
    env = write_game(
        folder, "snake", SNAKE.replace("BROKEN", "assert self.ticks < 4, 'snake is broken'" if broken else "pass")
    )
    init = folder / "snake" / "__init__.py"
    init.write_text(init.read_text().replace('version="0.1"', f'version="{version}"'))
    return env


def choose(player: Player, label: str, shown: str | None = None) -> None:
    """On the Get games list just shown (``shown``, else the next), gets the game ``label``."""
    rows = (shown or player.wait_for("get-games")).split(" | ")[1:-1:2]
    for _ in range(rows.index(label)):
        player.press(DOWN)
        player.wait_for("get-games")
    player.press(A)


def test_an_update_that_crashes_is_rolled_back_and_an_old_list_replayed_is_refused(make_server, badge_build, tmp_path):
    server = make_server(env=snake(tmp_path / "snake", "0.1", broken=False))
    old_list = httpx.get(f"{server.url}/api/v1/badge").json()
    options = ("--config", str(server.folder / "arcade.toml"), "--data", str(server.folder / "arcade-data"))
    with FaultyServer(server.url) as faulty:
        player = Player(badge_build, tmp_path / "flash", faulty.url, tmp_path / "shots", options)
        player.wait_for("menu")
        player.press(UP)  # from Dino up to Get games, the last row
        player.wait_for("menu")
        player.press(A)
        choose(player, "Snake")
        player.wait_for("games-installed", "Snake 0.1 is installed")
        player.press(A)
        player.wait_for("get-games")
        player.press(C)
        assert player.wait_for("menu").split(" | ")[1:6] == ["Dino", "Maze", "2048", "Snake", "Get games"]

        snake(tmp_path / "snake", "0.2", broken=True)  # on the server's PYTHONPATH already
        server.restart()
        player.press(DOWN)  # from Snake to Get games
        player.wait_for("menu")
        player.press(A)
        offered = player.wait_for("get-games")
        assert "Snake | 0.1 > 0.2" in offered
        choose(player, "Snake", offered)
        player.wait_for("games-installed", "Snake 0.2 is installed")
        player.press(A)
        player.wait_for("get-games")
        player.press(C)
        player.wait_for("menu")

        # The list that offered 0.1 as the server signed it in the same 30 s as the newest (restarted within them):
        # its date cannot tell it from the newest, the versions do.
        newest = json.loads(httpx.get(f"{server.url}/api/v1/badge").json()["catalog"]["manifest"])
        dates = {"issued": newest["issued"], "expires": newest["expires"]}
        replayed = {**old_list, "catalog": signed_by(server, {**json.loads(old_list["catalog"]["manifest"]), **dates})}
        faulty.faults = [answer(200, json_body(replayed))]
        player.press(A)
        refused = player.wait_for("games-refused").replace(" | ", " ")
        assert (
            "The server offers Snake 0.1, older than this badge's: an old games list sent again? Not installed."
            in refused
        )
        player.press(A)
        player.wait_for("get-games")
        player.press(C)
        player.wait_for("menu")

        player.press(UP)  # to Snake, 0.2 now
        player.wait_for("menu")
        player.press(A)
        first = player.wait_for("game-crashed").replace(" | ", " ")
        assert "snake is broken" in first and "went back" not in first
        player.press(A)
        player.wait_for("menu")
        player.press(A)
        second = player.wait_for("game-crashed").replace(" | ", " ")
        assert "Snake 0.2 crashed on its first 2 runs, so the badge went back to 0.1." in second
        player.press(A)
        player.wait_for("menu")
        player.press(A)  # Snake 0.1 plays to its end
        player.wait_for("result", "Score")
        player.dismiss_result()
        player.wait_for("menu")
        player.quit()
    index = json.loads((tmp_path / "flash" / "state" / "games" / "index.json").read_text())
    assert index["snake"]["version"] == "0.1" and "previous" not in index["snake"]
    assert sorted(path.name for path in (tmp_path / "flash" / "state" / "games").iterdir()) == [
        "index.json",
        "new",
        "snake.mpy",
    ]


INSTALL_WITH_A_POWER_CUT = """
import json
import os
import sys

import install
import installed
import net
import signature
import storage


class PowerCut:
    \"\"\"The badge's os, but the power goes instead of the rename after the first ``after``.\"\"\"

    def __init__(self, after):
        self.after = after

    def rename(self, source, target):
        if self.after == 0:
            print("the power goes before renaming %s to %s" % (source, target))
            sys.exit(9)
        self.after -= 1
        os.rename(source, target)

    def __getattr__(self, name):
        return getattr(os, name)


config = json.load(open("config.json"))
status, info = net.get_json(config["server"] + "/api/v1/badge")
manifest = signature.check(info["catalog"], config["games_keys"], None)
installed.os = storage.os = PowerCut(int(sys.argv[1]))  # the install's renames: the check's own came before
game = [game for game in manifest["games"] if game["id"] == "snake"][0]
install.install(config["server"], game, [], lambda done, size: None)
print("installed")
"""
RENAMES = [
    "state/games/commit.json.tmp",
    "state/games/snake.mpy",
    "state/games/new/snake.mpy",
    "state/games/index.json.tmp",
]
"""What an update renames, in order: the journal into place (the commit point), the version it
replaces aside, the download into place, the index into place."""
PLAY_SNAKE = (
    "wait menu\n1 down\n2 -\n3 down\n4 -\n5 down\n6 -\n7 a\n8 -\nwait snake\nwait result\n60 a\n61 -\nwait menu\nexit\n"
)


def install_cut(root: Path, after: int) -> subprocess.CompletedProcess:
    """The badge's own install of Snake under the unix port, the power lost after ``after`` renames."""
    (root / "cut.py").write_text(INSTALL_WITH_A_POWER_CUT)
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "micropython"), "-X", "heapsize=96K", "cut.py", str(after)],
        cwd=root,
        env={**os.environ, "MICROPYPATH": ".frozen"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("after", range(len(RENAMES) + 1))
def test_power_lost_at_any_rename_of_an_update_leaves_a_badge_that_boots_into_one_version(
    make_server, badge_build, tmp_path, after
):
    server = make_server(env=snake(tmp_path / "snake", "0.1", broken=False))
    keys_of(server)
    root = tmp_path / "flash"
    badge = Badge(badge_build, root, server.url, arcade=server.folder)
    badge.play("wait menu\nexit\n")  # lays the build and its config out on the flash
    assert install_cut(root, 99).stdout.endswith("installed\n")  # Snake 0.1, the version before
    snake(tmp_path / "snake", "0.2", broken=False)
    server.restart()

    cut = install_cut(root, after)
    if after < len(RENAMES):
        assert cut.returncode == 9, cut.stdout + cut.stderr
        assert f"the power goes before renaming {RENAMES[after]}" in cut.stdout
    else:
        assert cut.stdout.endswith("installed\n"), cut.stdout + cut.stderr
    booted = badge.play(PLAY_SNAKE)

    assert booted.returncode == 0, booted.output
    assert booted.last("result").text.startswith("Snake | Score")
    index = json.loads((root / "state" / "games" / "index.json").read_text())
    if after == 0:  # before the commit point: the update never happened
        assert index["snake"]["version"] == "0.1"
        assert "install: removing the unfinished download snake.mpy" in booted.output
    else:  # after it: boot finished the update, and 0.2 ran cleanly, so 0.1 is not kept any more
        assert index["snake"]["version"] == "0.2" and "previous" not in index["snake"]
        if after < len(RENAMES):
            assert "install: finishing the installation of snake" in booted.output
    assert sorted(path.name for path in (root / "state" / "games").iterdir()) == ["index.json", "new", "snake.mpy"]
    assert list((root / "state" / "games" / "new").iterdir()) == []


def test_a_badge_follows_key_rotations_without_usb(make_server, badge_build, tmp_path):
    server = make_server()
    keys_of(server)
    at_deploy = tmp_path / "arcade-at-deploy"  # the arcade's keys when the badge was deployed, kept as they were
    shutil.copytree(server.folder, at_deploy, ignore=shutil.ignore_patterns("badge-games", "*.log"))
    badge = Badge(badge_build, tmp_path / "flash", server.url, arcade=at_deploy)
    look = OPEN_GET_GAMES + "wait get-games\n1 c\n2 -\nwait menu\nexit\n"

    for _ in range(2):  # the second rotation drops the key the badge was deployed with
        assert run_arcade("badge-key", "rotate", cwd=server.folder).returncode == 0
        server.restart()
        seen = badge.play(look)
        assert seen.last("get-games").text.startswith("Get games | Balloon | new"), seen.output
        deployed = json.loads((tmp_path / "flash" / "config.json").read_text())["games_keys"]
        learnt = json.loads((tmp_path / "flash" / "state" / "games-keys.json").read_text())
        served = json.loads(httpx.get(f"{server.url}/api/v1/badge").json()["catalog"]["manifest"])["keys"]
        assert learnt == {"deployed": [key["kid"] for key in deployed], "keys": served}
    assert deployed[0] not in served


def signed_by(server, manifest: dict) -> dict:
    """A catalogue of ``manifest`` signed with the server's own badge key, as a server would sign it."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from joserfc.jwk import KeySet

    key = KeySet.import_key_set(
        json.loads((server.folder / "arcade-data" / "badge-signing-keys.json").read_text())
    ).keys[0]
    key.ensure_kid()
    text = json.dumps(manifest, separators=(",", ":"))
    signature = key.private_key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256()).hex()
    return {"manifest": text, "signatures": [{"kid": key.kid, "sig": signature}]}


def test_games_built_for_another_mpy_version_are_refused(make_server, badge_build, tmp_path):
    server = make_server()
    keys_of(server)
    info = httpx.get(f"{server.url}/api/v1/badge").json()
    manifest = json.loads(info["catalog"]["manifest"])
    info["catalog"] = signed_by(server, {**manifest, "mpy": "6.2"})  # a server whose mpy-cross is MicroPython 1.22's
    with FaultyServer(server.url) as faulty:
        faulty.faults = [answer(200, json_body(info))]
        badge = Badge(badge_build, tmp_path / "flash", faulty.url, arcade=server.folder)
        finished = badge.play(OPEN_GET_GAMES + AFTER_A_REFUSED_LIST)
    assert "The server builds games as .mpy version 6.2 and this badge runs 6.3" in finished.last("games-failed").said
    the_games_are_as_they_were(finished, tmp_path / "flash")


def older(info: dict, server, seconds: int) -> dict:
    """``info`` (``/api/v1/badge``'s) with its games list as the server signed it ``seconds`` earlier."""
    manifest = json.loads(info["catalog"]["manifest"])
    issued = manifest["issued"] - seconds
    return {**info, "catalog": signed_by(server, {**manifest, "issued": issued, "expires": issued + 24 * 3600})}


def test_an_older_signed_list_is_refused_once_the_badge_checked_a_newer_one(make_server, badge_build, tmp_path):
    server = make_server()
    keys_of(server)
    root = tmp_path / "flash"
    three_hours_old = older(httpx.get(f"{server.url}/api/v1/badge").json(), server, 3 * 3600)
    with FaultyServer(server.url) as faulty:
        badge = Badge(badge_build, root, faulty.url, arcade=server.folder)
        assert badge.play(GET_BALLOON + BALLOON_INSTALLED).returncode == 0  # the server's own list, fresh
        faulty.faults = [answer(200, json_body(three_hours_old))]  # the badge restarted; a look-alike replays
        finished = badge.play("wait menu\n1 up\n2 -\n3 a\n4 -\n" + AFTER_A_REFUSED_LIST)
    said = finished.last("games-failed").said
    assert (
        "Get games the games list was signed 3 hours before one this badge already checked: an old list sent again, "
        "by a look-alike server? Try again on the arcade's own Wi-Fi. Your games are as they were." in said
    ), said
    assert finished.returncode == 0, finished.output
    rows = [text for text in finished.last("menu").text.split(" | ")[1:] if not text.startswith("best")]
    assert rows[:5] == ["Dino", "Maze", "2048", "Balloon", "Get games"]
    assert finished.last("result").text.startswith("Dino | Score")
    assert json.loads((root / "state" / "games" / "index.json").read_text())["balloon"]["version"] == "1.2.0"


def test_an_expired_list_is_refused_by_a_badge_whose_clock_is_set(make_server, badge_build, tmp_path):
    """The arcade's own list, signed now, on a badge whose clock reads two days ahead: by that clock
    the list (a day's life) expired a day ago, as a list replayed two days later would have."""
    server = make_server()
    keys_of(server)
    root = tmp_path / "flash"
    ahead = Badge(badge_build, root, server.url, arcade=server.folder, clock=int(time.time()) + 2 * 24 * 3600)
    finished = ahead.play(OPEN_GET_GAMES + AFTER_A_REFUSED_LIST)
    said = finished.last("games-failed").said
    assert "Get games the games list expired 24 hours ago by this badge's clock: an old list sent again" in said
    the_games_are_as_they_were(finished, root)


def test_a_list_signed_before_the_badge_was_deployed_is_refused_at_its_first_get_games_with_its_clock_never_set(
    make_server, badge_build, tmp_path
):
    """A clock never set cannot tell a list's age, and a badge that checked none has no newer one to
    compare with: the deploy's date (config.json's ``games_since``) is what refuses a list the arcade
    signed long before, as a look-alike could serve it at the first Get games."""
    server = make_server()
    keys_of(server)
    root = tmp_path / "flash"
    two_days_old = json_body(older(httpx.get(f"{server.url}/api/v1/badge").json(), server, 50 * 3600))
    with FaultyServer(server.url) as faulty:
        faulty.faults = [answer(200, two_days_old)]
        unset = Badge(badge_build, root, faulty.url, arcade=server.folder, clock=0)
        finished = unset.play(OPEN_GET_GAMES + AFTER_A_REFUSED_LIST)
        said = finished.last("games-failed").said
        assert (
            "Get games the games list was signed 2 days before this badge was deployed: an old list sent again, by a "
            "look-alike server? Or the server's clock is behind the deploying computer's. Try again on the arcade's "
            "own Wi-Fi. Your games are as they were." in said
        ), said
        the_games_are_as_they_were(finished, root)
        assert not (root / "state" / "games-issued.json").exists()

        assert unset.play(GET_BALLOON + BALLOON_INSTALLED).returncode == 0  # the arcade's own list, signed now
    assert (root / "state" / "games" / "balloon.mpy").exists()
    deployed = json.loads((root / "config.json").read_text())["games_since"]
    assert deployed <= json.loads((root / "state" / "games-issued.json").read_text())
