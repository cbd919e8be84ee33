"""The person's side of the device flow in real Chromium (Playwright), on a phone-sized screen:
the badge asks over HTTP, the person signs up, compares the code and approves, the badge's
poll gets the tokens and its score is accepted."""

import pytest
from playwright.sync_api import expect

from tests.badge_client import Badge
from tests.people import Person
from tests.test_device_flow import assert_oauth_error

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def phone(browser):
    context = browser.new_context(**PHONE)
    yield context.new_page()
    context.close()


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def code_fits(page) -> bool:
    """The code to compare is on one line, inside its box."""
    return page.evaluate(
        """(box => {
            const text = document.createRange();
            text.selectNodeContents(box);
            return box.scrollWidth <= box.clientWidth && text.getClientRects().length === 1;
        })(document.getElementById('user-code'))"""
    )


def every_field_has_a_label(page) -> bool:
    return page.evaluate(
        "[...document.querySelectorAll('input:not([type=hidden])')].every(input => input.labels.length > 0)"
    )


def test_a_person_scans_the_qr_code_signs_up_and_approves(server, phone):
    badge = Badge(server.url)
    grant = badge.start(device_name="Ada's badge")
    phone.goto(grant["verification_uri_complete"])
    expect(phone.locator("#user-code")).to_have_text(grant["user_code"])
    expect(phone.get_by_text("Ada's badge")).to_be_visible()
    assert fits_the_screen(phone) and code_fits(phone) and every_field_has_a_label(phone)

    sign_up = phone.locator("#sign-up")
    sign_up.get_by_label("Username").fill("ada")
    sign_up.get_by_label("Display name").fill("Ada Lovelace")
    sign_up.get_by_label("Password").fill("analytical engine")
    sign_up.get_by_role("button", name="Create account").click()
    assert_oauth_error(badge.poll(grant), "authorization_pending")
    phone.get_by_role("button", name="Yes, it matches: approve as Ada Lovelace").click()
    expect(phone.get_by_role("status")).to_contain_text("You can return to your badge")
    assert fits_the_screen(phone)

    response = badge.poll(grant)
    assert response.status_code == 200, response.text
    accepted = server.post_score(response.json()["access_token"], 42, "phone-run-01")
    assert accepted.status_code == 201, accepted.text
    answer = accepted.json()
    assert answer["player"]["name"] == "Ada Lovelace"
    phone.goto(f"{server.url}/games/{answer['game']}")
    expect(phone.get_by_text("Ada Lovelace")).to_be_visible()


def test_a_person_types_the_code_logs_in_and_denies(server, phone):
    badge = Badge(server.url)
    grant = badge.start()
    Person(server.url, "bob", password="bob's password").approve(link=badge.start()["verification_uri_complete"])

    phone.goto(f"{server.url}/device")
    log_in = phone.locator("#log-in")  # typing a code comes after logging in
    log_in.get_by_label("Username").fill("BOB")
    log_in.get_by_label("Password").fill("bob's password")
    log_in.get_by_role("button", name="Log in").click()
    expect(phone.get_by_text("Logged in as Bob")).to_be_visible()

    code = phone.get_by_label("The code on your badge")
    code.fill("BBBB-BBBB-BBBB")
    code.press("Enter")
    expect(phone.get_by_role("alert")).to_contain_text("That code is not valid")
    expect(code).to_have_attribute("aria-invalid", "true")
    expect(code).to_be_focused()
    assert fits_the_screen(phone)
    code.fill(" " + grant["user_code"].lower().replace("-", " "))
    phone.get_by_role("button", name="Continue").click()
    expect(phone.locator("#user-code")).to_have_text(grant["user_code"])
    assert fits_the_screen(phone) and code_fits(phone)
    phone.get_by_role("button", name="Deny").click()
    expect(phone.get_by_role("status")).to_contain_text("The badge was not logged in")
    assert_oauth_error(badge.poll(grant), "access_denied")
