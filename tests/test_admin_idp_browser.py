"""An organiser signs in to the admin pages in real Chromium through an external provider (the
`oidc` plugin and the FAKE Auth0 tenant of tests/fake_auth0.py), moderates, and signs out."""

import re

import pytest
from playwright.sync_api import expect

from arcade.sdk.models import player_id
from tests.fake_auth0 import PASSWORD, FakeAuth0
from tests.test_admin_idp import ADA, EVE, auth0, board, secret_env, settings  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def test_an_admin_signs_in_at_the_provider_in_chromium_moderates_and_signs_out(
    browser, make_server, auth0: FakeAuth0, certificates
):
    arcade = make_server(settings(auth0, "oidc", certificates.ca_file), env=secret_env("oidc"))
    auth0.add_web_client([f"{arcade.url}/sign-in/callback"])
    assert arcade.post_score(auth0.mint(EVE), 5, "eve-run-0001").status_code == 201
    context = browser.new_context(ignore_https_errors=True)  # the tenant's certificate is from a throwaway CA
    page = context.new_page()
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto(f"{arcade.url}/admin")
    expect(page).to_have_url(re.compile(rf"^{re.escape(auth0.issuer)}authorize\?"))
    page.get_by_label("Email address").fill("ada@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(f"{arcade.url}/admin")
    expect(page.get_by_role("heading", name="Admin", exact=True)).to_be_visible()
    expect(page.locator("#sign-out")).to_contain_text("Ada Lovelace")

    page.goto(f"{arcade.url}/admin/players/{player_id(auth0.issuer, EVE)}")
    page.locator("#ban").get_by_label("Reason to ban").fill("played with a script")
    page.locator("#ban").get_by_role("button", name="Ban").click()
    expect(page.get_by_role("status")).to_contain_text("Banned: played with a script")
    assert board(arcade) == []
    page.get_by_role("link", name="Audit log").click()
    expect(page.locator("table.audit tbody tr").first).to_contain_text(f"Ada Lovelace ({player_id(auth0.issuer, ADA)})")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{arcade.url}/")
    page.goto(f"{arcade.url}/admin")
    expect(page).to_have_url(re.compile(rf"^{re.escape(auth0.issuer)}authorize\?"))  # signed out: to the provider again
    context.close()
