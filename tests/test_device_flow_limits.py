"""Abuse limits of the built-in provider, over HTTP from several loopback addresses (127.0.0.x),
to the arcade's app in this process (to a real server for what must outlive a restart).

User codes are short, so guessing them is budgeted (RFC 8628 §5.1); the device
and token endpoints are rate-limited, and so are passwords and sign-ups. Every
count lives in the store, so a restart (or another server process) keeps it.
"""

import pytest

from arcade.plugins.idp_builtin.codes import USER_CODE_SPACE
from arcade.plugins.idp_builtin.provider import BuiltinSettings

from tests.people import Person, visible_text
from tests.test_device_flow import Badge, assert_oauth_error

WRONG = "BBBB-BBBB"


def guessing_probability(wrong_user_codes: int) -> float:
    """The chance, at most, that guesses find one given user code during its life.

    The budget counts each guess before its lookup (giving it back only when the
    code was right) and admits ``wrong_user_codes`` within any window of
    ``device_code_ttl`` seconds, which is a code's whole life: so at most that many
    guesses meet the code, each right with probability 1 / 20^8.
    """
    return 1 - (1 - 1 / USER_CODE_SPACE) ** wrong_user_codes


def test_the_default_budgets_keep_guessing_a_user_code_below_2_to_the_minus_32():
    settings = BuiltinSettings()
    assert USER_CODE_SPACE == 20**8
    everyone = guessing_probability(settings.limits.wrong_user_codes)
    one_address = guessing_probability(settings.limits.wrong_user_codes_per_address)
    assert one_address < everyone < 2**-32
    assert guessing_probability(settings.limits.wrong_user_codes + 1) > 2**-32  # the budget is as loose as it can be


def test_wrong_user_codes_are_budgeted_per_address_and_for_everyone(make_server):
    server = make_server()  # the default budgets: 3 per address, 5 for everyone, per device_code_ttl
    badge = Badge(server.url)
    grants = [badge.start() for _ in range(3)]
    first = Person(server.url, "first", address="127.0.0.2")
    for grant in grants[:2]:
        assert first.enter_code(grant["user_code"]).status_code == 200  # right codes cost nothing
    for _ in range(5):
        assert first.enter_code("AEIOU").status_code == 400  # cannot be a code: not a guess
    for _ in range(3):
        assert first.enter_code(WRONG).status_code == 400
    refused = first.enter_code(WRONG)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert "Too many wrong codes" in visible_text(refused.text)
    assert first.enter_code(grants[2]["user_code"]).status_code == 429  # past the budget nothing is looked up

    second = Person(server.url, "second", address="127.0.0.3")
    assert [second.enter_code(WRONG).status_code for _ in range(2)] == [400, 400]
    server.restart()
    third = Person(server.url, "third", address="127.0.0.4")
    assert third.enter_code(WRONG).status_code == 429  # everyone's 5 are spent, across the restart
    assert third.enter_code(grants[2]["user_code"]).status_code == 429

    page = third.approve(link=grants[2]["verification_uri_complete"])  # the QR link needs no user code
    assert "You can return to your badge" in visible_text(page.text)
    assert badge.poll(grants[2]).status_code == 200


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
