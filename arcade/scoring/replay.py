"""Replaying a submitted run with the game's own badge module: only scores it reproduces count.

The launcher records a run as its seed, the ticks where the button mask changed (from
"no button held") and the number of calls to ``tick`` up to the one that answered False.
Replaying is calling the same ``Game`` the same way under CPython. The rules use integers
and a PRNG seeded from the run only, so the badge and the server reach the same score.

A replay is bounded three ways so that no run can hang the server: the game's
``max_ticks``, the input count (the API model caps it) and a time budget; it runs on a
worker thread so the event loop keeps serving.
"""

import asyncio
import time

from arcade.scoring.playback import play
from arcade.sdk.errors import ArcadeError
from arcade.sdk.game import GameInfo
from arcade.sdk.models import Run, ScoreSubmission

TIME_BUDGET = 5.0
"""Seconds one replay may take; a normal run needs milliseconds, the longest well under one."""
_CLOCK_EVERY = 1024  # ticks between looks at the clock


class RunRefused(ArcadeError):
    """The run does not reach the score sent, or cannot be a run of this game; says why."""


class ReplayTooSlow(ArcadeError):
    """The replay did not finish within its time budget: the server is busy, try later."""


async def verify(game: GameInfo, submission: ScoreSubmission) -> None:
    """Replays the submission's run on a worker thread; raises unless it reaches the score sent."""
    score = await asyncio.to_thread(replay, game, submission.run)
    if score != submission.score:
        raise RunRefused(f"the replay of this run scores {score}, not {submission.score}")


def replay(game: GameInfo, run: Run, budget: float = TIME_BUDGET) -> int:
    """The score the run reaches when its game is over; raises RunRefused or ReplayTooSlow."""
    if run.ticks > game.max_ticks:
        raise RunRefused(
            f"the run lasts {run.ticks} ticks, longer than the {game.max_ticks} the server replays for {game.title}"
        )
    _check_inputs(run)
    try:
        score, ticks, over = play(_Timed(game.rules()(run.seed), budget), run.ticks, run.inputs)
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
    """The game, with a look at the clock every so many ticks."""

    def __init__(self, game, budget: float):
        self.game = game
        self.budget = budget
        self.deadline = time.monotonic() + budget
        self.ticks = 0

    @property
    def score(self):
        return self.game.score

    def tick(self, buttons: int):
        if self.ticks % _CLOCK_EVERY == 0 and time.monotonic() > self.deadline:
            raise ReplayTooSlow(
                f"the replay of this run took more than {self.budget:g} s; the server is busy, send it again later"
            )
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
