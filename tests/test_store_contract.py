"""The store contract, run unchanged against every store plugin (found through `arcade_store`)."""

import asyncio

import pytest

from arcade.sdk.store import BadCursor, SubmissionConflict
from tests.stores import MOVES, POINTS, board, person, submission

pytestmark = pytest.mark.anyio


async def test_competition_ranking_with_ties_ordered_by_who_got_there_first(store):
    for name, score in [("ada", 50), ("bob", 80), ("cy", 80), ("dee", 20), ("eve", 80)]:
        await store.submit_score(POINTS, person(name), submission(score, f"{name}-run-1"))
    assert await board(store) == [(1, "bob", 80), (1, "cy", 80), (1, "eve", 80), (4, "ada", 50), (5, "dee", 20)]


async def test_one_two_two_four(store):
    for name, score in [("a", 9), ("b", 7), ("c", 7), ("d", 5)]:
        await store.submit_score(POINTS, person(name), submission(score, f"{name}-run-1"))
    assert [rank for rank, _, _ in await board(store)] == [1, 2, 2, 4]


async def test_lower_is_better_games_rank_the_smallest_first(store):
    for name, moves in [("ada", 30), ("bob", 12), ("cy", 30)]:
        await store.submit_score(MOVES, person(name), submission(moves, f"{name}-run-1"))
    assert await board(store, MOVES) == [(1, "bob", 12), (2, "ada", 30), (2, "cy", 30)]


async def test_only_a_players_best_counts_and_the_answer_says_so(store):
    ada = person("ada")
    first, _ = await store.submit_score(POINTS, ada, submission(40, "ada-run-1"))
    worse, _ = await store.submit_score(POINTS, ada, submission(10, "ada-run-2"))
    better, _ = await store.submit_score(POINTS, ada, submission(90, "ada-run-3"))
    assert (first.best, first.new_best) == (40, True)
    assert (worse.score, worse.best, worse.new_best, worse.rank) == (10, 40, False, 1)
    assert (better.best, better.new_best) == (90, True)
    assert await board(store) == [(1, "ada", 90)]


async def test_ranks_stay_exact_while_many_players_raise_their_bests_at_once(store):
    """Each rank is one plus the players with a better best, after bests rose and tied concurrently."""
    sent = {f"p{index}": [(index * 7 + run * 5) % 13 for run in range(4)] for index in range(40)}
    await asyncio.gather(
        *(
            store.submit_score(POINTS, person(name), submission(score, f"{name}-run-{run}"))
            for name, scores in sent.items()
            for run, score in enumerate(scores)
        )
    )
    best = {name: max(scores) for name, scores in sent.items()}
    expected = {name: 1 + sum(other > score for other in best.values()) for name, score in best.items()}
    page = await store.leaderboard(POINTS, 100)
    assert {entry.player.name: entry.rank for entry in page.entries} == expected
    for name in ("p0", "p13", "p39"):
        (found,) = await store.player_bests(person(name).id, [POINTS])
        around = await store.around(POINTS, person(name).id, 3)
        assert found.rank == expected[name] == next(e.rank for e in around.entries if e.player.name == name)


async def test_the_same_submission_is_stored_once_and_answered_the_same(store):
    ada = person("ada")
    answer, stored = await store.submit_score(POINTS, ada, submission(40, "ada-run-1"))
    await store.submit_score(POINTS, person("bob"), submission(70, "bob-run-1"))
    again, stored_again = await store.submit_score(POINTS, ada, submission(40, "ada-run-1"))
    assert (stored, stored_again) == (True, False)
    assert again == answer  # the original answer (rank 1 then), not recomputed
    assert await board(store) == [(1, "bob", 70), (2, "ada", 40)]


async def test_the_answer_says_how_many_players_the_board_has_then(store):
    """The badge shows "rank 2 of 3": the board's size when the score was ranked, answered again unchanged."""
    first, _ = await store.submit_score(POINTS, person("ada"), submission(40, "ada-run-1"))
    await store.submit_score(POINTS, person("bob"), submission(70, "bob-run-1"))
    third, _ = await store.submit_score(POINTS, person("cy"), submission(50, "cy-run-1"))
    again, _ = await store.submit_score(POINTS, person("ada"), submission(30, "ada-run-2"))
    assert [(answer.rank, answer.players) for answer in (first, third, again)] == [(1, 1), (2, 3), (3, 3)]
    replayed, _ = await store.submit_score(POINTS, person("ada"), submission(40, "ada-run-1"))
    assert replayed.players == 1


async def test_concurrent_retries_of_one_submission_store_it_once(store):
    ada = person("ada")
    results = await asyncio.gather(*(store.submit_score(POINTS, ada, submission(40, "ada-run-1")) for _ in range(5)))
    assert sorted(stored for _, stored in results) == [False, False, False, False, True]
    assert len({answer.at for answer, _ in results}) == 1


async def test_reusing_a_submission_id_for_another_score_is_a_conflict(store):
    ada = person("ada")
    await store.submit_score(POINTS, ada, submission(40, "ada-run-1"))
    with pytest.raises(SubmissionConflict, match="already used"):
        await store.submit_score(POINTS, ada, submission(41, "ada-run-1"))


async def test_submission_ids_belong_to_one_player(store):
    await store.submit_score(POINTS, person("ada"), submission(40, "shared-key"))
    _, stored = await store.submit_score(POINTS, person("bob"), submission(50, "shared-key"))
    assert stored


async def test_players_of_different_issuers_never_collide(store):
    await store.submit_score(POINTS, person("ada", "https://one.test"), submission(40, "run-00001"))
    await store.submit_score(POINTS, person("ada", "https://two.test"), submission(50, "run-00001"))
    assert await board(store) == [(1, "ada", 50), (2, "ada", 40)]


async def test_cursor_pages_walk_every_player_once_in_order(store):
    for index in range(23):
        await store.submit_score(POINTS, person(f"p{index:02}"), submission(index % 7, f"p{index:02}-run"))
    seen, cursor = [], None
    while True:
        page = await store.leaderboard(POINTS, 5, cursor)
        assert page.players == 23
        seen += [(entry.rank, entry.player.name, entry.score) for entry in page.entries]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == await board(store)
    assert len({name for _, name, _ in seen}) == 23


async def test_a_cursor_stays_valid_when_scores_land_in_between(store):
    for index in range(6):
        await store.submit_score(POINTS, person(f"p{index}"), submission(100 - index, f"p{index}-run"))
    first = await store.leaderboard(POINTS, 3)
    await store.submit_score(POINTS, person("newcomer"), submission(1000, "new-run-1"))
    second = await store.leaderboard(POINTS, 3, first.next_cursor)
    assert [entry.player.name for entry in second.entries] == ["p3", "p4", "p5"]
    assert [entry.rank for entry in second.entries] == [5, 6, 7]


async def test_a_cursor_the_store_did_not_hand_out_is_refused(store):
    with pytest.raises(BadCursor):
        await store.leaderboard(POINTS, 5, "not-a-cursor")


async def test_around_a_player_centres_the_page_on_them(store):
    for index in range(10):
        await store.submit_score(POINTS, person(f"p{index}"), submission(100 - index, f"p{index}-run"))
    page = await store.around(POINTS, person("p5").id, 5)
    assert [entry.player.name for entry in page.entries] == ["p3", "p4", "p5", "p6", "p7"]
    top = await store.around(POINTS, person("p0").id, 5)
    assert [entry.player.name for entry in top.entries] == ["p0", "p1", "p2", "p3", "p4"]
    assert (await store.around(POINTS, person("nobody").id, 5)).entries == []


async def test_a_players_bests_and_profile(store):
    ada = person("ada")
    await store.submit_score(POINTS, ada, submission(40, "ada-run-1"))
    await store.submit_score(MOVES, ada, submission(12, "ada-run-2"))
    await store.submit_score(POINTS, person("bob"), submission(90, "bob-run-1"))
    bests = await store.player_bests(ada.id, [POINTS, MOVES])
    assert [(best.game, best.score, best.rank) for best in bests] == [("points", 40, 2), ("moves", 12, 1)]
    assert (await store.player(ada.id)).name == "ada"
    assert await store.player("nobody") is None


async def test_a_new_name_shows_on_the_next_score(store):
    await store.submit_score(POINTS, person("ada"), submission(40, "ada-run-1"))
    renamed = person("ada")
    renamed.name = "Ada L."
    await store.submit_score(POINTS, renamed, submission(30, "ada-run-2"))
    assert await board(store) == [(1, "Ada L.", 40)]


async def test_everything_acknowledged_survives_a_restart(stores, store):
    for index in range(5):
        await store.submit_score(POINTS, person(f"p{index}"), submission(index * 10, f"p{index}-run"))
    original, _ = await store.submit_score(MOVES, person("ada"), submission(7, "ada-run-1"))
    before = await board(store)
    reopened = await stores.reopen(store)
    assert await board(reopened) == before
    again, stored = await reopened.submit_score(MOVES, person("ada"), submission(7, "ada-run-1"))
    assert (again, stored) == (original, False)
    _, stored = await reopened.submit_score(POINTS, person("late"), submission(5, "late-run-1"))
    assert stored and len(await board(reopened)) == 6


# -- move_issuer: a provider whose issuer changed keeps one player per person ----------------

OLD, NEW = "http://old.test:8000", "urn:new"


async def test_moving_an_issuer_rekeys_its_players_and_leaves_the_others(store):
    await store.submit_score(POINTS, person("ada", OLD), submission(40, "ada-run-1"))
    await store.submit_score(POINTS, person("bob", "https://other.test"), submission(30, "bob-run-1"))
    assert sorted(await store.issuers()) == sorted([OLD, "https://other.test"])
    assert await store.move_issuer(OLD, NEW) == 1
    assert sorted(await store.issuers()) == sorted([NEW, "https://other.test"])
    moved = await store.player(person("ada", NEW).id)
    assert (moved.issuer, moved.subject, moved.name) == (NEW, "ada", "ada")
    assert await store.player(person("ada", OLD).id) is None
    assert await board(store) == [(1, "ada", 40), (2, "bob", 30)]
    bests = await store.player_bests(moved.id, [POINTS])
    assert [(best.game, best.score, best.rank) for best in bests] == [("points", 40, 1)]


async def test_a_moved_player_merges_with_the_one_already_there_best_score_per_game(store):
    await store.submit_score(POINTS, person("ada", OLD), submission(40, "ada-run-1"))
    await store.submit_score(MOVES, person("ada", OLD), submission(12, "ada-run-2"))
    await store.submit_score(POINTS, person("ada", NEW), submission(25, "ada-run-3"))
    await store.submit_score(MOVES, person("ada", NEW), submission(9, "ada-run-4"))
    await store.submit_score(POINTS, person("bob", NEW), submission(30, "bob-run-1"))
    await store.move_issuer(OLD, NEW)
    assert await board(store) == [(1, "ada", 40), (2, "bob", 30)]
    assert await board(store, MOVES) == [(1, "ada", 9)]
    assert (await store.leaderboard(POINTS, 10)).players == 2


async def test_a_merged_tie_keeps_who_got_there_first(store):
    await store.submit_score(POINTS, person("ada", NEW), submission(50, "ada-run-1"))  # first to 50
    await store.submit_score(POINTS, person("bob", NEW), submission(50, "bob-run-1"))
    await store.submit_score(POINTS, person("ada", OLD), submission(50, "ada-run-2"))  # ada again, later
    await store.submit_score(POINTS, person("cy", OLD), submission(50, "cy-run-1"))
    await store.submit_score(POINTS, person("cy", NEW), submission(10, "cy-run-2"))
    await store.move_issuer(OLD, NEW)
    page = await store.leaderboard(POINTS, 10)
    assert [(entry.rank, entry.player.name) for entry in page.entries] == [(1, "ada"), (1, "bob"), (1, "cy")]
    first = await store.leaderboard(POINTS, 1)
    assert [entry.player.name for entry in (await store.leaderboard(POINTS, 2, first.next_cursor)).entries] == [
        "bob",
        "cy",
    ]


async def test_a_run_stored_under_both_issuers_counts_once_and_keeps_its_answer(store):
    original, _ = await store.submit_score(POINTS, person("ada", OLD), submission(40, "ada-run-1"))
    await store.submit_score(POINTS, person("ada", NEW), submission(40, "ada-run-1"))  # the badge retried
    await store.submit_score(POINTS, person("ada", OLD), submission(20, "ada-run-2"))
    await store.submit_score(POINTS, person("ada", NEW), submission(35, "ada-run-2"))  # another run, same id
    await store.move_issuer(OLD, NEW)
    again, stored = await store.submit_score(POINTS, person("ada", NEW), submission(40, "ada-run-1"))
    assert not stored and (again.score, again.at) == (original.score, original.at)
    assert await board(store) == [(1, "ada", 40)]


async def test_moving_again_or_an_unknown_issuer_changes_nothing(stores, store):
    await store.submit_score(POINTS, person("ada", OLD), submission(40, "ada-run-1"))
    await store.submit_score(POINTS, person("ada", NEW), submission(50, "ada-run-2"))
    assert await store.move_issuer(OLD, NEW) == 1
    assert await store.move_issuer(OLD, NEW) == 0
    assert await store.move_issuer("https://never.test", NEW) == 0
    assert await store.move_issuer(NEW, NEW) == 0
    reopened = await stores.reopen(store)
    assert await reopened.move_issuer(OLD, NEW) == 0
    assert await board(reopened) == [(1, "ada", 50)]
    assert await reopened.issuers() == [NEW]
    _, stored = await reopened.submit_score(POINTS, person("ada", NEW), submission(40, "ada-run-1"))
    assert not stored  # the moved run is known under the new key, after a restart too
