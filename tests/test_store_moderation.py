"""Moderation, refused runs and a player's deletion: the store contract, run against every store."""

import shutil
from datetime import UTC, datetime

import pytest
from arcade.plugins.store_tinydb.ledger import Ledger

from arcade.sdk.models import neutral_name
from arcade.sdk.store import (
    REFUSED_PER_PLAYER,
    Moderation,
    NotStored,
    PlayerBanned,
    RefusedRun,
    StoreError,
    StoreUnavailable,
)
from tests.stores import MOVES, POINTS, Stores, board, person, submission

pytestmark = pytest.mark.anyio
GAMES = [POINTS, MOVES]


def change(action: str, name: str, reason: str = "seen on the big screen", **fields) -> Moderation:
    return Moderation(action=action, player=person(name).id, actor="organiser", reason=reason, **fields)


async def seed(store):
    for name, runs in {"ada": [50, 90], "bob": [80], "cy": [70]}.items():
        for number, score in enumerate(runs):
            await store.submit_score(POINTS, person(name), submission(score, f"{name}-run-{number}"))


async def test_a_hidden_score_leaves_the_board_and_the_next_best_counts_until_unhidden(stores):
    store = await stores.open()
    await seed(store)
    await store.moderate(change("hide", "ada", submission_id="ada-run-1"), GAMES)
    assert await board(store) == [(1, "bob", 80), (2, "cy", 70), (3, "ada", 50)]
    (best,) = await store.player_bests(person("ada").id, GAMES)
    assert (best.score, best.rank) == (50, 3)
    store = await stores.reopen(store)
    assert await board(store) == [(1, "bob", 80), (2, "cy", 70), (3, "ada", 50)]
    hidden = {score.submission_id: score.hidden for score in await store.scores_of(person("ada").id, 10)}
    assert hidden == {"ada-run-0": False, "ada-run-1": True}
    await store.moderate(change("unhide", "ada", submission_id="ada-run-1"), GAMES)
    assert await board(store) == [(1, "ada", 90), (2, "bob", 80), (3, "cy", 70)]


async def test_hiding_a_players_only_score_takes_them_off_the_board(store):
    await seed(store)
    await store.moderate(change("hide", "bob", submission_id="bob-run-0"), GAMES)
    page = await store.leaderboard(POINTS, 10)
    assert (page.players, [entry.player.name for entry in page.entries]) == (2, ["ada", "cy"])
    assert (await store.around(POINTS, person("bob").id, 3)).entries == []


async def test_a_banned_player_is_on_no_board_and_cannot_submit_until_unbanned(stores):
    store = await stores.open()
    await seed(store)
    await store.moderate(change("ban", "ada", reason="shared their badge with a bot"), GAMES)
    assert await board(store) == [(1, "bob", 80), (2, "cy", 70)]
    assert (await store.around(POINTS, person("ada").id, 3)).entries == []
    assert await store.player_bests(person("ada").id, GAMES) == []
    with pytest.raises(PlayerBanned, match="shared their badge with a bot"):
        await store.submit_score(POINTS, person("ada"), submission(99, "ada-run-9"))
    store = await stores.reopen(store)
    assert (await store.player(person("ada").id)).banned == "shared their badge with a bot"
    assert await board(store) == [(1, "bob", 80), (2, "cy", 70)]
    await store.moderate(change("unban", "ada"), GAMES)
    assert await board(store) == [(1, "ada", 90), (2, "bob", 80), (3, "cy", 70)]
    answer, stored = await store.submit_score(POINTS, person("ada"), submission(99, "ada-run-9"))
    assert (stored, answer.rank) == (True, 1)


async def test_a_reset_name_stays_against_the_providers_and_can_be_given_back(stores):
    store = await stores.open()
    await seed(store)
    ada = person("ada")
    entry = await store.moderate(change("rename", "ada", value=neutral_name(ada.id)), GAMES)
    assert entry.before == "ada"
    await store.submit_score(POINTS, ada, submission(10, "ada-run-5"))  # the provider still says "ada"
    store = await stores.reopen(store)
    assert (await board(store))[0] == (1, neutral_name(ada.id), 90)
    await store.moderate(change("rename", "ada", reason="appeal granted", value=entry.before), GAMES)
    assert (await board(store))[0] == (1, "ada", 90)


async def test_a_reset_picture_is_the_generated_avatar_whatever_the_provider_sends(store):
    ada = person("ada")
    ada.picture = "https://pictures.test/ada.png"
    await store.submit_score(POINTS, ada, submission(10, "ada-run-1"))
    entry = await store.moderate(change("picture", "ada"), GAMES)
    await store.submit_score(POINTS, ada, submission(20, "ada-run-2"))
    assert entry.before == "https://pictures.test/ada.png"
    assert (await store.leaderboard(POINTS, 1)).entries[0].player.picture is None


async def test_every_action_is_in_the_audit_log_newest_first_across_a_restart(stores):
    store = await stores.open()
    await seed(store)
    await store.moderate(change("hide", "ada", submission_id="ada-run-1", reason="impossible jump"), GAMES)
    await store.moderate(change("ban", "bob", reason="bot"), GAMES)
    store = await stores.reopen(store)
    await store.moderate(change("unban", "bob", reason="appeal"), GAMES)
    log = await store.audit_log(10)
    assert [(e.action, e.reason) for e in log] == [("unban", "appeal"), ("ban", "bot"), ("hide", "impossible jump")]
    assert log[2].game == "points" and log[2].actor == "organiser" and log[0].seq > log[1].seq > log[2].seq
    assert [e.action for e in await store.audit_log(5, before=log[0].seq)] == ["ban", "hide"]


async def test_an_action_about_the_event_is_only_written_to_the_audit_log_and_kept(stores):
    store = await stores.open()
    await seed(store)
    window = Moderation(
        action="add-window",
        player="",
        actor="organiser",
        reason="",
        submission_id="keynote",
        value="Keynote, 10:00 to 11:00",
        before=None,
    )
    entry = await store.moderate(window, GAMES)
    store = await stores.reopen(store)
    assert await store.audit_log(10) == [entry]
    assert (entry.action, entry.player, entry.submission_id, entry.value) == ("add-window", "", "keynote", window.value)
    assert await board(store) == [(1, "ada", 90), (2, "bob", 80), (3, "cy", 70)]


async def test_a_record_an_admin_changes_and_its_audit_entry_are_written_together_or_not_at_all(stores, tmp_path):
    """An admin's session (a record) and its audit entry are one durable step: a record changed by
    someone else first writes neither, and a failed write leaves neither (was: the record, then the entry)."""
    store = await stores.open()
    added = Moderation(action="add-window", player="", actor="organiser", reason="", submission_id="keynote")
    record = await store.put_record("event-windows", "sessions", {"sessions": ["keynote"]}, version=0, audit=added)
    assert await store.put_record("event-windows", "sessions", {"sessions": []}, version=0, audit=added) is None
    with pytest.raises(StoreError, match="event action"):
        await store.put_record("event-windows", "sessions", {}, version=record.version, audit=change("ban", "ada"))
    store = await stores.reopen(store)
    assert (await store.get_record("event-windows", "sessions")).value == {"sessions": ["keynote"]}
    assert [(entry.action, entry.submission_id) for entry in await store.audit_log(10)] == [("add-window", "keynote")]
    if stores.name == "tinydb":  # a write that fails like a full disk, on a new folder
        failing = Stores("tinydb", tmp_path / "full")
        store = await failing.open()
        blocker = tmp_path / "full" / "arcade.json.journal.000001"
        blocker.mkdir()
        with pytest.raises(StoreUnavailable):
            await store.put_record("event-windows", "sessions", {"sessions": []}, version=0, audit=added)
        blocker.rmdir()
        store = await failing.reopen(store)
        written = await store.get_record("event-windows", "sessions")
        assert (written is None) == (await store.audit_log(10) == [])
        await store.close()


async def test_moderating_what_is_not_stored_is_refused(store):
    await seed(store)
    with pytest.raises(NotStored):
        await store.moderate(change("ban", "nobody"), GAMES)
    with pytest.raises(NotStored):
        await store.moderate(change("hide", "ada", submission_id="no-such-run"), GAMES)
    assert await store.audit_log(10) == []


async def test_a_deleted_player_is_gone_from_every_board_and_their_scores_can_be_sent_anew(stores):
    store = await stores.open()
    await seed(store)
    await store.moderate(change("rename", "ada", value="Ada L."), GAMES)
    assert await store.delete_player(person("ada").id) is True
    assert await board(store) == [(1, "bob", 80), (2, "cy", 70)]
    assert await store.player(person("ada").id) is None
    assert await store.scores_of(person("ada").id, 10) == []
    (entry,) = await store.audit_log(10)
    assert (entry.action, entry.before, entry.value) == ("rename", None, None)
    store = await stores.reopen(store)
    assert await board(store) == [(1, "bob", 80), (2, "cy", 70)]
    exported = [item async for item in store.export()]
    theirs = [item for item in exported if person("ada").id in (getattr(item, "player", None), getattr(item, "id", 0))]
    assert theirs == [entry]
    answer, stored = await store.submit_score(POINTS, person("ada"), submission(20, "ada-run-0"))
    assert (stored, answer.score) == (True, 20)
    assert await store.delete_player("nobody") is False


async def test_refused_runs_are_kept_newest_first_and_bounded_per_player(stores):
    store = await stores.open()
    for number in range(REFUSED_PER_PLAYER + 3):
        await store.keep_refused_run(refused("ada", number))
    await store.keep_refused_run(refused("bob", 99))
    store = await stores.reopen(store)
    kept = await store.refused_runs(100)
    assert kept[0].claimed == 99 and kept[0].player == person("bob").id
    theirs = [run.claimed for run in kept if run.player == person("ada").id]
    assert theirs == list(range(REFUSED_PER_PLAYER + 2, 2, -1))
    assert kept[1].inputs == [(0, 1), (5, 0)] and kept[1].replayed == 3


def refused(name: str, claimed: int) -> RefusedRun:
    return RefusedRun(
        game="points",
        player=person(name).id,
        name=name,
        submission_id=f"{name}-refused-{claimed}",
        claimed=claimed,
        replayed=3,
        reason="the replay scored 3",
        at=datetime.now(UTC),
        ticks=9,
        inputs=[(0, 1), (5, 0)],
        seed=1,
    )


# -- the TinyDB store's files ---------------------------------------------------------------------


async def test_tinydb_a_crash_keeps_every_acknowledged_moderation(tmp_path):
    store = await Stores("tinydb", tmp_path).open()
    await seed(store)
    await store.moderate(change("hide", "ada", submission_id="ada-run-1"), GAMES)
    await store.moderate(change("ban", "bob", reason="bot"), GAMES)
    crashed = tmp_path / "after-crash"  # as a power cut leaves the folder: the journal, no fold
    crashed.mkdir()
    for path in tmp_path.glob("arcade*"):
        shutil.copy(path, crashed / path.name)
    survivor = await Stores("tinydb", crashed).open()
    assert await board(survivor) == [(1, "cy", 70), (2, "ada", 50)]
    assert [entry.action for entry in await survivor.audit_log(10)] == ["ban", "hide"]
    await survivor.close()
    await store.close()


async def test_tinydb_a_deleted_players_runs_leave_every_file_when_the_delete_answers(tmp_path):
    stores = Stores("tinydb", tmp_path)
    store = await stores.open()
    await store.submit_score(POINTS, person("ada"), submission(40, "ada-secret-1"))
    await store.submit_score(POINTS, person("bob"), submission(30, "bob-run-1"))
    store = await stores.reopen(store)  # ada's first run is in the ledger now
    await store.submit_score(POINTS, person("ada"), submission(50, "ada-secret-2"))  # in the journal
    await store.keep_refused_run(refused("ada", 7))
    assert await store.delete_player(person("ada").id)
    files = {path.name: path.read_bytes() for path in tmp_path.iterdir() if path.is_file()}
    assert [name for name, content in files.items() if b"ada-secret" in content or b"ada-refused" in content] == []
    store = await stores.reopen(store)
    assert await board(store) == [(1, "bob", 30)]
    answer, stored = await store.submit_score(POINTS, person("ada"), submission(10, "ada-secret-1"))
    assert (stored, answer.rank) == (True, 2)
    await store.close()


async def test_tinydb_an_erase_cut_short_is_finished_by_the_next_start(tmp_path, monkeypatch):
    stores = Stores("tinydb", tmp_path)
    store = await stores.open()
    await store.submit_score(POINTS, person("ada"), submission(40, "ada-secret-1"))
    store = await stores.reopen(store)
    monkeypatch.setattr(Ledger, "erase", lambda self, players: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(StoreUnavailable, match="next fold erases them"):
        await store.delete_player(person("ada").id)
    assert await board(store) == []
    monkeypatch.undo()
    stores.opened.remove(store)  # as after kill -9: never closed
    store._unlock()
    survivor = await stores.open()
    assert await board(survivor) == [] and await survivor.player(person("ada").id) is None
    assert not [path for path in tmp_path.iterdir() if path.is_file() and b"ada-secret" in path.read_bytes()]
    await survivor.close()
