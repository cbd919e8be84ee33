"""The approval pages attacked as a browser meets it: a real server on loopback, a page of the
attacker's on another port of the same host, and the person's cookie jar with what that page
planted in it.

Cookies know no ports (and a sibling subdomain may set them for its parent), so the attacker can
replace the arcade's CSRF cookie in the person's browser with one whose token it knows. The token
of a logged-in person's forms is bound to their session in the store, so that gains nothing.
"""

import re
import threading
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.badge_client import Badge
from tests.people import Person, csrf_token
from tests.test_device_flow import assert_oauth_error

BROWSER_FROM = {"origin": "http://127.0.0.1:{port}", "sec-fetch-site": "same-site"}
"""What a browser says about a form posted from the attacker's page (another port of this host)."""


class AttackerSite:
    """A page on another port of the arcade's host: it sets its own ``arcade_csrf`` cookie (with
    the token the arcade gave the attacker's own browser) and carries a form that posts Approve
    for the attacker's badge, which it would submit on load."""

    def __init__(self, cookie: str, action: str, token: str):
        self.cookie = cookie
        page = (
            f'<form id="approve" method="post" action="{escape(action)}">'
            f'<input type="hidden" name="_csrf_token" value="{escape(token)}"></form>'
        ).encode()

        class Page(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("content-type", "text/html")
                self.send_header(
                    "set-cookie", f"arcade_csrf={cookie}; Path=/; HttpOnly; SameSite=Lax"
                )  # the arcade's path
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def planted(server):
    """The attacker's badge asks to log in; the attacker opens its link in their own browser to get
    a CSRF cookie and token, and serves them from a page on another port."""
    badge = Badge(server.url)
    grant = badge.start()
    mallory = Person(server.url, "mallory", address="127.0.0.2")
    page = mallory.open(grant["verification_uri_complete"])
    site = AttackerSite(
        mallory.browser.cookies["arcade_csrf"], f"{grant['verification_uri_complete']}/approve", csrf_token(page)
    )
    yield badge, grant, site
    site.close()


def visit(person: Person, site: AttackerSite) -> httpx.Response:
    """The person's browser opens the attacker's page: it keeps the cookie the page sets, which
    cookie rules send to the arcade too (same host, another port)."""
    return person.browser.get(site.url)


@pytest.mark.parametrize("sends_origin", [True, False], ids=["a browser that says where", "one that does not"])
def test_a_csrf_cookie_planted_from_another_port_cannot_make_the_person_approve(server, planted, sends_origin):
    badge, grant, site = planted
    ada = Person(server.url, "ada")
    ada.logged_in(ada.open(Badge(server.url).start()["verification_uri_complete"]))  # logged in, earlier
    attack = visit(ada, site)
    assert ada.browser.cookies["arcade_csrf"] == site.cookie  # replaced the arcade's
    headers = {key: value.format(port=site.port) for key, value in BROWSER_FROM.items()} if sends_origin else {}
    posted = ada.submit(attack, "approve", headers=headers)

    assert posted.status_code == 403 and "Reload the page" in posted.text
    assert_oauth_error(badge.poll(grant), "authorization_pending")  # the attacker's badge is not ada's
    still = ada.open(grant["verification_uri_complete"])  # and her own session still works
    assert ada.submit(still, "approve").status_code == 200
    assert badge.poll(grant).status_code == 200


def test_a_token_works_only_with_the_session_it_was_given_to(server):
    badge = Badge(server.url)
    grant = badge.start()
    link = grant["verification_uri_complete"]
    ada = Person(server.url, "ada")
    before = ada.open(link)
    logged_in = ada.logged_in(before)
    phone = Person(server.url, "ada")
    phone.has_account = True
    other_session = phone.logged_in(phone.open(link))  # ada again, on another browser: another session
    for stale in (before, other_session):  # before she logged in; her other browser's session
        assert ada.browser.post(f"{link}/approve", data={"_csrf_token": csrf_token(stale)}).status_code == 403
    ada.submit(logged_in, "log-out")
    again = ada.logged_in(ada.open(link))
    refused = ada.browser.post(f"{link}/approve", data={"_csrf_token": csrf_token(logged_in)})
    assert refused.status_code == 403  # that session ended
    assert_oauth_error(badge.poll(grant), "authorization_pending")
    assert ada.browser.post(f"{link}/approve", data={"_csrf_token": csrf_token(again)}).status_code == 200


def test_every_post_a_browser_makes_from_another_site_is_refused(make_app):
    """Every route that changes something, found in the app itself, so a new one cannot be missed:
    refused when a browser says the form came from elsewhere, unless it takes no cookie at all
    (a bearer token, which no browser sends by itself)."""
    arcade = make_app()
    elsewhere = {"sec-fetch-site": "cross-site", "origin": "http://evil.example"}
    unsafe = [
        (route.path, method)
        for route in arcade.client.app.routes
        for method in sorted(getattr(route, "methods", ()))
        if method not in {"GET", "HEAD", "OPTIONS"}
    ]
    assert len(unsafe) >= 13  # the OAuth endpoints, every form of the pages, scores
    for path, method in unsafe:
        url = re.sub(r"\{game_id:str\}", "balloon", path)
        url = re.sub(r"\{[a-z_]+:str\}", "a-link", url)
        with arcade.connect() as browser:
            answer = browser.request(method, url, data={"client_id": "badge"}, headers=elsewhere)
        if answer.status_code == 401:
            assert answer.headers["www-authenticate"].startswith("Bearer"), path
        else:
            assert answer.status_code == 403, (path, answer.status_code, answer.text)


def test_every_answer_that_carries_a_session_or_a_csrf_token_is_no_store(make_app):
    """Records every answer of a person's whole way through the pages, typed code and link, errors
    and refusals included, and checks each that sets a cookie or holds a token."""
    arcade = make_app("[identity.builtin.limits]\nwrong_user_codes_per_account = 1\n")
    answers: list[httpx.Response] = []
    ada = Person(arcade, "ada")
    ada.browser.event_hooks["response"].append(lambda response: answers.append(response))
    badge = Badge(arcade)
    typed, scanned = badge.start(), badge.start()
    page = ada.enter_code(typed["user_code"])  # signs up on /device first
    ada.enter_code("BBBB-BBBB-BBBB")  # a wrong code
    ada.enter_code("BBBB-BBBB-BBBB")  # over her budget
    ada.submit(ada.browser.get("/device"), "enter-code", code="AEIOU")  # not a code
    ada.submit(page, "log-out")
    page = ada.open(scanned["verification_uri_complete"])
    ada.submit(page, "log-in", username="ada", password="wrong password")
    ada.submit(page, "sign-up", username="ada", name="Ada", password="long enough")  # taken
    ada.approve(link=scanned["verification_uri_complete"])
    ada.deny(link=typed["verification_uri_complete"])
    ada.open(typed["verification_uri_complete"])  # answered already
    ada.browser.post(f"{scanned['verification_uri_complete']}/approve", data={"_csrf_token": "forged"})

    statuses = {answer.status_code for answer in answers}
    assert {200, 303, 400, 403, 404, 429} <= statuses
    carrying = [answer for answer in answers if "set-cookie" in answer.headers or "_csrf_token" in answer.text]
    assert len(carrying) >= 10
    for answer in carrying:
        assert answer.headers.get("cache-control") == "no-store", (
            answer.request.method,
            answer.request.url,
            answer.status_code,
        )
    pages = [answer for answer in answers if answer.request.url.path.startswith("/device")]
    assert [answer for answer in pages if answer.headers.get("cache-control") != "no-store"] == []  # refusals too
