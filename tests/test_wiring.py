"""How the app answers, whoever asks: errors as pages for browsers and JSON for the API,
an API reference that needs no network, a favicon, and no deprecated Litestar wiring."""

import re
import warnings

import pytest
from litestar import get
from litestar.exceptions import LitestarDeprecationWarning
from litestar.testing import TestClient

from arcade.platform import config
from arcade.platform.assembly import assemble
from arcade.server.app import create_app


@get("/broken", sync_to_thread=False)
def broken() -> str:
    """A plugin's page with a bug: the server's answer to a failure it did not write."""
    raise RuntimeError("a plugin bug")


@pytest.fixture
def client(tmp_path):
    arcade = assemble(config.load(environ={}), data_dir=tmp_path)
    arcade.routes.append(broken)  # as if a plugin's arcade_routes had returned it
    with warnings.catch_warnings():
        warnings.simplefilter("error", LitestarDeprecationWarning)
        app = create_app(arcade)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


BROWSER = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def test_a_browser_gets_an_error_page_that_says_what_is_missing(client):
    response = client.get("/games/pong", headers=BROWSER)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "<title>Nothing here" in response.text
    assert "no game &#39;pong&#39; on this arcade" in response.text
    unrouted = client.get("/no/such/page", headers=BROWSER)
    assert unrouted.status_code == 404 and unrouted.headers["content-type"].startswith("text/html")


def test_the_api_answers_errors_in_json_whatever_the_client_accepts(client):
    for path in ("/api/v1/games/pong/leaderboard", "/api/v1/players/nobody", "/api/v1/nothing"):
        response = client.get(path, headers=BROWSER)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/json", path
        assert response.json()["status_code"] == 404
    cursor = client.get("/api/v1/games/dino/leaderboard", params={"cursor": "zz"})
    assert cursor.status_code == 422 and cursor.json()["extra"][0]["key"] == "cursor"


def test_a_client_asking_only_for_json_gets_json_from_a_page(client):
    response = client.get("/games/pong", headers={"accept": "application/json"})
    assert response.status_code == 404 and response.json()["detail"].startswith("no game 'pong'")


def test_a_failure_is_a_500_page_or_json_and_is_logged(client, caplog):
    page = client.get("/broken", headers=BROWSER)
    assert page.status_code == 500 and "<title>Something went wrong" in page.text
    assert "a plugin bug" not in page.text  # the cause goes to the log, not to the visitor
    assert "GET /broken failed" in caplog.text and "RuntimeError: a plugin bug" in caplog.text
    assert client.get("/broken", headers={"accept": "application/json"}).json()["status_code"] == 500


def test_the_api_reference_is_a_page_that_needs_nothing_but_the_server(client):
    page = client.get("/schema", headers=BROWSER)
    assert page.status_code == 200
    for operation in ("POST /api/v1/games/{game_id}/scores", "GET /api/v1/badge", "POST /oauth/token"):
        assert operation in page.text
    assert "ScoreSubmission" in page.text and "submission_id" in page.text
    external = re.findall(r'(?:src|href)="(https?://[^"]+)"', page.text)
    assert external == []
    assert client.get("/schema/openapi.json").json()["info"]["title"] == "Badge Arcade"


def test_every_page_names_the_favicon_and_browsers_that_guess_find_it(client):
    assert '<link rel="icon" href="/static/favicon.svg"' in client.get("/", headers=BROWSER).text
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"
    assert icon.text.startswith("<svg")


# Input no honest client sends is a 4xx that says what was wrong, never a 500.


def test_a_file_where_the_device_page_wants_text_is_treated_as_no_text(client):
    account = {"username": "ada", "name": "Ada", "password": "long enough"}
    client.post("/device/sign-up", data={**account, **csrf(client.get("/device"))}, headers=BROWSER)
    code = {"code": ("code.txt", b"BCDF-GHJK-LMNP")}
    response = client.post("/device", data=csrf(client.get("/device")), files=code, headers=BROWSER)
    assert response.status_code == 400
    assert "A code has 12 letters" in response.text


def csrf(page) -> dict:
    return {"_csrf_token": re.search(r'name="_csrf_token" value="([^"]+)"', page.text)[1]}


def test_a_nul_byte_in_a_static_path_is_a_404(client):
    response = client.get("/static/arcade%00.css")
    assert response.status_code == 404
    assert client.get("/static/arcade.css").status_code == 200


def test_json_nested_a_thousand_deep_is_a_400_saying_so(client):
    token = client.app.state.arcade.identity.issue_access_token(subject="ada", name="ada")
    body = '{"score": 1, "run": ' + "[" * 1000 + "]" * 1000 + ', "submission_id": "deep-0001"}'
    response = client.post(
        "/api/v1/games/dino/scores",
        content=body,
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "the body is nested too deeply to read; send the documented shape"


# Every answer tells the browser how far to trust it.


def test_every_answer_forbids_framing_sniffing_inline_script_and_referrers(client):
    for path in ("/", "/games/dino", "/device", "/schema", "/api/v1/games", "/static/arcade.css", "/no/such/page"):
        headers = client.get(path, headers=BROWSER).headers
        policy = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy, path
        assert "unsafe-inline" not in policy, path
        assert headers["x-frame-options"] == "DENY", path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "same-origin", path
        assert "strict-transport-security" not in headers, path  # plain http: HSTS would be ignored


def test_pages_carry_no_inline_script(client):
    for path in ("/", "/games/dino", "/device", "/schema"):
        html = client.get(path, headers=BROWSER).text
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == [], path


def test_the_verification_pages_are_never_stored_by_a_browser_or_a_proxy(client):
    assert client.get("/device").headers["cache-control"] == "no-store"
    assert client.get("/device/style.css").headers["cache-control"] == "max-age=3600"


def test_an_https_arcade_asks_browsers_to_stay_on_https(tmp_path):
    settings = config.load(environ={"ARCADE_SERVER__PUBLIC_URL": "https://arcade.example.org"})
    with TestClient(create_app(assemble(settings, data_dir=tmp_path))) as client:
        assert client.get("/").headers["strict-transport-security"].startswith("max-age=")


def test_a_body_bigger_than_any_honest_one_is_refused_unread(client):
    form = client.post("/device", data={"code": "B" * 100_000, **csrf(client.get("/device"))}, headers=BROWSER)
    assert form.status_code == 413
    token = client.post("/oauth/token", data={"grant_type": "x" * 100_000, "client_id": "badge"})
    assert token.status_code == 413
    token = client.app.state.arcade.identity.issue_access_token(subject="ada", name="ada")
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    score = client.post("/api/v1/games/dino/scores", content=b" " * 2_000_000, headers=headers)
    assert score.status_code == 413
