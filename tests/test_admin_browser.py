"""The organiser's admin flows in real Chromium against a real server, on every store: signing in
through the built-in provider, hiding a score, banning a player, the audit log, refused runs, and
someone who is not an admin. The pages' screenshots are the ones in docs/ (admin-*.png)."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from playwright.sync_api import expect

from arcade.sdk.models import player_id
from tests.people import PASSWORD
from tests.runs import balloon_run
from tests.stores import STORES, drop_schema, new_schema, postgres_settings

pytestmark = pytest.mark.browser
ADMINS = '[admins]\naccounts = ["boss"]\n'


def in_thread(function, *args):
    """Playwright's sync API keeps an event loop running in this thread: what runs one (a coroutine,
    a token read from a PostgreSQL store) runs in another."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(function, *args).result()


@pytest.fixture(params=STORES)
def arcade(request, make_server):
    if request.param == "tinydb":
        yield make_server(ADMINS)
        return
    schema = in_thread(asyncio.run, new_schema())
    server = make_server(ADMINS + postgres_settings(schema))
    yield server
    server.stop()
    in_thread(asyncio.run, drop_schema(schema))


def sign_up(page, server, then: str, username: str, name: str) -> None:
    """Open ``then``, be sent to the sign-in page, create an account there and come back."""
    page.goto(f"{server.url}{then}")
    expect(page).to_have_url(f"{server.url}/device?then={then.replace('/', '%2F')}")
    form = page.locator("#sign-up")
    form.get_by_label("Username").fill(username)
    form.get_by_label("Display name").fill(name)
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(f"{server.url}{then}")


def public_board(server) -> list[tuple[str, int]]:
    entries = httpx.get(f"{server.url}/api/v1/games/balloon/leaderboard").json()["entries"]
    return [(entry["player"]["name"], entry["score"]) for entry in entries]


def test_an_organiser_moderates_from_the_admin_pages(arcade, page):
    tokens = {name: in_thread(arcade.token, name) for name in ("eve", "mallory", "sam")}
    for name, scores in {"eve": [3, 6], "mallory": [5], "sam": [4]}.items():
        for number, score in enumerate(scores):
            assert arcade.post_score(tokens[name], score, f"{name}-run-{number:04}").status_code == 201
    for number in range(2):
        cheat = arcade.post_score(tokens["mallory"], 9, f"mallory-cheat-{number}", run=balloon_run(1))
        assert cheat.status_code == 422
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_up(page, arcade, "/admin", "boss", "Boss")
    expect(page.get_by_role("heading", name="Admin", exact=True)).to_be_visible()

    page.locator(".card", has_text="Balloon").get_by_role("link", name="eve").click()
    expect(page.get_by_role("heading", name="eve")).to_be_visible()
    best = page.locator("tr[data-submission='eve-run-0001']")
    best.get_by_label("Reason to hide").fill("a jump no balloon can make")
    best.get_by_role("button", name="Hide").click()
    expect(page.locator("tr[data-submission='eve-run-0001']")).to_contain_text("hidden")
    assert public_board(arcade) == [("mallory", 5), ("sam", 4), ("eve", 3)]
    page.goto(f"{arcade.url}/games/balloon")
    expect(page.locator("#rows tr").first).to_contain_text("mallory")
    page.go_back()
    page.locator("tr[data-submission='eve-run-0001']").get_by_label("Reason to unhide").fill("the replay checks out")
    page.locator("tr[data-submission='eve-run-0001']").get_by_role("button", name="Unhide").click()
    expect(page.locator("tr[data-submission='eve-run-0001']")).not_to_contain_text("hidden")
    assert public_board(arcade)[0] == ("eve", 6)

    page.goto(f"{arcade.url}/admin/players/{player_id('urn:arcade:builtin', 'mallory')}")
    page.locator("#ban").get_by_label("Reason to ban").fill("played with a script")
    page.locator("#ban").get_by_role("button", name="Ban").click()
    expect(page.get_by_role("status")).to_contain_text("Banned: played with a script")
    page.screenshot(path=str(arcade.folder / "admin-player.png"), full_page=True)
    assert public_board(arcade) == [("eve", 6), ("sam", 4)]
    badge = arcade.post_score(tokens["mallory"], 7, "mallory-run-0009")
    assert badge.status_code == 403 and "played with a script" in badge.json()["detail"]

    page.get_by_role("link", name="Audit log").click()
    rows = page.locator("table.audit tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("ban")
    expect(rows.nth(0)).to_contain_text("played with a script")
    expect(rows.nth(0)).to_contain_text("Boss (boss)")
    expect(rows.nth(2)).to_contain_text("a jump no balloon can make")
    page.screenshot(path=str(arcade.folder / "admin-audit.png"), full_page=True)

    page.get_by_role("link", name="Refused runs").click()
    expect(page.locator("table.counts")).to_contain_text("mallory")
    expect(page.locator("table.counts")).to_contain_text("2")
    expect(page.locator("table.refused tbody tr").first).to_contain_text("the replay of this run scores 1, not 9")
    page.screenshot(path=str(arcade.folder / "admin-refused.png"), full_page=True)
    page.goto(f"{arcade.url}/admin")
    page.screenshot(path=str(arcade.folder / "admin.png"), full_page=True)


def test_someone_who_is_not_an_admin_is_refused_in_chromium(arcade, page):
    sign_up(page, arcade, "/admin", "pat", "Pat")
    expect(page.locator("main")).to_contain_text("you are signed in as Pat, who is not an admin of this arcade")
