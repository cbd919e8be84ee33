"""Live pages hold a connection each, so they are capped per client address (and in total): one
more is a 503 with Retry-After, the page polls its rows instead, and a closed page frees its place."""

from contextlib import ExitStack

import httpx
import pytest


def open_stream(stack: ExitStack, server) -> httpx.Response:
    """A page's stream, held open until ``stack`` closes."""
    client = stack.enter_context(httpx.Client(timeout=30))
    response = stack.enter_context(client.stream("GET", f"{server.url}/games/balloon/events"))
    if response.status_code == 200:
        response.lines = response.iter_lines()  # kept: dropping the iterator would close the stream
        next(response.lines)  # the stream's first message: it holds its place now
    else:
        response.read()
    return response


def test_a_page_past_the_cap_is_refused_and_a_closed_one_frees_its_place(make_server):
    server = make_server("live_pages_per_address = 2\n")  # under the [server] table the fixture writes
    with ExitStack() as first:
        assert open_stream(first, server).status_code == 200
        with ExitStack() as second:
            assert open_stream(second, server).status_code == 200
            with ExitStack() as third:
                refused = open_stream(third, server)
                assert refused.status_code == 503 and int(refused.headers["retry-after"]) > 0
                assert "live pages are open from your address" in refused.text
        with ExitStack() as again:
            assert open_stream(again, server).status_code == 200


@pytest.mark.browser
def test_a_page_refused_a_stream_still_shows_new_scores_by_polling(make_server, page):
    server = make_server("live_pages_per_address = 1\n")
    with ExitStack() as stack:
        assert open_stream(stack, server).status_code == 200  # the address's one stream is taken
        page.goto(f"{server.url}/games/balloon")
        server.post_score(server.token("pat"), 12, "pat-run-0001")
        page.locator("#rows .name", has_text="pat").wait_for(timeout=30_000)
        assert page.locator("#live").is_hidden()
