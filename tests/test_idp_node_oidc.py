"""The oidc identity provider against a real OpenID provider: node-oidc-provider, set up as
tests/oidc_provider/provider.mjs says, installed from npm once under build/. The simulated badge
logs in there, a person approves on the provider's own pages over HTTP, and the score reaches the
leaderboard of a real `arcade serve` under the name the provider gave, with no call to its
userinfo endpoint (which refuses the badge's API token, rightly). An admin signs in on the
arcade's pages there too, through the arcade's web client."""

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, RunningServer, free_port
from tests.people import PASSWORD, Person, visible_text
from tests.simulator import Badge
from tests.test_firmware_login import LOG_IN_THEN, THEN_PLAY, scan

OIDC_PROVIDER = "oidc-provider@9.13.3"
MODULES = ROOT / "build" / "node-oidc-provider"
SCRIPT = ROOT / "tests" / "oidc_provider" / "provider.mjs"
ADA = "ada-7f3c"
"""Her subject at the provider: what the leaderboard must not show."""
ACCOUNTS = {ADA: {"name": "Ada Lovelace", "nickname": "ada", "groups": ["arcade-admins"]}}
WEB_CLIENT_SECRET = "s3cret+of/the%arcade's web=client"
"""With what form-urlencoding changes: node-oidc-provider decodes HTTP Basic credentials (RFC 6749 §2.3.1)."""
SCOPE = "openid profile offline_access scores:write"


def unavailable(message: str):
    """Fails in CI, where node and the package index are there to be had; skips elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(f"{message}\n(offline, or no node? CI fails here)")


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """node-oidc-provider and what it needs, from npm into build/ (kept there for the next run)."""
    installed = MODULES / "node_modules" / "oidc-provider" / "package.json"
    wanted = OIDC_PROVIDER.rsplit("@", 1)[1]
    if installed.exists() and json.loads(installed.read_text())["version"] == wanted:
        return MODULES / "node_modules"
    npm = shutil.which("npm")
    if not npm or not shutil.which("node"):
        unavailable("node and npm are not installed (apt-get install nodejs npm, or make system-packages)")
    MODULES.mkdir(parents=True, exist_ok=True)
    options = ["--no-save", "--no-package-lock", "--no-audit", "--no-fund", "--prefix", str(MODULES)]
    result = subprocess.run([npm, "install", *options, OIDC_PROVIDER], capture_output=True, text=True, timeout=300)
    if result.returncode != 0 or not installed.exists():
        unavailable(f"npm could not install {OIDC_PROVIDER}:\n{result.stderr[-3000:]}")
    return MODULES / "node_modules"


@dataclass
class NodeOidcProvider:
    """node-oidc-provider on a loopback port; its log has a line per request it was sent."""

    port: int
    log: Path
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def requests(self) -> list[str]:
        """``METHOD PATH host=HOST`` of each request, in order."""
        lines = self.log.read_text().splitlines()
        return [line.removeprefix("request ") for line in lines if line.startswith("request ")]


def start_provider(modules: Path, folder: Path, arcade: str) -> NodeOidcProvider:
    port = free_port()
    log = folder / "node-oidc-provider.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["node", str(SCRIPT), str(port), arcade, json.dumps(ACCOUNTS)],
            env={**os.environ, "OIDC_PROVIDER_MODULES": str(modules), "WEB_CLIENT_SECRET": WEB_CLIENT_SECRET},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    provider = NodeOidcProvider(port, log, process)
    deadline = time.monotonic() + 30
    while f"ready {provider.url}" not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"node-oidc-provider did not start:\n{log.read_text()}")
        time.sleep(0.05)
    return provider


@pytest.fixture
def node_oidc(node_modules, make_server, tmp_path):
    """(the provider, an arcade relying on it), configured as docs/identity-providers.md says."""
    arcade: RunningServer = make_server(
        start=False, env={"ARCADE_IDENTITY__OIDC__WEB_CLIENT_SECRET": WEB_CLIENT_SECRET}
    )
    provider = start_provider(node_modules, tmp_path, arcade.url)
    try:
        arcade.config.write_text(
            arcade.config.read_text()
            + f'[identity]\nplugin = "oidc"\n[identity.oidc]\nissuer = "{provider.url}"\nclient_id = "badge"\n'
            f'audience = "{arcade.url}/api"\nscope = "{SCOPE}"\nscore_scope = "scores:write"\n'
            'web_client_id = "arcade-web"\nweb_scope = "openid profile groups"\n'
            '[admins]\nclaim = "groups"\nclaim_value = "arcade-admins"\n'
        )
        yield provider, arcade.start()  # make_server stops it
    finally:
        provider.process.terminate()
        provider.process.wait(10)


def approve(provider: NodeOidcProvider, link: str) -> str:
    """A person scans the badge's QR code and goes through node-oidc-provider's own pages as a
    browser would: the form its script submits at once, the device confirmation, the sign-in
    (any password does on the development pages), the consent. Answers what the confirm page said."""
    phone = Person(provider.url, ADA)
    try:
        page = phone.submit(phone.open(link), "")  # "Submitting Callback": posted by the page's script
        confirm = visible_text(page.text)
        page = phone.submit(page, "op.deviceConfirmForm")
        page = phone.submit(page, "", login=ADA, password=PASSWORD)
        page = phone.submit(page, "")  # Authorize: profile, the arcade's API, offline access
        assert "Sign-in Success" in visible_text(page.text), visible_text(page.text)
    finally:
        phone.close()
    return confirm


def log_in_and_play(badge: Badge, provider: NodeOidcProvider, shots: Path, zbarimg: str):
    """The badge logged in (the person approving at the provider) and a game of Dino; answers
    (the link its QR code gave, its login screen, what the confirm page said, the finished run)."""
    running = badge.start(LOG_IN_THEN.format(after=THEN_PLAY), screenshots=shots)
    login = running.wait_for("login")
    link = scan(zbarimg, shots)
    confirm = approve(provider, link)
    return link, login, confirm, running.finish()


def dino_board(arcade: RunningServer) -> list[tuple[str, int]]:
    entries = httpx.get(f"{arcade.url}/api/v1/games/dino/leaderboard").json()["entries"]
    return [(entry["player"]["name"], entry["score"]) for entry in entries]


def score_of(result) -> int:
    return int(result.last("result").text.split(" | ")[2].split()[0])


def test_a_badge_logs_in_at_node_oidc_provider_and_scores_under_the_name_in_its_id_token(
    badge_build, node_oidc, tmp_path, zbarimg
):
    provider, arcade = node_oidc
    badge = Badge(badge_build, tmp_path / "flash", arcade.url)

    link, login, confirm, result = log_in_and_play(badge, provider, tmp_path / "shots", zbarimg)

    assert result.returncode == 0, result.output
    assert link.startswith(f"{provider.url}/device?user_code=")  # the provider's port: the badge's Host had it
    assert f"{provider.url}/device" in login.text.replace(" | ", "")
    assert "Badge Arcade on Badger 2040 W (simulated)" in confirm  # the badge's device_name
    assert login.text.split(" | ")[-3] in confirm  # the code the badge shows
    assert result.last("account").text.startswith("Logged in as Ada Lovelace")
    assert dino_board(arcade) == [("Ada Lovelace", score_of(result))]
    asked = provider.requests()
    assert not [line for line in asked if line.startswith("GET /me ")], asked  # userinfo never needed
    assert {line.split(" host=")[1] for line in asked} == {f"127.0.0.1:{provider.port}"}
    session = badge.state("session.json")
    assert "id_token" not in session  # sent once with the score, then dropped
    refused = httpx.get(f"{provider.url}/me", headers={"Authorization": f"Bearer {session['access_token']}"})
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_token"


def test_after_the_arcade_restarts_the_rebooted_badge_refreshes_at_node_oidc_provider_scores_by_name_and_logs_out(
    badge_build, node_oidc, tmp_path, zbarimg
):
    provider, arcade = node_oidc
    badge = Badge(badge_build, tmp_path / "flash", arcade.url)
    first = log_in_and_play(badge, provider, tmp_path / "shots", zbarimg)[-1]
    assert first.returncode == 0, first.output
    before = badge.state("session.json")

    arcade.restart()
    again = badge.play(THEN_PLAY.replace("wait account\nspeed 50\n1 c\n2 -\n", ""))  # refreshes first

    assert again.returncode == 0, again.output
    after = badge.state("session.json")
    assert after["access_token"] != before["access_token"]  # refreshed at the provider
    assert again.last("result").said.endswith(f"best {max(score_of(first), score_of(again))}. A: menu")
    assert dino_board(arcade) == [("Ada Lovelace", max(score_of(first), score_of(again)))]
    assert again.last("menu").text.startswith("Badge Arcade - Ada Lovelace")  # the answer to this score named her
    assert not [line for line in provider.requests() if line.startswith("GET /me ")]

    out = badge.play("wait menu\n1 b\n2 -\nwait account\n1 a\n2 -\nwait logged-out\n1 a\n2 -\nwait account\nexit")
    assert out.last("logged-out").said.startswith("Account Logged out."), out.output
    assert [line for line in provider.requests() if line.startswith("POST /token/revocation ")]
    form = {"grant_type": "refresh_token", "refresh_token": after["refresh_token"], "client_id": "badge"}
    refused = httpx.post(f"{provider.url}/token", data={**form, "resource": f"{arcade.url}/api"})
    assert refused.json()["error"] == "invalid_grant"  # revoked at the provider


def test_an_admin_signs_in_on_the_arcades_pages_at_node_oidc_provider_named_and_admitted_by_its_claims(node_oidc):
    """In the code flow node-oidc-provider gives the profile and groups claims at userinfo, not in
    the ID token (OpenID Connect Core §5.4), and decodes the web client's HTTP Basic credentials."""
    provider, arcade = node_oidc
    person = Person(provider.url, ADA)
    login = person.browser.get(f"{arcade.url}/admin")  # signed out: /sign-in, then the provider's sign-in page
    assert login.url.path.startswith("/interaction/"), visible_text(login.text)
    consent = person.submit(login, "", login=ADA, password=PASSWORD)
    page = person.submit(consent, "")  # Authorize: profile, groups

    assert (str(page.url), page.status_code) == (f"{arcade.url}/admin", 200), visible_text(page.text)
    assert person.browser.get(f"{arcade.url}/admin/api/session").json()["name"] == "Ada Lovelace"
    account = person.browser.get(f"{arcade.url}/account")
    assert "Signed in as Ada Lovelace" in visible_text(account.text)
    assert [line for line in provider.requests() if line.startswith("GET /me ")]  # the web client's token is for it
    person.close()
