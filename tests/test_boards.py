"""Time-window boards and board files as an organiser and a visitor meet them: arcade.toml, the API
of a real `arcade serve` on each store, the game page's window picker in Chromium, `arcade export-board`."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from arcade.platform import config
from arcade.sdk.errors import ConfigError
from tests.conftest import run_arcade
from tests.stores import STORES, postgres_settings


def event_config(now: datetime | None = None) -> str:
    """An event in UTC: its days from yesterday to tomorrow, a session on now and one that ended."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    local = lambda moment: moment.replace(tzinfo=None).isoformat(timespec="seconds")
    return f"""
[event]
time_zone = "UTC"
days = true
first_day = {(now - timedelta(days=1)).date()}
last_day = {(now + timedelta(days=1)).date()}

[[event.windows]]
name = "now"
title = "This session"
start = {local(now - timedelta(hours=1))}
end = {local(now + timedelta(hours=1))}

[[event.windows]]
name = "earlier"
title = "Earlier session"
start = {local(now - timedelta(hours=5))}
end = {local(now - timedelta(hours=3))}
"""


def today() -> str:
    return str(datetime.now(UTC).date())


@pytest.fixture(params=STORES)
def served(request, make_server):
    """A real server of each store with the event's windows."""
    settings = event_config()
    if request.param == "postgres":
        schema = request.getfixturevalue("postgres_schema")
        settings += "\n" + postgres_settings(schema)
    return make_server(settings)


def names(response) -> list[tuple[int, str, int]]:
    assert response.status_code == 200, response.text
    return [(entry["rank"], entry["player"]["name"], entry["score"]) for entry in response.json()["entries"]]


# -- settings -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "table, key, says",
    [
        ('time_zone = "Europe/Londres"', "event.time_zone", "no time zone this machine knows"),
        ("days = true\nfirst_day = 2026-12-01", "event.last_day", "is needed when event.days is true"),
        ("days = true\nfirst_day = 2026-12-03\nlast_day = 2026-12-01", "event.last_day", "is before event.first_day"),
        (
            '[[event.windows]]\nname = "talk"\nstart = 2026-12-01T10:00:00\nend = 2026-12-01T09:00:00',
            "event.windows[0].end",
            "is not after the window's start",
        ),
        (
            (
                '[[event.windows]]\nname = "talk"\nstart = 2026-12-01T09:00:00\nend = 2026-12-01T10:00:00\n'
                '[[event.windows]]\nname = "talk"\nstart = 2026-12-02T09:00:00\nend = 2026-12-02T10:00:00'
            ),
            "event.windows[1].name",
            "'talk' is already the name of event.windows[0]",
        ),
        (
            '[[event.windows]]\nname = "event"\nstart = 2026-12-01T09:00:00\nend = 2026-12-01T10:00:00',
            "event.windows[0].name",
            "the whole event's window",
        ),
        (
            '[[event.windows]]\nname = "Keynote!"\nstart = 2026-12-01T09:00:00\nend = 2026-12-01T10:00:00',
            "event.windows[0].name",
            "cannot name a window in a URL",
        ),
    ],
)
def test_a_bad_window_is_a_config_error_naming_its_key(tmp_path, table, key, says):
    path = tmp_path / "arcade.toml"
    header = "" if table.startswith("[[") else "[event]\n"
    path.write_text(header + table + "\n")
    with pytest.raises(ConfigError) as error:
        config.load(path, environ={})
    assert f"{path}: {key}: " in str(error.value) and says in str(error.value)


def test_serve_stops_at_a_bad_window_and_says_which(tmp_path):
    (tmp_path / "arcade.toml").write_text(
        '[event]\ntime_zone = "Europe/London"\n[[event.windows]]\nname = "talk"\n'
        "start = 2026-12-01T10:00:00\nend = 2026-12-01T09:00:00\n"
    )
    result = run_arcade("serve", "--port", "0", cwd=tmp_path)
    assert result.returncode == 2
    assert "arcade.toml: event.windows[0].end: 2026-12-01 09:00:00 is not after the window's start" in result.stderr


def test_session_times_are_the_event_time_zones(tmp_path):
    path = tmp_path / "arcade.toml"
    path.write_text(
        '[event]\ntime_zone = "Europe/London"\n[[event.windows]]\nname = "summer"\n'
        "start = 2026-07-01T09:00:00\nend = 2026-07-01T10:00:00\n"
    )
    window = config.load(path, environ={}).windows.get("summer")
    assert window.start == datetime(2026, 7, 1, 8, 0, tzinfo=UTC)  # British Summer Time
    assert window.end - window.start == timedelta(hours=1)


# -- the API ----------------------------------------------------------------------------------


def test_a_score_counts_in_every_window_it_was_accepted_in(served):
    served.post_score(served.token("ann"), 10, "ann-run-01")
    served.post_score(served.token("ben"), 30, "ben-run-01")
    board = "/api/v1/games/balloon/leaderboard"

    windows = served.get("/api/v1/games/balloon/windows").json()
    states = {window["id"]: window["state"] for window in windows}
    assert states == {
        "event": "open",
        str(datetime.now(UTC).date() - timedelta(days=1)): "ended",
        today(): "open",
        str(datetime.now(UTC).date() + timedelta(days=1)): "upcoming",
        "now": "open",
        "earlier": "ended",
    }
    for window in ("event", today(), "now"):
        assert names(served.get(board, params={"window": window})) == [(1, "ben", 30), (2, "ann", 10)], window
    assert names(served.get(board)) == [(1, "ben", 30), (2, "ann", 10)]
    for window in ("earlier", str(datetime.now(UTC).date() + timedelta(days=1))):  # archived, or not yet
        answer = served.get(board, params={"window": window})
        assert (answer.json()["players"], names(answer)) == (0, []), window
    ann = served.post_score(served.token("ann"), 40, "ann-run-02").json()["player"]["id"]
    around = served.get(board, params={"window": "now", "around": ann, "limit": 1})
    assert names(around) == [(1, "ann", 40)]


def test_an_unknown_window_is_a_404_that_lists_the_known_ones(served):
    answer = served.get("/api/v1/games/balloon/leaderboard", params={"window": "lunch"})
    assert answer.status_code == 404
    assert "no window 'lunch'" in answer.json()["detail"] and "event, " in answer.json()["detail"]
    assert "now, earlier" in answer.json()["detail"]
    page = served.get("/games/balloon", params={"window": "lunch"}, headers={"Accept": "text/html"})
    assert page.status_code == 404 and "no window" in page.text


def test_windows_survive_a_restart(served):
    served.post_score(served.token("ann"), 10, "ann-run-01")
    served.restart()
    served.post_score(served.token("ben"), 20, "ben-run-01")
    board = served.get("/api/v1/games/balloon/leaderboard", params={"window": "now"})
    assert names(board) == [(1, "ben", 20), (2, "ann", 10)]


# -- the page ---------------------------------------------------------------------------------


@pytest.mark.browser
def test_the_window_picker_shows_each_windows_board(make_server, page):
    server = make_server(event_config())
    server.post_score(server.token("ann"), 10, "ann-run-01")
    page.goto(f"{server.url}/games/balloon")
    options = page.locator("#window option").all_inner_texts()
    assert options[0] == "Whole event" and "Earlier session (ended)" in options and "This session" in options
    page.select_option("#window", "earlier")
    page.click("form.windows button")
    page.wait_for_url("**/games/balloon?window=earlier")
    assert page.locator("h1").inner_text() == "Balloon · Earlier session"
    assert page.locator("#rows").inner_text().strip() == "No scores yet. Be the first!"
    assert page.locator("#window").input_value() == "earlier"
    page.select_option("#window", "now")
    page.click("form.windows button")
    page.wait_for_url("**/games/balloon?window=now")
    assert page.locator("#rows tr .name").all_inner_texts() == ["ann"]
    with page.expect_download() as download:
        page.click("text=CSV")
    rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))
    assert rows[1][2] == "ann" and download.value.suggested_filename == "balloon-now.csv"


# -- board files ------------------------------------------------------------------------------


def test_a_board_file_from_the_command_and_from_the_api_hold_the_same(make_server):
    server = make_server(event_config())
    for name, score in [('=HYPERLINK("http://evil")', 30), ("+1", 20), ("-2", 20), ("@sum", 10), ("ann", 5)]:
        server.post_score(server.token(name), score, f"run-{score}-{len(name)}-0001")

    served_csv = server.get("/api/v1/games/balloon/board.csv", params={"window": "now"})
    assert served_csv.status_code == 200 and served_csv.headers["content-type"].startswith("text/csv")
    assert served_csv.headers["content-disposition"] == 'attachment; filename="balloon-now.csv"'
    rows = list(csv.reader(io.StringIO(served_csv.text)))
    assert rows[0] == ["rank", "player_id", "player_name", "score", "unit", "reached_at", "verification"]
    assert [row[2] for row in rows[1:]] == ['\'=HYPERLINK("http://evil")', "'+1", "'-2", "'@sum", "ann"]
    assert [(row[0], row[3], row[6]) for row in rows[1:3]] == [("1", "30", "verified"), ("2", "20", "verified")]

    served_json = server.get("/api/v1/games/balloon/board.json").json()
    assert served_json["format"] == "badge-arcade.board/1" and served_json["players"] == 5
    assert served_json["game"] == {
        "id": "balloon",
        "title": "Balloon",
        "version": "1.2.0",
        "order": "higher",
        "unit": "pumps",
    }
    assert served_json["board"]["window"] == "event" and served_json["board"]["archive"] is None
    first = served_json["entries"][0]
    assert first["player"]["name"] == '=HYPERLINK("http://evil")' and first["verification"] == "verified"
    assert set(first) == {"rank", "player", "score", "reached_at", "verification"}

    assert server.get("/api/v1/games/balloon/board.csv", params={"window": "lunch"}).status_code == 404
    assert server.get("/api/v1/games/balloon/board.csv", params={"archive": 1}).status_code == 404
    assert server.get("/api/v1/games/balloon/board.json", params={"archive": 0}).status_code == 422
    both = server.get("/api/v1/games/balloon/board.json", params={"archive": 1, "window": "now"})
    assert both.status_code == 422 and "cannot be combined with window" in both.text

    refused = run_arcade("export-board", "balloon", cwd=server.folder, env=server.env)
    assert refused.returncode == 2 and "Stop the server" in refused.stderr  # TinyDB: one process at a time
    server.stop()
    out = server.folder / "now.csv"
    written = run_arcade(
        "export-board", "balloon", "--window", "now", "--out", str(out), cwd=server.folder, env=server.env
    )
    assert written.returncode == 0, written.stderr
    assert list(csv.reader(io.StringIO(out.read_text(encoding="utf-8")))) == rows
    again = run_arcade(
        "export-board", "balloon", "--window", "now", "--out", str(out), cwd=server.folder, env=server.env
    )
    assert again.returncode == 2 and "exists already" in again.stderr
    printed = run_arcade("export-board", "balloon", "--format", "json", cwd=server.folder, env=server.env)
    assert json.loads(printed.stdout)["entries"] == served_json["entries"]
    unknown = run_arcade("export-board", "balloon", "--window", "lunch", cwd=server.folder, env=server.env)
    assert (
        unknown.returncode == 2
        and "no window 'lunch' in [event] or the admins' sessions; the windows are: event, " in unknown.stderr
    )
