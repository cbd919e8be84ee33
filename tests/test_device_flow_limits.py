"""Abuse limits of the built-in provider, over HTTP from several loopback addresses (127.0.0.x),
to the arcade's app in this process (to a real server for what must outlive a restart).

User codes are short, so guessing them is budgeted (RFC 8628 §5.1): per account (a person logs
in before typing one), per address and for everyone; the device and token endpoints are
rate-limited, and so are passwords and sign-ups. Every count lives in the store, so a restart (or
another server process) keeps it.
"""

import math

import pytest
from arcade.plugins.idp_builtin.codes import USER_CODE_SPACE
from arcade.plugins.idp_builtin.pages import typed_code_budgets
from arcade.plugins.idp_builtin.provider import BuiltinSettings

from tests.badge_client import Badge
from tests.people import Person, csrf_token, forms, visible_text
from tests.test_device_flow import assert_oauth_error

WRONG = "BBBB-BBBB-BBBB"
LIVE_CODES = 10**12
"""More live user codes than any store holds: the bound below holds for any number of them."""


def chance_of_guessing(code_space: int, guesses: int, live_codes: int) -> float:
    """The most likely that ``guesses`` find one given user code while ``live_codes`` codes live.

    Each guess before the right one was wrong, which rules out the string guessed; the code is also
    none of the other live codes (they are distinct), which the attacker may all know. So the k-th
    guess is right with probability at most 1 / (code_space - (k - 1) - (live_codes - 1)), and these
    add up (a union bound) to at most guesses / (code_space - guesses - live_codes).
    """
    return guesses / (code_space - guesses - live_codes)


def test_the_default_budgets_keep_the_chance_of_guessing_any_one_code_below_2_to_the_minus_32():
    settings = BuiltinSettings()
    mine = typed_code_budgets(settings, "ada", "127.0.0.2")
    (everyone,) = set(mine) & set(typed_code_budgets(settings, "eve", "127.0.0.3"))  # what no one owns
    # A code lives device_code_ttl seconds, touching that many + 1 whole seconds; a budget counts
    # its window's + 1 (budgets.spend). Each guess is counted before its lookup, given back only if
    # right, and refused once the count is spent: so no more than this many lookups meet a code.
    windows_a_life_touches = math.ceil((settings.device_code_ttl + 1) / (everyone.window + 1))
    guesses = everyone.limit * windows_a_life_touches
    assert windows_a_life_touches == 1 and USER_CODE_SPACE == 20**12
    assert chance_of_guessing(USER_CODE_SPACE, guesses, LIVE_CODES) <= 2**-32
    # 8 letters would allow five guesses in all: a budget that five wrong codes from anyone spend.
    assert chance_of_guessing(20**8, 6, live_codes=1) > 2**-32 >= chance_of_guessing(20**8, 5, live_codes=1)

    # Spending everyone's budget takes this many accounts and addresses guessing within one life.
    per_account, per_address = (budget.limit for budget in mine if budget != everyone)
    assert math.ceil(everyone.limit / per_account) >= 20_000
    assert math.ceil(everyone.limit / per_address) >= 1_000


def test_typing_a_code_needs_a_logged_in_person_and_costs_nothing_before(make_app):
    arcade = make_app("[identity.builtin.limits]\nwrong_user_codes_per_address = 1\n")
    grant = Badge(arcade).start()
    ada = Person(arcade, "ada")
    page = ada.browser.get("/device")
    assert set(forms(page.text)) == {"log-in", "sign-up"}
    assert "Log in to type your badge's code" in visible_text(page.text)
    for code in (WRONG, grant["user_code"]):  # a post made anyway is not looked up
        answer = ada.browser.post("/device", data={"_csrf_token": csrf_token(page), "code": code})
        assert answer.status_code == 200 and str(answer.url) == f"{arcade.url}/device"
        assert "log-in" in forms(answer.text)
    assert ada.enter_code(WRONG).status_code == 400  # logged in now: its first wrong code
    assert ada.enter_code(grant["user_code"]).status_code == 429  # the address's one was spent by it


def test_a_strangers_wrong_codes_never_stop_a_logged_in_person_typing_theirs(make_server):
    """The default budgets: 5 wrong codes per account and 100 per address within a code's life."""
    server = make_server()
    eve = Person(server.url, "eve", address="127.0.0.2")
    assert [eve.enter_code(WRONG).status_code for _ in range(6)] == [400] * 5 + [429]  # her own spent
    crowd = [Person(server.url, f"crowd{number}", address="127.0.0.3") for number in range(20)]
    for member in crowd:  # many accounts from one address: they spend that address's budget
        assert [member.enter_code(WRONG).status_code for _ in range(5)] == [400] * 5
    made_elsewhere = Person(server.url, "crowd20", address="127.0.0.4")
    made_elsewhere.logged_in(made_elsewhere.browser.get("/device"))
    late = Person(server.url, "crowd20", address="127.0.0.3")
    late.has_account = True
    refused = late.enter_code(WRONG)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert "Too many wrong codes" in visible_text(refused.text) and "scan the QR code" in visible_text(refused.text)

    badge = Badge(server.url)
    ada = Person(server.url, "ada", address="127.0.0.5")
    grant = badge.start()
    code = grant["user_code"]
    assert ada.enter_code(code[:-1] + ("C" if code[-1] == "B" else "B")).status_code == 400  # her typo
    page = ada.enter_code(code)
    assert page.status_code == 200 and str(page.url) == grant["verification_uri_complete"]
    assert ada.submit(page, "approve").status_code == 200
    assert badge.poll(grant).status_code == 200

    server.restart()  # the counts are in the store
    assert eve.enter_code(WRONG).status_code == 429 and late.enter_code(WRONG).status_code == 429
    grant = badge.start()
    assert ada.approve(user_code=grant["user_code"]).status_code == 200
    assert badge.poll(grant).status_code == 200


def test_only_everyones_budget_spent_holds_up_typed_codes_and_the_qr_link_still_works(make_app):
    limits = "wrong_user_codes = 4\nwrong_user_codes_per_account = 2\nwrong_user_codes_per_address = 3\n"
    arcade = make_app(f"[identity.builtin.limits]\n{limits}")
    badge = Badge(arcade)
    grant = badge.start()
    first, second = Person(arcade, "eve", address="127.0.0.2"), Person(arcade, "mallory", address="127.0.0.2")
    third = Person(arcade, "trudy", address="127.0.0.3")
    assert [first.enter_code(WRONG).status_code for _ in range(3)] == [400, 400, 429]  # her account's 2
    assert [second.enter_code(WRONG).status_code for _ in range(2)] == [400, 429]  # the address's 3
    assert [third.enter_code(WRONG).status_code for _ in range(2)] == [400, 429]  # everyone's 4
    ada = Person(arcade, "ada", address="127.0.0.4")
    refused = ada.enter_code(grant["user_code"])
    assert refused.status_code == 429 and "scan the QR code" in visible_text(refused.text)

    page = ada.approve(link=grant["verification_uri_complete"])  # the QR link needs no user code
    assert "You can return to your badge" in visible_text(page.text)
    assert badge.poll(grant).status_code == 200


def test_device_authorizations_and_token_requests_are_rate_limited_per_address(make_app):
    limits = "device_authorizations_per_minute = 2\ntoken_requests_per_minute = 3\n"
    arcade = make_app(f"[identity.builtin.limits]\n{limits}")
    busy = Badge(arcade, address="127.0.0.2")
    grant = busy.start()
    busy.start()
    refused = busy.ask()
    assert "too many requests" in assert_oauth_error(refused, "temporarily_unavailable", status=429)
    assert int(refused.headers["retry-after"]) > 0
    assert Badge(arcade, address="127.0.0.3").ask().status_code == 200

    for _ in range(3):
        busy.poll(grant)
    assert "too many polls" in assert_oauth_error(busy.poll(grant), "slow_down")  # a poller keeps polling
    tokens = Badge(arcade, address="127.0.0.4").log_in(Person(arcade, "ada"))
    assert_oauth_error(busy.refresh(tokens["refresh_token"]), "temporarily_unavailable", status=429)


def test_wrong_passwords_are_budgeted_per_account(make_app):
    arcade = make_app("[identity.builtin.limits]\nwrong_passwords_per_account = 2\n")
    badge = Badge(arcade)
    ada = Person(arcade, "ada")
    badge.log_in(ada)
    guesser = Person(arcade, "guesser", address="127.0.0.2")
    page = guesser.open(badge.start()["verification_uri_complete"])
    for _ in range(2):
        wrong = guesser.submit(page, "log-in", username="ada", password="guess guess")
        assert wrong.status_code == 400
    refused = guesser.submit(page, "log-in", username="ada", password=ada.password)
    assert refused.status_code == 429 and "Too many wrong passwords" in visible_text(refused.text)
    bob = Person(arcade, "bob", address="127.0.0.2")
    assert badge.log_in(bob)["access_token"]  # other accounts are not held up


def test_a_strangers_wrong_passwords_never_lock_out_a_browser_that_logged_in_before(make_app):
    arcade = make_app("[identity.builtin.limits]\nwrong_passwords_per_account = 2\n")
    badge = Badge(arcade)
    ada = Person(arcade, "ada")
    badge.log_in(ada)  # ada's browser has logged in to her account once: it is known now
    guesser = Person(arcade, "guesser", address="127.0.0.2")
    page = guesser.open(badge.start()["verification_uri_complete"])
    for _ in range(2):
        assert guesser.submit(page, "log-in", username="ada", password="guess guess").status_code == 400
    assert guesser.submit(page, "log-in", username="ada", password=ada.password).status_code == 429

    grant = badge.start()
    page = ada.open(grant["verification_uri_complete"])
    page = ada.submit(page, "log-out")
    page = ada.submit(page, "log-in", username="ada", password="a typo")
    assert page.status_code == 400  # her own mistakes count against her browser's budget only
    assert ada.approve(link=grant["verification_uri_complete"]).status_code == 200
    assert badge.poll(grant).status_code == 200
    stranger = Person(arcade, "ada", address="127.0.0.3")  # ada on a new phone shares the strangers' budget
    refused = stranger.log_in(stranger.open(badge.start()["verification_uri_complete"]))
    assert refused.status_code == 429


def test_sign_ups_are_budgeted_per_address(make_app):
    arcade = make_app("[identity.builtin.limits]\nsign_ups_per_address = 1\n")
    badge = Badge(arcade)
    badge.log_in(Person(arcade, "ada", address="127.0.0.2"))
    late = Person(arcade, "bob", address="127.0.0.2")
    refused = late.sign_up(late.open(badge.start()["verification_uri_complete"]))
    assert refused.status_code == 429 and "Too many accounts" in visible_text(refused.text)
    assert badge.log_in(Person(arcade, "cyd", address="127.0.0.3"))["access_token"]


def test_a_taken_username_counts_against_the_sign_up_budget(make_app):
    arcade = make_app("[identity.builtin.limits]\nsign_ups_per_address = 2\n")
    badge = Badge(arcade)
    badge.log_in(Person(arcade, "ada", address="127.0.0.3"))
    prober = Person(arcade, "ada", address="127.0.0.2")  # tries names that exist: each costs a hash
    page = prober.open(badge.start()["verification_uri_complete"])
    answers = [prober.sign_up(page) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [400, 400, 429]
    assert "That username is taken" in visible_text(answers[0].text)


def test_a_huge_username_is_not_kept_in_the_store(make_app):
    arcade = make_app()
    guesser = Person(arcade, "guesser")
    page = guesser.open(Badge(arcade).start()["verification_uri_complete"])
    wrong = guesser.submit(page, "log-in", username="a" * 15_000, password="guess guess")  # within the form limit
    assert wrong.status_code == 400 and "Wrong username or password" in visible_text(wrong.text)
    huge = guesser.submit(page, "log-in", username="a" * 1_000_000, password="guess guess")
    assert huge.status_code == 413  # refused before it is read
    kept = sum(path.stat().st_size for path in arcade.data.glob("arcade.json*"))
    assert kept < 20_000


@pytest.mark.parametrize(
    "headers",
    [
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},  # a sibling subdomain, or this host on another port
        {"origin": "http://arcade.test:8081"},
        {"origin": "null"},
    ],
    ids=["cross-site", "same-site", "another-port", "opaque"],
)
def test_a_post_a_browser_made_elsewhere_is_refused_and_changes_nothing(make_app, headers):
    arcade = make_app()
    badge = Badge(arcade)
    grant = badge.start()
    person = Person(arcade, "ada")
    page = person.logged_in(person.open(grant["verification_uri_complete"]))
    approve = person.submit(page, "approve", headers=headers)
    assert approve.status_code == 403
    token = arcade.post("/oauth/device_authorization", data={"client_id": "badge"}, headers=headers)
    assert token.status_code == 403 and "not from http://arcade.test" in token.json()["detail"]
    assert badge.poll(grant).json()["error"] == "authorization_pending"  # the approval never happened
    assert person.submit(page, "approve", headers={"origin": "http://arcade.test"}).status_code == 200
