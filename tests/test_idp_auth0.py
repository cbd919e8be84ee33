"""The auth0 identity provider against a FAKE Auth0 on loopback (tests/fake_auth0.py), over HTTPS."""

import base64
import hashlib
import hmac
import json
import ssl
import time

import httpx
import pytest

from tests.conftest import free_port, run_arcade
from tests.fake_auth0 import (
    AUDIENCE,
    CLIENT_ID,
    DEVICE_GRANT,
    MANAGEMENT_CLIENT_ID,
    MANAGEMENT_CLIENT_SECRET,
    FakeAuth0,
    new_signing_key,
)
from tests.simulator import Badge
from tests.test_firmware_login import LOG_IN_THEN, THEN_PLAY
from tests.test_firmware_tls import HEAP_K  # the fake Auth0 serves only https: the heap the flow over it needs

ADA = "auth0|6650f1c2a7d3"
MANAGEMENT_ENV = {
    "ARCADE_IDENTITY__AUTH0__MANAGEMENT_CLIENT_ID": MANAGEMENT_CLIENT_ID,
    "ARCADE_IDENTITY__AUTH0__MANAGEMENT_CLIENT_SECRET": MANAGEMENT_CLIENT_SECRET,
}


@pytest.fixture
def auth0(certificates):
    fake = FakeAuth0(free_port(), certificates).start()
    fake.add_user(ADA, name="Ada Lovelace", nickname="ada", picture="https://pictures.example/ada.png")
    yield fake
    fake.stop()


def auth0_settings(fake: FakeAuth0, ca_file=None) -> str:
    ca = f'ca_file = "{ca_file}"\n' if ca_file else ""
    return (
        f'[identity]\nplugin = "auth0"\n[identity.auth0]\ndomain = "{fake.domain}"\n'
        f'client_id = "{CLIENT_ID}"\naudience = "{AUDIENCE}"\n{ca}'
    )


@pytest.fixture
def arcade(make_server, auth0, certificates):
    """A real server: for the simulated badge, and for the log it writes."""
    return make_server(auth0_settings(auth0, certificates.ca_file), env=MANAGEMENT_ENV)


@pytest.fixture
def arcade_app(make_app, auth0, certificates):
    """The arcade's app in this process, relying on the fake Auth0 tenant."""
    return make_app(auth0_settings(auth0, certificates.ca_file), environ=MANAGEMENT_ENV)


def leaderboard(server) -> list[tuple[str, str | None, int]]:
    entries = server.get("/api/v1/games/balloon/leaderboard").json()["entries"]
    return [(entry["player"]["name"], entry["player"]["picture"], entry["score"]) for entry in entries]


def test_a_badge_logs_in_at_auth0_and_its_scores_land(arcade_app, auth0, certificates):
    identity = arcade_app.get("/api/v1/badge").json()["identity"]
    assert identity == {
        "issuer": auth0.issuer,
        "device_authorization_endpoint": f"{auth0.issuer}oauth/device/code",
        "token_endpoint": f"{auth0.issuer}oauth/token",
        "revocation_endpoint": f"{auth0.issuer}oauth/revoke",
        "client_id": CLIENT_ID,
        "scope": "openid profile offline_access",
        "audience": AUDIENCE,
    }
    with httpx.Client(verify=ssl.create_default_context(cafile=certificates.ca_file)) as badge:
        grant = badge.post(
            identity["device_authorization_endpoint"],
            data={"client_id": CLIENT_ID, "scope": identity["scope"], "audience": identity["audience"]},
        ).json()
        poll = {"grant_type": DEVICE_GRANT, "device_code": grant["device_code"], "client_id": CLIENT_ID}
        pending = badge.post(identity["token_endpoint"], data=poll)
        assert (pending.status_code, pending.json()["error"]) == (403, "authorization_pending")
        hurried = badge.post(identity["token_endpoint"], data=poll)  # sooner than the 5 s interval
        assert (hurried.status_code, hurried.json()["error"]) == (429, "slow_down")
        auth0.approve(grant["user_code"], ADA)
        tokens = badge.post(identity["token_endpoint"], data=poll).json()
        assert {"access_token", "refresh_token", "id_token"} <= tokens.keys()

        for number, score in enumerate([30, 70, 50]):
            response = arcade_app.post_score(tokens["access_token"], score, f"ada-auth0-{number:02}")
            assert response.status_code == 201, response.text
        assert leaderboard(arcade_app) == [("Ada Lovelace", "https://pictures.example/ada.png", 70)]
        # one Management API token and one user lookup for three scores
        assert (auth0.calls["management_token"], auth0.calls["management_user"]) == (1, 1)

        refreshed = badge.post(
            identity["token_endpoint"],
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": CLIENT_ID},
        ).json()
        assert arcade_app.post_score(refreshed["access_token"], 90, "ada-auth0-03").status_code == 201
        assert leaderboard(arcade_app) == [("Ada Lovelace", "https://pictures.example/ada.png", 90)]


def test_without_management_credentials_names_come_from_userinfo_once(make_app, auth0, certificates):
    arcade = make_app(auth0_settings(auth0, certificates.ca_file))
    token = auth0.mint(ADA)
    assert arcade.post_score(token, 40, "ada-auth0-10").status_code == 201
    assert arcade.post_score(token, 45, "ada-auth0-11").status_code == 201
    auth0.add_user("auth0|grace", name="grace@example.org", nickname="grace")  # as Auth0 names database users
    assert arcade.post_score(auth0.mint("auth0|grace"), 35, "grace-auth0-1").status_code == 201
    assert leaderboard(arcade) == [("Ada Lovelace", "https://pictures.example/ada.png", 45), ("grace", None, 35)]
    assert (auth0.calls["userinfo"], auth0.calls["management_user"]) == (2, 0)


def test_a_provider_that_refuses_api_tokens_at_userinfo_is_asked_once_not_per_score(make_app, auth0, certificates):
    auth0.refuses_api_tokens_at_userinfo = True  # as node-oidc-provider does with resource-bound tokens
    arcade = make_app(auth0_settings(auth0, certificates.ca_file))
    token = auth0.mint(ADA)

    for number in range(4):
        assert arcade.post_score(token, 40 + number, f"ada-refused-{number}").status_code == 201

    assert leaderboard(arcade) == [(ADA, None, 43)]  # the subject: the token names no one
    assert auth0.calls["userinfo"] == 1


def test_with_userinfo_refused_the_name_comes_from_the_id_token_sent_once(make_server, auth0, certificates):
    auth0.refuses_api_tokens_at_userinfo = True  # node-oidc-provider's way with resource-bound tokens
    arcade = make_server(auth0_settings(auth0, certificates.ca_file))
    token = auth0.mint(ADA)

    assert arcade.post_score(token, 40, "ada-named-0", id_token=auth0.id_token(ADA)).status_code == 201
    for number in range(1, 4):  # the badge sends the ID token once: the name is remembered
        assert arcade.post_score(token, 40 + number, f"ada-named-{number}").status_code == 201

    assert leaderboard(arcade) == [("Ada Lovelace", "https://pictures.example/ada.png", 43)]
    assert auth0.calls["userinfo"] == 0  # neither asked per score nor at all
    arcade.restart()  # another process knows nothing of it: the provider refuses, the stored name stays
    assert arcade.post_score(token, 50, "ada-named-4").status_code == 201
    assert leaderboard(arcade) == [("Ada Lovelace", "https://pictures.example/ada.png", 50)]
    assert auth0.calls["userinfo"] == 1


def test_an_id_token_forged_or_for_another_audience_or_person_is_refused_and_the_name_falls_back(
    make_server, auth0, certificates
):
    auth0.refuses_api_tokens_at_userinfo = True
    auth0.add_user("auth0|grace", name="Grace Hopper", nickname="grace")
    arcade = make_server(auth0_settings(auth0, certificates.ca_file))
    token = auth0.mint(ADA)
    now = int(time.time())
    refused = {
        "another audience (the API's)": auth0.id_token(ADA, {"aud": AUDIENCE}),
        "another client's (azp)": auth0.id_token(ADA, {"aud": [CLIENT_ID, "other-app"], "azp": "other-app"}),
        "signed by a stranger with the provider's key id": auth0.id_token(ADA, key=new_signing_key(auth0.keys[0].kid)),
        "another issuer": auth0.id_token(ADA, {"iss": "https://someone-else.eu.auth0.com/"}),
        "expired": auth0.id_token(ADA, {"iat": now - 7200, "exp": now - 3600}),
        "another person's": auth0.id_token("auth0|grace"),
        "not a JWT": "not-an-id-token",
    }

    for number, (case, id_token) in enumerate(refused.items()):
        response = arcade.post_score(token, 10 + number, f"ada-forged-{number}", id_token=id_token)
        assert response.status_code == 201, (case, response.text)  # the score counts, the name does not
        assert leaderboard(arcade)[0][0] == ADA, case

    assert auth0.calls["userinfo"] == 1  # asked once, refused, not asked again for each score
    assert arcade.post_score(token, 30, "ada-genuine", id_token=auth0.id_token(ADA)).status_code == 201
    assert leaderboard(arcade)[0][:2] == ("Ada Lovelace", "https://pictures.example/ada.png")
    arcade.stop()
    log = arcade.log.read_text()
    assert "an ID token sent for auth0|6650f1c2a7d3 is refused: it is about another subject" in log
    assert "an ID token sent for auth0|6650f1c2a7d3 is refused: it was issued to 'other-app', not to " in log


def _bad_tokens(auth0: FakeAuth0) -> dict[str, tuple[str, str]]:
    now = int(time.time())
    return {
        "wrong issuer": (auth0.mint(ADA, {"iss": "https://someone-else.eu.auth0.com/"}), "iss"),
        "wrong audience": (auth0.mint(ADA, {"aud": "https://another-api.example"}), "aud"),
        "other provider's key": (auth0.mint(ADA, key=new_signing_key(kid=auth0.keys[0].kid)), "could not be verified"),
        "expired": (auth0.mint(ADA, {"iat": now - 7200, "exp": now - 3600}), "expired"),
        "ID token": (auth0.mint(ADA, {"aud": CLIENT_ID}), "aud"),
        "HS256 keyed with the public key": (_hmac_with_public_key(auth0), "could not be verified"),
    }


def _hmac_with_public_key(auth0: FakeAuth0) -> str:
    """The algorithm-confusion attack: HS256 keyed with the published RSA key's PEM."""
    encode = lambda data: base64.urlsafe_b64encode(data).rstrip(b"=")  # noqa: E731
    header = encode(json.dumps({"alg": "HS256", "typ": "JWT", "kid": auth0.keys[0].kid}).encode())
    claims = {"iss": auth0.issuer, "sub": ADA, "aud": AUDIENCE, "exp": int(time.time()) + 600}
    signing_input = header + b"." + encode(json.dumps(claims).encode())
    signature = hmac.new(auth0.keys[0].as_pem(private=False), signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + encode(signature)).decode()


def test_bad_tokens_are_refused_with_401_saying_why(arcade_app, auth0):
    for case, (token, reason) in _bad_tokens(auth0).items():
        response = arcade_app.post_score(token, 10, "bad-token-01")
        assert response.status_code == 401, case
        assert reason in response.headers["www-authenticate"], (case, response.headers["www-authenticate"])
    assert leaderboard(arcade_app) == []


def test_keys_rotated_at_auth0_are_fetched_once_and_made_up_key_ids_fetch_nothing_more(arcade_app, auth0):
    old_token = auth0.mint(ADA)
    assert arcade_app.post_score(old_token, 10, "rotation-01").status_code == 201
    assert auth0.calls["jwks"] == 1  # at start-up
    auth0.rotate()
    assert arcade_app.post_score(auth0.mint(ADA), 20, "rotation-02").status_code == 201
    assert arcade_app.post_score(old_token, 15, "rotation-03").status_code == 201  # still published
    assert auth0.calls["jwks"] == 2
    for number in range(3):
        stranger = auth0.mint(ADA, key=new_signing_key())
        response = arcade_app.post_score(stranger, 30, f"stranger-{number:02}")
        assert response.status_code == 401 and "kid" in response.headers["www-authenticate"]
    assert auth0.calls["jwks"] == 2  # refetches are spaced out


def test_while_auth0_is_down_cached_keys_verify_and_pages_serve(arcade, auth0):
    token = auth0.mint(ADA)
    assert arcade.post_score(token, 10, "outage-01").status_code == 201
    auth0.stop()
    assert arcade.post_score(token, 20, "outage-02").status_code == 201
    assert httpx.get(f"{arcade.url}/").status_code == 200
    unknown = arcade.post_score(auth0.mint(ADA, key=new_signing_key()), 30, "outage-03")
    assert unknown.status_code == 503 and unknown.headers["retry-after"]
    assert "could not be fetched" in unknown.json()["detail"]
    newcomer = arcade.post_score(auth0.mint("auth0|bob"), 15, "outage-bob-01")  # no profile to be had
    assert newcomer.status_code == 201 and newcomer.json()["player"]["name"] == "auth0|bob"
    assert leaderboard(arcade) == [("Ada Lovelace", "https://pictures.example/ada.png", 20), ("auth0|bob", None, 15)]
    arcade.stop()  # the log is written by a background thread: read it once the server is done
    log = arcade.log.read_text()
    assert f"keeping the cached keys: tried GET {auth0.issuer}.well-known/jwks.json" in log
    assert f"identity provider auth0: no profile for auth0|bob: tried GET {auth0.issuer}api/v2/users/auth0%7Cbob" in log


def test_start_up_says_what_it_tried_and_what_it_got(tmp_path, auth0, certificates):
    (tmp_path / "arcade.toml").write_text(auth0_settings(auth0))
    untrusted = run_arcade("plugins", cwd=tmp_path)
    assert untrusted.returncode == 2
    assert f"tried GET {auth0.issuer}.well-known/openid-configuration" in untrusted.stderr
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted.stderr and "ca_file" in untrusted.stderr

    (tmp_path / "arcade.toml").write_text(auth0_settings(auth0, certificates.ca_file))
    trusted = run_arcade("plugins", cwd=tmp_path)
    assert trusted.returncode == 0, trusted.stderr
    assert "active identity provider: auth0" in trusted.stdout

    auth0.discovery.pop("device_authorization_endpoint")
    no_device_flow = run_arcade("plugins", cwd=tmp_path)
    assert no_device_flow.returncode == 2
    assert "got no device_authorization_endpoint" in no_device_flow.stderr

    auth0.discovery = {"issuer": auth0.issuer, "token_endpoint": f"{auth0.issuer}oauth/token"}
    malformed = run_arcade("plugins", cwd=tmp_path)
    assert malformed.returncode == 2
    assert "got JSON without what the arcade needs: Object missing required field `jwks_uri`" in malformed.stderr


@pytest.mark.parametrize(
    "settings, message",
    [
        ('domain = "https://example.eu.auth0.com/"', "identity.auth0.domain: expected the tenant's host name only"),
        ('domain = "example.eu.auth0.com"\nmanagement_client_id = "m2m"', "go together"),
        ('domain = "example.eu.auth0.com"\nalgorithms = ["HS256"]', "identity.auth0.algorithms: unknown key"),
        ('domain = "example.eu.auth0.com"\ntyp = "JWS"', "identity.auth0.typ: invalid enum value 'JWS'"),
    ],
)
def test_wrong_settings_are_named_before_anything_is_fetched(tmp_path, settings, message):
    (tmp_path / "arcade.toml").write_text(
        f'[identity]\nplugin = "auth0"\n[identity.auth0]\nclient_id = "x"\naudience = "y"\n{settings}\n'
    )
    result = run_arcade("plugins", cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr


def test_the_simulated_badge_logs_in_at_auth0_and_its_score_lands(badge_build, arcade, auth0, certificates, tmp_path):
    auth0.interval = 1
    auth0.links_from_host = True  # the login link is right only if the badge's Host carries the port
    badge = Badge(badge_build, tmp_path / "flash", arcade.url, ca=(certificates.ca_file,), heap=HEAP_K)
    running = badge.start(LOG_IN_THEN.format(after=THEN_PLAY))
    login = running.wait_for("login")
    assert f"{auth0.issuer}activate" in login.text.replace(" | ", "")
    asked = auth0.device_requests[-1]
    assert (asked["audience"], asked["resource"]) == (AUDIENCE, AUDIENCE)  # Auth0's way and RFC 8707's
    assert asked["device_name"] == "Badger 2040 W (simulated)"
    auth0.approve(login.text.split(" | ")[-3], ADA)
    result = running.finish()

    assert result.returncode == 0, result.output
    assert result.last("account").text.startswith("Logged in as Ada Lovelace")
    score = int(result.last("result").text.split(" | ")[2].split()[0])
    assert result.last("result").said.endswith(f"Rank #1 of 1, best {score}. A: menu")
    entries = httpx.get(f"{arcade.url}/api/v1/games/dino/leaderboard").json()["entries"]
    assert [(entry["player"]["name"], entry["score"]) for entry in entries] == [("Ada Lovelace", score)]
    assert badge.state("session.json")["refresh_token"] in auth0.refresh_tokens  # offline_access asked for


def test_a_badge_at_a_provider_refusing_userinfo_gets_its_name_from_its_id_token(
    badge_build, make_server, auth0, certificates, tmp_path
):
    auth0.interval = 1
    auth0.refuses_api_tokens_at_userinfo = True
    arcade = make_server(auth0_settings(auth0, certificates.ca_file))  # no Management API: names as badges give them
    badge = Badge(badge_build, tmp_path / "flash", arcade.url, ca=(certificates.ca_file,), heap=HEAP_K)
    running = badge.start(LOG_IN_THEN.format(after=THEN_PLAY))
    auth0.approve(running.wait_for("login").text.split(" | ")[-3], ADA)
    first = running.finish()
    assert first.returncode == 0, first.output
    assert badge.state("session.json").get("id_token") is None  # sent once, then dropped

    again = badge.play(THEN_PLAY.replace("wait account\nspeed 50\n1 c\n2 -\n", ""))  # a boot: refreshed first
    assert again.returncode == 0, again.output

    entries = httpx.get(f"{arcade.url}/api/v1/games/dino/leaderboard").json()["entries"]
    assert [entry["player"]["name"] for entry in entries] == ["Ada Lovelace"]
    assert again.last("menu").text.startswith("Badge Arcade - Ada Lovelace")  # the server's word agrees
    assert auth0.calls["userinfo"] == 0
