"""Scores from the simulated badge to the real server: the offline queue, exactly-once
delivery, the rank on the badge, refused runs kept aside, a token the server rejects."""

import json
import shutil
import socket
import threading

import httpx
import pytest

from arcade.sdk.models import player_id
from tests.faults import FaultyServer
from tests.people import Person
from tests.simulator import PLAY_DINO, Badge, logged_in_badge


def leaderboard(server) -> list[tuple[str, int]]:
    page = httpx.get(f"{server.url}/api/v1/games/dino/leaderboard").json()
    return [(entry["player"]["name"], entry["score"]) for entry in page["entries"]]


def test_the_result_screen_shows_the_rank_once_the_score_is_on_the_leaderboard(badge_build, server, tmp_path):
    badge = logged_in_badge(badge_build, tmp_path / "flash", server, server.token("ada"))

    result = badge.play(PLAY_DINO)

    assert result.returncode == 0, result.output
    score = int(result.last("result").text.split(" | ")[2].split()[0])
    assert result.last("result").said.endswith(f"Rank #1 of 1, best {score}. A: menu")
    assert leaderboard(server) == [("ada", score)]
    assert badge.queued() == []
    assert result.last("menu").text.split(" | ")[1:3] == ["Dino", f"best {score}"]  # nothing left unsent


def test_a_score_made_offline_waits_and_is_delivered_once_when_the_server_is_back(badge_build, make_server, tmp_path):
    server = make_server(start=False)
    badge = logged_in_badge(badge_build, tmp_path / "flash", server, server.token("ada"))

    offline = badge.play(PLAY_DINO)

    score = int(offline.last("result").text.split(" | ")[2].split()[0])
    assert (
        "Saved on the badge: the server cannot be reached; it will be sent at the next" in offline.last("result").said
    )
    [queued] = badge.queued()
    kept = tmp_path / "kept.json"
    shutil.copyfile(tmp_path / "flash" / "state" / "queue" / queued, kept)

    server.start()
    back = badge.play("wait menu\nexit\n")

    assert back.names() == ["sending", "menu"]
    assert back.last("menu").text.split(" | ")[1:3] == ["Dino", f"best {score}"]
    assert badge.queued() == []
    assert leaderboard(server) == [("ada", score)]

    # The answer was lost on the way (the badge kept the run): sending it again stores nothing twice.
    shutil.copyfile(kept, tmp_path / "flash" / "state" / "queue" / queued)
    again = badge.play("wait menu\nexit\n")

    assert again.names() == ["sending", "menu"]
    assert badge.queued() == []
    assert leaderboard(server) == [("ada", score)]
    assert badge.state("bests.json") == {"dino": {"best": score, "rank": 1}}


def test_a_run_the_server_refuses_is_kept_aside_with_the_reason(badge_build, server, tmp_path):
    badge = logged_in_badge(badge_build, tmp_path / "flash", server, server.token("ada"))
    queue = tmp_path / "flash" / "state" / "queue"
    queue.mkdir()
    refused = {"score": -5, "submission_id": "refused-run-1", "run": {"seed": 1, "ticks": 3, "inputs": []}}
    (queue / "dino.refused-run-1.json").write_text(json.dumps(refused))

    result = badge.play("wait sent\n1 a\n2 -\nwait menu\nexit\n")

    assert result.names() == ["sending", "sent", "menu"]
    assert "1 refused, kept in state/rejected/." in result.last("sent").said
    assert badge.queued() == []
    rejected = tmp_path / "flash" / "state" / "rejected"
    assert json.loads((rejected / "dino.refused-run-1.json").read_text()) == refused
    reason = json.loads((rejected / "dino.refused-run-1.reason.json").read_text())
    assert 400 <= reason["status"] < 500
    assert "outside Dino's bounds" in reason["answer"]["detail"]


def test_a_token_the_server_rejects_keeps_the_score_and_asks_to_log_in_again(badge_build, server, tmp_path):
    badge = logged_in_badge(badge_build, tmp_path / "flash", server, "not-a-token")

    result = badge.play(PLAY_DINO.replace("wait menu\nexit", "wait menu\n1 b\n2 -\nwait account\nexit"))

    assert "Saved on the badge: your login ended: log in again to send it." in result.last("result").said
    assert result.last("result").said.endswith("A: menu  B: log in and send")
    assert len(badge.queued()) == 1
    assert badge.state("session.json") is None
    assert result.last("account").text.startswith("Not logged in | Log in | Send waiting scores | 1")
    assert "not-a-token" not in result.output


def stranger(reply: bytes):
    """A server that is not the arcade: it reads each request and sends ``reply``, then hangs up."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:  # closed: the test is over
                return
            with connection, connection.makefile("rb") as request:
                length = 0
                line = request.readline()
                while line not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                    line = request.readline()
                request.read(length)
                connection.sendall(reply)

    threading.Thread(target=serve, daemon=True).start()
    return listener, f"http://127.0.0.1:{listener.getsockname()[1]}"


SIGN_IN_PAGE = b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html>Sign in to the Wi-Fi</html>"


@pytest.mark.parametrize(
    ("reply", "problem"),
    [(b"", "the server cannot be reached"), (SIGN_IN_PAGE, "the answer was garbled")],
    ids=["hangs-up", "wifi-sign-in-page"],
)
def test_a_server_that_is_not_the_arcade_keeps_the_score_waiting(badge_build, tmp_path, reply, problem):
    listener, url = stranger(reply)
    root = tmp_path / "flash"
    (root / "state" / "queue").mkdir(parents=True)
    (root / "state" / "session.json").write_text(
        json.dumps({"access_token": "at-1", "token_endpoint": f"{url}/oauth/token", "client_id": "badge"})
    )
    run = {"score": 5, "submission_id": "waiting-run-1", "run": {"seed": 1, "ticks": 3, "inputs": []}}
    (root / "state" / "queue" / "dino.waiting-run-1.json").write_text(json.dumps(run))
    badge = Badge(badge_build, root, url)

    with listener:
        result = badge.play("wait menu\n1 b\n2 -\nwait account\n1 down\n2 -\n3 a\n4 -\nwait sent\nexit\n")

    assert result.names() == ["sending", "menu", "account", "sending", "sent"], result.output
    assert f"1 still waiting: {problem}" in result.last("sent").said
    assert badge.queued() == ["dino.waiting-run-1.json"]


def test_a_score_over_the_players_budget_stays_queued_on_the_badge(badge_build, make_server, tmp_path):
    server = make_server("scores_per_minute = 1\n")  # under the [server] table the fixture writes
    token = server.token("ada")

    def another_run_first(handler, request) -> int:
        """Another of ada's runs takes the minute's one score just before the badge's arrives: the
        budget is spent a loopback round trip before, however long the badge took to play."""
        assert server.post_score(token, 3, "ada-earlier-run").status_code == 201
        return handler.send(handler.server.forward(request))

    with FaultyServer(server.url) as faulty:
        faulty.faults = [another_run_first]
        badge = logged_in_badge(badge_build, tmp_path / "flash", faulty, token)
        result = badge.play(PLAY_DINO)

    assert faulty.seen == [("POST /api/v1/games/dino/scores", 429)]
    assert "Saved on the badge: the server asks to wait a minute; it will be sent later." in result.last("result").said
    assert len(badge.queued()) == 1
    assert not (tmp_path / "flash" / "state" / "rejected").exists()


def test_a_banned_players_badge_says_so_and_does_not_send_that_score_again(badge_build, make_server, tmp_path):
    server = make_server('[admins]\naccounts = ["boss"]\n')
    badge = logged_in_badge(badge_build, tmp_path / "flash", server, server.token("ada"))
    assert badge.play(PLAY_DINO).returncode == 0
    boss = Person(server, "boss")
    boss.sign_up(boss.browser.get("/admin"))
    token = boss.browser.get("/admin/api/session").json()["csrf_token"]
    ban = {"action": "ban", "player": player_id("urn:arcade:builtin", "ada"), "reason": "played with a script"}
    assert boss.browser.post("/admin/api/moderations", json=ban, headers={"x-csrf-token": token}).status_code == 201

    result = badge.play(PLAY_DINO)

    said = result.last("result").said
    assert "Banned: This player is banned from the arcade's boards: played with a script" in said
    assert "Not sent again" in said
    assert badge.queued() == []
    (reason,) = (tmp_path / "flash" / "state" / "rejected").glob("*.reason.json")
    assert json.loads(reason.read_text())["status"] == 403
    again = badge.play("wait menu\nexit\n")
    assert again.names() == ["menu"]  # nothing waits: the refused score is not sent again
    assert leaderboard(server) == []
