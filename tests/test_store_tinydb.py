"""What only the TinyDB store promises: crash-safe files, corrupt files refused, one process."""

import json
import shutil
import signal

import httpx
import msgspec
import pytest
from tinydb import TinyDB

from arcade.sdk.models import Run, ScoreSubmission
from arcade.sdk.store import Moderation, StoreError, StoreUnavailable
from tests.conftest import run_arcade
from tests.stores import POINTS, Stores, board, person, submission

pytestmark = pytest.mark.anyio


@pytest.fixture
async def stores(tmp_path):
    stores = Stores("tinydb", tmp_path)
    yield stores
    for store in stores.opened:
        await store.close()


async def test_the_file_is_a_tinydb_database_that_stock_tinydb_reads(stores, tmp_path):
    store = await stores.open()
    await store.submit_score(POINTS, person("ada"), submission(40, "ada-run-1"))
    await store.close()  # folds the journal into the file
    stores.opened.remove(store)
    assert [path.name for path in tmp_path.iterdir() if ".journal." in path.name] == []
    with TinyDB(tmp_path / "arcade.json") as database:
        (player,) = database.table("players").all()
        (best,) = database.table("bests").all()
    with TinyDB(tmp_path / "arcade.scores.json") as ledger:  # every score with its run, appended in place
        (score,) = ledger.table("scores").all()
    assert (score["game"], score["score"], score["submission_id"]) == ("points", 40, "ada-run-1")
    assert score["run"] == {"seed": 1, "inputs": [[0, 1], [5, 0]], "ticks": 9}
    assert player["name"] == "ada"
    assert (best["game"], best["player"], best["score"]) == ("points", player["id"], 40)
    assert [path.name for path in tmp_path.iterdir() if path.name.endswith(".tmp")] == []


async def test_a_corrupt_file_is_refused_and_left_in_place(stores, tmp_path):
    path = tmp_path / "arcade.json"
    path.write_bytes(b'{"scores": {"1": {"game": "points", "sco')
    with pytest.raises(StoreError) as refused:
        await stores.open()
    message = str(refused.value)
    assert str(path) in message and "corrupt" in message and "left untouched" in message
    assert path.read_bytes() == b'{"scores": {"1": {"game": "points", "sco'


def test_serve_refuses_a_corrupt_database_with_a_clear_message(tmp_path):
    (tmp_path / "arcade-data").mkdir()
    (tmp_path / "arcade-data" / "arcade.json").write_text("[1, 2")
    result = run_arcade("serve", "--port", "0", cwd=tmp_path)
    assert result.returncode == 2
    assert "is corrupt" in result.stderr and "restore it from a backup" in result.stderr
    assert (tmp_path / "arcade-data" / "arcade.json").read_text() == "[1, 2"


async def test_a_failed_write_is_not_acknowledged_and_the_retry_stores_it_once(stores, tmp_path):
    store = await stores.open()
    blocker = tmp_path / "arcade.json.journal.000001"
    blocker.mkdir()  # the journal cannot be appended to: the write fails like a full disk
    with pytest.raises(StoreUnavailable, match="retry with the same request"):
        await store.submit_score(POINTS, person("ada"), submission(40, "ada-run-1"))
    blocker.rmdir()
    answer, _ = await store.submit_score(POINTS, person("ada"), submission(40, "ada-run-1"))
    assert answer.rank == 1
    reopened = await stores.reopen(store)
    assert await board(reopened) == [(1, "ada", 40)]
    with TinyDB(tmp_path / "arcade.scores.json") as ledger:
        assert len(ledger.table("scores")) == 1


async def test_a_crash_loses_no_acknowledged_change_and_a_torn_last_line_is_cut(stores, tmp_path):
    store = await stores.open()
    for index in range(3):
        await store.submit_score(POINTS, person(f"p{index}"), submission(index, f"p{index}-run"))
    crashed = tmp_path / "after-crash"  # the data folder as a power cut would leave it: no fold
    crashed.mkdir()
    for path in tmp_path.glob("arcade.json*"):
        shutil.copy(path, crashed / path.name)
    (journal,) = crashed.glob("arcade.json.journal.*")
    with journal.open("ab") as torn:
        torn.write(b'["scores", ["p9", "p9-run"], {"game": "poi')  # a batch whose fsync never returned
    survivor = await Stores("tinydb", crashed).open()
    assert await board(survivor) == [(1, "p2", 2), (2, "p1", 1), (3, "p0", 0)]
    await survivor.close()


async def test_a_damaged_journal_is_refused_and_left_in_place(stores, tmp_path):
    store = await stores.open()
    await store.submit_score(POINTS, person("ada"), submission(40, "ada-run-1"))
    await store.submit_score(POINTS, person("bob"), submission(50, "bob-run-1"))
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (journal,) = tmp_path.glob("arcade.json.journal.*")
    lines = journal.read_bytes().split(b"\n")
    (damaged / journal.name).write_bytes(b"\n".join([b"{not json", *lines[1:]]))
    with pytest.raises(StoreError, match="journal .* is damaged .* left untouched"):
        await Stores("tinydb", damaged).open()
    assert (damaged / journal.name).read_bytes().startswith(b"{not json")


def test_a_killed_server_keeps_every_acknowledged_score(server):
    answers = [
        server.post_score(server.token(name), 10 + index, f"{name}-run-0001") for index, name in enumerate("abc")
    ]
    assert [answer.status_code for answer in answers] == [201, 201, 201]
    server.stop(signal.SIGKILL)  # no shutdown: the journal is all there is
    server.start()
    board = httpx.get(f"{server.url}/api/v1/games/balloon/leaderboard").json()
    assert [(entry["player"]["name"], entry["score"]) for entry in board["entries"]] == [
        ("c", 12),
        ("b", 11),
        ("a", 10),
    ]


def test_a_kill_after_a_clean_restart_keeps_what_was_acknowledged_since(server):
    """A clean stop folds the journal away; what is acknowledged after the restart must not be
    written where the next start-up believes the file already holds it."""
    assert server.post_score(server.token("ann"), 5, "ann-run-0001").status_code == 201
    server.restart()
    assert server.post_score(server.token("bob"), 7, "bob-run-0001").status_code == 201
    server.stop(signal.SIGKILL)
    server.start()
    board = httpx.get(f"{server.url}/api/v1/games/balloon/leaderboard").json()
    assert [(entry["player"]["name"], entry["score"]) for entry in board["entries"]] == [("bob", 7), ("ann", 5)]


async def test_records_written_after_a_reopen_survive_a_crash(stores, tmp_path):
    store = await stores.open()
    await store.put_record("login", "a", {"revoked": False}, version=0)
    store = await stores.reopen(store)  # closed cleanly: folded, no journal left
    current = await store.get_record("login", "a")
    await store.put_record("login", "a", {"revoked": True}, version=current.version)
    crashed = tmp_path / "after-crash"  # the data folder as a power cut would leave it: no fold
    crashed.mkdir()
    for path in tmp_path.glob("arcade.json*"):
        shutil.copy(path, crashed / path.name)
    survivor = await Stores("tinydb", crashed).open()
    assert (await survivor.get_record("login", "a")).value == {"revoked": True}
    await survivor.close()


async def test_a_second_process_on_the_same_data_is_refused_saying_what_to_do(stores):
    await stores.open()
    with pytest.raises(StoreError, match="stop the other process") as refused:
        await stores.open()
    assert "already open in another process" in str(refused.value)
    assert "postgres" not in str(refused.value).lower()  # promises no store that is not there


def test_serve_with_several_workers_says_one_process_and_names_the_store_several_need(tmp_path):
    result = run_arcade("serve", "--workers", "2", cwd=tmp_path)
    assert result.returncode == 2
    assert "serves one process only" in result.stderr and "--workers 1" in result.stderr
    assert 'keep the arcade in PostgreSQL, which several processes share: [store] plugin = "postgres"' in result.stderr


async def test_concurrent_submissions_share_durable_writes(stores, tmp_path):
    import asyncio

    store = await stores.open()
    answers = await asyncio.gather(
        *(store.submit_score(POINTS, person(f"p{index}"), submission(index, f"p{index}-run")) for index in range(200))
    )
    assert sorted(answer.rank for answer, _ in answers)[:1] == [1]
    await store.close()
    stores.opened.remove(store)
    data = json.loads((tmp_path / "arcade.scores.json").read_text())
    assert len(data["scores"]) == 200


async def test_a_crash_midway_through_moving_an_issuer_is_finished_by_moving_again(stores, tmp_path):
    old, new = "http://127.0.0.1:8000", "urn:stable"
    store = await stores.open()
    for index, issuer in enumerate([old, new, old]):
        await store.submit_score(POINTS, person("ada", issuer), submission(10 + index, f"ada-run-{index}"))
    await store.submit_score(POINTS, person("bob", old), submission(5, "bob-run-1"))
    (journal,) = tmp_path.glob("arcade.json.journal.*")
    before_move = len(journal.read_bytes().splitlines())
    await store.move_issuer(old, new)
    lines = journal.read_bytes().splitlines(keepends=True)
    for cut in range(before_move, len(lines)):  # every prefix of the move a power cut can leave
        crashed = tmp_path / f"crash-{cut}"
        crashed.mkdir()
        (crashed / journal.name).write_bytes(b"".join(lines[:cut]))
        survivor = await Stores("tinydb", crashed).open()
        await board(survivor)  # readable as it is
        await survivor.move_issuer(old, new)
        assert await board(survivor) == [(1, "ada", 12), (2, "bob", 5)], cut
        assert sorted(await survivor.issuers()) == [new]
        await survivor.close()


async def test_stored_runs_are_kept_on_disk_and_memory_does_not_follow_their_size(tmp_path):
    """Runs are evidence, read back only for a retried submission: the same scores with runs a
    thousand times longer take the same memory once the store is opened again."""
    import tracemalloc

    async def opened_with(folder, run):
        stores = Stores("tinydb", folder)
        store = await stores.open()
        for index in range(160):
            submission = ScoreSubmission(score=index, run=run, submission_id=f"r{index}")
            await store.submit_score(POINTS, person(f"p{index % 30}"), submission)
        await store.close()
        tracemalloc.start()
        try:
            store = await stores.open()
            return store, tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()

    long_run = Run(seed=7, inputs=[(tick, tick % 4) for tick in range(20_000)], ticks=20_000)
    short_run = Run(seed=7, inputs=[(0, 1)], ticks=20)
    short, held_short = await opened_with(tmp_path / "short", short_run)
    long, held_long = await opened_with(tmp_path / "long", long_run)
    weight = 160 * len(msgspec.json.encode(long_run))
    assert weight > 28 * 2**20
    assert held_long - held_short < 2**20  # not 28 MiB
    again, stored = await long.submit_score(
        POINTS, person("p3"), ScoreSubmission(score=3, run=long_run, submission_id="r3")
    )
    assert (stored, again.score) == (False, 3)  # answered from the ledger on disk
    assert (tmp_path / "long" / "arcade.scores.json").stat().st_size > weight
    await short.close()
    await long.close()


def copy_as_a_power_cut_leaves_it(folder, into):
    """The data folder's files as they are now, with no shutdown: what a crash leaves."""
    into.mkdir()
    for path in folder.glob("arcade*"):
        shutil.copy(path, into / path.name)
    return into


async def test_a_crash_between_the_ledger_and_the_main_file_stores_nothing_twice(stores, tmp_path, monkeypatch):
    from arcade.plugins.store_tinydb import store as store_module

    store = await stores.open()
    for index in range(5):
        await store.submit_score(POINTS, person(f"p{index}"), submission(index, f"p{index}-run"))

    def disk_full(path, payload):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store_module, "write_atomically", disk_full)
    await store._fold(store._journal.rotate())  # the ledger and its index are written, the main file is not
    crashed = copy_as_a_power_cut_leaves_it(tmp_path, tmp_path / "crashed")
    monkeypatch.undo()
    survivor = await Stores("tinydb", crashed).open()
    assert await board(survivor) == [(1, "p4", 4), (2, "p3", 3), (3, "p2", 2), (4, "p1", 1), (5, "p0", 0)]
    _, stored = await survivor.submit_score(POINTS, person("p2"), submission(2, "p2-run"))
    assert not stored
    await survivor.close()
    with TinyDB(crashed / "arcade.scores.json") as ledger:
        assert sorted(doc["submission_id"] for doc in ledger.table("scores").all()) == [f"p{i}-run" for i in range(5)]


async def test_a_ledger_append_a_crash_cut_short_is_cut_off_and_its_scores_come_from_the_journal(stores, tmp_path):
    store = await stores.open()
    await store.submit_score(POINTS, person("ada"), submission(40, "ada-run-1"))
    store = await stores.reopen(store)  # ada is in the ledger now
    await store.submit_score(POINTS, person("bob"), submission(50, "bob-run-1"))
    crashed = copy_as_a_power_cut_leaves_it(tmp_path, tmp_path / "crashed")
    ledger = crashed / "arcade.scores.json"
    ledger.write_bytes(ledger.read_bytes()[: -len(b"\n}}\n")] + b',\n"2": {"game": "poi')  # the torn append
    survivor = await Stores("tinydb", crashed).open()
    assert await board(survivor) == [(1, "bob", 50), (2, "ada", 40)]
    await survivor.close()
    with TinyDB(ledger) as database:  # whole again, and each score once
        assert sorted(doc["submission_id"] for doc in database.table("scores").all()) == ["ada-run-1", "bob-run-1"]


async def test_a_lost_index_is_built_again_from_the_ledger(stores, tmp_path):
    store = await stores.open()
    first, _ = await store.submit_score(POINTS, person("ada"), submission(40, "ada-run-1"))
    await store.submit_score(POINTS, person("bob"), submission(50, "bob-run-1"))
    await store.close()
    stores.opened.remove(store)
    (tmp_path / "arcade.scores.json.index").unlink()
    store = await stores.open()
    again, stored = await store.submit_score(POINTS, person("ada"), submission(40, "ada-run-1"))
    assert (again, stored) == (first, False)
    assert (tmp_path / "arcade.scores.json.index").exists()


async def test_a_file_from_before_the_ledger_is_adopted_with_its_scores_and_bests(stores, tmp_path):
    """The first version kept every score in the main file, and no table of bests."""
    ada, bob = person("ada"), person("bob")
    scores = [(ada, 40, True, 1), (bob, 70, True, 2), (ada, 10, False, 3), (ada, 90, True, 4)]
    old = {
        "players": {str(n): msgspec.to_builtins(p) for n, p in enumerate([ada, bob], 1)},
        "scores": {
            str(seq): {
                "game": "points", "player": p.id, "score": score, "submission_id": f"{p.name}-{seq}",
                "run": {"seed": 1, "inputs": [], "ticks": 1}, "at": f"2026-06-0{seq}T10:00:00+00:00",
                "seq": seq, "best": score, "rank": 1, "new_best": new_best,
            }
            for p, score, new_best, seq in scores
        },
        "journal": {"1": {"folded_through": 0}},
    }  # fmt: skip
    (tmp_path / "arcade.json").write_text(json.dumps(old))
    store = await stores.open()
    assert await board(store) == [(1, "ada", 90), (2, "bob", 70)]
    answer, stored = await store.submit_score(POINTS, ada, submission(10, "ada-3"))
    assert (stored, answer.at.day) == (False, 3)
    store = await stores.reopen(store)
    assert await board(store) == [(1, "ada", 90), (2, "bob", 70)]
    await store.close()
    stores.opened.remove(store)
    assert "scores" not in json.loads((tmp_path / "arcade.json").read_text())
    assert len(json.loads((tmp_path / "arcade.scores.json").read_text())["scores"]) == 4


def after_a_power_cut(folder, torn: bool) -> Stores:
    """The data folder as a power cut would leave it (no fold), the last journal line, which holds
    a change and its audit entry, cut in half when ``torn``."""
    crashed = folder / "after-crash"
    shutil.copytree(folder, crashed, ignore=shutil.ignore_patterns("after-crash", ".*lock"))
    (journal,) = crashed.glob("arcade.json.journal.*")
    lines = journal.read_bytes().split(b"\n")
    assert lines[-2].startswith(b'["together"') and b'"audit"' in lines[-2], lines[-2]
    if torn:  # the power went while the line was being written
        journal.write_bytes(b"".join(line + b"\n" for line in lines[:-2]) + lines[-2][: len(lines[-2]) // 2])
    return Stores("tinydb", crashed)


@pytest.mark.parametrize("torn", [False, True])
async def test_a_crash_tearing_an_admins_record_change_keeps_neither_it_nor_its_audit_entry(stores, tmp_path, torn):
    """A record and its audit entry are one journal line (they were two: a torn append could keep the
    change and lose the entry that says who made it)."""
    store = await stores.open()
    added = Moderation(action="add-window", player="", actor="ops", reason="", submission_id="keynote")
    await store.put_record("event-windows", "sessions", {"sessions": ["keynote"]}, version=0, audit=added)
    survivor = await after_a_power_cut(tmp_path, torn).open()
    record = await survivor.get_record("event-windows", "sessions")
    entries = await survivor.audit_log(10)
    assert (record is None, entries == []) == (torn, torn)
    await survivor.close()


@pytest.mark.parametrize("action", ["hide", "ban"])
@pytest.mark.parametrize("torn", [False, True])
async def test_a_crash_tearing_a_moderation_keeps_neither_it_nor_its_audit_entry(stores, tmp_path, torn, action):
    store = await stores.open()
    await store.submit_score(POINTS, person("ada"), submission(90, "ada-run-1"))
    await store.submit_score(POINTS, person("ada"), submission(40, "ada-run-2"))
    await store.submit_score(POINTS, person("bob"), submission(60, "bob-run-1"))
    change = Moderation(action=action, player=person("ada").id, actor="ops", reason="a bot", submission_id="ada-run-1")
    await store.moderate(change, [POINTS])
    survivor = await after_a_power_cut(tmp_path, torn).open()
    moderated = [(1, "bob", 60)] if action == "ban" else [(1, "bob", 60), (2, "ada", 40)]
    assert await board(survivor) == ([(1, "ada", 90), (2, "bob", 60)] if torn else moderated)
    assert [entry.action for entry in await survivor.audit_log(10)] == ([] if torn else [action])
    await survivor.close()


# -- re-adjudication ---------------------------------------------------------------------------


@pytest.mark.parametrize("torn", [False, True])
async def test_a_crash_after_a_re_adjudication_leaves_the_old_board_or_the_new_never_half(stores, tmp_path, torn):
    store = await stores.open()
    for index in range(4):
        await store.submit_score(POINTS, person(f"p{index}"), submission(10 + index, f"p{index}-run"))
    seqs = [item.seq async for item in store.export() if hasattr(item, "seq")]
    published = Moderation(action="readjudicate", player="", actor="ops", reason="v2", submission_id=POINTS.id)
    await store.publish_adjudication(POINTS, "2", max(seqs), {seqs[0]: 99, seqs[3]: None}, audit=published)
    survivor = await after_a_power_cut(tmp_path, torn).open()
    if torn:
        assert await board(survivor) == [(1, "p3", 13), (2, "p2", 12), (3, "p1", 11), (4, "p0", 10)]
        assert await survivor.adjudication(POINTS) is None
        assert await survivor.audit_log(10) == []  # and no entry says it was published
    else:
        assert await board(survivor) == [(1, "p0", 99), (2, "p2", 12), (3, "p1", 11)]
        assert [entry.action for entry in await survivor.audit_log(10)] == ["readjudicate"]
    await survivor.close()
