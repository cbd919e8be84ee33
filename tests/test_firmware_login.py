"""Logging the simulated badge in with the device flow against the real server, the person's
side done over HTTP as a person would (tests/people.py): they scan the QR code on the badge's
screen. Then a game, and the score on the leaderboard under that person's name."""

import subprocess
import time

import httpx

from tests.faults import FaultyServer, answer, drop_mid_request
from tests.people import Person
from tests.simulator import PLAY_DINO, Badge

FAST_LOGIN = "[identity.builtin]\ninterval = 1\n"

LOG_IN_THEN = """
wait menu
1 b
2 -
wait account
speed 1
1 a
2 -
wait login
{after}
"""

THEN_PLAY = """
wait account
speed 50
1 c
2 -
""" + PLAY_DINO.lstrip("\n")


def scan(zbarimg: str, screenshots) -> str:
    """What a phone reads from the QR code on the badge's latest login screen."""
    shot = sorted(screenshots.glob("*-login.png"))[-1]
    result = subprocess.run([zbarimg, "--raw", "-q", str(shot)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"no QR code found in {shot.name}: {result.stderr}"
    return result.stdout.strip()


def test_log_in_by_scanning_the_badge_then_play_and_the_score_is_on_the_leaderboard(
    badge_build, make_server, tmp_path, zbarimg
):
    server = make_server(FAST_LOGIN)
    badge = Badge(badge_build, tmp_path / "flash", server.url)
    shots = tmp_path / "shots"

    running = badge.start(LOG_IN_THEN.format(after=THEN_PLAY), screenshots=shots)
    login = running.wait_for("login")
    link = scan(zbarimg, shots)
    person = Person(server.url, "ada")
    person.approve(link=link)
    result = running.finish()

    assert result.returncode == 0, result.output
    assert link.startswith(f"{server.url}/device/")
    assert login.text.startswith("Log in | Scan, or open | ")
    assert f"{server.url}/device" in login.text.replace(" | ", "")  # the URL, cut to fit the lines
    user_code = login.text.split(" | ")[-3]
    assert login.text.endswith(f"and enter | {user_code} | expires in 10:00 | C: cancel")
    assert result.last("account").text.startswith("Logged in as Ada")
    score = int(result.last("result").text.split(" | ")[2].split()[0])
    assert result.last("result").said.endswith(f"Rank #1 of 1, best {score}. A: menu")
    page = httpx.get(f"{server.url}/api/v1/games/dino/leaderboard").json()
    assert [(entry["player"]["name"], entry["score"]) for entry in page["entries"]] == [("Ada", score)]
    session = badge.state("session.json")
    assert session["refresh_token"] and session["access_token"]
    assert session["access_token"] not in result.output and session["refresh_token"] not in result.output


def test_after_a_restart_the_badge_refreshes_its_token_before_sending(badge_build, make_server, tmp_path, zbarimg):
    server = make_server(FAST_LOGIN)
    badge = Badge(badge_build, tmp_path / "flash", server.url)
    shots = tmp_path / "shots"
    running = badge.start(LOG_IN_THEN.format(after="wait account\nexit"), screenshots=shots)
    running.wait_for("login")
    Person(server.url, "ada").approve(link=scan(zbarimg, shots))
    assert running.finish().returncode == 0
    before = badge.state("session.json")

    result = badge.play(THEN_PLAY.replace("wait account\nspeed 50\n1 c\n2 -\n", ""))

    after = badge.state("session.json")
    assert after["refresh_token"] != before["refresh_token"]  # rotated: the token was refreshed
    assert after["access_token"] != before["access_token"]
    score = int(result.last("result").text.split(" | ")[2].split()[0])
    assert result.last("result").said.endswith(f"Rank #1 of 1, best {score}. A: menu")


def test_the_person_denies_the_login(badge_build, make_server, tmp_path, zbarimg):
    server = make_server(FAST_LOGIN)
    badge = Badge(badge_build, tmp_path / "flash", server.url)
    shots = tmp_path / "shots"

    running = badge.start(
        LOG_IN_THEN.format(after="wait login-denied\n1 a\n2 -\nwait account\nexit"), screenshots=shots
    )
    running.wait_for("login")
    Person(server.url, "ada").deny(link=scan(zbarimg, shots))
    result = running.finish()

    assert result.returncode == 0, result.output
    assert result.last("login-denied").said.startswith("Login denied The login was declined.")
    assert result.last("account").text.startswith("Not logged in")
    assert badge.state("session.json") is None


def test_the_code_expires_when_nobody_confirms_it(badge_build, make_server, tmp_path):
    server = make_server(FAST_LOGIN + "device_code_ttl = 2\n")
    badge = Badge(badge_build, tmp_path / "flash", server.url)

    result = badge.play(LOG_IN_THEN.format(after="wait login-expired\n1 a\n2 -\nwait account\nexit"))

    assert result.returncode == 0, result.output
    assert "The code expired before it was confirmed." in result.last("login-expired").said
    assert badge.state("session.json") is None


def timed(polls: list, fault=None):
    """``fault`` (None: the arcade's own answer), the moment each poll reached the server kept in ``polls``."""

    def timed_fault(handler, request):
        polls.append((request.line, time.monotonic()))
        return fault(handler, request) if fault else handler.send(handler.server.forward(request))

    return timed_fault


def test_a_provider_in_trouble_is_polled_less_often_each_time_and_the_login_still_completes(
    badge_build, make_server, tmp_path
):
    """RFC 8628 section 3.5: a client whose polls meet connection trouble (or, here, a 503) polls
    less often, exponentially. The login interval is 1 s: the badge waits 2 s after the first
    failure and 4 s after the second, then logs in at the next poll."""
    server = make_server(FAST_LOGIN, start=False)
    polls = []
    with FaultyServer(server.url) as faulty:
        config = server.folder / "arcade.toml"  # the arcade's public URL, where its token endpoint is
        config.write_text(config.read_text().replace(server.url, faulty.url))
        server.start()
        unavailable = answer(503, b'{"detail": "the provider is restarting"}')
        faulty.faults = [None, None, timed(polls, unavailable), timed(polls, drop_mid_request), timed(polls)]
        running = Badge(badge_build, tmp_path / "flash", faulty.url).start(
            LOG_IN_THEN.format(after="wait account\nexit")
        )
        user_code = running.wait_for("login").text.split(" | ")[-3]
        Person(server.url, "ada").approve(user_code=user_code)
        result = running.finish()

    assert result.returncode == 0, result.output
    assert result.last("account").text.startswith("Logged in as Ada")
    assert [line for line, _ in polls] == ["POST /oauth/token"] * 3
    gaps = [later - earlier for (_, earlier), (_, later) in zip(polls, polls[1:])]
    assert gaps[0] >= 2 and gaps[1] >= 4, gaps  # a badge that did not back off polled every 1 s


def test_c_cancels_the_login(badge_build, make_server, tmp_path):
    server = make_server(FAST_LOGIN)
    badge = Badge(badge_build, tmp_path / "flash", server.url)

    result = badge.play(LOG_IN_THEN.format(after="1 c\n2 -\nwait account\nexit"))

    assert result.returncode == 0, result.output
    assert result.names()[-3:] == ["login-start", "login", "account"]
    assert result.last("account").text.startswith("Not logged in")


def test_log_out_revokes_the_login_and_forgets_the_tokens(badge_build, make_server, tmp_path, zbarimg):
    server = make_server(FAST_LOGIN)
    badge = Badge(badge_build, tmp_path / "flash", server.url)
    shots = tmp_path / "shots"
    running = badge.start(
        LOG_IN_THEN.format(after="wait account\n1 a\n2 -\nwait logged-out\n1 a\n2 -\nwait account\nexit"),
        screenshots=shots,
    )
    running.wait_for("login")
    Person(server.url, "ada").approve(link=scan(zbarimg, shots))
    session = None
    for line in iter(running.process.stdout.readline, ""):
        running.lines.append(line)
        if line.startswith("screen account"):
            session = badge.state("session.json")  # logged in: the tokens before the log-out
            break
    result = running.finish()

    assert result.returncode == 0, result.output
    assert result.last("logged-out").said.startswith("Account Logged out. The badge forgot its tokens.")
    assert badge.state("session.json") is None
    refused = httpx.post(
        f"{server.url}/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": session["refresh_token"], "client_id": "badge"},
    )
    assert refused.json()["error"] == "invalid_grant"


NATIVE_QRCODE_OUT_OF_MEMORY = '''
class QRCode:
    """Pimoroni's native qrcode on a full heap: its buffers cannot be had."""

    def set_text(self, text):
        raise MemoryError("memory allocation failed, allocating 3916 bytes")
'''


def test_when_the_qr_code_runs_out_of_memory_the_badge_shows_the_url_and_code_to_type(
    badge_build, make_server, tmp_path
):
    server = make_server(FAST_LOGIN)
    badge = Badge(badge_build, tmp_path / "flash", server.url)
    badge.root.mkdir(parents=True)
    (badge.root / "qrcode.py").write_text(NATIVE_QRCODE_OUT_OF_MEMORY)  # found before the firmware's own qr

    running = badge.start(LOG_IN_THEN.format(after="wait account\nexit"))
    login = running.wait_for("login")
    user_code = login.text.split(" | ")[-3]
    Person(server.url, "ada").approve(user_code=user_code)
    result = running.finish()

    assert result.returncode == 0, result.output
    assert login.text.startswith("Log in | Open | ")  # no "Scan": no QR code, the URL and the code instead
    assert f"{server.url}/device" in login.text.replace(" | ", "")
    assert result.last("account").text.startswith("Logged in as Ada")
    assert "Traceback" not in result.output
