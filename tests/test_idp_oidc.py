"""The oidc identity provider, relying on an external OpenID provider: this project's built-in
provider, run as a separate `arcade serve` on its own port, in its own folder. The arcade is
its app in this process where only its answers are checked, a real server where its log, its
restart or the simulated badge are."""

import time

import httpx
import pytest
from joserfc import jws, jwt
from joserfc.jwk import ECKey, KeySet

from tests.builtin_keys import folder_keys, save_keys
from tests.conftest import InProcessArcade, RunningServer, Site, free_port, run_arcade
from tests.people import Person
from tests.simulator import Badge
from tests.test_firmware_login import LOG_IN_THEN, THEN_PLAY

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
SCOPE = "openid profile offline_access scores:write"


def oidc_settings(provider: RunningServer, plugin: str = "oidc") -> str:
    return (
        f'[identity]\nplugin = "{plugin}"\n[identity.oidc]\nissuer = "{provider.url}"\nclient_id = "badge"\n'
        f'audience = "{provider.url}/api"\nalgorithms = ["ES256"]\nscope = "{SCOPE}"\n'
    )


@pytest.fixture
def provider(make_server) -> RunningServer:
    """The external provider: a built-in provider on its own server; badges poll it every second."""
    return make_server("[identity.builtin]\ninterval = 1\n")


@pytest.fixture
def arcade(make_server, provider) -> RunningServer:
    return make_server(oidc_settings(provider))


@pytest.fixture
def arcade_app(make_app, provider) -> InProcessArcade:
    """The arcade's app in this process, relying on the provider's real server."""
    return make_app(oidc_settings(provider))


def identity_of(arcade: Site) -> dict:
    return arcade.get("/api/v1/badge").json()["identity"]


def log_in(identity: dict, person: Person) -> dict:
    """The device flow as a badge runs it, at the endpoints the arcade names; the person approves."""
    form = {"client_id": identity["client_id"], "scope": identity["scope"], "audience": identity["audience"]}
    grant = httpx.post(identity["device_authorization_endpoint"], data=form).json()
    assert person.approve(link=grant["verification_uri_complete"]).status_code == 200
    poll = {"grant_type": DEVICE_GRANT, "device_code": grant["device_code"], "client_id": identity["client_id"]}
    response = httpx.post(identity["token_endpoint"], data=poll)
    assert response.status_code == 200, response.text
    return response.json()


def leaderboard(server: Site, game: str = "balloon") -> list[dict]:
    return server.get(f"/api/v1/games/{game}/leaderboard").json()["entries"]


def rotate_key(provider: RunningServer) -> None:
    """The provider gets a new signing key; the old one stays published for the tokens it signed."""
    provider.stop()
    key_set = folder_keys(provider.data)
    fresh = ECKey.generate_key("P-256", parameters={"use": "sig", "alg": "ES256"}, private=True)
    fresh.ensure_kid()
    save_keys(provider.data, KeySet([fresh, *key_set.keys]))
    provider.start()


def forge(provider: RunningServer, claims: dict | None = None, header: dict | None = None, key=None) -> str:
    """A token signed with the provider's own key (or ``key``), with ``claims`` and ``header`` changed."""
    signing_key = key or folder_keys(provider.data).keys[0]
    now = int(time.time())
    payload = {"iss": provider.url, "sub": "ada", "aud": f"{provider.url}/api", "iat": now, "exp": now + 600}
    payload.update(claims or {})
    headers = {"alg": "ES256", "typ": "at+jwt", "kid": signing_key.kid, **(header or {})}
    return jwt.encode(headers, payload, signing_key)


def stranger_key(kid: str | None = None) -> ECKey:
    key = ECKey.generate_key("P-256", parameters={"kid": kid} if kid else None, private=True)
    key.ensure_kid()
    return key


def test_one_line_of_settings_moves_the_arcade_to_the_external_provider(make_server, provider):
    arcade = make_server(oidc_settings(provider, plugin="builtin"))
    local_token = arcade.token("ada")
    assert arcade.post_score(local_token, 30, "local-ada-01").status_code == 201
    assert identity_of(arcade)["token_endpoint"].startswith(arcade.url)

    arcade.config.write_text(arcade.config.read_text().replace('plugin = "builtin"', 'plugin = "oidc"'))
    arcade.restart()

    identity = identity_of(arcade)
    assert identity == {
        "issuer": provider.url,
        "device_authorization_endpoint": f"{provider.url}/oauth/device_authorization",
        "token_endpoint": f"{provider.url}/oauth/token",
        "revocation_endpoint": f"{provider.url}/oauth/revoke",
        "client_id": "badge",
        "scope": SCOPE,
        "audience": f"{provider.url}/api",
    }
    tokens = log_in(identity, Person(provider.url, "ada", name="Ada Lovelace"))
    assert arcade.post_score(tokens["access_token"], 40, "remote-ada-01").status_code == 201

    entries = leaderboard(arcade)
    assert [(entry["player"]["name"], entry["score"]) for entry in entries] == [("Ada Lovelace", 40), ("ada", 30)]
    assert entries[0]["player"]["id"] != entries[1]["player"]["id"]  # other issuer, other player
    refused = arcade.post_score(local_token, 50, "local-ada-02")
    assert refused.status_code == 401 and "No key for kid" in refused.headers["www-authenticate"]

    listed = run_arcade("plugins", cwd=arcade.folder)
    assert "active identity provider: oidc" in listed.stdout, listed.stderr


def test_a_key_rotated_at_the_provider_mid_run_is_fetched_and_the_old_one_still_verifies(arcade_app, provider):
    old_token = provider.token("ada")
    assert arcade_app.post_score(old_token, 10, "before-rotation").status_code == 201
    rotate_key(provider)
    new_token = provider.token("bob")
    assert jws.extract_compact(new_token.encode()).protected["kid"] != jws.extract_compact(old_token.encode()).protected["kid"]
    assert arcade_app.post_score(new_token, 20, "after-rotation-bob").status_code == 201
    assert arcade_app.post_score(old_token, 30, "after-rotation-ada").status_code == 201
    assert [(e["player"]["name"], e["score"]) for e in leaderboard(arcade_app)] == [("ada", 30), ("bob", 20)]


def test_bad_tokens_from_each_side_are_refused_with_401_saying_why(arcade_app, provider, make_server):
    another_provider = make_server(start=False)  # a key and an issuer URL of its own; never asked
    now = int(time.time())
    own_kid = folder_keys(provider.data).keys[0].kid
    cases = {
        "wrong issuer": (another_provider.token("ada"), "kid"),
        "wrong issuer, own key": (forge(provider, {"iss": another_provider.url}), "iss"),
        "wrong audience": (forge(provider, {"aud": f"{arcade_app.url}/api"}), "aud"),
        "other provider's key": (forge(provider, key=stranger_key(kid=own_kid)), "could not be verified"),
        "expired": (forge(provider, {"iat": now - 7200, "exp": now - 3600}), "expired"),
        "not an access token": (forge(provider, header={"typ": "JWT"}), "typ"),
        "not a JWT": ("not-a-token", "Invalid JSON Web Signature"),
    }
    for case, (token, reason) in cases.items():
        response = arcade_app.post_score(token, 10, "bad-token-01")
        assert response.status_code == 401, case
        assert reason in response.headers["www-authenticate"], (case, response.headers["www-authenticate"])
    assert leaderboard(arcade_app) == []


def test_while_the_provider_is_down_cached_keys_verify_and_pages_serve(arcade, provider):
    token = provider.token("ada")
    assert arcade.post_score(token, 10, "outage-0001").status_code == 201
    provider.stop()

    assert arcade.post_score(token, 20, "outage-0002").status_code == 201
    assert httpx.get(f"{arcade.url}/").status_code == 200
    assert identity_of(arcade)["issuer"] == provider.url
    unknown = arcade.post_score(forge(provider, key=stranger_key()), 30, "outage-0003")
    assert unknown.status_code == 503 and unknown.headers["retry-after"]
    assert "could not be fetched" in unknown.json()["detail"]

    provider.start()
    assert arcade.post_score(token, 40, "outage-0004").status_code == 201
    assert [(e["player"]["name"], e["score"]) for e in leaderboard(arcade)] == [("ada", 40)]
    arcade.stop()  # the log is written by a background thread: read it once the server is done
    assert f"tried GET {provider.url}/.well-known/jwks.json and got no answer" in arcade.log.read_text()


def test_start_up_with_a_wrong_issuer_says_what_it_tried_and_what_it_got(tmp_path, provider):
    def start_up(issuer: str, extra: str = "") -> str:
        (tmp_path / "arcade.toml").write_text(
            f'[identity]\nplugin = "oidc"\n[identity.oidc]\nissuer = "{issuer}"\nclient_id = "badge"\n'
            f'audience = "x"\n{extra}'
        )
        result = run_arcade("serve", "--port", str(free_port()), cwd=tmp_path)
        assert result.returncode == 2, result.stdout
        return result.stderr

    port = provider.url.rsplit(":", 1)[1]
    said = start_up(f"{provider.url}/tenant")
    assert f"identity.oidc: tried GET {provider.url}/tenant/.well-known/openid-configuration and got HTTP 404" in said
    said = start_up(f"http://localhost:{port}")
    assert f"got the document of issuer '{provider.url}', not 'http://localhost:{port}'" in said
    nobody = f"http://127.0.0.1:{free_port()}"
    assert f"tried GET {nobody}/.well-known/openid-configuration and got no answer (ConnectError" in start_up(nobody)
    said = start_up("http://idp.example.org/realms/arcade")
    assert "identity.oidc.issuer: expected an https:// URL (http:// only on this machine)" in said
    said = start_up(provider.url, 'algorithms = ["HS256"]')
    assert "identity.oidc.algorithms[0]: invalid enum value 'HS256'" in said


def test_the_simulated_badge_logs_in_at_the_external_provider_and_keeps_scoring_across_a_key_rotation(
    badge_build, arcade, provider, tmp_path
):
    badge = Badge(badge_build, tmp_path / "flash", arcade.url)
    running = badge.start(LOG_IN_THEN.format(after=THEN_PLAY))
    login = running.wait_for("login")
    assert provider.url in login.text.replace(" | ", "")  # the badge was sent to the provider
    Person(provider.url, "ada", name="Ada Lovelace").approve(user_code=login.text.split(" | ")[-3])
    first = running.finish()
    assert first.returncode == 0, first.output
    assert first.last("account").text.startswith("Logged in as Ada Lovelace")

    rotate_key(provider)
    again = badge.play(THEN_PLAY.replace("wait account\nspeed 50\n1 c\n2 -\n", ""))  # refreshes first
    assert again.returncode == 0, again.output
    new_kid = jws.extract_compact(badge.state("session.json")["access_token"].encode()).protected["kid"]
    assert new_kid == folder_keys(provider.data).keys[0].kid

    entries = leaderboard(arcade, game="dino")
    assert [entry["player"]["name"] for entry in entries] == ["Ada Lovelace"]
    best = max(int(result.last("result").text.split(" | ")[2].split()[0]) for result in (first, again))
    assert entries[0]["score"] == best
