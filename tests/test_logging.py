"""`arcade serve` says what it does: one access line a request, one line a refused token, in one
plain format on stderr, at the level chosen by `--log-level` or `[server] log_level`."""

import re
import time

import httpx

from tests.conftest import run_arcade

ACCESS = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d INFO arcade\.access: 127\.0\.0\.1 (?P<method>[A-Z]+) (?P<path>\S+) "
    r"(?P<status>\d{3}) \d+\.\d ms$"
)


def wait_for_line(server, text: str) -> list[str]:
    """The server's log lines once one of them holds ``text`` (written after the response is sent)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        lines = server.log.read_text().splitlines()
        if any(text in line for line in lines):
            return lines
        time.sleep(0.05)
    raise AssertionError(f"no log line with {text!r} in:\n{server.log.read_text()}")


def access(lines: list[str]) -> list[tuple[str, str, str]]:
    return [match.group("method", "path", "status") for match in map(ACCESS.match, lines) if match]


def test_each_request_is_one_access_line_without_its_query_or_token(server):
    token = server.token("ada")
    httpx.get(f"{server.url}/api/v1/games/balloon/leaderboard", params={"limit": 5, "secret": "hunter2"})
    httpx.get(f"{server.url}/no/such/page")
    assert server.post_score(token, 7, "ada-run-1").status_code == 201

    lines = wait_for_line(server, "POST /api/v1/games/balloon/scores")

    assert access(lines)[-3:] == [
        ("GET", "/api/v1/games/balloon/leaderboard", "200"),
        ("GET", "/no/such/page", "404"),
        ("POST", "/api/v1/games/balloon/scores", "201"),
    ]
    log = "\n".join(lines)
    assert "hunter2" not in log and "limit" not in log
    assert token not in log and token.split(".")[2] not in log
    assert "HTTP/1.1" not in log  # uvicorn's own access log stays off


def test_a_live_page_is_logged_when_its_stream_ends(server):
    with httpx.stream("GET", f"{server.url}/games/balloon/events") as events:
        lines = events.iter_lines()  # kept: a dropped iterator closes the connection
        assert "event: live" in (next(lines), next(lines))  # after the event's id
        assert "/games/balloon/events" not in server.log.read_text()  # still streaming

    lines = wait_for_line(server, "GET /games/balloon/events")

    assert ("GET", "/games/balloon/events", "200") in access(lines)


def post_without_token(server) -> httpx.Response:
    return httpx.post(f"{server.url}/api/v1/games/balloon/scores", json={})


def test_a_refused_token_is_logged_with_the_check_and_the_address_never_the_token(server):
    secret = "not-a-token-but-a-secret"
    assert post_without_token(server).status_code == 401
    assert server.post_score(secret, 1, "r-2").status_code == 401
    assert server.post_score(server.token("ada")[:-4] + "AAAA", 1, "r-3").status_code == 401

    lines = wait_for_line(server, "bad_signature")

    refused = [line.split(" WARNING arcade.auth: refused 127.0.0.1 POST /api/v1/games/balloon/scores: ") for line in lines]
    assert [parts[1] for parts in refused if len(parts) == 2] == [
        "no bearer token",
        "the token could not be verified (decode_error: Invalid JSON Web Signature)",
        "the token could not be verified (bad_signature)",
    ]
    assert secret not in "\n".join(lines)


def test_the_level_from_the_settings_keeps_access_lines_out(make_server):
    server = make_server('log_level = "warning"\n')
    httpx.get(f"{server.url}/api/v1/games")
    post_without_token(server)

    lines = wait_for_line(server, "no bearer token")

    assert access(lines) == []


def test_the_level_on_the_command_line_wins_over_the_settings(make_server):
    server = make_server('log_level = "warning"\n', args=("--log-level", "debug"))
    httpx.get(f"{server.url}/api/v1/games")

    assert ("GET", "/api/v1/games", "200") in access(wait_for_line(server, "GET /api/v1/games"))


def test_an_unknown_level_is_refused(tmp_path):
    result = run_arcade("serve", "--log-level", "loud", cwd=tmp_path)

    assert result.returncode == 2 and "invalid choice: 'loud'" in result.stderr


def test_a_verification_link_is_logged_as_its_route_never_as_the_secret_itself(server):
    grant = httpx.post(f"{server.url}/oauth/device_authorization", data={"client_id": "badge"}).json()
    link = grant["verification_uri_complete"].rsplit("/", 1)[1]
    assert httpx.get(grant["verification_uri_complete"]).status_code == 200

    lines = wait_for_line(server, "GET /device/")

    assert ("GET", "/device/{link}", "200") in access(lines)
    assert link not in "\n".join(lines)
