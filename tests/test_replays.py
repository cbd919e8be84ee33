"""Replays have a pool of their own, bounded: a flood of long runs is turned away (503, or 429 for
one player's), a run that waited past its time budget is not replayed, and none of it holds up
the writes that acknowledge scores."""

import asyncio
import sys
import textwrap

import pytest

from arcade.scoring.replay import Replays, ReplayTooSlow
from arcade.sdk.budgets import TooManyAttempts
from arcade.sdk.game import GameInfo
from arcade.sdk.models import Run, ScoreSubmission

pytestmark = pytest.mark.anyio

TICKS = 100
SLOW = textwrap.dedent(
    f"""
    import threading

    release = threading.Event()  # each replay's first tick waits for it: the test says when they end
    started = []  # the threads the replays began on


    class Game:
        TICK_MS = 100

        def __init__(self, seed):
            self.score = 0

        def tick(self, buttons):
            if not self.score:
                started.append(threading.current_thread().name)
                release.wait(30)
            self.score += 1
            return self.score < {TICKS}
    """
)


@pytest.fixture
def slow_game(tmp_path, monkeypatch):
    """A game whose replays hold their thread until the test releases them."""
    (tmp_path / "slow_rules").mkdir()
    (tmp_path / "slow_rules" / "__init__.py").write_text("")
    (tmp_path / "slow_rules" / "badge.py").write_text(SLOW)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield GameInfo(id="slow", title="Slow", version="1", package="slow_rules", max_ticks=1000)
    rules().release.set()  # no thread stays held after a failed test
    for name in ("slow_rules.badge", "slow_rules"):
        sys.modules.pop(name, None)


def rules():
    import slow_rules.badge

    return slow_rules.badge


async def until_started(count: int) -> None:
    """Until ``count`` replays hold a thread (or 10 s have passed and fewer could start)."""
    for _ in range(1000):
        if len(rules().started) >= count:
            return
        await asyncio.sleep(0.01)
    rules().release.set()
    raise AssertionError(f"only {len(rules().started)} of {count} replays could start")


def run(key: str) -> ScoreSubmission:
    return ScoreSubmission(score=TICKS, run=Run(seed=1, inputs=[], ticks=TICKS), submission_id=key)


async def test_a_full_pool_turns_the_next_run_away_at_once(slow_game):
    replays = Replays(workers=1, waiting=1, per_player=5)
    running = [asyncio.create_task(replays.verify(slow_game, run(f"run-{n:04d}"), f"p{n}")) for n in range(2)]
    await until_started(1)
    with pytest.raises(ReplayTooSlow, match="busy replaying runs"):
        await replays.verify(slow_game, run("run-0002"), "p2")
    rules().release.set()
    assert await asyncio.gather(*running) == [None, None]
    replays.close()


async def test_one_player_gets_only_so_many_replays_at_once_and_others_still_get_theirs(slow_game):
    replays = Replays(workers=2, waiting=8, per_player=1)
    ada = asyncio.create_task(replays.verify(slow_game, run("ada-0001"), "ada"))
    await until_started(1)
    with pytest.raises(TooManyAttempts, match="1 of your runs are being replayed"):
        await replays.verify(slow_game, run("ada-0002"), "ada")
    bob = asyncio.create_task(replays.verify(slow_game, run("bob-0001"), "bob"))
    await until_started(2)
    rules().release.set()
    assert await asyncio.gather(ada, bob) == [None, None]
    replays.close()


async def test_the_time_budget_counts_the_wait_for_a_thread(slow_game):
    replays = Replays(workers=1, waiting=4, per_player=5, budget=0.5)
    first = asyncio.create_task(replays.verify(slow_game, run("run-0001"), "ada"))
    second = asyncio.create_task(replays.verify(slow_game, run("run-0002"), "bob"))
    await until_started(1)
    await asyncio.sleep(1.0)  # the second run's budget is spent while it waits for the one thread
    rules().release.set()
    assert await first is None
    with pytest.raises(ReplayTooSlow, match="ran out of time"):
        await second
    replays.close()


async def test_replays_never_take_the_threads_that_make_writes_durable(slow_game):
    """The store's journal appends run on the default executor: with every replay thread held,
    it still answers (with replays on it, eight held replays would take all six of its threads)."""
    replays = Replays(workers=8, waiting=0, per_player=8)
    held = [asyncio.create_task(replays.verify(slow_game, run(f"run-{n:04d}"), "ada")) for n in range(8)]
    await until_started(8)
    try:
        written = await asyncio.wait_for(asyncio.to_thread(lambda: "written"), 10)
    finally:
        rules().release.set()
    await asyncio.gather(*held)
    assert written == "written"
    assert all(name.startswith("replay") for name in rules().started)
    replays.close()
