"""A player's own data on /account, against a real server on every store: changing their display
name, and deleting their account and scores (gone from every board, their badge logged out)."""

import pytest

from tests.badge_client import Badge
from tests.people import Person, visible_text
from tests.stores import STORES, postgres_settings


@pytest.fixture(params=STORES)
def arcade(request, make_server):
    if request.param == "postgres":
        return make_server(postgres_settings(request.getfixturevalue("postgres_schema")))
    return make_server()


def board(server) -> list[tuple[str, int]]:
    entries = server.get("/api/v1/games/balloon/leaderboard").json()["entries"]
    return [(entry["player"]["name"], entry["score"]) for entry in entries]


def playing(server, username: str, score: int) -> tuple[Person, Badge, dict]:
    """A person who logged their badge in (the device flow, on the pages) and sent a score."""
    person, badge = Person(server, username), Badge(server)
    tokens = badge.log_in(person)
    sent = server.post_score(tokens["access_token"], score, f"{username}-run-0001")
    assert sent.status_code == 201, sent.text
    return person, badge, tokens


def test_a_player_changes_their_name_and_keeps_it_over_their_badges_token(arcade):
    ada, _, tokens = playing(arcade, "ada", 5)
    page = ada.browser.get("/account")
    assert page.url.path == "/account" and "Signed in as Ada (ada)" in visible_text(page.text)
    page = ada.submit(page, "name", name="  Ada\x07\n   Lovelace ")
    assert page.url.path == "/account" and board(arcade) == [("Ada Lovelace", 5)]
    assert arcade.post_score(tokens["access_token"], 6, "ada-run-0002").status_code == 201  # still says "Ada"
    assert board(arcade) == [("Ada Lovelace", 6)]
    refused = ada.submit(ada.browser.get("/account"), "name", name="\x00\x01")
    assert refused.status_code == 422 and "Give a name of 1 to 64 printable characters" in visible_text(refused.text)
    wordy = ada.submit(ada.browser.get("/account"), "name", name="A" * 65)
    assert wordy.status_code == 422, visible_text(wordy.text)
    assert "Give a name of 1 to 64 printable characters (this one has 65)" in visible_text(wordy.text)
    assert board(arcade) == [("Ada Lovelace", 6)]  # not cut short and kept
    arcade.restart()
    assert board(arcade) == [("Ada Lovelace", 6)]


def test_a_deleted_account_leaves_every_board_and_its_badge_is_logged_out(arcade):
    ada, badge, tokens = playing(arcade, "ada", 5)
    playing(arcade, "bob", 4)
    unconfirmed = ada.submit(ada.browser.get("/account"), "delete", confirm="yes")
    assert unconfirmed.status_code == 422 and board(arcade) == [("Ada", 5), ("Bob", 4)]
    done = ada.submit(ada.browser.get("/account"), "delete", confirm="delete")
    assert done.status_code == 200 and "Your account is deleted" in visible_text(done.text)
    assert board(arcade) == [("Bob", 4)]
    assert arcade.post_score(tokens["access_token"], 9, "ada-run-0002").status_code == 401
    assert badge.refresh(tokens["refresh_token"]).status_code == 400
    assert ada.browser.get("/account").url.path == "/device"  # signed out
    arcade.restart()
    assert board(arcade) == [("Bob", 4)]
    again = Person(arcade, "ada")  # the username is free again: a new account, a new player
    assert again.sign_up(again.browser.get("/account")).url.path == "/account"


def test_the_account_page_needs_a_session_and_the_forms_need_its_token(arcade):
    assert arcade.get("/account", follow_redirects=False).headers["location"] == "/device?then=%2Faccount"
    ada, _, _ = playing(arcade, "ada", 5)
    ada.browser.get("/account")
    assert ada.browser.post("/account/delete", data={"confirm": "delete"}).status_code == 403
    assert board(arcade) == [("Ada", 5)]
