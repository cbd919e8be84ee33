"""Players' pictures as viewers meet them: fetched by the arcade from a real loopback picture host
(allowed by ``[pictures] private_addresses = true``, which an arcade leaves off), served from
``/pictures/<hash>.jpg``, the avatar whenever the picture is huge, slow, not a picture, or behind a
bad redirect, and never the player's URL on a page or in its CSP. On both stores."""

import asyncio
import io
import re
import time

import pytest
from PIL import Image

from tests.picture_host import PictureHost
from tests.stores import drop_schema, new_schema, postgres_settings

PICTURES = "[pictures]\nprivate_addresses = true\nmax_bytes = 1000000\ntimeout_seconds = {timeout}\n"
ALLOWED = PICTURES.format(timeout=10)
"""The picture host on loopback allowed, with a time limit a busy machine's fetch of a small picture
stays well within: at 1.5 s a loaded CI run cut one off, and that picture was never shown."""
QUICK = PICTURES.format(timeout=1.5)
"""For the picture that arrives a byte a second: refused after 1.5 s."""
PAGES = ["/", "/games/balloon", "/games/balloon/rows", "/screen", "/screen?game=balloon"]


@pytest.fixture
def host():
    with PictureHost() as host:
        yield host


def score_with_picture(app, name: str, picture: str | None, score: int = 10):
    token = app.provider().issue_access_token(subject=name, name=name, picture=picture)
    answer = app.post_score(token, score, f"{name}-run-{score:04d}")
    assert answer.status_code == 201, answer.text
    return answer.json()["player"]["id"]


def picture_of(app, player: str, wait_for_fetch: bool = True) -> str:
    """The src a page gives the player's picture, once the arcade has had its go at fetching it."""
    deadline = time.monotonic() + 20
    while True:
        html = app.get(f"/players/{player}").text
        src = re.search(r'class="avatar big"[^>]*\s+src="([^"]+)"', html).group(1)
        if src.startswith("/pictures/") or not wait_for_fetch or time.monotonic() > deadline:
            return src
        time.sleep(0.1)


def settled(app, host: PictureHost, path: str) -> dict:
    """What the arcade recorded of the host's ``path``, once it has (the fetch is in the background)."""
    from arcade.server.pictures import SOURCE, url_key

    async def recorded():
        return await app.arcade.store.get_record(SOURCE, url_key(host.url + path))

    deadline = time.monotonic() + 20
    while (record := app.client.blocking_portal.call(recorded)) is None:
        assert time.monotonic() < deadline, f"{path} was never fetched"
        time.sleep(0.1)
    return record.value


def assert_no_page_names(app, host: PictureHost, players: list[str]) -> None:
    for path in [*PAGES, *(f"/players/{player}" for player in players)]:
        answer = app.get(path)
        assert answer.status_code == 200, path
        assert host.url not in answer.text and "127.0.0.1" not in answer.text, path
        policy = answer.headers["content-security-policy"]
        img_src = next(part for part in policy.split("; ") if part.startswith("img-src"))
        assert img_src == "img-src 'self' data:", path


@pytest.fixture(params=["tinydb", "postgres"])
def config_text(request):
    if request.param == "tinydb":
        yield ALLOWED
        return
    schema = asyncio.run(new_schema())
    yield ALLOWED + postgres_settings(schema)
    asyncio.run(drop_schema(schema))


def test_a_good_picture_is_fetched_redrawn_and_served_by_the_arcade(make_app, config_text, host):
    app = make_app(config_text)
    player = score_with_picture(app, "ann", f"{host.url}/good.png")
    src = picture_of(app, player)
    assert re.fullmatch(r"/pictures/[0-9a-f]{32}\.jpg", src)
    served = app.get(src)
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["cache-control"] == "max-age=31536000, public, immutable"
    with Image.open(io.BytesIO(served.content)) as image:
        assert image.format == "JPEG" and image.size == (192, 128)
    assert_no_page_names(app, host, [player])
    assert host.asked["/good.png"] == 1
    assert app.get("/pictures/0123456789abcdef0123456789abcdef.jpg").status_code == 404
    assert app.get(src.replace(".jpg", ".png")).status_code == 404


def test_a_redirect_to_a_picture_is_followed(make_app, host):
    app = make_app(ALLOWED)
    player = score_with_picture(app, "ann", f"{host.url}/redirect")
    assert picture_of(app, player).startswith("/pictures/")
    assert host.asked["/redirect"] == 1 and host.asked["/good.png"] == 1


REFUSED = {
    "/huge.png": "more than the 1,000,000 bytes allowed",
    "/slow.png": "longer than 1.5 s",
    "/not-a-picture.png": "not a picture",
    "/to-file": "http or https address",
    "/loop": "redirects more than 3 times",
    "/gone": "answered 404",
}


@pytest.mark.parametrize("path", REFUSED)
def test_what_is_no_picture_shows_the_avatar_and_is_not_fetched_again_at_once(make_app, host, path):
    app = make_app(QUICK if path == "/slow.png" else ALLOWED)
    player = score_with_picture(app, "ann", host.url + path)
    outcome = settled(app, host, path)
    assert REFUSED[path] in outcome["why"] and outcome["failures"] == 1
    assert picture_of(app, player, wait_for_fetch=False) == f"/players/{player}/avatar.svg"
    asked = sum(host.asked.values())
    for page in PAGES:
        app.get(page)
    assert sum(host.asked.values()) == asked  # the next try is minutes away
    assert_no_page_names(app, host, [player])
    assert host.asked["/loop"] in (0, 4)  # followed three times, then refused


def test_a_picture_on_a_private_address_is_not_even_asked_for_unless_allowed(make_app, host):
    app = make_app()
    player = score_with_picture(app, "ann", f"{host.url}/good.png")
    assert "private address (127.0.0.1)" in settled(app, host, "/good.png")["why"]
    assert picture_of(app, player, wait_for_fetch=False) == f"/players/{player}/avatar.svg"
    assert sum(host.asked.values()) == 0
    assert_no_page_names(app, host, [player])


def test_a_picture_field_cleared_shows_the_avatar_and_a_new_picture_replaces_the_old(make_app, host):
    app = make_app(ALLOWED)
    player = score_with_picture(app, "ann", f"{host.url}/good.png")
    first = picture_of(app, player)
    assert first.startswith("/pictures/")
    score_with_picture(app, "ann", None, score=11)  # the field cleared, as an admin's reset leaves it
    assert picture_of(app, player, wait_for_fetch=False) == f"/players/{player}/avatar.svg"
    score_with_picture(app, "ann", f"{host.url}/other.png", score=12)
    second = picture_of(app, player)
    assert second.startswith("/pictures/") and second != first


def test_every_process_of_a_shared_store_shows_the_picture_one_of_them_fetched(make_app, host):
    schema = asyncio.run(new_schema())
    try:
        one = make_app(ALLOWED + postgres_settings(schema))
        player = score_with_picture(one, "ann", f"{host.url}/good.png")
        src = picture_of(one, player)
        other = make_app(ALLOWED + postgres_settings(schema), public_url="http://other.test")
        assert picture_of(other, player, wait_for_fetch=False) == src
        assert other.get(src).content == one.get(src).content
        assert host.asked["/good.png"] == 1
    finally:
        asyncio.run(drop_schema(schema))
