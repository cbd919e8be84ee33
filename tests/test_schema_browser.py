"""The API reference in a real browser with no way off this machine: it still reads."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_the_api_reference_renders_in_chromium_with_the_network_cut_off(shared_server, page):
    elsewhere = []

    def only_loopback(route):
        if route.request.url.startswith(shared_server.url):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_loopback)
    page.goto(f"{shared_server.url}/schema")
    expect(page.get_by_role("heading", name="POST /api/v1/games/{game_id}/scores")).to_be_visible()
    expect(page.locator("#model-ScoreSubmission")).to_contain_text("submission_id")
    assert elsewhere == []
