"""The badge's login against the quirks of real identity providers, played by a small
provider on loopback (Auth0, Google and others cannot run here): errors sent with HTTP 200,
403 or 429, ``verification_url`` instead of ``verification_uri``, no ``interval``, no
``verification_uri_complete``, a provider in trouble for a moment."""

import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from tests.simulator import Badge

GRACE = "eyJhbGciOiJub25lIn0.eyJuYW1lIjogIkdyYWNlIEhvcHBlciJ9.c2ln"  # an ID token naming Grace Hopper
TOKENS = {"access_token": "at-secret-1", "refresh_token": "rt-secret-1", "id_token": GRACE, "expires_in": 86400}
DEVICE = {"device_code": "dc-1", "user_code": "WDJB-MJHT", "verification_url": "https://example.com/activate", "expires_in": 1800}
LOG_IN = """
wait menu
1 b
2 -
wait account
1 a
2 -
wait login
wait {screen}
{then}
exit
"""


class Provider(ThreadingHTTPServer):
    """Answers the device flow from a list of (status, body) for the token endpoint."""

    def __init__(self, token_answers):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.token_answers = list(token_answers)
        self.device = DEVICE
        self.forms = {"device": [], "token": []}
        self.bodies = []

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        url = self.server.url
        identity = {
            "issuer": url,
            "device_authorization_endpoint": f"{url}/oauth/device/code",
            "token_endpoint": f"{url}/oauth/token",
            "client_id": "badger",
            "scope": "openid profile offline_access",
            "audience": "https://arcade.example/api",
        }
        self._answer(200, {"api_version": 1, "server_time": 0, "games": [], "identity": identity})

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        self.server.bodies.append(body)
        if self.path == "/oauth/device/code":
            self.server.forms["device"].append(parse_qs(body))
            self._answer(200, self.server.device)
        else:
            self.server.forms["token"].append(parse_qs(body))
            self._answer(*self.server.token_answers.pop(0))

    def _answer(self, status, body):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def provider(request):
    server = Provider(request.param)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    "provider",
    [
        [
            (403, {"error": "authorization_pending"}),
            (429, {"error": "slow_down"}),
            (200, {"error": "authorization_pending"}),
            (503, "<html>busy</html>"),
            (200, TOKENS),
        ]
    ],
    indirect=True,
)
def test_a_quirky_provider_still_logs_the_badge_in(badge_build, provider, tmp_path):
    badge = Badge(badge_build, tmp_path / "flash", provider.url)

    result = badge.play(LOG_IN.format(screen="account", then=""))

    assert result.returncode == 0, result.output
    assert result.first("login").text == "Log in | Open | https://example.com/activate | and enter | WDJB-MJHT | expires in 30:00 | C: cancel"
    countdown = result.last("login")  # refreshed in its own band while the badge polls
    assert countdown.kind == "partial" and countdown.text.split(" | ")[-1].startswith("expires in 29:")
    assert result.last("account").text.startswith("Logged in as Grace Hopper")
    [device] = provider.forms["device"]
    api = {"audience": ["https://arcade.example/api"], "resource": ["https://arcade.example/api"]}  # Auth0's way, RFC 8707's
    assert device == {"client_id": ["badger"], "scope": ["openid profile offline_access"], "device_name": ["Badger 2040 W (simulated)"], **api}
    assert "audience=https%3A%2F%2Farcade.example%2Fapi" in provider.bodies[0]  # encoded, not pasted
    assert provider.forms["token"] == 5 * [
        {"grant_type": ["urn:ietf:params:oauth:grant-type:device_code"], "device_code": ["dc-1"], "client_id": ["badger"], **api}
    ]
    session = badge.state("session.json")
    assert (session["access_token"], session["refresh_token"]) == ("at-secret-1", "rt-secret-1")
    assert "secret" not in result.output


@pytest.mark.parametrize(
    "provider", [[(200, {"error": "invalid_client", "error_description": "Unknown client badger"})]], indirect=True
)
def test_an_error_sent_with_http_200_stops_the_login_and_says_why(badge_build, provider, tmp_path):
    badge = Badge(badge_build, tmp_path / "flash", provider.url)

    result = badge.play(LOG_IN.format(screen="login-failed", then="1 a\n2 -\nwait account"))

    assert result.returncode == 0, result.output
    assert "The identity provider answered 200: Unknown client badger." in result.last("login-failed").said
    assert result.last("account").text.startswith("Not logged in")
    assert badge.state("session.json") is None


@pytest.mark.parametrize("provider", [[(200, TOKENS)]], indirect=True)
def test_a_link_too_long_for_a_qr_code_shows_the_url_and_the_code(badge_build, provider, tmp_path):
    badge = Badge(badge_build, tmp_path / "flash", provider.url)
    provider.device = {**DEVICE, "verification_uri_complete": "https://example.com/activate?" + "x" * 240}

    result = badge.play(LOG_IN.format(screen="account", then=""))

    assert result.returncode == 0, result.output
    assert result.first("login").text.startswith("Log in | Open | https://example.com/activate | and enter | WDJB-MJHT")
    assert result.last("account").text.startswith("Logged in as Grace Hopper")


@pytest.mark.parametrize(
    "uri, scannable",
    [
        ("http://127.0.0.1:54321/device", True),  # the built-in provider on a laptop
        ("https://arcade.example.org:8443/activate", True),  # a QR code smaller, so the host fits beside it
        ("http://[fd12:3456:789a::1]:8000/device", True),  # an IPv6 address, colons and all
        ("https://scores.badge-arcade.example:8443/oauth/device/activate", False),  # too long beside any QR code
    ],
)
@pytest.mark.parametrize("provider", [[]], indirect=True)
def test_the_login_url_breaks_only_at_its_slashes_never_inside_the_host_or_port(
    badge_build, provider, tmp_path, zbarimg, uri, scannable
):
    complete = uri + "?user_code=WDJB-MJHT"
    provider.device = {**DEVICE, "verification_uri": uri, "verification_uri_complete": complete}
    badge = Badge(badge_build, tmp_path / "flash", provider.url)
    shots = tmp_path / "shots"

    result = badge.play(LOG_IN.format(screen="login", then=""), screenshots=shots)

    assert result.returncode == 0, result.output
    texts = result.first("login").text.split(" | ")
    opening = "Scan, or open" if scannable else "Open"
    lines = texts[texts.index(opening) + 1 : texts.index("and enter")]
    assert "".join(lines) == uri
    host = uri.split("/")[2]
    assert any(host in line for line in lines), lines  # the host and port on one line
    for before, after in zip(lines, lines[1:]):
        assert before.endswith("://") or after.startswith("/"), lines
    if scannable:
        shot = sorted(shots.glob("*-login.png"))[-1]
        read = subprocess.run([zbarimg, "--raw", "-q", str(shot)], capture_output=True, text=True, timeout=60)
        assert read.stdout.strip() == complete
