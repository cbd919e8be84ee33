"""The badge API over HTTP, against the arcade's app in this process: the badge's side of the contract."""

import time

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey

from tests.builtin_keys import folder_keys
from tests.conftest import run_arcade


def test_a_token_from_the_cli_posts_a_score_that_ranks(app):
    """`arcade token`, run in the arcade's folder, signs with the key the arcade verifies with."""
    result = run_arcade("token", "--player", "ada", cwd=app.folder)
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    response = app.post_score(token, 120, "run-000001")
    assert response.status_code == 201, response.text
    answer = response.json()
    assert (answer["score"], answer["best"], answer["rank"], answer["new_best"]) == (120, 120, 1, True)
    assert answer["players"] == 1
    assert answer["player"]["name"] == "ada"
    board = app.get("/api/v1/games/balloon/leaderboard").json()
    assert [(e["rank"], e["player"]["name"], e["score"]) for e in board["entries"]] == [(1, "ada", 120)]


def test_the_same_submission_id_answers_the_same_and_stores_nothing_twice(app):
    token = app.token("ada")
    first = app.post_score(token, 120, "run-000001")
    app.post_score(app.token("bob"), 300, "run-000001")
    again = app.post_score(token, 120, "run-000001")
    assert again.status_code == first.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    board = app.get("/api/v1/games/balloon/leaderboard").json()
    assert [(e["player"]["name"], e["score"]) for e in board["entries"]] == [("bob", 300), ("ada", 120)]
    conflict = app.post_score(token, 121, "run-000001")
    assert conflict.status_code == 409
    assert "use a new submission_id" in conflict.json()["detail"]


def test_an_unknown_game_is_404_even_without_a_token(shared_app):
    response = shared_app.post("/api/v1/games/tetris/scores", json={})
    assert response.status_code == 404
    assert "GET /api/v1/games lists them" in response.json()["detail"]
    assert shared_app.get("/api/v1/games/tetris/leaderboard").status_code == 404


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({"score": 1_000_000, "run": {"seed": 1}, "submission_id": "run-000001"}, "score", "between 0 and 999999"),
        ({"score": -1, "run": {"seed": 1}, "submission_id": "run-000001"}, "score", "between 0 and 999999"),
        ({"score": "12", "run": {"seed": 1}, "submission_id": "run-000001"}, "score", "Expected `int`, got `str`"),
        ({"score": 12, "submission_id": "run-000001"}, "run", "missing required field"),
        ({"score": 12, "run": {"seed": 1}, "submission_id": "short"}, "submission_id", "matching regex"),
        ({"score": 12, "run": {"seed": 1, "inputs": [[1, 999]]}, "submission_id": "run-000001"}, "run.inputs[0][1]", "<= 255"),
        ({"score": 12, "run": {"seed": 1}, "submission_id": "run-000001", "extra": 1}, "extra", "unknown field"),
    ],
)
def test_a_malformed_body_is_422_naming_the_field_and_why(shared_app, body, field, message):
    response = shared_app.post(
        "/api/v1/games/dino/scores", json=body, headers={"Authorization": f"Bearer {shared_app.token('ada')}"}
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    text = " ".join(f"{item.get('key')} {item['message']}" for item in problem.get("extra", []))
    assert field in text + problem["detail"] and message.lower() in (text + problem["detail"]).lower()


def test_a_body_that_is_not_json_is_400_saying_so(app):
    """Not JSON at all is a syntax error (400); JSON with a wrong field is a 422 naming the field."""
    response = app.post(
        "/api/v1/games/dino/scores",
        content=b"score=12",
        headers={"Authorization": f"Bearer {app.token('ada')}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert "JSON is malformed" in response.json()["detail"]


def sign(server, claims: dict, header: dict | None = None, key=None) -> str:
    """A token signed with the server's own key (or ``key``), with chosen claims."""
    signing = key or folder_keys(server.data).keys[0]
    now = int(time.time())
    base = {
        "iss": server.url,
        "sub": "mallory",
        "aud": f"{server.url}/api",
        "iat": now,
        "exp": now + 600,
        "name": "mallory",
    }
    base.update(claims)
    head = {"alg": "ES256", "typ": "at+jwt", "kid": getattr(signing, "kid", None) or "k"}
    head.update(header or {})
    return jwt.encode(head, {k: v for k, v in base.items() if v is not None}, signing)


def unsigned(claims: dict) -> str:
    import base64
    import json

    def part(value):
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'at+jwt'})}.{part(claims)}."


BAD_TOKENS = {
    "expired": lambda s: sign(s, {"exp": int(time.time()) - 120}),
    "not yet valid": lambda s: sign(s, {"nbf": int(time.time()) + 600}),
    "wrong issuer": lambda s: sign(s, {"iss": "https://evil.example"}),
    "wrong audience": lambda s: sign(s, {"aud": "https://other.example/api"}),
    "no expiry": lambda s: sign(s, {"exp": None}),
    "wrong typ": lambda s: sign(s, {}, {"typ": "JWT"}),
    "another key": lambda s: sign(s, {}, key=ECKey.generate_key("P-256", private=True)),
    "symmetric algorithm": lambda s: sign(s, {}, {"alg": "HS256"}, key=OctKey.generate_key(256)),
    "alg none": lambda s: unsigned({"iss": s.url, "sub": "x", "aud": f"{s.url}/api", "exp": int(time.time()) + 60}),
    "garbage": lambda s: "not.a.jwt",
}


@pytest.mark.parametrize("kind", BAD_TOKENS)
def test_a_bad_token_is_401_with_www_authenticate(shared_app, kind):
    response = shared_app.post_score(BAD_TOKENS[kind](shared_app), 5, "run-000001")
    assert response.status_code == 401, (kind, response.text)
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="arcade", error="invalid_token"')
    assert shared_app.get("/api/v1/games/balloon/leaderboard").json()["entries"] == []


def test_a_token_without_the_score_scope_is_403_insufficient_scope(shared_app):
    response = shared_app.post_score(sign(shared_app, {"scope": "openid profile"}), 5, "run-000001")
    assert response.status_code == 403
    assert response.headers["www-authenticate"] == 'Bearer realm="arcade", error="insufficient_scope", scope="scores:write"'
    assert "'scores:write' scope" in response.json()["detail"]


def test_a_missing_token_is_401_with_a_bare_challenge(shared_app):
    response = shared_app.post("/api/v1/games/dino/scores", json={"score": 1})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="arcade"'
    assert "log in on the badge" in response.json()["detail"]


def test_an_expired_token_says_so(shared_app):
    response = shared_app.post_score(BAD_TOKENS["expired"](shared_app), 5, "run-000001")
    assert "expired" in response.headers["www-authenticate"]


def test_leaderboard_pages_and_around(app):
    tokens = {name: app.token(name) for name in ["ann", "ben", "cat", "dan", "eli"]}
    for index, (name, token) in enumerate(tokens.items()):
        assert app.post_score(token, 100 - 10 * index, f"{name}-run-01").status_code == 201
    url = "/api/v1/games/balloon/leaderboard"
    first = app.get(url, params={"limit": 2}).json()
    assert [e["player"]["name"] for e in first["entries"]] == ["ann", "ben"]
    second = app.get(url, params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [(e["rank"], e["player"]["name"]) for e in second["entries"]] == [(3, "cat"), (4, "dan")]
    cat = second["entries"][0]["player"]["id"]
    around = app.get(url, params={"limit": 3, "around": cat}).json()
    assert [e["player"]["name"] for e in around["entries"]] == ["ben", "cat", "dan"]
    player = app.get(f"/api/v1/players/{cat}").json()
    assert player["player"]["name"] == "cat"
    assert [(b["game"], b["score"], b["rank"]) for b in player["bests"]] == [("balloon", 80, 3)]
    assert app.get("/api/v1/players/nobody").status_code == 404


@pytest.mark.parametrize("params, field", [({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"cursor": "x"}, "cursor"), ({"cursor": "1~2", "around": "x"}, "around")])
def test_leaderboard_bad_queries_are_422(shared_app, params, field):
    response = shared_app.get("/api/v1/games/dino/leaderboard", params=params)
    assert response.status_code == 422
    assert field in str(response.json())


def test_badge_boot_info_lists_games_and_device_settings(app):
    info = app.get("/api/v1/badge").json()
    assert info["api_version"] == 1
    assert abs(info["server_time"] - time.time()) < 60
    assert info["games"] == [
        {"id": "dino", "title": "Dino", "version": "1.0.0", "order": "higher", "unit": "points"},
        {"id": "maze", "title": "Maze", "version": "1.0.0", "order": "lower", "unit": "steps"},
        {"id": "tiles", "title": "2048", "version": "1.0.0", "order": "higher", "unit": "points"},
        {"id": "balloon", "title": "Balloon", "version": "1.2.0", "order": "higher", "unit": "pumps"},
    ]
    identity = info["identity"]
    assert identity["issuer"] == app.url
    assert identity["device_authorization_endpoint"].startswith(app.url)
    assert identity["client_id"] and "scores:write" in identity["scope"]


def test_games_and_openapi(app):
    games = app.get("/api/v1/games").json()
    assert games[0]["id"] == "dino" and games[0]["max_score"] == 999_999
    schema = app.get("/schema/openapi.json").json()
    assert "/api/v1/games/{game_id}/scores" in schema["paths"]
    assert "ScoreSubmission" in str(schema["components"])
