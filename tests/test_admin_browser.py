"""The organiser's admin flows in real Chromium against a real server, on every store: signing in
through the built-in provider, hiding a score, banning a player, the audit log, refused runs,
the event's sessions, re-adjudicating a game, downloading boards, and someone who is not an admin.
The pages' screenshots are the ones in docs/ (admin-*.png)."""

import asyncio
import csv
import io
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import expect

from arcade.sdk.models import player_id
from tests.people import PASSWORD
from tests.runs import balloon_run
from tests.stores import STORES, drop_schema, new_schema, postgres_settings

pytestmark = pytest.mark.browser
DOCS = Path(__file__).resolve().parent.parent / "docs"
ADMINS = '[admins]\naccounts = ["boss"]\n'
EVENT = '[event]\ntime_zone = "Europe/Berlin"\n[[event.windows]]\nname = "opening"\ntitle = "Opening"\n' + (
    "start = 2026-01-01T09:00:00\nend = 2026-01-01T10:00:00\n"
)


def in_thread(function, *args):
    """Playwright's sync API keeps an event loop running in this thread: what runs one (a coroutine,
    a token read from a PostgreSQL store) runs in another."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(function, *args).result()


def served(request, make_server, settings: str):
    """A server on the store of ``request.param``; a PostgreSQL one in a schema of its own, dropped after."""
    if request.param == "tinydb":
        server = make_server(settings)
        server.store_name = "tinydb"
        yield server
        return
    schema = in_thread(asyncio.run, new_schema())
    server = make_server(settings + postgres_settings(schema))
    server.store_name = "postgres"
    yield server
    server.stop()
    in_thread(asyncio.run, drop_schema(schema))


@pytest.fixture(params=STORES)
def arcade(request, make_server):
    yield from served(request, make_server, ADMINS)


@pytest.fixture(params=STORES)
def event_arcade(request, make_server):
    """An arcade whose event is in Berlin, with a window set in arcade.toml."""
    yield from served(request, make_server, ADMINS + EVENT)


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


def for_the_docs(page, server, name: str) -> None:
    """A screenshot for docs/ (the TinyDB run's, so the two stores' runs never write it at once)."""
    page.screenshot(path=str((DOCS if server.store_name == "tinydb" else server.folder) / name), full_page=True)


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


def test_an_organiser_adds_changes_and_removes_a_session_in_chromium(event_arcade, page):
    arcade = event_arcade
    assert arcade.post_score(in_thread(arcade.token, "eve"), 4, "eve-run-0001").status_code == 201
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_up(page, arcade, "/admin", "boss", "Boss")
    page.get_by_role("link", name="Windows").click()
    expect(page.locator("tr[data-window='opening']")).to_contain_text("in arcade.toml")
    expect(page.locator("main")).to_contain_text("Europe/Berlin")

    now = datetime.now(ZoneInfo("Europe/Berlin"))
    add = page.locator("#add")
    add.get_by_label("Name (in URLs)").fill("talks")
    add.get_by_label("Title").fill("Talks")
    add.get_by_label("Start").fill(f"{now:%Y-%m-%d}T{now:%H}:00")
    add.get_by_label("End").fill(f"{now - timedelta(hours=2):%Y-%m-%dT%H}:00")
    add.get_by_role("button", name="Add session").click()
    expect(page.get_by_role("alert")).to_contain_text("is not after the window's start")
    expect(page.locator("#add").get_by_label("Name (in URLs)")).to_have_value("talks")  # nothing typed is lost
    page.locator("#add").get_by_label("End").fill(f"{now + timedelta(hours=2):%Y-%m-%dT%H}:00")
    page.locator("#add").get_by_role("button", name="Add session").click()
    expect(page.locator("tr[data-window='talks']")).to_contain_text("open")
    boards = httpx.get(f"{arcade.url}/api/v1/games/balloon/leaderboard?window=talks").json()["entries"]
    assert [(entry["player"]["name"], entry["score"]) for entry in boards] == [("eve", 4)]

    page.get_by_label("Title of talks").fill("Lightning talks")
    page.locator("#change-talks").get_by_role("button", name="Save").click()
    expect(page.get_by_label("Title of talks")).to_have_value("Lightning talks")
    for_the_docs(page, arcade, "admin-windows.png")
    page.goto(f"{arcade.url}/games/balloon")
    page.get_by_label("Board").select_option("talks")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name="Balloon · Lightning talks")).to_be_visible()
    expect(page.locator("#rows tr").first).to_contain_text("eve")

    page.goto(f"{arcade.url}/admin/windows")
    page.get_by_role("button", name="Remove talks").click()
    expect(page.locator("tr[data-window='talks']")).to_have_count(0)
    page.get_by_role("link", name="Audit log").click()
    rows = page.locator("table.audit tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("remove-window")
    expect(rows.nth(1)).to_contain_text("Talks: ")
    expect(rows.nth(1)).to_contain_text("Lightning talks: ")


def test_an_organiser_readjudicates_publishes_and_downloads_the_archive_in_chromium(event_arcade, page, newer_balloon):
    arcade = event_arcade
    for name, score in [("ann", 5), ("ben", 15), ("cy", 50)]:
        assert arcade.post_score(in_thread(arcade.token, name), score, f"{name}-run-0001").status_code == 201
    arcade.env["PYTHONPATH"] = f"{newer_balloon}:{arcade.env['PYTHONPATH']}"  # the server upgraded the game
    arcade.restart()
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_up(page, arcade, "/admin/games/balloon", "boss", "Boss")
    page.get_by_role("link", name="Re-adjudicate").click()
    page.get_by_role("button", name="Replay every run").click()
    summary = page.locator(".diff .summary")  # the page reloads itself until the replay is done
    expect(summary).to_have_text("Replayed 3 runs under version 1.3.0: 1 score moves, 1 run no longer verifies.")
    expect(page.locator("tr[data-submission='cy-run-0001']")).to_contain_text("no longer verifies")
    expect(page.locator("tr[data-submission='ann-run-0001']")).to_contain_text("10")
    page.get_by_label("Reason to publish").fill("balloon 1.3.0 closes the 50-pump loophole")
    for_the_docs(page, arcade, "admin-readjudicate.png")
    assert [score for _, score in public_board(arcade)] == [50, 15, 5]  # nothing changes before Publish
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("ul.archives")).to_contain_text("Board 1: 3 players")
    expect(page.get_by_role("button", name="Publish")).to_have_count(0)
    assert public_board(arcade) == [("ben", 15), ("ann", 10)]

    page.get_by_role("link", name="Board 1").click()
    expect(page.locator("#rows tr").first).to_contain_text("no longer verifies")
    expect(page.locator("main")).to_contain_text("CET")
    page.goto(f"{arcade.url}/admin/games/balloon")
    with page.expect_download() as download:
        page.locator("tr[data-archive='1']").get_by_role("link", name="CSV").click()
    assert download.value.suggested_filename == "balloon-archive-1.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert [(row["player_name"], row["verification"]) for row in rows] == [
        ("cy", "no_longer_verifies"),
        ("ben", "verified"),
        ("ann", "verified"),
    ]
    with page.expect_download() as download:
        page.locator("tr[data-window='event']").get_by_role("link", name="JSON").click()
    document = json.loads(Path(download.value.path()).read_text())
    assert [(entry["player"]["name"], entry["verification"]) for entry in document["entries"]] == [
        ("ben", "readjudicated"),
        ("ann", "readjudicated"),
    ]
    page.get_by_role("link", name="Audit log").click()
    expect(page.locator("table.audit tbody tr").first).to_contain_text("balloon 1.3.0 closes the 50-pump loophole")
