"""Re-adjudication as an organiser meets it: a game's rules change, `arcade readjudicate` replays every
stored run with them, shows the diff, publishes it at once with --publish (the old board archived and
browsable), and publishes nothing the second time; on each store, across a restart."""

import getpass
import json

import pytest

from tests.conftest import run_arcade
from tests.runs import balloon_run
from tests.stores import STORES, postgres_settings


@pytest.fixture(params=STORES)
def served(request, make_server):
    if request.param == "postgres":
        return make_server(postgres_settings(request.getfixturevalue("postgres_schema")))
    return make_server()


def board(server, path="/api/v1/games/balloon/leaderboard"):
    answer = server.get(path)
    assert answer.status_code == 200, answer.text
    return [(e["rank"], e["player"]["name"], e["score"], e["verification"]) for e in answer.json()["entries"]]


def test_a_rules_change_is_replayed_shown_published_at_once_and_archived(served, newer_balloon):
    for name, score in [("ann", 5), ("ben", 15), ("cy", 50), ("dee", 45)]:
        assert served.post_score(served.token(name), score, f"{name}-run-0001").status_code == 201
    before = board(served)
    assert before == [
        (1, "cy", 50, "verified"),
        (2, "dee", 45, "verified"),
        (3, "ben", 15, "verified"),
        (4, "ann", 5, "verified"),
    ]
    newer = {**served.env, "PYTHONPATH": str(newer_balloon)}

    def readjudicate(*flags):
        return run_arcade("readjudicate", "balloon", *flags, cwd=served.folder, env=newer, timeout=120)

    shared = "postgres" in (served.folder / "arcade.toml").read_text()
    if not shared:  # the TinyDB store is the running server's: it says so, and changes nothing
        refused = readjudicate("--publish")
        assert refused.returncode == 2
        assert "Stop the server, run the command, and start the server again" in refused.stderr
        assert board(served) == before
        served.stop()

    shown = readjudicate()
    assert shown.returncode == 0, shown.stderr
    assert "replayed 4 stored runs of balloon with its rules at version 1.3.0" in shown.stdout
    assert "scores that move             1" in shown.stdout
    assert "runs that no longer verify   2" in shown.stdout
    assert "ann (" in shown.stdout and ": 5 -> 10 pumps" in shown.stdout
    assert ": 50 -> no longer verifies  (the game of this run is over after 40 ticks" in shown.stdout
    assert "nothing published" in shown.stdout

    too_long = readjudicate("--publish", "--reason", "x" * 501)  # the admin pages keep at most 500 (it kept them all)
    assert too_long.returncode == 2
    assert "argument --reason: give a reason of at most 500 characters (this one has 501)" in too_long.stderr
    assert "replayed" not in too_long.stdout

    published = readjudicate("--publish", "--reason", "balloon 1.3.0 closes the 50-pump loophole")
    assert published.returncode == 0, published.stderr
    assert "the old board is archive 1 (/games/balloon/archives/1)" in published.stdout
    if not shared:
        served.start()
    after = [(1, "ben", 15, "readjudicated"), (2, "ann", 10, "readjudicated")]
    assert board(served) == after  # on PostgreSQL, served all along by the running server
    archived = [
        (1, "cy", 50, "no_longer_verifies"),
        (2, "dee", 45, "no_longer_verifies"),
        (3, "ben", 15, "verified"),
        (4, "ann", 5, "verified"),
    ]
    assert board(served, "/api/v1/games/balloon/archives/1") == archived
    (listed,) = served.get("/api/v1/games/balloon/archives").json()
    assert (listed["id"], listed["version"], listed["players"]) == (1, "1.3.0", 4)

    if not shared:
        served.stop()
    again = readjudicate("--publish")
    assert again.returncode == 0, again.stderr
    assert "nothing changed under balloon 1.3.0: nothing to publish" in again.stdout

    served.env["PYTHONPATH"] = str(newer_balloon)  # the server upgraded to the new rules
    served.restart()
    assert len(served.get("/api/v1/games/balloon/archives").json()) == 1
    assert board(served) == after
    assert board(served, "/api/v1/games/balloon/archives/1") == archived
    page = served.get("/games/balloon/archives/1", headers={"Accept": "text/html"}).text
    assert page.count("no longer verifies") == 2 and "before the re-adjudication under version 1.3.0" in page
    assert 'href="/games/balloon/archives/1"' in served.get("/games/balloon", headers={"Accept": "text/html"}).text
    newer_run = served.post_score(served.token("ann"), 12, "ann-run-0002", run=balloon_run(6))  # 6 pumps bank 12
    assert newer_run.status_code == 201, newer_run.text
    assert board(served)[1] == (2, "ann", 12, "verified")

    if not shared:
        served.stop()
    exported = run_arcade("export-board", "balloon", "--archive", "1", "--format", "json", cwd=served.folder, env=newer)
    assert exported.returncode == 0, exported.stderr
    document = json.loads(exported.stdout)
    assert document["board"]["archive"] == 1 and document["board"]["archived_version"] == "1.3.0"
    assert [entry["verification"] for entry in document["entries"]] == [e[3] for e in archived]

    # the publish is in the audit log, as one from the admin pages is (it was not: only those wrote one)
    assert run_arcade("export", "event.jsonl", cwd=served.folder, env=newer).returncode == 0
    items = [json.loads(line) for line in (served.folder / "event.jsonl").read_text().splitlines()]
    (entry,) = [item for item in items if item.get("type") == "audit"]
    assert (entry["action"], entry["submission_id"], entry["reason"]) == (
        "readjudicate",
        "balloon",
        "balloon 1.3.0 closes the 50-pump loophole",
    )
    assert entry["actor"] == f"{getpass.getuser()} (command line)"
    assert (entry["before"], entry["value"]) == ("the old board, archived as board 1", "Balloon under version 1.3.0")
