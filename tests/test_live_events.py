"""The live stream as a page meets it over HTTP: each score's event carries the new row itself,
numbered, so a page that reconnects with ``Last-Event-ID`` gets what it missed, and one whose
number this server never gave (it restarted) is told to fetch its rows again."""

import json

import httpx


def read_events(server, headers: dict | None = None, until: int = 1, path: str = "/games/balloon/events"):
    """The stream's first ``until`` events (name, id, data), then it is closed."""
    events, current = [], {}
    with httpx.stream("GET", server.url + path, headers=headers or {}, timeout=30) as stream:
        assert stream.status_code == 200
        for line in stream.iter_lines():
            if not line:
                if "event" in current:
                    events.append((current["event"], current.get("id"), json.loads(current.get("data", "null"))))
                    if len(events) == until:
                        return events
                current = {}
            elif not line.startswith(":"):
                field, _, value = line.partition(": ")
                current[field] = value
    return events


def test_each_event_carries_the_row_and_a_reconnecting_page_gets_what_it_missed(server):
    [(name, first_id, _)] = read_events(server)
    assert name == "live" and first_id
    assert server.post_score(server.token("ann"), 10, "ann-run-0001").status_code == 201
    assert server.post_score(server.token("ben"), 12, "ben-run-0001").status_code == 201
    assert server.post_score(server.token("ann"), 3, "ann-run-0002").status_code == 201  # no new best
    events = read_events(server, {"Last-Event-ID": first_id}, until=4)
    assert [name for name, _, _ in events] == ["live", "score", "score", "score"]
    ann, ben, again = (data for _, _, data in events[1:])
    assert ann["row"]["name"] == "ann" and ann["row"]["rank"] == 1 and ann["players"] == 1
    assert ben["row"] | {"when": None, "at": None} == {
        "game": "balloon",
        "rank": 1,
        "id": ben["row"]["id"],
        "name": "ben",
        "picture": f"/players/{ben['row']['id']}/avatar.svg",
        "score": 12,
        "when": None,
        "at": None,
    }
    assert again["row"] is None and again["latest"]["score"] == 3 and again["players"] == 2
    last_id = events[-1][1]
    assert read_events(server, {"Last-Event-ID": last_id}) == [("live", last_id, {})]  # nothing missed
    assert read_events(server, path=f"/events?after={first_id}", until=4)[3][2]["submission_id"] == "ann-run-0002"


def test_a_page_whose_last_event_this_server_never_sent_is_told_to_fetch_its_rows(server):
    [(_, before, _)] = read_events(server)
    server.restart()
    events = read_events(server, {"Last-Event-ID": before}, until=2)
    assert [name for name, _, _ in events] == ["live", "reset"]
    assert events[1][1] != before and events[0][1] is None
