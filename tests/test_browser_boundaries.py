"""What a real browser is kept from: the network beyond the arcade (the API reference works
without it) and framing by another site (no page of the arcade can sit under a decoy)."""

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


def test_no_page_of_the_arcade_can_be_framed_by_another_site(shared_server, page):
    page.set_content(f'<iframe src="{shared_server.url}/device"></iframe>')
    frame = page.frames[1]
    frame.wait_for_load_state()
    assert frame.locator("text=Log in your badge").count() == 0
