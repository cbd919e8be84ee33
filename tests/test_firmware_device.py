"""The badge's real HAL, firmware/hal/badger2040w.py, run by the MicroPython unix port on strict fakes
of Pimoroni's modules (tests/pimoroni, ``arcade sim --lib``): the Wi-Fi as the badge joins it, the
power it saves, its watchdog, and the buttons that take a player home or are ignored.

The fakes are Python on the heap, where Pimoroni's are frozen in flash: about 32 KB more than the
simulator's HAL takes, so these badges get 160K (the badge's own heap is 166K); the 96K budget is
the simulator's tests' to hold."""

import httpx

from tests.conftest import ROOT, run_arcade
from tests.faults import FaultyServer, slow, trickle
from tests.people import Person
from tests.simulator import Badge, logged_in_badge, write_game
from tests.test_firmware_faults import queue_run
from tests.test_firmware_login import FAST_LOGIN, LOG_IN_THEN, THEN_PLAY, scan

PIMORONI = ROOT / "tests" / "pimoroni"
HEAP = "160K"
NO_SERVER = "http://127.0.0.1:9"
PLAY_DINO = "wait menu\n1 a\n2 -\nwait dino\nwait result\n"
JOINING = "Joining the Wi-Fi arcade-test... C: cancel"


def on_the_fakes(**options) -> dict:
    return {"heap": HEAP, "lib": PIMORONI, **options}


def score_of(result) -> int:
    return int(result.first("result").text.split(" | ")[2].split()[0])


def test_the_real_hal_logs_in_plays_and_sends_the_score_joining_the_wi_fi_itself(
    badge_build, make_server, tmp_path, zbarimg
):
    server = make_server(FAST_LOGIN)
    badge = Badge(badge_build, tmp_path / "flash", server.url, **on_the_fakes())
    shots = tmp_path / "shots"

    running = badge.start(LOG_IN_THEN.format(after=THEN_PLAY), screenshots=shots)
    running.wait_for("login")
    Person(server.url, "ada").approve(link=scan(zbarimg, shots))
    result = running.finish()

    assert result.returncode == 0, result.output
    assert result.names().index("wifi") < result.names().index("login")  # the arcade's own Wi-Fi screen
    assert result.first("wifi").said == f"Log in {JOINING}"
    assert "Connecting..." not in result.output and "Connected!" not in result.output  # not Pimoroni's
    score = score_of(result)
    assert result.last("result").said.endswith(f"Rank #1 of 1, best {score}. A: menu")
    page = httpx.get(f"{server.url}/api/v1/games/dino/leaderboard").json()
    assert [(entry["player"]["name"], entry["score"]) for entry in page["entries"]] == [("Ada", score)]


def test_an_access_point_that_never_answers_is_given_up_in_seconds_and_the_score_stays_on_the_screen(
    badge_build, make_server, tmp_path
):
    server = make_server()
    badge = logged_in_badge(badge_build, tmp_path / "flash", server, server.token("ada"), **on_the_fakes(wifi="silent"))

    result = badge.play(PLAY_DINO + "150 a\n151 -\nwait menu\nexit\n")  # no button while it joins

    assert result.returncode == 0, result.output
    results = [screen for screen in result.screens if screen.name == "result"]
    assert [screen.kind for screen in results] == ["full", "partial", "partial"]
    score = score_of(result)
    assert results[1].said.endswith(f"Sending... A: menu {JOINING}")  # in the status band, under the score
    assert "Saved on the badge: the badge is not on the Wi-Fi" in results[2].said
    assert "Wi-Fi arcade-test: no answer in 8 s" in result.output
    assert result.first("result").text.split(" | ")[2] == f"{score} points"  # the score, not an address
    assert "Connecting..." not in result.output
    assert len(badge.queued()) == 1


def test_c_cancels_joining_the_wi_fi(badge_build, make_server, tmp_path):
    server = make_server()
    badge = logged_in_badge(badge_build, tmp_path / "flash", server, server.token("ada"), **on_the_fakes(wifi="silent"))

    result = badge.play(PLAY_DINO + "3 c\n4 -\n80 a\n81 -\nwait menu\nexit\n")

    assert result.returncode == 0, result.output
    assert "online: Wi-Fi: cancelled" in result.output
    assert "Saved on the badge: the badge is not on the Wi-Fi" in result.last("result").said
    assert result.names() == ["menu", "dino", "result", "menu"]
    assert len(badge.queued()) == 1


def test_an_idle_badge_on_battery_powers_off_and_wakes_on_the_row_it_was_on(badge_build, tmp_path):
    badge = Badge(badge_build, tmp_path / "flash", NO_SERVER, **on_the_fakes(battery=True))

    # Down twice, to 2048, then nothing: after a minute the badge halts, which on battery is off.
    result = badge.play("wait menu\n1 down\n2 -\n3 down\n4 -\nboot b\nwait menu\n1 a\n2 -\nwait tiles\nexit\n")

    assert result.returncode == 0, result.output
    assert "@@power off" in result.output and "arcade sim: the badge restarts" in result.output
    assert result.names() == ["menu", "tiles"]  # woken by B, which the menu did not take for a press
    assert not (tmp_path / "flash" / "state" / "wake.json").exists()  # a later boot starts at the top


def test_an_idle_badge_on_usb_halts_and_goes_on_at_the_next_press(badge_build, tmp_path):
    badge = Badge(badge_build, tmp_path / "flash", NO_SERVER, **on_the_fakes())

    result = badge.play("wait menu\n1 b\n2 -\nwait account\n6000 a+c\n6010 -\nwait menu\n1 a\n2 -\nwait dino\nexit\n")

    assert result.returncode == 0, result.output
    assert "@@halt: on USB, waiting for a button" in result.output
    assert "restarts" not in result.output
    assert result.names() == ["menu", "account", "menu", "dino"]


def test_slow_sends_in_a_row_each_within_its_deadline_are_not_reset_for_and_each_score_is_stored_once(
    badge_build, make_server, tmp_path
):
    """Each request ends within its deadline (6 s), and two that follow one another with no screen
    between outlast the watchdog's 8 s: each request feeds it as it starts, so the badge is not reset
    and both go in one send (before, the watchdog reset it mid-send)."""
    server = make_server()
    root = tmp_path / "flash"
    with FaultyServer(server.url) as faulty:
        badge = logged_in_badge(badge_build, root, faulty, server.token("ada"), **on_the_fakes(watchdog=True))
        score = queue_run(root, "slow-run-1", seed=3)
        queue_run(root, "slow-run-2", seed=3)
        faulty.faults = [slow(5), slow(5)]  # both stored, each answered 5 s late

        result = badge.play("wait menu\nexit\n", speed=1)

    assert result.returncode == 0, result.output
    assert "reset by its watchdog" not in result.output
    assert result.names() == ["sending", "menu"]
    assert badge.queued() == []
    page = httpx.get(f"{server.url}/api/v1/games/dino/leaderboard").json()
    assert [entry["score"] for entry in page["entries"]] == [score]


HANGS = """
TITLE = "AWOL"


class Game:
    TICK_MS = 50

    def __init__(self, seed):
        self.ticks = 0

    def tick(self, buttons):
        self.ticks += 1
        while self.ticks > 2:  # a bug: never returns, never sleeps
            pass
        return True

    def draw(self, screen):
        screen.set_pen(15)
        screen.clear()
        return (0, 8)
"""


def test_a_game_that_hangs_is_reset_by_the_watchdog_into_the_launcher_and_a_queued_score_goes_after(
    make_server, tmp_path
):
    """Nothing but the watchdog ends a game stuck in a loop: it resets the badge, which boots into
    the launcher and sends the score that waited, once."""
    env = write_game(tmp_path / "plugins", "awol", HANGS)
    build = tmp_path / "badge"
    built = run_arcade("build", "--out", str(build), cwd=ROOT, env=env)
    assert built.returncode == 0, built.stderr
    server = make_server()
    root = tmp_path / "flash"
    badge = logged_in_badge(build, root, server, server.token("ada"), **on_the_fakes(watchdog=True))
    score = queue_run(root, "kept-run-1", seed=5)
    badge.server = "http://127.0.0.1:9"  # nothing listens: the score waits through the hang

    hung = badge.play("wait menu\n1 a\n2 -\nwait awol\nboot\nwait menu\nexit\n", speed=1)

    assert hung.returncode == 0, hung.output
    assert "arcade sim: the badge was reset by its watchdog" in hung.output
    assert hung.names()[-1] == "menu"
    assert badge.queued() == ["dino.kept-run-1.json"]  # the queue is intact

    badge.server = server.url
    sent = badge.play("wait menu\nexit\n", speed=1)

    assert sent.returncode == 0, sent.output
    assert badge.queued() == []
    page = httpx.get(f"{server.url}/api/v1/games/dino/leaderboard").json()
    assert [entry["score"] for entry in page["entries"]] == [score]


def test_a_server_that_trickles_its_answer_is_given_up_before_the_watchdog_and_the_score_goes_later(
    badge_build, make_server, tmp_path
):
    server = make_server()
    root = tmp_path / "flash"
    with FaultyServer(server.url) as faulty:
        badge = logged_in_badge(badge_build, root, faulty, server.token("ada"), **on_the_fakes(watchdog=True))
        score = queue_run(root, "trickled-run-1", seed=3)
        faulty.faults = [trickle]  # the arcade stores it; its answer comes a byte every 0.5 s

        trickled = badge.play("wait menu\nexit\n", speed=1)
        queued = badge.queued()
        again = badge.play("wait menu\nexit\n", speed=1)

    assert trickled.returncode == 0, trickled.output
    assert "reset by its watchdog" not in trickled.output  # given up in time, not reset
    assert trickled.names() == ["sending", "menu"]
    assert trickled.last("menu").text.split(" | ")[1:3] == ["Dino", " *"]  # marked: a score waits
    assert queued == ["dino.trickled-run-1.json"]
    assert again.returncode == 0, again.output
    assert again.first("menu").text.split(" | ")[1:3] == ["Dino", f"best {score}"]  # sent at boot
    assert badge.queued() == []
    page = httpx.get(f"{server.url}/api/v1/games/dino/leaderboard").json()
    assert [entry["score"] for entry in page["entries"]] == [score]  # stored once


def test_the_crash_count_is_kept_on_flash_across_a_hard_reset(badge_build, tmp_path):
    root = tmp_path / "flash"
    crashing = Badge(badge_build, root, NO_SERVER, heap="32K")  # too little memory: the launcher crashes

    first = crashing.play("wait launcher-stopped\nexit\n")
    again = crashing.play("wait launcher-stopped\nexit\n")  # the badge was reset while stopped
    fixed = Badge(badge_build, root, NO_SERVER).play("wait menu\nexit\n")

    assert first.names() == ["launcher-crashed", "launcher-stopped"]
    assert [screen.text.split(" | ")[0] for screen in again.screens] == ["Badge Arcade crashed (3 of 3)"]
    assert fixed.names() == ["menu"]
    assert not (root / "state" / "crashes.json").exists()  # the launcher ran: the count starts again


def test_a_and_c_together_go_home_from_a_game_and_from_the_account_screen(badge_build, tmp_path):
    badge = Badge(badge_build, tmp_path / "flash", NO_SERVER, **on_the_fakes())

    result = badge.play(
        "wait menu\n1 a\n2 -\nwait dino\n20 a+c\n22 -\nwait menu\n1 b\n2 -\nwait account\n1 a+c\n2 -\nwait menu\nexit\n"
    )

    assert result.returncode == 0, result.output
    assert result.names() == ["menu", "dino", "menu", "account", "menu"]
    assert badge.queued() == []  # the run given up is no score


def test_mashing_a_as_the_run_ends_does_not_start_the_next_one(badge_build, tmp_path):
    badge = Badge(badge_build, tmp_path / "flash", NO_SERVER, **on_the_fakes())
    mashing = "".join(f"{frame} a\n{frame + 1} -\n" for frame in range(1, 16, 4))  # 4 presses in 0.3 s

    result = badge.play(PLAY_DINO + mashing + "70 a\n71 -\nwait menu\nexit\n", speed=5)

    assert result.returncode == 0, result.output
    assert result.names() == ["menu", "dino", "result", "menu"]  # the press after a second only
    assert len(badge.queued()) == 1
