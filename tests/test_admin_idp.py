"""Admins signing in on the web through an external provider (the `oidc` and `auth0` plugins): the
authorization code flow with PKCE against the FAKE Auth0 tenant (tests/fake_auth0.py) over HTTPS,
with a real `arcade serve`; an admin by player id and one by claim, refusals of every forged or
replayed answer, signing out, and a second process sharing the PostgreSQL store."""

import ssl
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from arcade.sdk.models import player_id
from tests.conftest import free_port, run_arcade
from tests.fake_auth0 import AUDIENCE, CLIENT_ID, PASSWORD, WEB_CLIENT_ID, WEB_CLIENT_SECRET, FakeAuth0
from tests.people import forms, visible_text
from tests.stores import postgres_settings

ADA = "auth0|ada0001"
"""An admin by her player id."""
GRACE = "auth0|grace002"
"""An admin by the role claim an Auth0 Action puts in her ID token."""
PAT = "auth0|pat0003"
EVE = "auth0|eve0004"
ROLES = "https://arcade.example/roles"
PLUGINS = ("oidc", "auth0")


@pytest.fixture
def auth0(certificates):
    fake = FakeAuth0(free_port(), certificates).start()
    fake.add_user(ADA, name="Ada Lovelace", nickname="ada")
    fake.add_user(GRACE, name="Grace Hopper", nickname="grace", claims={ROLES: ["arcade-admins", "staff"]})
    fake.add_user(PAT, name="Pat Smith", nickname="pat", claims={ROLES: ["staff"]})
    fake.add_user(EVE, name="Eve", nickname="eve")
    yield fake
    fake.stop()


def settings(fake: FakeAuth0, plugin: str, ca_file, web_client: bool = True) -> str:
    """The provider's table with a web client, and ``[admins]`` naming Ada's player id and the role claim."""
    if plugin == "oidc":
        table = f'issuer = "{fake.issuer}"\nclient_id = "{CLIENT_ID}"\naudience = "{AUDIENCE}"\ntyp = "jwt"\n'
    else:
        table = f'domain = "{fake.domain}"\nclient_id = "{CLIENT_ID}"\naudience = "{AUDIENCE}"\n'
    web = f'web_client_id = "{WEB_CLIENT_ID}"\n' if web_client else ""
    admins = (
        f'[admins]\nplayers = ["{player_id(fake.issuer, ADA)}"]\nclaim = "{ROLES}"\nclaim_value = "arcade-admins"\n'
    )
    return f'[identity]\nplugin = "{plugin}"\n[identity.{plugin}]\n{table}ca_file = "{ca_file}"\n{web}{admins}'


def secret_env(plugin: str) -> dict:
    return {f"ARCADE_IDENTITY__{plugin.upper()}__WEB_CLIENT_SECRET": WEB_CLIENT_SECRET}


@pytest.fixture(params=PLUGINS)
def arcade(request, make_server, auth0, certificates):
    server = make_server(settings(auth0, request.param, certificates.ca_file), env=secret_env(request.param))
    auth0.add_web_client([f"{server.url}/sign-in/callback"])
    return server


def browser(server, certificates, cookies=None) -> httpx.Client:
    """A browser's cookies and its trust in the tenant's CA; redirects are followed where a test says."""
    tls = ssl.create_default_context(cafile=str(certificates.ca_file))
    return httpx.Client(base_url=server.url, verify=tls, timeout=30, cookies=cookies)


def to_provider(visitor: httpx.Client, path: str = "/admin") -> httpx.Response:
    """Open ``path`` signed out: the arcade sends the browser to /sign-in, which sends it to the provider's login page."""
    page = visitor.get(path, follow_redirects=True)
    assert page.url.path == "/authorize" and "log-in" in forms(page.text), visible_text(page.text)
    hops = [response.headers["location"] for response in page.history]
    assert hops[0] == f"/sign-in?{urlencode({'then': path})}"
    return page


def callback_from(visitor: httpx.Client, login_page: httpx.Response, login: str) -> str:
    """Log in on the provider's page; the callback URL it sends the browser back to (not yet followed)."""
    action, hidden = forms(login_page.text)["log-in"]
    answer = visitor.post(login_page.url.join(action), data={**hidden, "username": login, "password": PASSWORD})
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def sign_in(visitor: httpx.Client, login: str, path: str = "/admin") -> httpx.Response:
    return visitor.get(callback_from(visitor, to_provider(visitor, path), login), follow_redirects=True)


def submit(visitor: httpx.Client, page: httpx.Response, form_id: str, **fields) -> httpx.Response:
    action, hidden = forms(page.text)[form_id]
    return visitor.post(page.url.join(action), data={**hidden, **fields}, follow_redirects=True)


def board(server) -> list[str]:
    return [entry["player"]["name"] for entry in server.get("/api/v1/games/balloon/leaderboard").json()["entries"]]


def test_an_admin_by_player_id_and_one_by_claim_sign_in_at_the_provider_and_moderate(arcade, auth0, certificates):
    assert arcade.post_score(auth0.mint(EVE), 5, "eve-run-0001").status_code == 201
    eve = player_id(auth0.issuer, EVE)
    ada = browser(arcade, certificates)
    page = sign_in(ada, "ada@example.org")
    assert (page.url.path, page.status_code) == ("/admin", 200)
    assert "Ada Lovelace" in visible_text(page.text)
    (code,) = auth0.codes.values()
    assert code.challenge and code.used and code.redirect_uri == f"{arcade.url}/sign-in/callback"

    page = submit(ada, ada.get(f"/admin/players/{eve}"), "ban", reason="played with a script")
    assert "Banned: played with a script" in visible_text(page.text)
    assert board(arcade) == []

    grace = browser(arcade, certificates)
    page = sign_in(grace, "grace", path=f"/admin/players/{eve}")
    assert (page.url.path, page.status_code) == (f"/admin/players/{eve}", 200)
    submit(grace, page, "unban", reason="appeal upheld")
    assert board(arcade) == ["Eve"]
    audit = visible_text(grace.get("/admin/audit").text)
    assert f"Ada Lovelace ({player_id(auth0.issuer, ADA)})" in audit
    assert f"Grace Hopper ({player_id(auth0.issuer, GRACE)})" in audit
    api = grace.get("/admin/api/session").json()
    assert api["name"] == "Grace Hopper"

    kept = dict(grace.cookies)
    page = submit(grace, grace.get("/admin"), "sign-out")
    assert page.url.path == "/" and page.status_code == 200
    assert grace.get("/admin").headers["location"] == "/sign-in?then=%2Fadmin"
    stolen = browser(arcade, certificates, cookies=kept)  # the cookie kept from before: its session is gone
    assert stolen.get("/admin").status_code == 303
    assert ada.get("/admin").status_code == 200  # her session is her own


def test_someone_signed_in_who_is_not_an_admin_gets_a_403_naming_them(arcade, certificates):
    pat = browser(arcade, certificates)
    page = sign_in(pat, "pat")
    assert page.status_code == 403
    assert "you are signed in as Pat Smith, who is not an admin of this arcade" in visible_text(page.text)
    account = pat.get("/account")  # a player's own page takes the same session
    assert account.status_code == 200 and "Signed in as Pat Smith" in visible_text(account.text)
    refused = pat.post("/admin/api/moderations", json={"action": "ban", "player": "x", "reason": "r"})
    assert refused.status_code == 403


def test_a_userinfo_that_fails_at_sign_in_leaves_the_admin_signed_in_by_the_id_token(arcade, auth0, certificates):
    auth0.userinfo_down = True
    page = sign_in(browser(arcade, certificates), "grace")
    assert (page.url.path, page.status_code) == ("/admin", 200)  # her role claim is in the ID token
    assert "Grace Hopper" in visible_text(page.text)
    arcade.stop()
    assert f"sign-in of {GRACE}: the ID token's claims only: tried GET {auth0.issuer}userinfo" in arcade.log.read_text()


def refusal(page: httpx.Response) -> str:
    assert page.status_code == 400, (page.status_code, visible_text(page.text))
    text = visible_text(page.text)
    assert "nothing was signed in; open the page you wanted again" in text
    return text


def test_forged_state_replayed_code_wrong_nonce_and_another_audience_are_refused(arcade, auth0, certificates):
    mallory = browser(arcade, certificates)
    assert "state is not one the arcade started" in refusal(mallory.get("/sign-in/callback?code=abc&state=forged"))

    ada = browser(arcade, certificates)
    callback = callback_from(ada, to_provider(ada), "ada")
    assert ada.get(callback, follow_redirects=True).url.path == "/admin"
    assert "it was used or has expired" in refusal(ada.get(callback))  # the same answer again

    code = parse_qs(urlsplit(callback).query)["code"][0]  # a stolen code, with a sign-in of Mallory's own
    login_page = to_provider(mallory)
    state = parse_qs(urlsplit(str(login_page.history[-1].headers["location"])).query)["state"][0]
    replayed = mallory.get(f"/sign-in/callback?{urlencode({'code': code, 'state': state})}")
    assert "the identity provider refused the sign-in's code" in refusal(replayed)
    assert "Invalid authorization code" in visible_text(replayed.text)

    other = browser(arcade, certificates)  # a callback of a sign-in started in another browser
    started = callback_from(mallory, to_provider(mallory), "pat")
    assert "started in another browser" in refusal(other.get(started))

    auth0.id_token_changes = {"nonce": "from-another-sign-in"}
    assert "nonce is not this sign-in's" in refusal(sign_in(mallory, "ada"))
    auth0.id_token_changes = {"aud": "another-application"}
    assert "ID token was refused" in refusal(sign_in(mallory, "ada"))
    auth0.id_token_changes = {"aud": [WEB_CLIENT_ID, "another-application"], "azp": "another-application"}
    assert "issued to 'another-application'" in refusal(sign_in(mallory, "ada"))
    auth0.id_token_changes = {}

    for visitor in (mallory, other):
        assert visitor.get("/admin").status_code == 303  # none of it signed anyone in
    page = sign_in(mallory, "ada")
    assert (page.url.path, page.status_code) == ("/admin", 200)


def test_the_providers_refusal_comes_back_to_a_page_that_says_it(arcade, certificates):
    """The provider sends its errors back to the callback; here, a request without PKCE."""
    visitor = browser(arcade, certificates)
    authorize = visitor.get("/sign-in?then=/admin").headers["location"]
    parts = urlsplit(authorize)
    query = {key: values[0] for key, values in parse_qs(parts.query).items() if not key.startswith("code_challenge")}
    answer = visitor.get(f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode(query)}")
    assert answer.status_code == 302 and answer.headers["location"].startswith(f"{arcade.url}/sign-in/callback?")
    text = refusal(visitor.get(answer.headers["location"]))
    assert "the identity provider did not sign you in (invalid_request: code_challenge" in text


def test_the_fake_tenant_refuses_what_auth0_refuses(auth0, certificates):
    auth0.add_web_client(["http://127.0.0.1:1/sign-in/callback"])
    with httpx.Client(
        base_url=auth0.issuer, verify=ssl.create_default_context(cafile=str(certificates.ca_file))
    ) as tls:
        query = {
            "response_type": "code",
            "client_id": WEB_CLIENT_ID,
            "redirect_uri": "http://127.0.0.1:1/sign-in/callback",
            "scope": "openid profile",
            "state": "s",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
        }
        wrong = tls.get("/authorize", params={**query, "redirect_uri": "http://evil.test/callback"})
        assert wrong.status_code == 400 and "Callback URL mismatch" in wrong.text
        page = tls.get("/authorize", params=query)
        code = parse_qs(urlsplit(callback_from(tls, page, "ada")).query)["code"][0]
        redeem = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": query["redirect_uri"],
            "client_id": WEB_CLIENT_ID,
            "client_secret": WEB_CLIENT_SECRET,
        }
        verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"  # RFC 7636's example, whose challenge is above
        assert tls.post("/oauth/token", data=redeem).json()["error_description"] == "Failed to verify code verifier"
        again = tls.post("/oauth/token", data={**redeem, "code_verifier": verifier})
        assert (again.status_code, again.json()["error"]) == (403, "invalid_grant")  # the code went with the first try


def test_a_second_process_sharing_the_postgres_store_takes_the_sign_in_and_the_session(
    make_server, auth0, certificates, postgres_schema
):
    config = settings(auth0, "oidc", certificates.ca_file) + postgres_settings(postgres_schema)
    one = make_server(config, env=secret_env("oidc"))
    other = make_server(config, env={**secret_env("oidc"), "ARCADE_SERVER__PUBLIC_URL": one.url})
    auth0.add_web_client([f"{one.url}/sign-in/callback"])

    ada = browser(one, certificates)
    callback = callback_from(ada, to_provider(ada), "ada")  # started on one...
    landed = ada.get(other.url + urlsplit(callback).path + "?" + urlsplit(callback).query)  # ...finished on the other
    assert landed.status_code == 303 and landed.headers["location"] == "/admin"
    on_other = browser(other, certificates, cookies=dict(ada.cookies))
    assert on_other.get("/admin").status_code == 200
    assert ada.get("/admin").status_code == 200
    page = submit(on_other, on_other.get("/admin"), "sign-out")
    assert page.status_code == 200
    kept = browser(one, certificates, cookies=dict(ada.cookies))
    assert kept.get("/admin").status_code == 303  # signed out on the other: gone on this one too


def test_the_web_clients_secret_is_refused_in_the_file_and_a_missing_client_is_explained(
    tmp_path, make_server, auth0, certificates
):
    folder = tmp_path / "in-file"
    folder.mkdir()
    text = settings(auth0, "auth0", certificates.ca_file).replace(
        "[admins]", f'web_client_secret = "{WEB_CLIENT_SECRET}"\n[admins]'
    )
    (folder / "arcade.toml").write_text(text)
    said = run_arcade("serve", "--port", str(free_port()), cwd=folder)
    assert said.returncode == 2
    assert (
        "identity.auth0.web_client_secret: give the secret in the environment, "
        "ARCADE_IDENTITY__AUTH0__WEB_CLIENT_SECRET, not in the file"
    ) in said.stderr
    assert WEB_CLIENT_SECRET not in said.stderr

    without = make_server(settings(auth0, "oidc", certificates.ca_file, web_client=False))
    page = without.get("/admin", headers={"accept": "text/html"})
    assert page.status_code == 404
    assert "has no web client for signing in on the arcade's pages" in visible_text(page.text)


def test_a_web_client_at_a_provider_without_an_authorization_endpoint_stops_start_up(tmp_path, make_server):
    provider = make_server()  # the built-in provider of another arcade: the device flow only
    (tmp_path / "arcade.toml").write_text(
        f'[identity]\nplugin = "oidc"\n[identity.oidc]\nissuer = "{provider.url}"\nclient_id = "badge"\n'
        f'audience = "{provider.url}/api"\nalgorithms = ["ES256"]\nweb_client_id = "arcade-web"\n'
    )
    said = run_arcade("serve", "--port", str(free_port()), cwd=tmp_path)
    assert said.returncode == 2, said.stdout
    assert "identity.oidc.web_client_id: the provider's discovery document names no authorization_endpoint" in (
        said.stderr
    )
