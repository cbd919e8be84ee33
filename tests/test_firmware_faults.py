"""The badge when things break, under the real MicroPython unix port against a real server:
a server in trouble or answering garbage, a line that drops or hangs, an expired access token,
a refused refresh token, a full flash, damaged files on the flash. Each time the player sees
what happened and what to do, the score waits (and is sent, once, when the fault is gone),
and the launcher never crashes.

What the arcade cannot be made to do on cue (answer 500, garble its JSON, hang up half-way) a
FaultyServer in front of it does (tests/faults.py). A server that is down altogether is in
test_firmware_scores.py (offline, then sent once the server is back).
"""

import json
import re
import shutil

import httpx
import pytest
from arcade.games.dino import badge as dino
from joserfc import jwt

from tests.conftest import Servers
from tests.faults import (
    FaultyServer,
    answer,
    drop_mid_request,
    drop_mid_response,
    hang,
    json_body,
    trickle,
    with_token,
)
from tests.people import Person
from tests.simulator import Badge, logged_in_badge
from tests.badge_client import Badge as OAuthClient

CRASHED = {"launcher-crashed", "launcher-stopped", "game-crashed"}
PLAY = "wait menu\n1 a\n2 -\nwait dino\n30 a\n33 -\nwait result\n"
TO_ACCOUNT = "wait menu\n1 b\n2 -\n"
SEND_FROM_ACCOUNT = "wait account\n1 down\n2 -\n3 a\n4 -\nwait sent\n1 a\n2 -\n"
"""On the account screen, "Send waiting scores" (the row under Log out), then OK."""

SERVER = "the server is in trouble"
GARBLED = "the answer was garbled"
OFFLINE = "the server cannot be reached"
SLOW = "the server did not answer in time"


@pytest.fixture(scope="module")
def arcade(tmp_path_factory, fixture_games):
    """One real server for the module; each test has players of its own."""
    servers = Servers(tmp_path_factory.mktemp("faults"), fixture_games)
    yield servers("[identity.builtin]\ninterval = 1\n")
    servers.stop_all()


def queue_run(root, submission_id: str, seed: int) -> int:
    """Puts a genuine Dino run in the badge's queue (a dino that never jumps); answers its score."""
    game = dino.Game(seed)
    ticks = 1
    while game.tick(0):
        ticks += 1
    body = {"score": game.score, "submission_id": submission_id, "run": {"seed": seed, "ticks": ticks, "inputs": []}}
    folder = root / "state" / "queue"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"dino.{submission_id}.json").write_text(json.dumps(body))
    return game.score


def scores_of(server, name: str) -> list[int]:
    page = httpx.get(f"{server.url}/api/v1/games/dino/leaderboard").json()
    return [entry["score"] for entry in page["entries"] if entry["player"]["name"] == name]


def result_score(result) -> int:
    return int(result.last("result").text.split(" | ")[2].split()[0])


def never_crashed(result) -> None:
    assert result.returncode == 0, result.output
    assert not CRASHED & set(result.names()), result.output
    assert "Traceback" not in result.output, result.output


LINE_FAULTS = [
    (answer(500, b'{"status_code": 500, "detail": "Internal Server Error"}'), SERVER),
    (answer(503, b"<html>Service Unavailable</html>", "text/html"), SERVER),
    (answer(200, b"<html>Sign in to the Wi-Fi</html>", "text/html"), GARBLED),  # not JSON
    (answer(201, b'{"submission_id": "line-run-1", "rank": 1, "be'), GARBLED),  # JSON cut short
    (answer(201, b"[1, 2, 3]"), GARBLED),  # JSON of the wrong shape
    (answer(201, json_body({"submission_id": "line-run-1", "rank": "first", "best": None, "player": "x"})), GARBLED),
    (answer(404, b"<html>Not Found</html>", "text/html"), GARBLED),  # some other web server: not its run to refuse
    (drop_mid_request, OFFLINE),
    (hang, SLOW),  # answers only after the badge gave up (its deadline, 6 s)
    (trickle, SLOW),  # the arcade stored the score; its answer comes a byte every 0.5 s
    (drop_mid_response, GARBLED),  # the arcade stored the score; its answer is lost half-way
]


def test_a_server_in_trouble_or_a_broken_line_keeps_the_score_waiting_and_says_what_happened(
    badge_build, arcade, tmp_path
):
    root = tmp_path / "flash"
    with FaultyServer(arcade.url) as faulty:
        badge = logged_in_badge(badge_build, root, faulty, arcade.token("grace"))
        score = queue_run(root, "line-run-1", seed=1)
        faulty.faults = [LINE_FAULTS[0][0]] + [fault for fault, _ in LINE_FAULTS]  # the first meets the send at boot
        result = badge.play(TO_ACCOUNT + SEND_FROM_ACCOUNT * (len(LINE_FAULTS) + 1) + "wait account\nexit\n")

    never_crashed(result)
    *faulted, fixed = [screen.said for screen in result.screens if screen.name == "sent"]
    for said, (_, problem) in zip(faulted, LINE_FAULTS, strict=True):
        assert f"Sent 0 scores. 1 still waiting: {problem}" in said
    assert re.search(rf"Sent 1 score\. Dino: {score}; rank #1 of \d+, best {score}\.", fixed)  # sent, once
    assert [status for _, status in faulty.seen] == [500, 500, 503, 200, 201, 201, 201, 404, 0, 0, 0, 201, 201]
    assert badge.queued() == []
    assert not (root / "state" / "rejected").exists()
    assert scores_of(arcade, "grace") == [score]
    assert badge.state("bests.json") == {"dino": {"best": score, "rank": 1}}


GRANT = {"device_code": "dc-1", "user_code": "WDJB-MJHT", "verification_uri": "https://x.test"}


def test_garbage_where_the_login_starts_stops_the_login_saying_so(badge_build, arcade, tmp_path):
    with FaultyServer(arcade.url) as faulty:
        identity = {
            "device_authorization_endpoint": f"{faulty.url}/oauth/device_authorization",
            "token_endpoint": f"{faulty.url}/oauth/token",
            "client_id": "badge",
        }
        settings = answer(200, json_body({"api_version": 1, "identity": identity}))
        faulty.faults = [
            answer(200, b"<html>Sign in to the Wi-Fi</html>", "text/html"),  # the badge's settings: not JSON
            answer(200, json_body({"identity": "builtin"})),  # the wrong shape
            answer(200, json_body({"identity": {"client_id": "badge"}})),  # no endpoints
            settings,
            answer(200, b"[1, 2]"),  # the device authorization: the wrong shape
            settings,
            answer(200, json_body({**GRANT, "device_code": 7})),
            settings,
            answer(200, json_body({**GRANT, "interval": "soon", "expires_in": [600]})),  # timings of the wrong type
            answer(200, json_body({"error": "access_denied"})),  # its first poll
        ]
        attempt = "wait account\n1 a\n2 -\nwait {}\n1 a\n2 -\n"
        script = (
            TO_ACCOUNT + attempt.format("login-failed") * 5 + attempt.format("login-denied") + "wait account\nexit\n"
        )
        result = Badge(badge_build, tmp_path / "flash", faulty.url).play(script)

    never_crashed(result)
    failed = [screen.said for screen in result.screens if screen.name == "login-failed"]
    assert [said.split(" answered ")[1] for said in failed] == 3 * ["200 without login settings. A: OK"] + 2 * [
        "200: no reason given. A: OK"
    ]
    assert result.first("login").text.endswith("expires in 10:00 | C: cancel")  # a countdown of its own
    assert faulty.faults == []  # every answer was met
    assert not (tmp_path / "flash" / "state" / "session.json").exists()


def expired(server, token: str) -> str:
    """``token`` as it is once its hour is up: the same claims, exp in the past, signed by the server."""
    key = server.provider().keys.current.signing
    claims = jwt.decode(token, key).claims
    claims.update(iat=claims["iat"] - 7200, nbf=claims["nbf"] - 7200, exp=claims["iat"] - 3600)
    return jwt.encode({"alg": "ES256", "typ": "at+jwt", "kid": key.kid}, claims, key)


def test_a_refresh_in_trouble_keeps_the_login_and_an_expired_access_token_is_refreshed(badge_build, arcade, tmp_path):
    tokens = OAuthClient(arcade.url).log_in(Person(arcade.url, "hedy"))
    stale = expired(arcade, tokens["access_token"])
    assert "expired" in arcade.post_score(stale, 1, "stale-1").headers["www-authenticate"]
    root = tmp_path / "flash"
    (root / "state").mkdir(parents=True)
    session = root / "state" / "session.json"
    with FaultyServer(arcade.url) as faulty:
        badge = Badge(badge_build, root, faulty.url)
        login = {
            "refresh_token": tokens["refresh_token"],
            "token_endpoint": f"{faulty.url}/oauth/token",
            "client_id": "badge",
        }
        session.write_text(json.dumps({**login, "access_token": stale, "name": "Hedy"}))
        # The badge cannot know the age of a token it finds at boot: it refreshes before sending,
        # and the provider is in trouble (a 503, then a sign-in page).
        faulty.faults = [
            answer(503, b"<html>busy</html>", "text/html"),
            answer(200, b"<html>Sign in</html>", "text/html"),
        ]
        trouble = badge.play(PLAY + "60 a\n61 -\n" + TO_ACCOUNT + SEND_FROM_ACCOUNT + "wait account\nexit\n")
        kept = json.loads(session.read_text())
        # Then the refresh works, but the score meets the arcade with the access token expired after
        # all (as when it runs out before the badge counted it would): the 401 makes the badge
        # refresh again and send once more. The run played next goes with the fresh token.
        faulty.faults = [None, with_token(stale)]
        back = badge.play(PLAY + "exit\n")

    never_crashed(trouble)
    waiting = result_score(trouble)
    assert f"Saved on the badge: {SERVER}" in trouble.last("result").said
    assert f"1 still waiting: {SERVER}" in trouble.last("sent").said
    assert kept["refresh_token"] == tokens["refresh_token"]  # the login is kept
    never_crashed(back)
    assert back.names()[:2] == ["sending", "menu"]
    assert back.first("menu").text.split(" | ")[1:3] == ["Dino", f"best {waiting}"]  # sent at boot
    score = result_score(back)
    said = back.last("result").said  # the arcade of this module has players from its other tests
    assert re.search(rf"Rank #1 of \d+, best {max(score, waiting)}\. A: menu$", said), said
    assert [status for _, status in faulty.seen] == [503, 200, 200, 401, 200, 201, 201]
    assert [line for line, _ in faulty.seen[2:6]] == [
        "POST /oauth/token",
        "POST /api/v1/games/dino/scores",
        "POST /oauth/token",
        "POST /api/v1/games/dino/scores",
    ]
    assert badge.queued() == []
    assert scores_of(arcade, "Hedy") == [max(score, waiting)]
    assert json.loads(session.read_text())["refresh_token"] not in (tokens["refresh_token"], stale)


DAMAGED_SESSIONS = [
    b'{"access_token": "at-1", "token_endpo',  # cut short
    b'{"access_token": "\xff\xfe"}',  # not UTF-8
    b'["at-1", "rt-1"]',  # JSON, but not a login
    b'{"access_token": "at-1", "refresh_token": "rt-1"}',  # no endpoint to refresh it at
]

RELOGIN = """
wait login-ended
speed 1
1 b
2 -
wait login
wait sent
exit
"""


def test_a_damaged_or_refused_login_says_it_ended_keeps_the_score_and_logging_in_again_sends_it(
    badge_build, arcade, tmp_path
):
    root = tmp_path / "flash"
    score = queue_run(root, "ended-run-1", seed=2)
    session = root / "state" / "session.json"
    badge = Badge(badge_build, root, arcade.url)
    for damaged in DAMAGED_SESSIONS:
        session.write_bytes(damaged)

        later = badge.play("wait login-ended\n1 a\n2 -\nwait menu\nexit\n")

        never_crashed(later)
        ended = later.last("login-ended").said
        assert "The login saved on the badge was damaged (kept as state/session.json.bad)." in ended
        assert "1 score waits on the badge" in ended and ended.endswith("B: log in again  A: later")
        assert session.with_suffix(".json.bad").read_bytes() == damaged
        assert later.last("menu").text.split(" | ")[1:3] == ["Dino", " *"]  # marked: a score waits
        assert badge.queued() == ["dino.ended-run-1.json"]

    person = Person(arcade.url, "alan")
    client = OAuthClient(arcade.url)
    tokens = client.log_in(person)
    assert client.revoke(tokens["refresh_token"]).status_code == 200  # ended elsewhere (or expired)
    identity = httpx.get(f"{arcade.url}/api/v1/badge").json()["identity"]
    session.write_text(
        json.dumps({**{key: identity[key] for key in ("token_endpoint", "revocation_endpoint", "client_id")}, **tokens})
    )

    running = badge.start(RELOGIN)
    login = running.wait_for("login")
    person.approve(user_code=login.text.split(" | ")[-3])
    result = running.finish()

    never_crashed(result)
    ended = result.first("login-ended").said
    assert "The server no longer accepts this badge's login" in ended and "1 score waits on the badge" in ended
    assert re.search(rf"Sent 1 score\. Dino: {score}; rank #1 of \d+, best {score}\.", result.last("sent").said)
    assert badge.queued() == []
    assert scores_of(arcade, "Alan") == [score]


PLAY_ON_A_FULL_FLASH = "wait menu\n1 a\n2 -\nwait dino\n30 a\n33 -\nwait flash-full\n1 a\n2 -\nwait result\n"
FULL_FLASH = (
    PLAY_ON_A_FULL_FLASH  # the line drops: the score waits in memory
    + "60 a\n61 -\n"
    + TO_ACCOUNT
    + SEND_FROM_ACCOUNT  # the line is back: sent from memory
    + "wait account\n1 c\n2 -\n"
    + PLAY_ON_A_FULL_FLASH  # sent at once
    + "exit\n"
)


def test_a_full_flash_keeps_the_score_in_memory_and_sends_it_once_the_server_answers(badge_build, arcade, tmp_path):
    """The flash is full the way a badge's fills up: state/ is on littlefs, the badge's own
    filesystem, in an image with no block left (`arcade sim --flash-free 0`), so the queue's
    write fails with OSError ENOSPC inside littlefs, where it would on the badge."""
    root = tmp_path / "flash"
    with FaultyServer(arcade.url) as faulty:
        badge = logged_in_badge(badge_build, root, faulty, arcade.token("ida"), flash_free=0)
        faulty.faults = [drop_mid_request]  # the first score meets a dropped line
        result = badge.play(FULL_FLASH)
        again = badge.play("wait menu\nexit\n")  # turned off and on: the full flash still boots

    never_crashed(result)
    never_crashed(again)
    full = result.first("flash-full").said
    assert "The score could not be saved on the badge. It waits in memory until it is sent" in full
    first, second = [screen for screen in result.screens if screen.name == "result" and screen.kind == "partial"]
    assert f"Waits in memory: {OFFLINE}" in first.said
    assert "Sent 1 score. Dino: " in result.last("sent").said
    assert "Rank #1" in second.said
    assert len(scores_of(arcade, "ida")) == 1
    assert [status for _, status in faulty.seen] == [0, 201, 201]
    assert not (root / "state" / "queue").exists()  # the host's folder: the badge wrote on littlefs
    assert again.names() == ["menu"]


def test_damaged_queued_runs_are_kept_aside_the_others_still_go_and_damaged_bests_are_not_guessed(
    badge_build, arcade, tmp_path
):
    root = tmp_path / "flash"
    badge = logged_in_badge(badge_build, root, arcade, arcade.token("joan"))
    score = queue_run(root, "good-run-1", seed=3)
    queue = root / "state" / "queue"
    damaged = {
        "dino.cut-run-1.json": b'{"score": 34, "submission_id": "cut-run-1", "run": {"seed": 1, "ti',
        "dino.bytes-run-1.json": b'{"score": 34, "submission_id": "\xff\xfe\x00"}',
        "dino.huge-run-1.json": b'{"score": 34, "submission_id": "huge-run-1", "run": "' + b"x" * 200_000 + b'"}',
    }
    for name, data in damaged.items():
        (queue / name).write_bytes(data)
    (root / "state" / "bests.json").write_text('{"dino": {"best": "lots"}, "maze": [3]}')  # JSON of the wrong shape

    result = badge.play("wait sent\n1 a\n2 -\nwait menu\nexit\n")

    never_crashed(result)
    said = result.last("sent").said
    assert re.search(rf"Sent 1 score\. Dino: {score}; rank #1 of \d+, best {score}\.", said), said
    assert "3 refused, kept in state/rejected/." in said
    assert badge.queued() == []
    rejected = root / "state" / "rejected"
    for name, data in damaged.items():
        assert (rejected / name).read_bytes() == data
        assert json.loads((rejected / name.replace(".json", ".reason.json")).read_text())["answer"]["detail"]
    assert scores_of(arcade, "joan") == [score]
    assert result.last("menu").text.split(" | ")[1:5] == ["Dino", f"best {score}", "Maze", "2048"]  # no best guessed


def test_a_damaged_game_module_or_one_the_build_did_not_make_is_refused_and_a_good_copy_plays(badge_build, tmp_path):
    game = "games/dino.mpy"
    good = (badge_build / game).read_bytes()
    versions = {
        "cut short": good[: len(good) // 2],  # a copy that stopped half-way: importing it hangs the VM
        "another module": (badge_build / "games" / "maze.mpy").read_bytes(),  # sound, but not what the build made
    }
    root = tmp_path / "flash"
    for version in versions.values():
        build = tmp_path / "badge"
        shutil.rmtree(build, ignore_errors=True)
        shutil.copytree(badge_build, build)
        (build / game).write_bytes(version)

        result = Badge(build, root, "http://127.0.0.1:9").play(
            "wait menu\n1 a\n2 -\nwait game-error\n1 a\n2 -\nwait menu\nexit\n", timeout=30
        )

        never_crashed(result)
        said = result.last("game-error").said
        assert "games/dino.mpy is damaged: it is not the file the build made." in said
        assert "Copy the build again with arcade deploy." in said

    result = Badge(badge_build, root, "http://127.0.0.1:9").play(PLAY + "exit\n")  # copied again

    never_crashed(result)
    assert result.names()[-2:] == ["dino", "result"]
