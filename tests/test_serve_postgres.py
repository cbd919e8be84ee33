"""A real `arcade serve` on PostgreSQL: a badge logs in and posts, the board and the login
outlive restarts, and a database that goes away is a 503 until it comes back by itself."""

import signal
from urllib.parse import urlsplit

import pytest

from tests.badge_client import Badge
from tests.conftest import RunningServer
from tests.people import Person
from tests.stores import POSTGRES, postgres_dsn, postgres_settings
from tests.tcp_proxy import TcpProxy


def names_and_scores(server: RunningServer) -> list[tuple[str, int]]:
    board = server.get("/api/v1/games/balloon/leaderboard")
    assert board.status_code == 200, board.text
    return [(entry["player"]["name"], entry["score"]) for entry in board.json()["entries"]]


def test_a_badge_logs_in_posts_and_everything_outlives_restarts(make_server, postgres_schema):
    server = make_server(postgres_settings(postgres_schema))
    badge = Badge(server.url)
    tokens = badge.log_in(Person(server.url, "ada"))
    first = server.post_score(tokens["access_token"], 7, "pg-run-0001")
    assert first.status_code == 201, first.text
    assert server.post_score(server.token("bob"), 9, "pg-run-0001").status_code == 201
    assert names_and_scores(server) == [("bob", 9), ("Ada", 7)]

    server.restart()
    assert names_and_scores(server) == [("bob", 9), ("Ada", 7)]
    refreshed = badge.refresh(tokens["refresh_token"])  # the login is in the database too
    assert refreshed.status_code == 200, refreshed.text
    again = server.post_score(refreshed.json()["access_token"], 7, "pg-run-0001")
    assert (again.status_code, again.headers["idempotent-replayed"]) == (201, "true")
    assert again.json() == first.json()

    server.stop(signal.SIGKILL)  # what was acknowledged is committed
    server.start()
    assert server.post_score(refreshed.json()["access_token"], 12, "pg-run-0002").status_code == 201
    assert names_and_scores(server) == [("Ada", 12), ("bob", 9)]
    assert not (server.data / "arcade.json").exists()  # nothing went to a TinyDB file


@pytest.fixture
def proxy():
    """The test database behind a loopback port that can be cut and restored."""
    address = urlsplit(POSTGRES)
    with TcpProxy((address.hostname, address.port or 5432)) as proxy:
        yield proxy


def test_while_postgresql_is_away_requests_are_503_and_the_server_recovers_by_itself(
    make_server, postgres_schema, proxy
):
    dsn = postgres_dsn(port=proxy.port)
    server = make_server(postgres_settings(postgres_schema, dsn))
    token = server.token("ada")
    assert server.post_score(token, 3, "away-run-01").status_code == 201

    proxy.cut()
    refused = server.post_score(token, 5, "away-run-02")
    assert refused.status_code == 503, refused.text
    assert refused.headers["retry-after"] == "2"
    assert f"PostgreSQL at {dsn} cannot be reached" in refused.json()["detail"]
    board = server.get("/api/v1/games/balloon/leaderboard")
    assert (board.status_code, board.headers["retry-after"]) == (503, "2")
    page = server.get("/games/balloon", headers={"accept": "text/html"})
    assert page.status_code == 503 and "Please try again" in page.text

    proxy.restore()
    retried = server.post_score(token, 5, "away-run-02")  # the badge sends it again, unchanged
    assert retried.status_code == 201, retried.text
    assert names_and_scores(server) == [("ada", 5)]
    assert server.process.poll() is None  # the same process: it reconnected by itself
    assert "cannot be reached" in server.log.read_text()
