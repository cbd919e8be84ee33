"""The event screen (``/screen``) and the live pages as a visitor meets them in real Chromium,
against a real `arcade serve`: long names never break a layout (1920×1080, 3840×2160, 390 px
wide), a page updates from the event itself and ends up with the rows the server renders, and a
page left open while the server restarts fetches what it missed."""

import asyncio
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image

from arcade.sdk.models import Player, Run, ScoreSubmission, player_id
from tests.conftest import Servers, assemble_in

pytestmark = pytest.mark.browser
DOCS = Path(__file__).resolve().parent.parent / "docs"
EVENT = '[event]\nname = "Badge Night at the Lighthouse"\ntime_zone = "Europe/Berlin"\n'
LONG = [  # 40 and 64 characters, the longest a name may be
    "Maximiliane Alexandra Wolkenstein-Rodeck",
    "Bartholomew Fitzwilliam Montgomery-Smythe of Little Snoring 3rd",
]


def long_name(index: int) -> str:
    name = f"{index:02d} {LONG[index % 2]}"
    return name[: len(LONG[index % 2])]


def seed(server, scores: list[tuple[str, str, int]]) -> None:
    """Store ``(game, name, score)`` into the stopped server's store as accepted scores, as an
    import would: the layout tests need every game's board full, not replayed runs."""

    async def put():
        arcade = assemble_in(server.folder, server.env)
        await arcade.store.start()
        try:
            for number, (game, name, score) in enumerate(scores):
                player = Player(id=player_id("urn:test", name), issuer="urn:test", subject=name, name=name)
                submission = ScoreSubmission(score=score, run=Run(seed=1), submission_id=f"seeded-{number:05d}")
                await arcade.store.submit_score(arcade.games[game], player, submission)
        finally:
            await arcade.store.close()

    with ThreadPoolExecutor(1) as thread:  # Playwright's sync API holds this thread's event loop
        thread.submit(asyncio.run, put()).result()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, fixture_games, importable_games):
    """A server whose every game has 14 players with names of 40 and 64 characters."""
    servers = Servers(tmp_path_factory.mktemp("screen"), fixture_games)
    server = servers(EVENT, start=False)
    seed(
        server, [(game, long_name(i), 100 - i * 3) for game in ("balloon", "dino", "maze", "tiles") for i in range(14)]
    )
    server.start()
    for number, (name, score) in enumerate([("Grace", 12), ("Linus T.", 30), ("ada", 21), ("Katherine Johnson", 40)]):
        assert server.post_score(server.token(name), score, f"ticker-{number:04d}").status_code == 201  # the ticker's
    yield server
    servers.stop_all()


def open_page(browser, url: str, width: int, height: int):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(url)
    return page


def fully_visible(page, selector: str) -> int:
    """How many elements matching ``selector`` are shown whole inside the viewport."""
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)].filter((element) => {
             const box = element.getBoundingClientRect();
             return box.height > 0 && box.top >= 0 && box.left >= 0 && box.bottom <= innerHeight && box.right <= innerWidth;
           }).length""",
        selector,
    )


def overflows(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")


def scan(zbarimg: str, path: Path) -> str:
    result = subprocess.run([zbarimg, "--raw", "-q", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"zbar found no code: {result.stderr}"
    return result.stdout.strip()


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (3840, 2160)])
def test_the_event_screen_fills_a_big_screen_with_ten_rows_of_long_names(seeded, browser, zbarimg, width, height):
    page = open_page(browser, f"{seeded.url}/screen", width, height)
    page.wait_for_selector("#live:not([hidden])")
    assert page.locator(".screen-event").inner_text() == "Badge Night at the Lighthouse"
    board = ".screen-board:not([hidden]) .screen-rows > li"
    assert fully_visible(page, board) == 10
    assert fully_visible(page, ".screen-join .screen-qr svg") == 1 and fully_visible(page, ".screen-ticker") == 1
    assert page.locator("#ticker li").first.text_content().startswith("Katherine Johnson 40 Balloon")
    assert not overflows(page)
    assert page.evaluate("document.documentElement.scrollHeight <= innerHeight")
    cut = page.evaluate(
        "[...document.querySelectorAll('.screen-board:not([hidden]) .name')].filter(n => n.scrollWidth > n.clientWidth).length"
    )
    assert cut > 0  # the 64-character names end in an ellipsis rather than widening the row
    shot = seeded.folder / f"screen-{width}.png"
    page.screenshot(path=str(shot))
    assert scan(zbarimg, shot) == f"{seeded.url}/device"
    docs = DOCS / f"event-screen-{width}x{height}.png"
    with Image.open(shot) as image:
        (image if width == 1920 else image.resize((1920, 1080), Image.LANCZOS)).save(docs, optimize=True)
    page.context.close()


def test_the_event_screen_turns_through_the_games_or_stays_on_one(seeded, browser):
    page = open_page(browser, f"{seeded.url}/screen?seconds=5", 1920, 1080)
    first = page.locator(".screen-board:not([hidden])").get_attribute("data-game")
    deadline = time.monotonic() + 30
    while page.locator(".screen-board:not([hidden])").get_attribute("data-game") == first:
        assert time.monotonic() < deadline, "the screen stayed on its first game"
        page.wait_for_timeout(250)
    page.goto(f"{seeded.url}/screen?game=maze")
    assert page.locator(".screen-board").count() == 1
    assert page.locator(".screen-board").get_attribute("data-game") == "maze"
    assert page.goto(f"{seeded.url}/screen?game=nope").status == 404
    page.context.close()


@pytest.mark.parametrize("path", ["/games/balloon", "/"])
def test_long_names_leave_ten_rows_in_view_at_1080p(seeded, browser, path):
    page = open_page(browser, seeded.url + path, 1920, 1080)
    rows = "#rows > tr" if path != "/" else ".podium > li"
    assert fully_visible(page, rows) >= 10
    assert not overflows(page)
    if path == "/":
        page.wait_for_selector("#live:not([hidden])")
        page.screenshot(path=str(DOCS / "front-page-live.png"))
    page.context.close()


@pytest.mark.parametrize("path", ["/", "/games/balloon", "/device", "/screen"])
def test_nothing_overflows_a_phone_390_px_wide(seeded, browser, path):
    page = open_page(browser, seeded.url + path, 390, 844)
    assert not overflows(page), path
    page.context.close()


def rows_of(page, selector: str) -> list[tuple[str, str, str]]:
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)].map((row) => [
             row.querySelector('[data-field=rank]').textContent.trim(),
             row.querySelector('[data-field=name]').textContent,
             row.querySelector('[data-field=score]').textContent.trim().split(' ')[0]])""",
        selector,
    )


def test_live_updates_leave_each_page_with_the_rows_the_server_renders(server, browser):
    """Ties, a player moving up, a new player, a score that is no new best: each page applies the
    events itself (no request), and ends up as a fresh load of the page shows it."""
    pages = {path: open_page(browser, server.url + path, 1920, 1080) for path in ["/", "/games/balloon", "/screen"]}
    requests = []
    for path, page in pages.items():
        page.wait_for_selector("#live:not([hidden])")
        page.evaluate("window.notReloaded = true")
        page.on("request", lambda request: requests.append(request.url))
    plays = [("ann", 10), ("ben", 12), ("cat", 10), ("ann", 12), ("dan", 3), ("ben", 11), ("eve", 14), ("cat", 13)]
    for number, (name, score) in enumerate(plays):
        assert server.post_score(server.token(name), score, f"{name}-run-{number:04d}").status_code == 201
    selectors = {
        "/": ".podium[data-board=balloon] > li",
        "/games/balloon": "#rows > tr",
        "/screen": ".screen-rows[data-board=balloon] > li",
    }
    for path, page in pages.items():
        page.locator(selectors[path]).filter(has_text="cat").filter(has_text="13").first.wait_for(state="attached")
        assert page.locator("[data-players=balloon]").first.text_content() == "5"
        live = rows_of(page, selectors[path])
        assert page.evaluate("window.notReloaded") is True
        fresh = open_page(browser, server.url + path, 1920, 1080)
        assert live == rows_of(fresh, selectors[path]), path
        fresh.context.close()
    assert [url for url in requests if "/rows" in url or url.endswith("/balloon")] == []
    assert pages["/screen"].locator("#ticker li").first.text_content().startswith("cat 13"), (
        pages["/screen"].locator("#ticker").inner_html()
    )
    assert pages["/screen"].locator("#ticker li").count() == len(plays)


def test_a_page_open_while_the_server_restarts_fetches_what_it_missed(server, browser, importable_games):
    server.post_score(server.token("ann"), 10, "ann-run-0001")
    pages = {path: open_page(browser, server.url + path, 1920, 1080) for path in ["/games/balloon", "/"]}
    for page in pages.values():
        page.wait_for_selector("#live:not([hidden])")
    server.stop()
    seed(server, [("balloon", "zoe, while the server was down", 50)])  # as another process would
    server.start()
    for path, page in pages.items():
        page.locator("[data-board=balloon] > [data-player]").filter(has_text="zoe").wait_for(timeout=60_000)
        assert page.locator("[data-players=balloon]").first.inner_text() == "2", path


def test_the_code_entry_page_fits_a_phone_390_px_wide_with_the_longest_name(seeded, browser):
    """It did not: the code's box kept its font's width and pushed the page 39 px past the screen."""
    page = open_page(browser, f"{seeded.url}/device", 390, 844)
    page.fill("#sign-up-username", "u" * 32)
    page.fill("#sign-up-name", "Maximiliane_Alexandra_Wolkenstein_Rodeck")  # 40, the most, and no space to wrap at
    page.fill("#sign-up-password", "correct horse battery")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_selector("#code")
    assert not overflows(page)
    page.context.close()
