"""Whatever text a provider puts in a token, a player's score is stored on every store and shown
cleanly: PostgreSQL's text cannot hold a NUL, and no page should show a control character."""

import pytest

from tests.stores import STORES, postgres_settings


@pytest.fixture(params=STORES)
def arcade(request, make_app):
    """The app in this process on each store (PostgreSQL's in a schema of the test's own)."""
    if request.param == "tinydb":
        return make_app()
    return make_app(postgres_settings(request.getfixturevalue("postgres_schema")))


def test_a_name_and_subject_with_control_characters_score_as_one_cleanly_named_player(arcade):
    provider = arcade.provider()
    token = provider.issue_access_token(
        subject="ada\x00lovelace", name="\x00Ada\n\tLovelace\x1b[31m", picture="https://pics.test/a\x00.png"
    )
    first = arcade.post_score(token, 5, "nul-run-01")
    assert first.status_code == 201, first.text
    assert first.json()["player"]["name"] == "Ada Lovelace [31m"
    assert first.json()["player"]["picture"] is None  # a URL with a NUL is no picture

    again = arcade.post_score(token, 9, "nul-run-02")
    assert again.status_code == 201, again.text
    assert again.json()["player"]["id"] == first.json()["player"]["id"]  # the same player each time
    (entry,) = arcade.get("/api/v1/games/balloon/leaderboard").json()["entries"]
    assert (entry["player"]["name"], entry["score"]) == ("Ada Lovelace [31m", 9)


def test_a_subject_cleaned_alike_is_still_another_player(arcade):
    provider = arcade.provider()
    nul = provider.issue_access_token(subject="eve\x00", name="\x00\x00")
    look_alike = provider.issue_access_token(subject="eve\ufffd", name="eve\ufffd")
    ids = {arcade.post_score(token, 3, "eve-run-01").json()["player"]["id"] for token in (nul, look_alike)}
    assert len(ids) == 2
    names = {entry["player"]["name"] for entry in arcade.get("/api/v1/games/balloon/leaderboard").json()["entries"]}
    assert names == {"eve", "eve\ufffd"}  # a name of nothing but control characters shows the subject
