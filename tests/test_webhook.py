"""The built-in webhook plugin against real receivers on loopback and a real `arcade serve`:
signed deliveries, retries through a receiver's outage or errors, and a badge never kept waiting."""

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import free_port, run_arcade
from tests.waiting import logged, until

SECRET = "whsec-for-tests"
QUICK = {"backoff": 0.05, "max_backoff": 0.2, "timeout": 2}


def verify(secret: str, headers, body: bytes, tolerance: int = 300) -> bool:
    """What a receiver does: the recipe of docs/plugins.md."""
    fields = dict(part.split("=", 1) for part in headers["Arcade-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{fields['t']}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["v1"]) and abs(time.time() - int(fields["t"])) <= tolerance


def webhook(*urls: str, **settings) -> str:
    """A ``[plugins.webhook]`` table (these values are written alike in JSON and TOML)."""
    lines = [f"urls = {json.dumps(list(urls))}", *(f"{key} = {json.dumps(value)}" for key, value in settings.items())]
    return "[plugins.webhook]\n" + "\n".join(lines) + "\n"


class Receiver:
    """A webhook receiver on 127.0.0.1: records each POST; answers the statuses of ``answers`` in
    turn and then 200, or holds every request until closed when it ``hangs``."""

    def __init__(self, port: int = 0, answers: tuple[int, ...] = (), hangs: bool = False):
        self.requests: list[tuple] = []
        self.released = threading.Event()
        receiver, answers = self, list(answers)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((self.headers, body))
                if hangs:
                    receiver.released.wait(30)
                self.send_response(answers.pop(0) if answers else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.http.daemon_threads = True
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http.server_address[1]}/hooks/arcade"

    def received(self, count: int = 1) -> list[tuple]:
        return until(lambda: len(self.requests) >= count and self.requests, f"{count} deliveries at {self.url}")

    def close(self) -> None:
        self.released.set()
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def receivers():
    started = []

    def start(**options) -> Receiver:
        started.append(Receiver(**options))
        return started[-1]

    yield start
    for receiver in started:
        receiver.close()


def test_each_accepted_score_is_posted_once_signed_with_the_secret_from_the_environment(make_server, receivers):
    receiver = receivers()
    server = make_server(webhook(receiver.url, **QUICK), env={"ARCADE_PLUGINS__WEBHOOK__SECRET": SECRET})
    token = server.token("ada")
    accepted = server.post_score(token, 12, "run-000001")
    assert accepted.status_code == 201

    [(headers, body)] = receiver.received()
    assert headers["Content-Type"] == "application/json" and headers["Arcade-Event"] == "score.accepted"
    assert verify(SECRET, headers, body)
    assert not verify(SECRET, headers, body.replace(b"12", b"99")) and not verify("guess", headers, body)
    event = json.loads(body)
    assert event == {
        "id": headers["Arcade-Delivery"], "type": "score.accepted", "game": "balloon", "record": accepted.json()
    }

    assert server.post_score(token, 12, "run-000001").headers["idempotent-replayed"] == "true"
    server.post_score(token, 30, "run-000002")
    second = json.loads(receiver.received(2)[1][1])
    assert second["record"]["submission_id"] == "run-000002" and second["id"] != event["id"]


def test_a_receiver_that_is_down_gets_the_delivery_once_it_is_back(make_server, receivers):
    port = free_port()
    server = make_server(webhook(f"http://127.0.0.1:{port}/hooks", secret=SECRET, attempts=20, **{**QUICK, "max_backoff": 0.5}))
    assert server.post_score(server.token("ada"), 12, "run-000001").status_code == 201
    logged(server, "attempt 1 of 20 failed: ConnectError")

    receiver = receivers(port=port)
    [(headers, body)] = receiver.received()
    assert verify(SECRET, headers, body)
    assert json.loads(body)["record"]["submission_id"] == "run-000001"


def test_a_receiver_answering_500_gets_the_same_delivery_again(make_server, receivers):
    receiver = receivers(answers=(500,))
    server = make_server(webhook(receiver.url, secret=SECRET, **QUICK))
    assert server.post_score(server.token("ada"), 12, "run-000001").status_code == 201

    first, second = receiver.received(2)
    assert first[0]["Arcade-Delivery"] == second[0]["Arcade-Delivery"] and first[1] == second[1]
    assert verify(SECRET, *second)
    assert "attempt 1 of 5 failed: answered 500" in logged(server, "answered 500")


def test_a_hanging_receiver_never_keeps_the_badge_waiting_nor_the_shutdown(make_server, receivers):
    receiver = receivers(hangs=True)
    server = make_server(webhook(receiver.url, secret=SECRET, timeout=60, queue=1, grace=0.2))
    token = server.token("ada")
    for number in range(1, 4):  # the badge's client gives up after 5 s, long before the webhook's 60
        assert server.post_score(token, number, f"run-00000{number}").status_code == 201
    receiver.received()
    logged(server, "queue full (1); dropped the oldest delivery")

    assert server.stop() == 0
    logged(server, "shut down with 2 deliveries not delivered")


@pytest.mark.parametrize(
    "table, env, message",
    [
        (webhook("https://hooks.example/arcade"), {}, "arcade.toml: plugins.webhook.secret: expected a secret"),
        (webhook("hooks.example", secret="s"), {}, "plugins.webhook.urls[0]: expected an http:// or https:// URL"),
        (
            webhook("https://hooks.example/a", "http://hooks.example:port/b", secret="s"),
            {},
            "plugins.webhook.urls[1]: expected an http:// or https:// URL, got 'http://hooks.example:port/b'",
        ),
        (
            webhook("https://hooks.example/arcade", secret="s"),
            {"ARCADE_PLUGINS__WEBHOOK__TIMEOUT": "0"},
            "ARCADE_PLUGINS__WEBHOOK__TIMEOUT (environment): plugins.webhook.timeout: expected `float` > 0.0",
        ),
    ],
)
def test_wrong_webhook_settings_stop_start_up_naming_the_key(tmp_path, table, env, message):
    (tmp_path / "arcade.toml").write_text(table)
    result = run_arcade("serve", "--port", "0", cwd=tmp_path, env=env)
    assert result.returncode == 2 and message in result.stderr, result.stderr
