"""`arcade serve` shutting down: requests in flight are answered, and every acknowledged score stays."""

import json
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
from arcade.plugins.idp_builtin import keys
from arcade.plugins.idp_builtin.provider import BuiltinProvider, BuiltinSettings

from tests.runs import balloon_run
from tests.waiting import logged


def local_tokens(server, count: int) -> list[str]:
    """Tokens for many players, signed with the server's key (the `arcade token` way, in bulk)."""
    provider = BuiltinProvider(server.url, keys.KeyRing.in_folder(server.data), BuiltinSettings())
    return [provider.issue_access_token(subject=f"p{index}", name=f"p{index}") for index in range(count)]


def test_sigterm_answers_requests_in_flight_and_loses_no_acknowledged_score(server):
    tokens = local_tokens(server, 300)
    acknowledged, refused = [], []
    halfway = threading.Event()
    events = httpx.Client(timeout=None)
    live = events.stream("GET", f"{server.url}/games/balloon/events").__enter__()  # an open live page

    def submit(index: int):
        try:
            response = server.post_score(tokens[index], index, f"p{index}-run-1")
        except httpx.TransportError:
            refused.append(index)  # the server was no longer listening: never acknowledged
            return
        if response.status_code == 201:
            acknowledged.append(index)
        if len(acknowledged) == 50:
            halfway.set()

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(submit, index) for index in range(300)]
        halfway.wait(60)
        assert server.stop() == 0  # SIGTERM; returns once the process has exited
        for future in futures:
            future.result()
    live.close()
    events.close()

    assert len(acknowledged) >= 50 and len(acknowledged) + len(refused) == 300
    server.start()
    board = httpx.get(f"{server.url}/api/v1/games/balloon/leaderboard", params={"limit": 100})
    stored, cursor = [], None
    while True:
        page = httpx.get(
            f"{server.url}/api/v1/games/balloon/leaderboard",
            params={"limit": 100, **({"cursor": cursor} if cursor else {})},
        ).json()
        stored += [entry["score"] for entry in page["entries"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert board.status_code == 200
    assert set(acknowledged) <= set(stored)
    assert len(stored) == len(set(stored))


def test_a_body_sent_in_the_same_packets_as_its_head_is_a_body_however_big(server):
    """Only the head counts against its limit: a score of 300 KiB (a long run is about that) sent
    in one write with its head is read by the route, which answers it (was a 431)."""
    body = json.dumps({"score": 1, "run": {"seed": 1}, "submission_id": "big-body-1", "pad": "x" * 300_000})
    head = (
        f"POST /api/v1/games/balloon/scores HTTP/1.1\r\nHost: arcade\r\nAuthorization: Bearer {server.token('ada')}"
        f"\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as client:
        client.sendall(head.encode() + body.encode())
        answer = b"".join(iter(lambda: client.recv(65536), b""))  # until the server closes
    assert answer.startswith(b"HTTP/1.1 422 "), answer
    assert b"unknown field `pad`" in answer


def test_a_request_head_past_its_limit_is_a_431_before_it_is_read_and_the_next_request_is_served(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as client:
        client.sendall(b"GET /api/v1/games HTTP/1.1\r\nHost: arcade\r\nX-Big: " + b"x" * 200_000)
        answer = client.recv(4096)
    assert answer.startswith(b"HTTP/1.1 431 ")
    assert b"at most 32 KiB" in answer
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as client:  # keep-alive, two requests
        request = b"GET /api/v1/games HTTP/1.1\r\nHost: arcade\r\nX-Fine: " + b"y" * 8_000 + b"\r\n\r\n"
        client.sendall(request + request)
        answers = b""
        while answers.count(b"HTTP/1.1 200 OK") < 2:
            answers += client.recv(65536)
    assert b"431" not in answers


def test_a_client_gone_before_its_body_arrived_is_logged_as_gone_not_as_a_failure(server):
    """A badge whose Wi-Fi drops mid-request is no failure of the server: no error, no traceback."""
    body = json.dumps({"score": 3, "run": balloon_run(3), "submission_id": "gone-run-0001"}).encode()
    head = (
        f"POST /api/v1/games/balloon/scores HTTP/1.1\r\nHost: arcade\r\nAuthorization: Bearer {server.token('ada')}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as client:
        client.sendall(head + body[: len(body) // 2])

    log = logged(server, "POST /api/v1/games/balloon/scores 400")
    assert "went away before its request arrived whole" in log
    assert " ERROR " not in log and "Traceback" not in log
    assert server.get("/api/v1/games/balloon/leaderboard").json()["entries"] == []
