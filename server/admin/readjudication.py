"""Re-adjudication started from the admin pages: one replay at a time in this process, in the background.

Why in the background: replaying every stored run of a game takes as long as the event has been
running; a request waiting on it would time out. The replay itself is ``arcade.scoring.readjudicate``
(the same as ``arcade readjudicate``), which replays a chunk of runs at a time off the event loop.
The page shows how many runs are replayed while it runs, then the diff; publishing it archives the
old board and makes the new one at once, as the command does. The diff lives in this process: a
publish that reaches another process (``--workers``), or comes after a restart, is asked to run it again.
"""

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from arcade.scoring import readjudicate
from arcade.sdk.errors import ArcadeError
from arcade.sdk.game import GameInfo
from arcade.sdk.store import Archive, Store

log = logging.getLogger("arcade.admin")


class Busy(ArcadeError):
    """A replay is running already; the message says which."""


@dataclass
class Job:
    game: GameInfo
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    replayed: int = 0
    diff: readjudicate.Diff | None = None
    error: str | None = None
    task: asyncio.Task | None = None

    @property
    def running(self) -> bool:
        return self.diff is None and self.error is None


class Readjudications:
    """The replays admins started in this process: at most one runs; each game's last one is kept."""

    def __init__(self):
        self.jobs: dict[str, Job] = {}

    def of(self, game: GameInfo) -> Job | None:
        """The game's last replay, if it was made under the rules the game has now."""
        job = self.jobs.get(game.id)
        return job if job is not None and job.game.version == game.version else None

    def start(self, store: Store, game: GameInfo) -> Job:
        running = next((job for job in self.jobs.values() if job.running), None)
        if running is not None:
            raise Busy(
                f"the runs of {running.game.title} are being replayed ({running.replayed:,} so far); one replay "
                "runs at a time: wait for it to finish"
            )
        job = self.jobs[game.id] = Job(game)
        job.task = asyncio.create_task(self._run(store, job))
        return job

    async def _run(self, store: Store, job: Job) -> None:
        def progress(replayed: int) -> None:
            job.replayed = replayed

        try:
            job.diff = await readjudicate.diff(store, job.game, progress)
        except Exception as error:  # the page says it failed, and why; the board is untouched
            log.exception("the replay of %s failed", job.game.id)
            job.error = f"{type(error).__name__}: {error}"

    async def publish(self, store: Store, game: GameInfo, actor: str, reason: str) -> Archive | None:
        """Publish the game's finished replay with its audit entry (the job is then done with); None when
        it changed nothing."""
        job = self.of(game)
        if job is None or job.diff is None:
            raise Busy(
                f"there is no finished replay of {game.title} under version {game.version} to publish here: "
                "run the replay again"
            )
        del self.jobs[game.id]
        return await readjudicate.publish(store, job.diff, actor, reason)

    async def close(self) -> None:
        """At shutdown: a replay still running stops (nothing was published; run it again after the restart)."""
        for job in self.jobs.values():
            if job.task is not None and not job.task.done():
                job.task.cancel()
        await asyncio.gather(*(job.task for job in self.jobs.values() if job.task), return_exceptions=True)
