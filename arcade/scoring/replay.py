"""Replaying a submitted run with the game's own badge module: only scores it reproduces count.

The launcher records a run as its seed, the ticks where the button mask changed (from
"no button held") and the number of calls to ``tick`` up to the one that answered False.
Replaying is calling the same ``Game`` the same way under CPython. The rules use integers
and a PRNG seeded from the run only, so the badge and the server reach the same score.

A replay is bounded three ways so that no run can hang the server: the game's
``max_ticks``, the input count (the API model caps it) and a time budget that counts from
when the replay was asked for, waiting included. Replays run on a pool of their own
(:class:`Replays`), never on the default executor where the store makes writes durable, so
however many long runs arrive, acknowledgements and logins do not queue behind them; the pool
takes only so many at once and in waiting, and each player only so many.
"""

import asyncio
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from arcade.scoring.playback import play
from arcade.sdk.budgets import TooManyAttempts
from arcade.sdk.errors import ArcadeError
from arcade.sdk.game import GameInfo
from arcade.sdk.models import Run, ScoreSubmission

TIME_BUDGET = 5.0
"""Seconds one replay may take; a normal run needs milliseconds, the longest well under one."""
_CLOCK_EVERY = 1024  # ticks between looks at the clock
PLAYER_RETRY_AFTER_S = 5
"""When a player with all their replays in flight may send the next run."""


class RunRefused(ArcadeError):
    """The run does not reach the score sent, or cannot be a run of this game; says why."""

    def __init__(self, message: str, replayed: int | None = None):
        super().__init__(message)
        self.replayed = replayed
        """What the replay scored, when it played the run to its end."""


class ReplayTooSlow(ArcadeError):
    """The replay did not finish within its time budget: the server is busy, try later."""

    retry_after = 5


class Replays:
    """The replays of one server process: ``workers`` threads of their own, at most ``waiting``
    more queued, at most ``per_player`` in flight for one player."""

    def __init__(self, workers: int = 2, waiting: int = 32, per_player: int = 2, budget: float = TIME_BUDGET):
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="replay")
        self.capacity = workers + waiting
        self.per_player = per_player
        self.budget = budget
        self.in_flight: Counter[str] = Counter()

    async def verify(self, game: GameInfo, submission: ScoreSubmission, player: str) -> None:
        """Replays the submission's run; raises unless it reaches the score sent."""
        if self.in_flight.total() >= self.capacity:
            raise ReplayTooSlow("the server is busy replaying runs; send it again later")
        if self.in_flight[player] >= self.per_player:
            raise TooManyAttempts(PLAYER_RETRY_AFTER_S, f"{self.per_player} of your runs are being replayed")
        deadline = time.monotonic() + self.budget
        self.in_flight[player] += 1
        try:
            loop = asyncio.get_running_loop()
            score = await loop.run_in_executor(self.pool, replay, game, submission.run, deadline)
        finally:
            self.in_flight[player] -= 1
            if not self.in_flight[player]:
                del self.in_flight[player]
        if score != submission.score:
            raise RunRefused(f"the replay of this run scores {score}, not {submission.score}", replayed=score)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def replay(game: GameInfo, run: Run, deadline: float | None = None) -> int:
    """The score the run reaches when its game is over; raises RunRefused, or ReplayTooSlow once
    ``deadline`` (``time.monotonic``, default: :data:`TIME_BUDGET` from now) has passed."""
    if run.ticks > game.max_ticks:
        raise RunRefused(
            f"the run lasts {run.ticks} ticks, longer than the {game.max_ticks} the server replays for {game.title}"
        )
    _check_inputs(run)
    try:
        timed = _Timed(game.rules()(run.seed), deadline or time.monotonic() + TIME_BUDGET)
        score, ticks, over = play(timed, run.ticks, run.inputs)
    except ReplayTooSlow:
        raise
    except Exception as error:  # the badge would have crashed on this run, so never sent it
        raise RunRefused(f"the replay of this run fails with {type(error).__name__}: {error}") from None
    if ticks < run.ticks:
        raise RunRefused(f"the game of this run is over after {ticks} ticks, but the run says {run.ticks}")
    if not over:
        raise RunRefused(
            f"the game of this run is still on after its {run.ticks} ticks; a run is sent once its game is over"
        )
    return score


class _Timed:
    """The game, with a look at the clock every so many ticks (the first one before any)."""

    def __init__(self, game, deadline: float):
        self.game = game
        self.deadline = deadline
        self.ticks = 0

    @property
    def score(self):
        return self.game.score

    def tick(self, buttons: int):
        if self.ticks % _CLOCK_EVERY == 0 and time.monotonic() > self.deadline:
            raise ReplayTooSlow("the replay of this run ran out of time; the server is busy, send it again later")
        self.ticks += 1
        return self.game.tick(buttons)


def _check_inputs(run: Run) -> None:
    previous = -1
    for index, (tick, _) in enumerate(run.inputs):
        if tick <= previous:
            raise RunRefused(f"run.inputs[{index}] is at tick {tick}, not after the tick before ({previous})")
        previous = tick
    if previous >= run.ticks:
        raise RunRefused(f"the run's last input is at tick {previous}, but the run lasts only {run.ticks} ticks")
