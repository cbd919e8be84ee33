"""Time-window boards and re-adjudication in the store contract, run unchanged against every store."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from arcade.sdk.store import BadCursor, Moderation, StoreError
from tests.stores import MOVES, POINTS, person, submission

pytestmark = pytest.mark.anyio
FOREVER = datetime(9999, 1, 1, tzinfo=UTC)


PUBLISHED = Moderation(
    action="readjudicate", player="", actor="ops", reason="v2", submission_id="points", value="Points under version 2"
)
BAN = Moderation(action="ban", player="ada", actor="ops", reason="v2")


async def window(store, start, end=FOREVER, game=POINTS):
    page = await store.leaderboard_between(game, start, end, 100)
    return page.players, [(entry.rank, entry.player.name, entry.score) for entry in page.entries]


async def a_moment_passes() -> datetime:
    """A time strictly between the scores accepted before and after (the stores stamp microseconds)."""
    await asyncio.sleep(0.002)
    moment = datetime.now(UTC)
    await asyncio.sleep(0.002)
    return moment


async def test_a_window_ranks_each_players_best_of_the_scores_accepted_in_it(store):
    await store.submit_score(POINTS, person("ada"), submission(90, "ada-run-1"))
    await store.submit_score(POINTS, person("bob"), submission(40, "bob-run-1"))
    opened = await a_moment_passes()
    await store.submit_score(POINTS, person("bob"), submission(30, "bob-run-2"))
    await store.submit_score(POINTS, person("cy"), submission(50, "cy-run-1"))
    await store.submit_score(POINTS, person("dee"), submission(50, "dee-run-1"))
    closed = await a_moment_passes()
    await store.submit_score(POINTS, person("eve"), submission(99, "eve-run-1"))

    assert await window(store, opened, closed) == (3, [(1, "cy", 50), (1, "dee", 50), (3, "bob", 30)])
    assert await window(store, closed) == (1, [(1, "eve", 99)])
    assert await window(store, closed, FOREVER, MOVES) == (0, [])
    whole = await store.leaderboard(POINTS, 100)
    assert [entry.player.name for entry in whole.entries] == ["eve", "ada", "cy", "dee", "bob"]


async def test_a_window_already_read_takes_the_scores_that_arrive(store):
    opened = await a_moment_passes()
    await store.submit_score(MOVES, person("ada"), submission(30, "ada-run-1"))
    assert await window(store, opened, game=MOVES) == (1, [(1, "ada", 30)])
    await store.submit_score(MOVES, person("bob"), submission(12, "bob-run-1"))
    await store.submit_score(MOVES, person("ada"), submission(10, "ada-run-2"))
    assert await window(store, opened, game=MOVES) == (2, [(1, "ada", 10), (2, "bob", 12)])


async def test_window_pages_and_around(store):
    opened = await a_moment_passes()
    for number in range(7):
        await store.submit_score(POINTS, person(f"p{number}"), submission(10 * number, f"p{number}-run-1"))
    first = await store.leaderboard_between(POINTS, opened, FOREVER, 3)
    second = await store.leaderboard_between(POINTS, opened, FOREVER, 3, first.next_cursor)
    assert [e.player.name for e in first.entries + second.entries] == ["p6", "p5", "p4", "p3", "p2", "p1"]
    around = await store.around_between(POINTS, opened, FOREVER, person("p3").id, 3)
    assert [(e.rank, e.player.name) for e in around.entries] == [(3, "p4"), (4, "p3"), (5, "p2")]
    nobody = await store.around_between(POINTS, opened, FOREVER, person("nobody").id, 3)
    assert (nobody.players, nobody.entries) == (7, [])
    with pytest.raises(BadCursor):
        await store.leaderboard_between(POINTS, opened, FOREVER, 3, "not-a-cursor")


async def test_a_window_is_the_same_after_a_restart(stores):
    store = await stores.open()
    await store.submit_score(POINTS, person("ada"), submission(90, "ada-run-1"))
    opened = await a_moment_passes()
    await store.submit_score(POINTS, person("bob"), submission(40, "bob-run-1"))
    before = await window(store, opened)
    store = await stores.reopen(store)
    assert await window(store, opened) == before == (1, [(1, "bob", 40)])
    await store.submit_score(POINTS, person("cy"), submission(50, "cy-run-1"))
    assert await window(store, opened) == (2, [(1, "cy", 50), (2, "bob", 40)])


async def test_publishing_an_adjudication_archives_the_old_board_and_ranks_the_new(stores):
    store = await stores.open()
    ada, bob, cy = person("ada"), person("bob"), person("cy")
    await store.submit_score(POINTS, ada, submission(90, "ada-run-1"))
    await store.submit_score(POINTS, ada, submission(60, "ada-run-2"))
    await store.submit_score(POINTS, bob, submission(70, "bob-run-1"))
    await store.submit_score(POINTS, cy, submission(50, "cy-run-1"))
    seqs = {item.submission_id: item.seq async for item in store.export() if hasattr(item, "seq")}
    assert await store.adjudication(POINTS) is None

    # ada's 90 no longer verifies (her 60 does), cy's 50 replays as 75
    with pytest.raises(StoreError, match="must be a readjudicate action, not 'ban'"):
        await store.publish_adjudication(POINTS, "2", max(seqs.values()), {seqs["cy-run-1"]: 75}, audit=BAN)
    assert await store.adjudication(POINTS) is None and await store.audit_log(10) == []  # nothing of it written
    archive = await store.publish_adjudication(
        POINTS, "2", max(seqs.values()), {seqs["ada-run-1"]: None, seqs["cy-run-1"]: 75}, audit=PUBLISHED
    )
    (entry,) = await store.audit_log(10)
    assert (entry.action, entry.actor, entry.reason, entry.submission_id) == ("readjudicate", "ops", "v2", "points")
    assert (entry.before, entry.value) == (f"the old board, archived as board {archive.id}", "Points under version 2")

    page = await store.leaderboard(POINTS, 10)
    assert [(e.rank, e.player.name, e.score, e.verification) for e in page.entries] == [
        (1, "cy", 75, "readjudicated"),
        (2, "bob", 70, "readjudicated"),
        (3, "ada", 60, "readjudicated"),
    ]
    old = await store.archived_board(POINTS, archive.id, 10)
    assert [(e.rank, e.player.name, e.score, e.verification) for e in old.entries] == [
        (1, "ada", 90, "no_longer_verifies"),
        (2, "bob", 70, "verified"),
        (3, "cy", 50, "verified"),
    ]
    found = await store.adjudication(POINTS)
    assert (found.version, found.changes) == ("2", {seqs["ada-run-1"]: None, seqs["cy-run-1"]: 75})
    assert await window(store, datetime(2000, 1, 1, tzinfo=UTC)) == (3, [(1, "cy", 75), (2, "bob", 70), (3, "ada", 60)])
    answer, stored = await store.submit_score(POINTS, ada, submission(90, "ada-run-1"))  # a badge retrying
    assert (stored, answer.score) == (False, 90)

    store = await stores.reopen(store)
    assert [archive.id for archive in await store.archives(POINTS)] == [archive.id]
    assert await store.audit_log(10) == [entry]
    again = await store.archived_board(POINTS, archive.id, 2)
    rest = await store.archived_board(POINTS, archive.id, 2, again.next_cursor)
    assert [e.player.name for e in again.entries + rest.entries] == ["ada", "bob", "cy"]
    assert [e.player.name for e in (await store.leaderboard(POINTS, 10)).entries] == ["cy", "bob", "ada"]
    assert await store.archived_board(POINTS, archive.id + 100, 2) is None
    later = await a_moment_passes()
    await store.submit_score(POINTS, bob, submission(80, "bob-run-2"))
    page = await store.leaderboard(POINTS, 10)
    assert [(e.player.name, e.score, e.verification) for e in page.entries][0] == ("bob", 80, "verified")
    assert (await window(store, later))[1] == [(1, "bob", 80)]
    assert timedelta(0) <= datetime.now(UTC) - archive.at < timedelta(minutes=5)


async def test_a_reader_sees_the_old_board_or_the_new_never_half(store):
    for number in range(60):
        await store.submit_score(POINTS, person(f"p{number:02d}"), submission(number, f"p{number:02d}-run-1"))
    seqs = [item.seq async for item in store.export() if hasattr(item, "seq")]
    old = await store.leaderboard(POINTS, 100)
    changes = {seq: (None if index % 3 == 0 else 100 + index) for index, seq in enumerate(seqs)}
    publishing = asyncio.ensure_future(store.publish_adjudication(POINTS, "2", max(seqs), changes))
    seen = []
    while not publishing.done():
        seen.append(await store.leaderboard(POINTS, 100))
        await asyncio.sleep(0)  # a read that never waits (the TinyDB store's) lets the publish go on
    await publishing
    assert seen  # the board was read while the re-adjudication was under way
    new = await store.leaderboard(POINTS, 100)
    assert new.players == 40 and old.players == 60
    shapes = {(page.players, tuple(entry.score for entry in page.entries)) for page in seen}
    assert shapes <= {(page.players, tuple(entry.score for entry in page.entries)) for page in (old, new)}


async def test_moderation_reaches_every_window_board(stores):
    """A hidden score, a banned player and a deleted one leave the windows' boards as they leave the
    whole event's, and come back to them when undone, across a restart."""
    store = await stores.open()
    opened = await a_moment_passes()
    for name, score in {"ada": 90, "bob": 80, "cy": 70, "dee": 60}.items():
        await store.submit_score(POINTS, person(name), submission(score, f"{name}-run-1"))
    await store.submit_score(POINTS, person("ada"), submission(50, "ada-run-2"))
    assert await window(store, opened) == (4, [(1, "ada", 90), (2, "bob", 80), (3, "cy", 70), (4, "dee", 60)])

    def change(action, name, **fields):
        return Moderation(action=action, player=person(name).id, actor="organiser", reason="test", **fields)

    await store.moderate(change("hide", "ada", submission_id="ada-run-1"), [POINTS, MOVES])
    await store.moderate(change("ban", "bob"), [POINTS, MOVES])
    await store.delete_player(person("cy").id)
    assert await window(store, opened) == (2, [(1, "dee", 60), (2, "ada", 50)])
    around = await store.around_between(POINTS, opened, FOREVER, person("bob").id, 3)
    assert around.entries == []
    store = await stores.reopen(store)
    assert await window(store, opened) == (2, [(1, "dee", 60), (2, "ada", 50)])
    await store.moderate(change("unhide", "ada", submission_id="ada-run-1"), [POINTS, MOVES])
    await store.moderate(change("unban", "bob"), [POINTS, MOVES])
    assert await window(store, opened) == (3, [(1, "ada", 90), (2, "bob", 80), (3, "dee", 60)])
