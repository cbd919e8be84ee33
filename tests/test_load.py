"""Badges logging in, polling and sending at once against one real `arcade serve` (tests/swarm.py;
bench/load.py is the long form): no error, nothing acknowledged lost or stored twice."""

import asyncio

from tests.swarm import Swarm, check, losses, stored

BADGES = 16
RUNS = 10
"""Games each badge plays; its budget of scores runs out before the last ones."""
SETTINGS = """scores_per_minute = 8
[identity.builtin]
interval = 1
access_token_ttl = 62
"""
"""Polls every second and tokens refreshed every two, so that a short run sees each step of a badge's day."""


def test_badges_logging_in_and_sending_at_once_get_no_error_and_lose_nothing(make_server):
    server = make_server(SETTINGS)
    swarm = Swarm(server.url, badges=BADGES, seconds=120, runs=RUNS, pause=(0.3, 0.8), reading=(2.0, 4.0), lose=0.2)

    elapsed = asyncio.run(swarm.run())

    print(swarm.timings.table(elapsed))
    print(dict(swarm.ledger.counts))
    assert swarm.ledger.errors == []
    server.stop()
    assert " ERROR " not in server.log.read_text()  # a badge whose Wi-Fi drops is no failure of the server
    scores = stored(server.data)
    assert losses(swarm.ledger, scores) == {"lost": [], "changed": [], "doubled": [], "unexpected": []}
    server.start()
    assert check(server.url, scores) == []
    # It was the load meant: every badge logged in after polls that were answered "pending",
    # refreshed its token, sent and was acknowledged; connections dropped and answers were lost,
    # and the runs sent again got their first answer; budgets ran out and the runs stayed queued.
    timings, counts, acknowledged = swarm.timings, swarm.ledger.counts, swarm.ledger.acknowledged.values()
    assert timings.statuses("authorize") == {200: BADGES} and timings.statuses("approve") == {200: BADGES}
    assert timings.statuses("poll")[200] == BADGES and timings.statuses("poll")[400] >= BADGES
    assert timings.statuses("refresh")[200] >= BADGES
    assert len({ack.player for ack in acknowledged}) == BADGES
    assert {ack.game for ack in acknowledged} == {"dino", "maze", "tiles"}
    assert counts["dropped mid-request"] > 0 and counts["answer lost"] > 0 and counts["answered as a replay"] > 0
    assert counts["429: kept queued"] == timings.statuses("score")[429] == BADGES
    assert len(swarm.ledger.unanswered) >= BADGES
