"""The served OpenAPI schema of a real `arcade serve` against what the server does.

- Whatever schemathesis generates from the schema (valid and invalid requests, with a real token
  and without) is answered without a 5xx, with a status the schema documents for that operation,
  in the documented content type and shape.
- Every status an operation documents is provoked by a request (a full disk included), and its
  answer conforms: the schema lists no answer the server never gives, and the server gives none
  it does not list.
- Forms built from the schema's request bodies for the OAuth endpoints succeed, with what the
  server hands out (client id, device code, refresh token) filled in.

Bounded and deterministic: a fixed number of examples an operation, derandomized, no example
database.
"""

import asyncio
import collections
import itertools
import json
from contextlib import contextmanager

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from arcade.sdk.game import GameInfo
from arcade.server.http_limits import MAX_HEAD
from tests.conftest import connect
from tests.people import Person
from tests.runs import balloon_run
from tests.stores import Stores

BALLOON = GameInfo(id="balloon", title="Balloon", version="1.2.0", package="balloon")

EXAMPLES = 40
FORM_EXAMPLES = 20
CONFORMANCE = [status_code_conformance, content_type_conformance, response_schema_conformance]
BOUNDED = settings(deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True)
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
ALL_SCOPES = "openid profile offline_access scores:write"
GENEROUS = """
scores_per_minute = 100000
[identity.builtin.limits]
device_authorizations_per_minute = 100000
token_requests_per_minute = 100000
"""


def served_schema(server):
    return schemathesis.openapi.from_url(f"{server.url}/schema/openapi.json")


def operations(schema):
    return [result.ok() for result in schema.get_all_operations()]


def conforms(operation, response) -> None:
    """The answer's status, content type and body are the ones documented."""
    operation.Case().validate_response(response, checks=CONFORMANCE)


def head_size(request) -> int:
    """About the bytes of a request's line and headers (the client adds a few of its own)."""
    line = f"{request.method} {request.path_url} HTTP/1.1\r\n"
    return len(line) + sum(len(f"{name}: {value}\r\n") for name, value in request.headers.items()) + 2


def fuzz(operation, mode: GenerationMode, token: str, seen: collections.Counter) -> None:
    """``EXAMPLES`` requests generated for ``operation``, each sent with the token and without."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(BOUNDED, max_examples=EXAMPLES)
    def answers_as_documented(case):
        if "game_id" in (case.path_parameters or {}):
            case.path_parameters["game_id"] = "dino"  # a game that exists, so the body is read
        for headers in ({"Authorization": f"Bearer {token}"}, {}):
            response = case.call(headers=headers, timeout=30)
            if response.status_code == 431:  # answered before any operation, as the document's description says
                assert head_size(response.request) > MAX_HEAD - 1024, response.request.headers
                continue
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:500]}"
            )
            case.validate_response(response, checks=CONFORMANCE)
            seen[operation.label, response.status_code] += 1

    answers_as_documented()


def test_whatever_is_generated_is_answered_as_documented_and_never_with_a_server_error(make_server):
    server = make_server(GENEROUS)  # every generated score reaches the replay
    token = server.token("fuzz")
    seen, unchecked = collections.Counter(), []
    for operation in operations(served_schema(server)):
        fuzz(operation, GenerationMode.POSITIVE, token, seen)
        try:
            fuzz(operation, GenerationMode.NEGATIVE, token, seen)
        except Unsatisfiable:  # no invalid request: no body, and parameters that take any string
            unchecked.append(operation.label)
    labels = {label for label, _ in seen}
    assert {"POST /api/v1/games/{game_id}/scores", "POST /oauth/token", "POST /oauth/device_authorization"} <= labels
    assert seen["POST /oauth/token", 400] and seen["POST /api/v1/games/{game_id}/scores", 422]
    assert "POST /oauth/token" not in unchecked and "GET /api/v1/games/{game_id}/leaderboard" not in unchecked


@contextmanager
def full_disk(server):
    """The store cannot append to its journal, as on a full disk: a folder takes the place of the
    journal's current file (the server opens it by name for each write), and leaves it after."""
    journal = max(server.data.glob("arcade.json.journal.*"))
    aside = journal.with_name(f"{journal.name}.aside")
    journal.rename(aside)
    journal.mkdir()
    try:
        yield
    finally:
        journal.rmdir()
        aside.rename(journal)


def archive_a_board(server) -> None:
    """An archived board of Balloon, as `arcade readjudicate --publish` leaves one (with the server
    stopped, as the TinyDB store asks)."""

    async def publish():
        store = await Stores("tinydb", server.data).open()
        await store.publish_adjudication(BALLOON, "1.2.0", 1, {})
        await store.close()

    server.stop()
    asyncio.run(publish())
    server.start()


def test_every_documented_answer_happens_and_conforms(make_server):
    server = make_server(
        "scores_per_minute = 2\n[identity.builtin.limits]\n"
        "device_authorizations_per_minute = 2\ntoken_requests_per_minute = 2\n"
    )
    schema = served_schema(server)
    addresses = (f"127.0.0.{n}" for n in itertools.count(2))  # each budget of an address starts full
    player_tokens = (server.token(f"player-{n}") for n in itertools.count())

    def request(method: str, path: str, **options) -> httpx.Response:
        with connect(server, next(addresses), timeout=30) as client:
            return client.request(method, path, **options)

    def over_budget(method: str, path: str, times: int = 3, **options) -> httpx.Response:
        """The last of ``times`` requests from one address: one past a budget of two."""
        with connect(server, next(addresses), timeout=30) as client:
            return [client.request(method, path, **options) for _ in range(times)][-1]

    def score(token: str | None, points=5, key="conformance-1", game="balloon", body=None, content=None):
        """A score of ``points`` with a genuine run, or ``body``, or the bytes ``content``."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if content is None:
            sent = {"json": body or {"score": points, "run": balloon_run(points), "submission_id": key}}
        else:
            sent = {"content": content}
            headers["Content-Type"] = "application/json"
        return request("POST", f"/api/v1/games/{game}/scores", headers=headers, **sent)

    client_id = request("GET", "/api/v1/badge").json()["identity"]["client_id"]
    started = request("POST", "/oauth/device_authorization", data={"client_id": client_id, "scope": ALL_SCOPES})
    person = Person(server, "conformance")
    person.approve(link=started.json()["verification_uri_complete"])
    poll = {"grant_type": DEVICE_CODE_GRANT, "client_id": client_id, "device_code": started.json()["device_code"]}
    login = request("POST", "/oauth/token", data=poll)
    person.close()
    tokens = login.json()
    scorer, flooder = next(player_tokens), next(player_tokens)
    accepted = score(scorer)
    archive_a_board(server)
    elsewhere = {"Origin": "http://elsewhere.test"}
    huge_form = {"client_id": client_id, "token": "x" * 20_000}
    bogus_refresh = {"grant_type": "refresh_token", "client_id": client_id, "refresh_token": "no.such"}
    revocation = {"client_id": client_id, "token": "no-such-token"}

    answers = {
        ("POST /oauth/token", 200): login,
        ("POST /api/v1/games/{game_id}/scores", 201): accepted,
        ("POST /api/v1/games/{game_id}/scores", 400): score(next(player_tokens), content=b"{"),
        ("POST /api/v1/games/{game_id}/scores", 401): score(None),
        ("POST /api/v1/games/{game_id}/scores", 403): score(server.provider().issue_access_token("p", "P", scope="")),
        ("POST /api/v1/games/{game_id}/scores", 404): score(next(player_tokens), game="no-such-game"),
        ("POST /api/v1/games/{game_id}/scores", 409): score(scorer, points=6),
        ("POST /api/v1/games/{game_id}/scores", 413): score(next(player_tokens), body={"run": "x" * 600_000}),
        ("POST /api/v1/games/{game_id}/scores", 422): score(next(player_tokens), body={"score": 5}),
        ("POST /api/v1/games/{game_id}/scores", 429): [score(flooder, key=f"flood-{n:04d}") for n in range(3)][-1],
        ("GET /api/v1/badge", 200): (badge := request("GET", "/api/v1/badge")),
        ("GET /api/v1/badge/files/{name}", 200): request(
            "GET", f"/api/v1/badge/files/{json.loads(badge.json()['catalog']['manifest'])['games'][0]['sha256']}.mpy"
        ),
        ("GET /api/v1/badge/files/{name}", 404): request("GET", "/api/v1/badge/files/nothing.mpy"),
        ("GET /api/v1/games", 200): request("GET", "/api/v1/games"),
        ("GET /api/v1/games/{game_id}/leaderboard", 200): request("GET", "/api/v1/games/balloon/leaderboard"),
        ("GET /api/v1/games/{game_id}/leaderboard", 404): request("GET", "/api/v1/games/no-such-game/leaderboard"),
        ("GET /api/v1/games/{game_id}/leaderboard", 422): request("GET", "/api/v1/games/balloon/leaderboard?limit=0"),
        ("GET /api/v1/games/{game_id}/windows", 200): request("GET", "/api/v1/games/balloon/windows"),
        ("GET /api/v1/games/{game_id}/windows", 404): request("GET", "/api/v1/games/no-such-game/windows"),
        ("GET /api/v1/games/{game_id}/archives", 200): request("GET", "/api/v1/games/balloon/archives"),
        ("GET /api/v1/games/{game_id}/archives", 404): request("GET", "/api/v1/games/no-such-game/archives"),
        ("GET /api/v1/games/{game_id}/archives/{archive}", 200): request("GET", "/api/v1/games/balloon/archives/1"),
        ("GET /api/v1/games/{game_id}/archives/{archive}", 404): request("GET", "/api/v1/games/balloon/archives/2"),
        ("GET /api/v1/games/{game_id}/archives/{archive}", 422): request("GET", "/api/v1/games/balloon/archives/0"),
        ("GET /api/v1/games/{game_id}/board.csv", 200): request("GET", "/api/v1/games/balloon/board.csv"),
        ("GET /api/v1/games/{game_id}/board.csv", 404): request("GET", "/api/v1/games/balloon/board.csv?window=x"),
        ("GET /api/v1/games/{game_id}/board.csv", 422): request("GET", "/api/v1/games/balloon/board.csv?archive=0"),
        ("GET /api/v1/games/{game_id}/board.json", 200): request("GET", "/api/v1/games/balloon/board.json?archive=1"),
        ("GET /api/v1/games/{game_id}/board.json", 404): request("GET", "/api/v1/games/balloon/board.json?archive=2"),
        ("GET /api/v1/games/{game_id}/board.json", 422): request("GET", "/api/v1/games/balloon/board.json?archive=x"),
        ("GET /api/v1/players/{player}", 200): request("GET", f"/api/v1/players/{accepted.json()['player']['id']}"),
        ("GET /api/v1/players/{player}", 404): request("GET", "/api/v1/players/nobody"),
        ("GET /.well-known/jwks.json", 200): request("GET", "/.well-known/jwks.json"),
        ("GET /.well-known/openid-configuration", 200): request("GET", "/.well-known/openid-configuration"),
        ("GET /oauth/userinfo", 200): request(
            "GET", "/oauth/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        ),
        ("GET /oauth/userinfo", 401): request("GET", "/oauth/userinfo"),
        ("POST /oauth/device_authorization", 200): request(
            "POST", "/oauth/device_authorization", data={"client_id": client_id}
        ),
        ("POST /oauth/device_authorization", 400): request(
            "POST", "/oauth/device_authorization", data={"client_id": "x"}
        ),
        ("POST /oauth/device_authorization", 403): request(
            "POST", "/oauth/device_authorization", data={"client_id": client_id}, headers=elsewhere
        ),
        ("POST /oauth/device_authorization", 413): request("POST", "/oauth/device_authorization", data=huge_form),
        ("POST /oauth/device_authorization", 429): over_budget(
            "POST", "/oauth/device_authorization", data={"client_id": client_id}
        ),
        ("POST /oauth/token", 400): request("POST", "/oauth/token", data={"client_id": client_id}),
        ("POST /oauth/token", 403): request("POST", "/oauth/token", data=bogus_refresh, headers=elsewhere),
        ("POST /oauth/token", 413): request("POST", "/oauth/token", data=huge_form),
        ("POST /oauth/token", 429): over_budget("POST", "/oauth/token", data=bogus_refresh),
        ("POST /oauth/revoke", 400): request("POST", "/oauth/revoke", data={"client_id": client_id}),
        ("POST /oauth/revoke", 403): request("POST", "/oauth/revoke", data=revocation, headers=elsewhere),
        ("POST /oauth/revoke", 413): request("POST", "/oauth/revoke", data=huge_form),
        ("POST /oauth/revoke", 429): over_budget("POST", "/oauth/revoke", data=revocation),
    }
    with full_disk(server):
        answers |= {
            ("POST /api/v1/games/{game_id}/scores", 503): score(next(player_tokens), key="conformance-full"),
            ("POST /oauth/device_authorization", 503): request(
                "POST", "/oauth/device_authorization", data={"client_id": client_id}
            ),
            ("POST /oauth/token", 503): request("POST", "/oauth/token", data=bogus_refresh),
            ("POST /oauth/revoke", 503): request("POST", "/oauth/revoke", data=revocation),
        }
    revoke = {"client_id": client_id, "token": tokens["refresh_token"]}
    answers["POST /oauth/revoke", 200] = request("POST", "/oauth/revoke", data=revoke)

    documented = set()
    for operation in operations(schema):
        documented |= {(operation.label, int(status)) for status in operation.definition.raw["responses"]}
    assert set(answers) == documented, "documented but not provoked, and provoked but not documented"
    for (label, status), response in answers.items():
        assert response.status_code == status, f"{label}: {status} expected, got {response.status_code} {response.text}"
        conforms(schema.find_operation_by_label(label), response)


def test_forms_built_from_the_documented_bodies_succeed(make_server):
    """Each OAuth form schemathesis builds from the documented body is accepted, once the values
    only the server hands out are put in: the client id, an approved device code, the refresh
    token of the login (rotated by each use)."""
    server = make_server(GENEROUS)
    schema = served_schema(server)
    client_id = server.get("/api/v1/badge").json()["identity"]["client_id"]
    person = Person(server, "former")

    def approved_device_code() -> str:
        started = server.post("/oauth/device_authorization", data={"client_id": client_id, "scope": ALL_SCOPES})
        person.approve(link=started.json()["verification_uri_complete"])
        return started.json()["device_code"]

    poll = {"grant_type": DEVICE_CODE_GRANT, "client_id": client_id, "device_code": approved_device_code()}
    refresh_tokens = [server.post("/oauth/token", data=poll).json()["refresh_token"]]

    def filled(body: dict) -> dict:
        body = {**body, "client_id": client_id}
        if body.get("grant_type") == DEVICE_CODE_GRANT:
            body["device_code"] = approved_device_code()
        elif body.get("grant_type") == "refresh_token":
            body["refresh_token"] = refresh_tokens[-1]
        return body

    answers = collections.Counter()

    def answered(case, response) -> None:
        if case.operation.path == "/oauth/token":
            refresh_tokens.append(response.json()["refresh_token"])  # the next refresh uses the new one
        answers[case.operation.path, case.body.get("grant_type")] += 1

    for path in ("/oauth/device_authorization", "/oauth/token", "/oauth/revoke"):
        operation = schema[path]["POST"]
        assert list(operation.definition.raw["requestBody"]["content"]) == ["application/x-www-form-urlencoded"]
        forms_succeed(operation, filled, answered)
    person.close()
    assert answers["/oauth/token", DEVICE_CODE_GRANT] and answers["/oauth/token", "refresh_token"], answers


def forms_succeed(operation, filled, answered) -> None:
    """Each form generated for ``operation``, ``filled`` in, gets a 200 as documented, ``answered``."""

    @given(case=operation.as_strategy())
    @settings(BOUNDED, max_examples=FORM_EXAMPLES)
    def succeeds(case):
        case.body = filled(case.body)
        response = case.call(timeout=30)
        assert response.status_code == 200, f"{operation.label} {case.body}: {response.status_code} {response.text}"
        case.validate_response(response, checks=CONFORMANCE)
        answered(case, response)

    succeeds()
