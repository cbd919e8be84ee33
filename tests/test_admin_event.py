"""The event's admin pages against a real `arcade serve`, on every store: sessions admins add, change
and remove (beside the windows of arcade.toml, seen by another process, in the audit log, a bad one a
clear error on the form), re-adjudication from the page (the diff, Publish, the old board archived),
the files to download, and times in the event's time zone."""

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import run_arcade
from tests.people import forms, visible_text
from tests.stores import STORES, postgres_settings
from tests.test_admin import ADMINS, signed_in_admin

ZONE = ZoneInfo("Europe/Berlin")
EVENT = """[event]
time_zone = "Europe/Berlin"
[[event.windows]]
name = "opening"
title = "Opening"
start = 2026-01-01T09:00:00
end = 2026-01-01T10:00:00
"""


@pytest.fixture(params=STORES)
def arcade(request, make_server):
    settings = ADMINS + EVENT
    if request.param == "postgres":
        settings += postgres_settings(request.getfixturevalue("postgres_schema"))
    server = make_server(settings)
    server.store_name = request.param
    return server


def local(moment: datetime) -> str:
    """A time as a ``datetime-local`` input holds it, in the event's zone."""
    return moment.astimezone(ZONE).strftime("%Y-%m-%dT%H:%M")


def windows(server) -> dict[str, tuple[str, str, str]]:
    answer = server.get("/api/v1/games/balloon/windows")
    assert answer.status_code == 200, answer.text
    return {window["id"]: (window["title"], window["source"], window["state"]) for window in answer.json()}


def window_board(server, window: str) -> list[tuple[str, int]]:
    answer = server.get(f"/api/v1/games/balloon/leaderboard?window={window}")
    assert answer.status_code == 200, answer.text
    return [(entry["player"]["name"], entry["score"]) for entry in answer.json()["entries"]]


def test_an_admin_adds_renames_and_removes_a_session_and_every_process_sees_it(arcade):
    assert arcade.post_score(arcade.token("eve"), 4, "eve-run-0001").status_code == 201
    boss, _ = signed_in_admin(arcade)
    page = boss.browser.get("/admin/windows")
    text = visible_text(page.text)
    assert "Opening" in text and "in arcade.toml" in text and "Europe/Berlin" in text
    assert "change-opening" not in page.text  # a window of the file is changed in the file

    now = datetime.now(ZONE)
    added = boss.submit(
        page,
        "add",
        name="talks",
        title="Talks",
        start=local(now - timedelta(hours=1)),
        end=local(now + timedelta(hours=1)),
    )
    assert added.status_code == 200 and added.url.path == "/admin/windows", visible_text(added.text)
    assert windows(arcade)["talks"] == ("Talks", "admin", "open")
    assert window_board(arcade, "talks") == [("eve", 4)]
    assert windows(arcade)["opening"] == ("Opening", "config", "ended")

    refused = boss.submit(added, "add", name="opening", start=local(now), end=local(now + timedelta(hours=1)))
    assert refused.status_code == 422
    assert "'opening' is already another window's name; give each window its own name" in visible_text(refused.text)
    backwards = boss.submit(added, "add", name="lunch", start=local(now), end=local(now - timedelta(hours=1)))
    assert backwards.status_code == 422 and "is not after the window's start" in visible_text(backwards.text)
    assert 'value="lunch"' in backwards.text  # what was typed is kept on the form
    assert "lunch" not in windows(arcade)
    wordy = boss.submit(
        added, "add", name="lunch", title="L" * 81, start=local(now), end=local(now + timedelta(hours=1))
    )
    assert wordy.status_code == 422, visible_text(wordy.text)
    assert "give a title of at most 80 characters (this one has 81)" in visible_text(wordy.text)
    why = boss.submit(
        added, "add", name="lunch", reason="x" * 501, start=local(now), end=local(now + timedelta(hours=1))
    )
    assert why.status_code == 422, visible_text(why.text)
    assert "give a reason of at most 500 characters (this one has 501)" in visible_text(why.text)
    assert "lunch" not in windows(arcade)  # neither was cut short and kept

    changed = boss.submit(
        added,
        "change-talks",
        title="Lightning talks",
        start=local(now - timedelta(hours=2)),
        end=local(now - timedelta(minutes=30)),
    )
    assert changed.status_code == 200, visible_text(changed.text)
    assert windows(arcade)["talks"] == ("Lightning talks", "admin", "ended")
    assert window_board(arcade, "talks") == []  # eve's score came after the session ended

    if arcade.store_name == "tinydb":
        arcade.stop()  # a store of one process: the command runs while the server is stopped
    exported = run_arcade("export-board", "balloon", "--window", "talks", cwd=arcade.folder, env=arcade.env)
    assert exported.returncode == 0, exported.stderr
    assert list(csv.reader(io.StringIO(exported.stdout)))[0][0] == "rank"
    if arcade.store_name == "tinydb":
        arcade.start()
    else:
        arcade.restart()
    assert windows(arcade)["talks"] == ("Lightning talks", "admin", "ended")

    page = boss.browser.get("/admin/windows")
    removed = boss.submit(page, "remove-talks")
    assert removed.status_code == 200 and "talks" not in windows(arcade)
    gone = arcade.get("/api/v1/games/balloon/leaderboard?window=talks")
    assert gone.status_code == 404 and "the windows are: event, opening" in gone.json()["detail"]

    audit = visible_text(boss.browser.get("/admin/audit").text)
    for what in ("add-window", "change-window", "remove-window", "Talks:", "Lightning talks:", "(the event)", "CET"):
        assert what in audit, what
    assert " UTC" not in audit  # times in the event's zone


def test_an_admin_readjudicates_from_the_page_publishes_and_downloads_the_archive(arcade, newer_balloon):
    for name, score in [("ann", 5), ("ben", 15), ("cy", 50)]:
        assert arcade.post_score(arcade.token(name), score, f"{name}-run-0001").status_code == 201
    arcade.env["PYTHONPATH"] = f"{newer_balloon}:{arcade.env['PYTHONPATH']}"  # the server upgraded the game
    arcade.restart()
    boss, _ = signed_in_admin(arcade)
    page = boss.browser.get("/admin/games/balloon/readjudicate")
    assert "version 1.3.0" in visible_text(page.text) and "None yet" in visible_text(page.text)

    started = boss.submit(page, "start")
    assert started.status_code == 200
    for _ in range(600):  # the page reloads itself while the replay runs
        if "Replaying:" not in visible_text(started.text):
            break
        started = boss.browser.get("/admin/games/balloon/readjudicate")
    text = visible_text(started.text)
    assert "Replayed 3 runs under version 1.3.0: 1 score moves, 1 run no longer verifies." in text
    assert "ann ann-run-0001 5 10" in text and "cy cy-run-0001 50 no longer verifies" in text, text
    assert arcade.get("/api/v1/games/balloon/leaderboard").json()["entries"][0]["score"] == 50  # not yet

    forged = boss.browser.post("/admin/games/balloon/readjudicate/publish", data={"_csrf_token": "forged"})
    assert forged.status_code == 403
    wordy = boss.submit(started, "publish", reason="x" * 501)
    assert wordy.status_code == 422, visible_text(wordy.text)
    assert "give a reason of at most 500 characters (this one has 501)" in visible_text(wordy.text)
    best = arcade.get("/api/v1/games/balloon/leaderboard").json()["entries"][0]["score"]
    assert best == 50  # not cut short and published
    published = boss.submit(wordy, "publish", reason="balloon 1.3.0 closes the 50-pump loophole")
    assert published.status_code == 200
    entries = arcade.get("/api/v1/games/balloon/leaderboard").json()["entries"]
    assert [(e["player"]["name"], e["score"], e["verification"]) for e in entries] == [
        ("ben", 15, "readjudicated"),
        ("ann", 10, "readjudicated"),
    ]
    assert "Board 1 : 3 players" in visible_text(published.text)
    assert "publish" not in forms(published.text)  # published once: nothing left to publish twice

    game_page = boss.browser.get("/admin/games/balloon")
    assert 'href="/api/v1/games/balloon/board.csv?archive=1"' in game_page.text
    assert 'href="/api/v1/games/balloon/board.json?window=opening"' in game_page.text
    archived = boss.browser.get("/api/v1/games/balloon/board.csv?archive=1")
    rows = list(csv.DictReader(io.StringIO(archived.text)))
    assert [(row["player_name"], row["verification"]) for row in rows] == [
        ("cy", "no_longer_verifies"),
        ("ben", "verified"),
        ("ann", "verified"),
    ]
    archive_page = visible_text(arcade.get("/games/balloon/archives/1", headers={"Accept": "text/html"}).text)
    assert "CET" in archive_page and " UTC" not in archive_page
    audit = visible_text(boss.browser.get("/admin/audit").text)
    assert "readjudicate" in audit and "balloon 1.3.0 closes the 50-pump loophole" in audit
