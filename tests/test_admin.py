"""The admin pages and API against a real `arcade serve`, on every store: signing in through the
built-in provider, moderating, the audit log, refusals of who is not an admin, and restarts."""

import signal

import pytest

from arcade.sdk.models import neutral_name, player_id
from tests.people import Person, csrf_token, forms, visible_text
from tests.runs import balloon_run
from tests.stores import STORES, postgres_settings

ADMINS = '[admins]\naccounts = ["boss"]\n'
BUILTIN = "urn:arcade:builtin"


@pytest.fixture(params=STORES)
def arcade(request, make_server):
    if request.param == "postgres":
        server = make_server(ADMINS + postgres_settings(request.getfixturevalue("postgres_schema")))
    else:
        server = make_server(ADMINS)
    server.store_name = request.param
    return server


def board(server) -> list[tuple[str, int]]:
    entries = server.get("/api/v1/games/balloon/leaderboard").json()["entries"]
    return [(entry["player"]["name"], entry["score"]) for entry in entries]


def signed_in_admin(server) -> tuple[Person, object]:
    """The organiser opens /admin, is sent to sign in, signs up as "boss" and lands back on /admin."""
    boss = Person(server, "boss", name="Boss")
    page = boss.browser.get("/admin")
    assert page.url.path == "/device" and page.url.params["then"] == "/admin"
    page = boss.sign_up(page)
    assert (page.url.path, page.status_code) == ("/admin", 200)
    return boss, page


def test_an_admin_hides_a_score_bans_a_player_and_reads_it_all_in_the_audit_log(arcade):
    eve, mallory = arcade.token("eve"), arcade.token("mallory")
    for number, score in enumerate((3, 5)):
        assert arcade.post_score(eve, score, f"eve-run-{number:04}").status_code == 201
    assert arcade.post_score(mallory, 4, "mallory-run-0001").status_code == 201
    assert board(arcade) == [("eve", 5), ("mallory", 4)]
    boss, page = signed_in_admin(arcade)
    assert "Balloon" in visible_text(page.text)

    page = boss.browser.get(f"/admin/players/{player_id(BUILTIN, 'eve')}")
    page = boss.submit(page, "hide-eve-run-0001", reason="a jump no balloon can make")
    assert page.status_code == 200 and "hidden" in visible_text(page.text)
    assert board(arcade) == [("mallory", 4), ("eve", 3)]
    page = boss.submit(page, "unhide-eve-run-0001", reason="the replay checks out")
    assert board(arcade) == [("eve", 5), ("mallory", 4)]

    page = boss.browser.get(f"/admin/players/{player_id(BUILTIN, 'mallory')}")
    page = boss.submit(page, "ban", reason="played with a script")
    assert "Banned: played with a script" in visible_text(page.text)
    assert board(arcade) == [("eve", 5)]
    refused = arcade.post_score(mallory, 6, "mallory-run-0002")
    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("this player is banned from the arcade's boards: played with a script")

    audit = visible_text(boss.browser.get("/admin/audit").text)
    for what in ("ban", "played with a script", "unhide", "the replay checks out", "hide", "Boss (boss)"):
        assert what in audit
    if arcade.store_name == "tinydb":
        arcade.stop(signal.SIGKILL)  # the journal is all there is
        arcade.start()
    else:
        arcade.restart()
    assert board(arcade) == [("eve", 5)]
    assert arcade.post_score(mallory, 6, "mallory-run-0002").status_code == 403
    assert "played with a script" in visible_text(boss.browser.get("/admin/audit").text)


def test_a_reset_name_is_kept_and_can_be_restored_from_the_audit_log(arcade):
    eve = arcade.token("eve")
    assert arcade.post_score(eve, 3, "eve-run-0001").status_code == 201
    boss, _ = signed_in_admin(arcade)
    who = player_id(BUILTIN, "eve")
    page = boss.submit(boss.browser.get(f"/admin/players/{who}"), "reset-name", reason="offensive name")
    assert board(arcade) == [(neutral_name(who), 3)]
    assert arcade.post_score(eve, 4, "eve-run-0002").status_code == 201  # the token still says "eve"
    assert board(arcade) == [(neutral_name(who), 4)]
    (restore,) = [form for form in forms(page.text) if form.startswith("restore-name-")]
    boss.submit(page, restore, reason="appeal: it is their real name")
    assert board(arcade) == [("eve", 4)]


def test_a_moderation_without_a_reason_changes_nothing_and_says_why(arcade):
    assert arcade.post_score(arcade.token("eve"), 3, "eve-run-0001").status_code == 201
    boss, _ = signed_in_admin(arcade)
    page = boss.submit(boss.browser.get(f"/admin/players/{player_id(BUILTIN, 'eve')}"), "ban", reason="  ")
    assert page.status_code == 422 and "give a reason" in visible_text(page.text)
    assert board(arcade) == [("eve", 3)]


def test_who_is_not_an_admin_is_refused_and_a_visitor_is_sent_to_sign_in(arcade):
    visitor = arcade.get("/admin/audit", follow_redirects=False)
    assert visitor.status_code == 303 and visitor.headers["location"] == "/device?then=%2Fadmin%2Faudit"
    api = arcade.get("/admin/api/audit")  # JSON whatever the client accepts, as under /api
    assert api.status_code == 401 and "sign in first" in api.json()["detail"]
    pat = Person(arcade, "pat", name="Pat")
    page = pat.sign_up(pat.browser.get("/admin"))
    assert page.status_code == 403
    assert "you are signed in as Pat, who is not an admin of this arcade" in visible_text(page.text)
    forged = pat.browser.post("/admin/api/moderations", json={"action": "ban", "player": "x", "reason": "r"})
    assert forged.status_code == 403


def test_the_admin_api_needs_the_sessions_csrf_token_and_the_arcades_origin(arcade):
    assert arcade.post_score(arcade.token("eve"), 3, "eve-run-0001").status_code == 201
    boss, _ = signed_in_admin(arcade)
    who = player_id(BUILTIN, "eve")
    body = {"action": "ban", "player": who, "reason": "bot"}
    assert boss.browser.post("/admin/api/moderations", json=body).status_code == 403  # no token
    token = boss.browser.get("/admin/api/session").json()["csrf_token"]
    assert token == csrf_token(boss.browser.get(f"/admin/players/{who}"))  # the forms' token
    cross_site = {"x-csrf-token": token, "origin": "http://evil.test", "sec-fetch-site": "cross-site"}
    assert boss.browser.post("/admin/api/moderations", json=body, headers=cross_site).status_code == 403
    assert board(arcade) == [("eve", 3)]
    done = boss.browser.post("/admin/api/moderations", json=body, headers={"x-csrf-token": token})
    assert done.status_code == 201 and done.json()["action"] == "ban" and done.json()["actor"] == "Boss (boss)"
    assert board(arcade) == []
    (entry,) = boss.browser.get("/admin/api/audit").json()
    assert (entry["action"], entry["reason"], entry["player"]) == ("ban", "bot", who)

    for field, asked, why in [
        ("value", {"value": "E" * 65}, "give a name of 1 to 64 printable characters (this one has 65)"),
        ("reason", {"reason": "x" * 501}, "give a reason of at most 500 characters (this one has 501)"),
    ]:
        body = {"action": "rename", "player": who, "reason": "typo", "value": "Eve", **asked}
        refused = boss.browser.post("/admin/api/moderations", json=body, headers={"x-csrf-token": token})
        assert refused.status_code == 422 and refused.json()["detail"] == f"{field}: {why}", refused.text
    assert len(boss.browser.get("/admin/api/audit").json()) == 1  # neither was cut short and kept


def test_refused_runs_are_listed_for_admins_with_claimed_and_replayed_scores(arcade):
    eve = arcade.token("eve")
    for number in range(3):
        answer = arcade.post_score(eve, 9, f"eve-cheat-{number:04}", run=balloon_run(2))
        assert answer.status_code == 422
    boss, _ = signed_in_admin(arcade)
    (run, *_) = boss.browser.get("/admin/api/refused-runs").json()
    assert (run["name"], run["claimed"], run["replayed"], run["game"]) == ("eve", 9, 2, "balloon")
    assert "scores 2, not 9" in run["reason"]
    text = visible_text(boss.browser.get("/admin/refused").text)
    assert "eve 3" in text and "scores 2, not 9" in text


def test_sign_out_on_the_admin_pages_ends_the_built_in_session(arcade):
    boss, page = signed_in_admin(arcade)
    page = boss.submit(page, "sign-out")
    assert page.url.path == "/device" and "log-in" in forms(page.text)
    again = boss.browser.get("/admin", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == "/device?then=%2Fadmin"
