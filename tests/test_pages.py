"""The leaderboard pages as a visitor meets them: plain HTTP to the app in this process for content,
Chromium against a real `arcade serve` for live updates."""

import re

import pytest


def test_the_front_page_lists_every_game_with_its_top_five(app):
    for name, score in [("ann", 10), ("ben", 40), ("cat", 30), ("dan", 20), ("eve", 5), ("fay", 1)]:
        app.post_score(app.token(name), score, f"{name}-run-01")
    html = app.get("/").text
    assert "Dino" in html and "Balloon" in html and '"balloon">6</span> players' in html
    podium = re.findall(r'class="name">([^<]+)</span></a><span data-field="score" class="score">(\d+)', html)
    assert podium == [("ben", "40"), ("cat", "30"), ("dan", "20"), ("ann", "10"), ("eve", "5")]


def test_the_game_page_shows_rank_name_picture_best_and_when(app):
    app.post_score(app.token("ann"), 10, "ann-run-01")
    app.post_score(app.token("ben"), 10, "ben-run-01")
    html = app.get("/games/balloon").text
    rows = re.findall(r'class="rank">(\d+)</td>.*?class="name">([^<]+)<.*?class="score">(\d+)', html, re.S)
    assert rows == [("1", "ann", "10"), ("1", "ben", "10")]
    assert html.count('/avatar.svg"') == 2 and html.count('<time data-field="when" datetime=') == 2
    assert app.get("/games/nope").status_code == 404
    bad_page = app.get("/games/balloon", params={"cursor": "not-ours"})
    assert bad_page.status_code == 404 and "it starts at /games/balloon" in bad_page.text


def test_the_player_page_shows_their_bests(app):
    answer = app.post_score(app.token("ann"), 17, "ann-run-01").json()
    html = app.get(f"/players/{answer['player']['id']}").text
    assert "ann" in html and ">17 <small>pumps" in html and '<td class="rank">1</td>' in html
    avatar = app.get(f"/players/{answer['player']['id']}/avatar.svg")
    assert avatar.headers["content-type"].startswith("image/svg+xml") and avatar.text.startswith("<svg")
    assert app.get("/players/nobody").status_code == 404


def test_player_text_is_escaped_everywhere(app):
    nasty = '<script>alert("x")</script>&'
    answer = app.post_score(app.token(nasty), 5, "nasty-run-1").json()
    assert answer["player"]["name"] == nasty
    for path in ["/", "/games/balloon", f"/players/{answer['player']['id']}", "/games/balloon/rows"]:
        html = app.get(path).text
        assert "<script>alert" not in html, path
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;" in html, path


@pytest.mark.browser
def test_a_new_score_appears_on_the_open_page_without_reload(server, page):
    server.post_score(server.token("ann"), 10, "ann-run-01")
    page.goto(f"{server.url}/games/balloon")
    page.wait_for_selector("#live:not([hidden])")
    page.evaluate("window.notReloaded = true")
    nasty = "<b>bob</b>"
    server.post_score(server.token(nasty), 50, "bob-run-01")
    first = page.locator("#rows tr").first
    first.locator(".name", has_text=nasty).wait_for()
    assert page.evaluate("window.notReloaded") is True
    assert first.locator(".rank").inner_text() == "1"
    assert page.locator("#players").inner_text() == "2"
    assert page.locator("#rows b").count() == 0  # shown as text, never as markup
    page.screenshot(path=str(server.folder / "leaderboard.png"), full_page=True)


def test_cacheable_answers_are_cached_by_browsers_never_kept_per_url_in_the_server(tmp_path):
    """The server's response cache keeps one answer per URL (query included) in memory, unbounded:
    anyone could grow it without end with made-up player ids or query strings."""
    from arcade.server.app import create_app

    from arcade.platform import config
    from arcade.platform.assembly import assemble

    (tmp_path / "arcade.toml").write_text('[server]\npublic_url = "http://127.0.0.1:8000"\n')
    app = create_app(assemble(config.load(tmp_path / "arcade.toml", environ={}), data_dir=tmp_path / "data"))
    kept = [route.path for route in app.routes for handler in getattr(route, "route_handlers", []) if handler.cache]
    assert kept == []


def test_avatars_and_the_sign_in_stylesheet_tell_browsers_to_cache_them(app):
    avatar = app.get("/players/someone/avatar.svg")
    assert avatar.headers["cache-control"] == "max-age=86400"
    assert app.get("/device/style.css").headers["cache-control"] == "max-age=3600"
    assert app.get("/.well-known/jwks.json").headers["cache-control"] == "max-age=60"


def test_times_are_shown_in_the_events_time_zone(make_app):
    app = make_app('[event]\ntime_zone = "America/New_York"\n')
    app.post_score(app.token("ann"), 10, "ann-run-01")
    html = app.get("/games/balloon").text
    assert re.search(r'<time data-field="when" datetime="[^"]+">\d\d \w\w\w \d\d:\d\d E[SD]T</time>', html)
