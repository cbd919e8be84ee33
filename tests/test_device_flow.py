"""The built-in provider's RFC 8628 device flow over HTTP, against the arcade's app in this
process; what must outlive a restart, against a real server on loopback.

The badge's side is tests/badge_client.py (plain form posts); the person's side is
tests/people.py (the forms, cookies and CSRF tokens a browser would send). docs/device-flow.md maps
each MUST and SHOULD of RFC 8628 §3 and §5 to the tests below.
"""

import re
import signal
import time

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.badge_client import DEVICE_CODE_GRANT, Badge
from tests.conftest import Apps, Site
from tests.people import Person, csrf_token, visible_text

USER_CODE = re.compile(r"^[BCDFGHJKLMNPQRSTVWXZ]{4}(-[BCDFGHJKLMNPQRSTVWXZ]{4}){2}$")
ERROR_DESCRIPTION = re.compile(r"^[\x20-\x21\x23-\x5b\x5d-\x7e]+$")  # RFC 6749 §5.2
NOT_VALID = "That code is not valid."


def assert_oauth_error(response: httpx.Response, error: str, status: int = 400) -> str:
    """An RFC 6749 §5.2 error: the code, a description in the allowed characters, never cached."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error, body
    assert ERROR_DESCRIPTION.match(body["error_description"]), body
    assert response.headers["cache-control"] == "no-store"
    return body["error_description"]


@pytest.fixture(scope="module")
def idp(tmp_path_factory, importable_games):
    """One arcade for the tests that need no special settings; budgets wide enough for all of them."""
    limits = ("wrong_user_codes", "wrong_user_codes_per_address", "device_authorizations_per_minute")
    wide = "".join(f"{name} = 100000\n" for name in (*limits, "sign_ups_per_address"))
    with Apps(tmp_path_factory.mktemp("idp")) as apps:
        yield apps(f"[identity.builtin.limits]\n{wide}")


@pytest.fixture
def badge(idp) -> Badge:
    return Badge(idp)


_people = iter(range(1_000_000))


@pytest.fixture
def person(idp) -> Person:
    """A new person (own username) with a phone pointed at the server."""
    someone = Person(idp, f"player{next(_people)}-{int(time.time() * 1000) % 100000}")
    yield someone
    someone.close()


def decode(server: Site, token: str):
    keys = KeySet.import_key_set(server.get("/.well-known/jwks.json").json())
    return jwt.decode(token, keys, algorithms=["ES256"])


def post_score(server: Site, access_token: str, submission_id: str) -> httpx.Response:
    return server.post_score(access_token, 1, submission_id)


# -- device authorization request and response (RFC 8628 §3.1, §3.2) ------------------------


def test_device_authorization_answers_codes_links_lifetime_and_interval(idp, badge):
    response = badge.ask()
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    grant = response.json()
    assert USER_CODE.match(grant["user_code"])
    assert len(grant["device_code"]) >= 43 and re.fullmatch(r"[A-Za-z0-9_-]+", grant["device_code"])  # 256 bits
    assert grant["verification_uri"] == f"{idp.url}/device"
    assert grant["verification_uri_complete"].startswith(f"{idp.url}/device/")
    assert grant["user_code"] not in grant["verification_uri_complete"]
    assert (grant["expires_in"], grant["interval"]) == (600, 5)
    others = [badge.start() for _ in range(3)]
    assert len({g["device_code"] for g in [grant, *others]}) == 4
    assert len({g["user_code"] for g in [grant, *others]}) == 4


def test_an_unknown_or_missing_client_gets_invalid_client(idp):
    assert "unknown client_id" in assert_oauth_error(Badge(idp, "toaster").ask(), "invalid_client")
    response = idp.post("/oauth/device_authorization", data={"scope": "openid"})
    assert_oauth_error(response, "invalid_client")
    grant = Badge(idp).start()
    assert_oauth_error(Badge(idp, "toaster").poll(grant), "invalid_client")


def test_an_unknown_scope_gets_invalid_scope(badge):
    assert "'admin'" in assert_oauth_error(badge.ask(scope="openid admin"), "invalid_scope")


def test_error_descriptions_stay_in_the_characters_rfc_6749_allows(idp, badge):
    assert_oauth_error(Badge(idp, 'toaster "\\ é').ask(), "invalid_client")  # checks the characters
    assert_oauth_error(badge.ask(scope='"\\é'), "invalid_scope")


def test_parameters_are_a_form_sent_once_and_an_empty_one_counts_as_absent(idp, badge):
    response = idp.post("/oauth/device_authorization", json={"client_id": "badge"})
    assert "application/x-www-form-urlencoded" in assert_oauth_error(response, "invalid_request")
    twice = idp.post(
        "/oauth/device_authorization",
        content="client_id=badge&scope=openid&scope=profile",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert "scope was sent more than once" in assert_oauth_error(twice, "invalid_request")
    ignored = badge.ask(scope="", device_name="", audience="https://ignored.example", colour="blue")
    assert ignored.status_code == 200, ignored.text
    tokens = badge.log_in(Person(idp, f"empty-scope-{int(time.time() * 1000)}"), scope="")
    assert tokens["scope"] == "openid profile offline_access scores:write"  # the default, as if omitted


def test_a_device_name_that_is_too_long_or_unprintable_is_refused(badge):
    assert "device_name" in assert_oauth_error(badge.ask(device_name="x" * 65), "invalid_request")
    assert_oauth_error(badge.ask(device_name="bad\nname"), "invalid_request")


# -- the person's side (RFC 8628 §3.3, §3.3.1, §5.4) -----------------------------------------


def test_the_qr_link_shows_the_code_to_compare_and_what_the_badge_said(badge, person):
    grant = badge.start(device_name="<b>Ada's</b> badge")
    page = person.open(grant["verification_uri_complete"])
    assert page.status_code == 200
    text = visible_text(page.text)
    assert "Does your badge show this code?" in text and grant["user_code"] in text
    assert "<b>Ada's</b> badge" in text and "<b>Ada" not in page.text  # shown, and escaped
    assert "127.0.0.1" in text and "Deny" in text
    assert grant["device_code"] not in page.text


def test_a_typed_code_ignores_case_spaces_and_hyphens(badge, person):
    grant = badge.start()
    typed = " " + grant["user_code"].lower().replace("-", " ") + " "
    page = person.enter_code(typed)
    assert page.status_code == 200 and str(page.url) == grant["verification_uri_complete"]
    assert grant["user_code"] in visible_text(page.text)
    assert person.enter_code(grant["user_code"].replace("-", "")).url == page.url


def test_wrong_codes_all_get_the_same_answer(badge, person, idp):
    denied, used = badge.start(), badge.start()
    person.deny(link=denied["verification_uri_complete"])
    person.approve(link=used["verification_uri_complete"])
    assert badge.poll(used).status_code == 200
    answers = [person.enter_code(code) for code in ("BBBB-BBBB-BBBB", denied["user_code"], used["user_code"])]
    assert {(page.status_code, visible_text(page.text)) for page in answers} == {
        (400, visible_text(answers[0].text))
    }
    assert NOT_VALID in visible_text(answers[0].text)


def test_something_that_cannot_be_a_code_is_explained(person):
    page = person.enter_code("AEIOU123")
    assert page.status_code == 400
    assert "A code has 12 letters, like BCDF-GHJK-LMNP" in visible_text(page.text)


def test_sign_up_then_approve_gives_the_badge_tokens_that_post_scores(idp, badge, person):
    grant = badge.start()
    assert_oauth_error(badge.poll(grant), "authorization_pending")
    page = person.approve(link=grant["verification_uri_complete"])
    assert "You can return to your badge" in visible_text(page.text)
    response = badge.poll(grant)
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    tokens = response.json()
    assert (tokens["token_type"], tokens["expires_in"]) == ("Bearer", 3600)
    assert tokens["scope"] == "openid profile offline_access scores:write"

    access = decode(idp, tokens["access_token"])
    assert (access.header["alg"], access.header["typ"]) == ("ES256", "at+jwt")
    claims = access.claims
    assert (claims["iss"], claims["aud"], claims["scope"], claims["client_id"]) == (
        idp.url, f"{idp.url}/api", "scores:write", "badge"
    )
    assert claims["exp"] - claims["iat"] == 3600 and claims["name"] == person.name
    identity = decode(idp, tokens["id_token"]).claims
    assert (identity["sub"], identity["aud"], identity["name"]) == (claims["sub"], "badge", person.name)
    assert re.fullmatch(rf"{idp.url}/players/[a-z0-9]+/avatar\.svg", identity["picture"])
    assert idp.get(identity["picture"]).headers["content-type"].startswith("image/svg+xml")
    assert tokens["refresh_token"]

    accepted = post_score(idp, tokens["access_token"], "device-flow-01")
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["player"]["name"] == person.name


def test_an_account_picture_reaches_the_tokens_and_the_leaderboard(idp, badge):
    picture = "https://pictures.example/ada.png"
    person = Person(idp, f"pictured-{int(time.time() * 1000)}", name="Ada Pictured", picture=picture)
    tokens = badge.log_in(person)
    assert decode(idp, tokens["id_token"]).claims["picture"] == picture
    answer = post_score(idp, tokens["access_token"], "pictured-01").json()
    assert answer["player"] == {"id": answer["player"]["id"], "name": "Ada Pictured", "picture": picture}


def test_a_person_with_an_account_logs_in_and_the_username_ignores_case(idp, badge, person):
    badge.log_in(person)
    again = Person(idp, person.username.upper(), name="ignored")
    again.has_account = True
    tokens = badge.log_in(again)
    assert decode(idp, tokens["access_token"]).claims["name"] == person.name


def test_wrong_passwords_and_unknown_usernames_get_the_same_answer(idp, badge, person):
    badge.log_in(person)
    someone = Person(idp, "someone")
    page = someone.open(badge.start()["verification_uri_complete"])
    wrong = someone.submit(page, "log-in", username=person.username, password="not the password")
    unknown = someone.submit(page, "log-in", username="nobody-at-all", password="not the password")
    assert wrong.status_code == unknown.status_code == 400
    assert "Wrong username or password." in visible_text(wrong.text)
    assert visible_text(wrong.text).replace(person.username, "") == visible_text(unknown.text).replace(
        "nobody-at-all", ""
    )


def test_sign_up_explains_what_to_fix_and_keeps_what_was_typed(idp, badge, person):
    badge.log_in(person)
    newcomer = Person(idp, "newcomer")
    page = newcomer.open(badge.start()["verification_uri_complete"])
    cases = [
        ({"username": person.username.title()}, "That username is taken"),
        ({"username": "a"}, "Use 3 to 32 letters"),
        ({"password": "short"}, "Use a password of 8 to 200 characters"),
        ({"name": "   "}, "Give a display name"),
        ({"picture": "javascript:alert(1)"}, "starting with https://"),
    ]
    for change, message in cases:
        fields = {"username": f"fresh-{int(time.time() * 1000)}", "name": "Fresh", "password": "long enough!"}
        typed = {**fields, **change}
        answer = newcomer.submit(page, "sign-up", **typed)
        assert answer.status_code == 400 and message in visible_text(answer.text), change
        assert f'value="{typed["name"]}"' in answer.text and typed["password"] not in answer.text


def test_passwords_are_stored_as_scrypt_hashes(idp, badge, person):
    badge.log_in(person)
    database = "".join(path.read_text() for path in idp.data.glob("arcade.json*"))  # file and journal
    assert person.password not in database
    assert re.search(r'"password":"scrypt\$16384\$8\$5\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}"', database)


def test_the_session_cookie_is_httponly_and_samesite(badge, person):
    """Path=/: the arcade's account and admin pages sign in with the same session."""
    grant = badge.start()
    page = person.sign_up(person.open(grant["verification_uri_complete"]))
    cookie = page.history[0].headers["set-cookie"]
    assert cookie.startswith("arcade_session=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and re.search(r"Path=/(;|$)", cookie)


def test_forms_without_the_csrf_token_are_refused(idp, badge, person):
    grant = badge.start()
    link = grant["verification_uri_complete"]
    page = person.logged_in(person.open(link))
    with idp.connect(cookies=person.browser.cookies) as same_cookies_no_token:
        forged = same_cookies_no_token.post(f"{link}/approve")
    assert forged.status_code == 403 and "Reload the page" in visible_text(forged.text)
    other = Person(idp, "other")
    other.open(link)  # a CSRF cookie of its own
    token = csrf_token(page)
    mixed = other.browser.post(f"{link}/deny", data={"_csrf_token": token})
    assert mixed.status_code == 403
    assert_oauth_error(badge.poll(grant), "authorization_pending")


def test_approving_needs_a_logged_in_person(badge, person):
    grant = badge.start()
    page = person.open(grant["verification_uri_complete"])
    assert "approve" not in {"log-in", "sign-up", "deny"} & set(re.findall(r'<form id="([^"]+)"', page.text))
    link = grant["verification_uri_complete"]
    answer = person.browser.post(f"{link}/approve", data={"_csrf_token": csrf_token(page)})
    assert answer.status_code == 200 and "Log in to approve" in visible_text(answer.text)
    assert_oauth_error(badge.poll(grant), "authorization_pending")


def test_logging_out_asks_for_a_log_in_again(badge, person):
    grant = badge.start()
    page = person.logged_in(person.open(grant["verification_uri_complete"]))
    page = person.submit(page, "log-out")
    assert "Log in to approve" in visible_text(page.text)


# -- the token endpoint (RFC 8628 §3.4, §3.5) -----------------------------------------------


def test_polling_too_soon_gets_slow_down_with_a_longer_interval(badge):
    grant = badge.start()
    assert_oauth_error(badge.poll(grant), "authorization_pending")
    assert "wait 10 s" in assert_oauth_error(badge.poll(grant), "slow_down")
    assert "wait 15 s" in assert_oauth_error(badge.poll(grant), "slow_down")


def test_deny_gives_access_denied_and_needs_no_account(badge, idp):
    grant = badge.start()
    page = Person(idp, "stranger").deny(link=grant["verification_uri_complete"])
    assert "The badge was not logged in" in visible_text(page.text)
    assert_oauth_error(badge.poll(grant), "access_denied")
    assert_oauth_error(badge.poll(grant), "access_denied")


def test_a_device_code_works_once(make_app):
    """One login: polled again within the grace window it gets the very same answer (no new tokens),
    after it nothing."""
    arcade = make_app("[identity.builtin]\nrefresh_grace = 1\n")
    badge = Badge(arcade)
    grant = badge.start()
    Person(arcade, "ada").approve(link=grant["verification_uri_complete"])
    first = badge.poll(grant)
    assert first.status_code == 200
    assert badge.poll(grant).json() == first.json()
    time.sleep(1.1)
    assert "works once" in assert_oauth_error(badge.poll(grant), "invalid_grant")


def test_a_badge_whose_token_answer_a_kill_cut_off_logs_in_when_it_polls_again(make_server):
    """The server gave the tokens and was killed (or the radio dropped the answer): the person saw
    Approved, and the badge polls again after the network error, as its firmware does."""
    server = make_server()
    badge = Badge(server.url)
    grant = badge.start()
    Person(server.url, "ada").approve(link=grant["verification_uri_complete"])
    cut_off = badge.poll(grant).json()
    server.stop(signal.SIGKILL)
    server.start()
    again = badge.poll(grant)
    assert again.status_code == 200, again.text
    assert again.json() == cut_off
    refreshed = badge.refresh(again.json()["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    assert post_score(server, refreshed.json()["access_token"], "cut-off-01").status_code == 201


def test_an_unknown_device_code_gets_invalid_grant(badge):
    assert_oauth_error(badge.poll({"device_code": "made-up"}), "invalid_grant")


def test_a_grant_is_answered_once_decided(badge, person, idp):
    grant = badge.start()
    stranger = Person(idp, "stranger")
    stale_page = stranger.open(grant["verification_uri_complete"])
    person.approve(link=grant["verification_uri_complete"])
    again = person.open(grant["verification_uri_complete"])
    assert again.status_code == 404 and "expired or was already answered" in visible_text(again.text)
    late_deny = stranger.submit(stale_page, "deny")
    assert late_deny.status_code == 404
    assert badge.poll(grant).status_code == 200


def test_a_missing_or_unsupported_grant_type_is_refused(idp, badge):
    response = idp.post("/oauth/token", data={"client_id": "badge"})
    assert "grant_type is missing" in assert_oauth_error(response, "invalid_request")
    response = idp.post("/oauth/token", data={"client_id": "badge", "grant_type": "password"})
    assert_oauth_error(response, "unsupported_grant_type")
    response = idp.post("/oauth/token", data={"client_id": "badge", "grant_type": DEVICE_CODE_GRANT})
    assert "device_code is missing" in assert_oauth_error(response, "invalid_request")


def test_without_offline_access_there_is_no_refresh_token_and_without_openid_no_id_token(badge, person):
    tokens = badge.log_in(person, scope="scores:write")
    assert set(tokens) == {"access_token", "token_type", "expires_in", "scope"}
    assert tokens["scope"] == "scores:write"


# -- refresh tokens: rotation, the grace window, family revocation -------------------------------


def test_each_refresh_returns_a_new_refresh_token(idp, badge, person):
    first = badge.log_in(person)
    second = badge.refresh(first["refresh_token"]).json()
    third = badge.refresh(second["refresh_token"]).json()
    assert len({first["refresh_token"], second["refresh_token"], third["refresh_token"]}) == 3
    assert decode(idp, third["access_token"]).claims["sub"] == decode(idp, first["access_token"]).claims["sub"]
    assert post_score(idp, third["access_token"], "refreshed-01").status_code == 201


def test_the_same_refresh_token_again_within_the_grace_window_gets_the_same_answer(badge, person):
    tokens = badge.log_in(person)
    first = badge.refresh(tokens["refresh_token"])
    again = badge.refresh(tokens["refresh_token"])
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert badge.refresh(first.json()["refresh_token"]).status_code == 200


def test_an_old_refresh_token_after_its_successor_was_used_revokes_the_login(idp, badge, person):
    tokens = badge.log_in(person)
    second = badge.refresh(tokens["refresh_token"]).json()
    third = badge.refresh(second["refresh_token"]).json()
    assert "already used" in assert_oauth_error(badge.refresh(tokens["refresh_token"]), "invalid_grant")
    assert_oauth_error(badge.refresh(third["refresh_token"]), "invalid_grant")
    assert_oauth_error(badge.refresh(second["refresh_token"]), "invalid_grant")
    assert post_score(idp, third["access_token"], "revoked-family-1").status_code == 401


def test_a_refresh_may_narrow_the_scope_but_never_widen_it(badge, person):
    tokens = badge.log_in(person, scope="openid offline_access scores:write")
    narrower = badge.refresh(tokens["refresh_token"], scope="scores:write").json()
    assert narrower["scope"] == "scores:write" and "id_token" not in narrower
    assert "'profile'" in assert_oauth_error(badge.refresh(narrower["refresh_token"], scope="profile"), "invalid_scope")


def test_an_unknown_refresh_token_gets_invalid_grant(badge):
    assert_oauth_error(badge.refresh("not-a-token"), "invalid_grant")
    assert_oauth_error(badge.refresh("abcdefghijklmnopqrstuv.made-up"), "invalid_grant")


# -- revocation (RFC 7009), userinfo, discovery, the badge's settings ------------------------


def test_revoking_a_refresh_token_ends_the_login_and_its_access_tokens(idp, badge, person):
    tokens = badge.log_in(person)
    response = badge.revoke(tokens["refresh_token"], token_type_hint="refresh_token")
    assert response.status_code == 200 and response.content == b""
    assert_oauth_error(badge.refresh(tokens["refresh_token"]), "invalid_grant")
    rejected = post_score(idp, tokens["access_token"], "after-revoke-1")
    assert rejected.status_code == 401 and "revoked" in rejected.headers["www-authenticate"]


def test_revoking_an_access_token_ends_its_login(idp, badge, person):
    tokens = badge.log_in(person)
    assert badge.revoke(tokens["access_token"], token_type_hint="access_token").status_code == 200
    assert post_score(idp, tokens["access_token"], "after-revoke-2").status_code == 401
    assert_oauth_error(badge.refresh(tokens["refresh_token"]), "invalid_grant")


def test_revoking_an_unknown_token_is_answered_200_and_needs_our_client(idp, badge):
    assert badge.revoke("never-issued").status_code == 200
    assert badge.revoke("a.b.c", token_type_hint="something_else").status_code == 200
    assert_oauth_error(Badge(idp, "toaster").revoke("never-issued"), "invalid_client")


def test_userinfo_says_who_the_access_token_is_for(idp, badge, person):
    tokens = badge.log_in(person)
    response = idp.get("/oauth/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert response.status_code == 200
    sub = decode(idp, tokens["access_token"]).claims["sub"]
    assert response.json() == {"sub": sub, "name": person.name}
    assert idp.get("/oauth/userinfo").status_code == 401


def test_discovery_lists_the_device_flow_and_the_badge_gets_its_settings(idp):
    discovery = idp.get("/.well-known/openid-configuration").json()
    assert discovery["device_authorization_endpoint"] == f"{idp.url}/oauth/device_authorization"
    assert discovery["token_endpoint"] == f"{idp.url}/oauth/token"
    assert discovery["revocation_endpoint"] == f"{idp.url}/oauth/revoke"
    assert discovery["userinfo_endpoint"] == f"{idp.url}/oauth/userinfo"
    assert {DEVICE_CODE_GRANT, "refresh_token"} <= set(discovery["grant_types_supported"])
    assert discovery["token_endpoint_auth_methods_supported"] == ["none"]  # badges are public clients
    identity = idp.get("/api/v1/badge").json()["identity"]
    assert identity == {
        "issuer": idp.url,
        "device_authorization_endpoint": discovery["device_authorization_endpoint"],
        "token_endpoint": discovery["token_endpoint"],
        "revocation_endpoint": discovery["revocation_endpoint"],
        "client_id": "badge",
        "scope": "openid profile offline_access scores:write",
        "audience": f"{idp.url}/api",
    }


def test_an_https_arcade_sends_badges_and_people_only_to_https(make_app):
    """Behind a TLS proxy: the requests arrive over http, the configured public URL is https."""
    arcade = make_app(public_url="https://arcade.example")
    identity = arcade.get("/api/v1/badge").json()["identity"]
    assert all(identity[key].startswith("https://") for key in ("issuer", "device_authorization_endpoint",
                                                                 "token_endpoint", "revocation_endpoint"))
    grant = Badge(arcade).start()
    assert grant["verification_uri"] == "https://arcade.example/device"
    assert grant["verification_uri_complete"].startswith("https://arcade.example/device/")
    page = arcade.get(f"/device/{grant['verification_uri_complete'].rsplit('/', 1)[1]}")
    cookie = page.headers["set-cookie"]
    # __Host-: a sibling subdomain cannot plant one, and browsers take it only Secure with Path=/
    assert cookie.startswith("__Host-arcade_csrf=") and "Secure" in cookie and "Path=/;" in cookie


# -- lifetimes and state in the store --------------------------------------------------------


def test_an_expired_device_code_gets_expired_token_and_its_codes_stop_working(make_app):
    arcade = make_app("[identity.builtin]\ndevice_code_ttl = 1\n")
    badge = Badge(arcade)
    grant = badge.start()
    assert grant["expires_in"] == 1
    time.sleep(1.1)
    assert_oauth_error(badge.poll(grant), "expired_token")
    person = Person(arcade, "late")
    assert person.open(grant["verification_uri_complete"]).status_code == 404
    assert NOT_VALID in visible_text(person.enter_code(grant["user_code"]).text)


def test_slow_down_is_kept_in_the_store_and_never_locks_a_grant(make_server):
    # The interval leaves room for a slow restart (a loaded machine) inside the slowed-down wait.
    server = make_server("[identity.builtin]\ninterval = 10\n")
    badge = Badge(server.url)
    kept, obeyed = badge.start(), badge.start()
    for grant in (kept, obeyed):
        assert_oauth_error(badge.poll(grant), "authorization_pending")
        assert "wait 15 s" in assert_oauth_error(badge.poll(grant), "slow_down")
    started = time.monotonic()
    server.restart()
    assert time.monotonic() - started < 14, "the restart took longer than the test's interval allows"
    assert "wait 20 s" in assert_oauth_error(badge.poll(kept), "slow_down")  # still too soon
    time.sleep(max(0.0, 15.1 - (time.monotonic() - started)))
    assert_oauth_error(badge.poll(obeyed), "authorization_pending")  # waited 6 s: answered normally
    assert_oauth_error(badge.poll(obeyed), "slow_down")


def test_a_login_survives_a_restart_at_every_step(make_server):
    server = make_server()
    badge = Badge(server.url)
    grant = badge.start()
    server.restart()
    Person(server.url, "ada").approve(link=grant["verification_uri_complete"])
    server.restart()
    tokens = badge.poll(grant).json()
    server.restart()
    refreshed = badge.refresh(tokens["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    assert post_score(server, refreshed.json()["access_token"], "restarts-01").status_code == 201


def test_after_the_grace_window_an_old_refresh_token_revokes_the_login(make_app):
    arcade = make_app("[identity.builtin]\nrefresh_grace = 1\n")
    badge = Badge(arcade)
    tokens = badge.log_in(Person(arcade, "ada"))
    second = badge.refresh(tokens["refresh_token"]).json()
    time.sleep(1.1)
    assert_oauth_error(badge.refresh(tokens["refresh_token"]), "invalid_grant")
    assert_oauth_error(badge.refresh(second["refresh_token"]), "invalid_grant")
    assert post_score(arcade, second["access_token"], "after-grace-1").status_code == 401
