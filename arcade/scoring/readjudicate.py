"""Re-adjudication: every stored run of a game replayed with the game's current rules, and the diff.

Why: a game's rules change between versions (a bug fixed, a loophole closed), and the scores on its
board were reached under the old ones. Replaying each stored run tells what it scores now: the same,
another score (it moves), or nothing (the run no longer verifies). Runs are streamed from the store
(``Store.export``) and replayed a chunk at a time off the event loop, so memory holds the chunk and
the scores that changed, never every run. Publishing hands the changes to the store, which
archives the old board and makes the new one at once (``Store.publish_adjudication``).
"""

import asyncio
import time
from dataclasses import dataclass, field

from arcade.scoring.replay import RunRefused, replay
from arcade.sdk.game import GameInfo
from arcade.sdk.store import Archive, Moderation, Store, StoredScore

CHUNK = 256
"""Runs replayed in one go off the event loop."""
REPLAY_BUDGET_S = 60.0
"""Seconds one run may take here: no request waits on it, but a run that never ends must stop."""


@dataclass(frozen=True)
class Change:
    """One stored score whose value the current rules change; ``now`` None: the run no longer verifies."""

    seq: int
    player: str
    submission_id: str
    before: int | None
    """The value the board used (None: it no longer verified before either)."""
    now: int | None
    reason: str = ""


@dataclass
class Diff:
    game: GameInfo
    replayed: int = 0
    through: int = 0
    """The last seq replayed: scores up to it have been re-adjudicated under ``game.version``."""
    changes: list[Change] = field(default_factory=list)

    @property
    def moved(self) -> list[Change]:
        return [change for change in self.changes if change.now is not None and change.before is not None]

    @property
    def no_longer_verify(self) -> list[Change]:
        return [change for change in self.changes if change.now is None]

    @property
    def verify_again(self) -> list[Change]:
        return [change for change in self.changes if change.before is None]


async def diff(store: Store, game: GameInfo, progress=None) -> Diff:
    """Replay every stored run of ``game`` with its current rules; answer what changes on its board.

    ``progress(replayed)`` is called after each chunk."""
    adjudication = await store.adjudication(game)
    earlier = adjudication.changes if adjudication else {}
    found = Diff(game)
    chunk: list[StoredScore] = []

    async def replay_chunk():
        results = await asyncio.to_thread(_replay_all, game, chunk)
        for score, (now, reason) in zip(chunk, results):
            before = earlier.get(score.seq, score.score) if score.seq in earlier else score.score
            if now != before:
                found.changes.append(Change(score.seq, score.player, score.submission_id, before, now, reason))
            found.through = max(found.through, score.seq)
        found.replayed += len(chunk)
        chunk.clear()
        if progress:
            progress(found.replayed)

    async for item in store.export():
        if isinstance(item, StoredScore) and item.game == game.id:
            chunk.append(item)
            if len(chunk) == CHUNK:
                await replay_chunk()
    if chunk:
        await replay_chunk()
    return found


async def publish(store: Store, found: Diff, actor: str, reason: str) -> Archive | None:
    """Make the diff the board (the old one archived), with its audit entry by ``actor`` in the same
    step; None, publishing nothing, when nothing changed."""
    if not found.changes:
        return None
    changes = {change.seq: change.now for change in found.changes}
    game = found.game
    audit = Moderation(
        action="readjudicate",
        player="",
        actor=actor,
        reason=reason,
        submission_id=game.id,
        value=f"{game.title} under version {game.version}",
    )
    return await store.publish_adjudication(game, game.version, found.through, changes, audit=audit)


def _replay_all(game: GameInfo, scores: list[StoredScore]) -> list[tuple[int | None, str]]:
    results = []
    for score in scores:
        try:
            results.append((replay(game, score.run, time.monotonic() + REPLAY_BUDGET_S), ""))
        except RunRefused as error:
            results.append((None, str(error)))
    return results
