"""The contract of a store plugin, and the errors every store raises the same way.

One contract test suite (``tests/test_store_contract.py``) runs unchanged
against every store, so a new store is correct when that suite passes; the
records and counters have theirs in ``tests/test_store_records.py``.
"""

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

import msgspec

from arcade.sdk.errors import ArcadeError
from arcade.sdk.game import GameInfo
from arcade.sdk.models import LeaderboardPage, Player, PlayerBest, Run, ScoreAccepted, ScoreSubmission


class StoreError(ArcadeError):
    """A store cannot do what was asked; the message says why and what to do."""


class StoreUnavailable(StoreError):
    """The store could not make a write durable, or cannot be reached; retrying later with the same
    request is safe."""


class SubmissionConflict(StoreError):
    """A submission_id was reused by the same player for a different score or game."""


class BadCursor(StoreError):
    """A leaderboard cursor that this store did not hand out."""


class PlayerBanned(StoreError):
    """A banned player sent a score; the message says why the organisers banned them."""


class NotStored(StoreError):
    """A moderation names a player or a score the store does not hold."""


class Record(msgspec.Struct, frozen=True, kw_only=True):
    """A small document a plugin keeps in the store, such as a login or a device grant.

    ``version`` changes on every write and is never reused by the store, so
    writing "if still at version v" is a compare-and-set: of two processes
    racing to use a single-use code, exactly one wins.
    """

    value: dict[str, Any]
    """JSON-compatible builtins; treat as read-only."""
    version: int
    expires_at: float | None = None
    """Unix seconds after which the record is gone; None keeps it."""


class StoredPlayer(Player, tag="player"):
    """A player, as :meth:`Store.export` yields it."""


class StoredScore(msgspec.Struct, frozen=True, kw_only=True, tag="score"):
    """A stored score with its run and the answer it got, which a retried submission gets again.

    ``seq`` is the acceptance order (equal scores rank by it) and ``at`` the time it was accepted.
    """

    game: str
    player: str
    submission_id: str
    score: int
    run: Run
    seq: int
    at: datetime
    best: int
    rank: int
    new_best: bool
    hidden: bool = False
    """An admin hid it: it counts on no board, and is kept (unhide brings it back)."""
    players: int | None = None
    """The board's size when it was ranked, as its answer said; None for a score stored before answers said it."""


class StoredRecord(msgspec.Struct, frozen=True, kw_only=True, tag="record"):
    """A :class:`Record` with the (kind, key) it is stored under."""

    kind: str
    key: str
    value: dict[str, Any]
    version: int
    expires_at: float | None = None


class StoredCounter(msgspec.Struct, frozen=True, kw_only=True, tag="counter"):
    """A counter's window and what was added at each second of it that still counts."""

    key: str
    window: int
    buckets: list[tuple[int, int]]
    """(unix second, amount), oldest first."""


class Adjudication(msgspec.Struct, frozen=True, kw_only=True):
    """What the re-adjudications of one game changed: the game version the last one replayed with,
    the last score it replayed (``through``, a seq: scores up to it count as re-adjudicated), and
    every score whose value it changed, by seq (None: its run no longer verifies, it is on no board)."""

    version: str
    through: int
    at: datetime
    changes: dict[int, int | None] = {}


class Archive(msgspec.Struct, frozen=True, kw_only=True):
    """A board as it was before a re-adjudication replaced it."""

    id: int
    game: str
    at: datetime
    version: str
    """The game version of the re-adjudication that archived it."""
    players: int


# -- moderation ---------------------------------------------------------------------------------

Action = Literal[
    "hide",
    "unhide",
    "ban",
    "unban",
    "rename",
    "picture",
    "add-window",
    "change-window",
    "remove-window",
    "readjudicate",
]
EVENT_ACTIONS = ("add-window", "change-window", "remove-window", "readjudicate")
"""Actions about the event, not a player: only written to the audit log (``player`` is ""; a window's
name, or the game re-adjudicated, is ``submission_id``; ``before`` and ``value`` describe it)."""


class Moderation(msgspec.Struct, frozen=True, kw_only=True):
    """What an admin (or a player, about themselves) asks a store to change; every one is undone by
    another: hide by unhide, ban by unban, a rename or a picture by one giving back the audit entry's
    ``before``."""

    action: Action
    player: str
    """The player's public id."""
    actor: str
    """Who asked: an admin's name, or ``player`` for a player's own change."""
    reason: str
    submission_id: str | None = None
    """hide, unhide: the score."""
    value: str | None = None
    """rename: the new name (already cleaned); picture: the new picture URL, None for the generated avatar."""
    before: str | None = None
    """An event action: what was there before (the store finds it for every other action)."""


def adjudication_audit(audit: Moderation, archive: int) -> Moderation:
    """``audit`` as :meth:`Store.publish_adjudication` writes it: a ``readjudicate`` entry whose
    ``before`` names the archive the old board became."""
    if audit.action != "readjudicate":
        raise StoreError(f"a re-adjudication's audit entry must be a readjudicate action, not {audit.action!r}")
    return msgspec.structs.replace(audit, before=f"the old board, archived as board {archive}")


MAX_REASON = 500
"""The longest reason an audit entry keeps, in characters (the admin pages and the command line refuse more)."""


def audit_reason(text: str) -> str:
    """``text`` on one line, as an audit entry keeps a reason; a ValueError says so if it is longer
    than MAX_REASON, where cutting it would keep what the admin did not write."""
    reason = " ".join(text.split())
    if len(reason) > MAX_REASON:
        raise ValueError(f"give a reason of at most {MAX_REASON} characters (this one has {len(reason)})")
    return reason


class StoredAudit(msgspec.Struct, frozen=True, kw_only=True, tag="audit"):
    """A moderation as the audit log keeps it: when, and what was there before (a name, a picture,
    a ban's reason) so that it can be given back."""

    seq: int
    at: datetime
    action: Action
    player: str
    actor: str
    reason: str
    submission_id: str | None = None
    game: str | None = None
    value: str | None = None
    before: str | None = None


class RefusedRun(msgspec.Struct, frozen=True, kw_only=True):
    """A run the replay refused (a 422), kept as evidence for the admins."""

    game: str
    player: str
    name: str
    submission_id: str
    claimed: int
    replayed: int | None
    """What the replay scored; None when the run could not be replayed at all."""
    reason: str
    at: datetime
    ticks: int
    inputs: list[tuple[int, int]] | None
    """The run's inputs, None when there were more than :data:`REFUSED_INPUTS` (the seed and ticks stay)."""
    seed: int


REFUSED_PER_PLAYER = 10
"""Refused runs a store keeps per player: the newest replace the oldest."""
REFUSED_TOTAL = 500
"""Refused runs a store keeps in all: the newest replace the oldest, so a flooder cannot fill the disk."""
REFUSED_INPUTS = 512
"""Inputs of a refused run kept with it (about 6 KiB): a longer run is kept without them."""


Stored = StoredPlayer | StoredScore | StoredRecord | StoredCounter | StoredAudit
"""Everything a store holds, one item at a time: what moves an event from one store to another."""


class Store(Protocol):
    """A store plugin object, returned by ``arcade_store``."""

    shareable: bool
    """True when several server processes may use the store at once."""

    async def start(self) -> None:
        """Open the store; raise :class:`StoreError` with a clear message if it cannot."""

    async def close(self) -> None:
        """Make every acknowledged write durable and release the store."""

    async def submit_score(
        self, game: GameInfo, player: Player, submission: ScoreSubmission
    ) -> tuple[ScoreAccepted, bool]:
        """Store a score once per (player, submission_id), durably, and answer rank and best.

        Returns the answer and whether it was stored now (False: the same
        submission was stored before and its original answer is returned).
        Updates the player's name and picture. Raises :class:`SubmissionConflict`
        when the submission_id was used for a different score or game.
        """

    async def leaderboard(self, game: GameInfo, limit: int, cursor: str | None = None) -> LeaderboardPage:
        """The best score per player, best first, ``limit`` entries after ``cursor``.

        Competition ranking (1-2-2-4); equal scores are ordered by who reached
        them first. Raises :class:`BadCursor` for a cursor it did not hand out.
        """

    async def around(self, game: GameInfo, player_id: str, limit: int) -> LeaderboardPage:
        """A page of ``limit`` entries with the player in the middle (empty if no score)."""

    async def player(self, player_id: str) -> Player | None:
        """The player with this public id, or None."""

    async def player_bests(self, player_id: str, games: list[GameInfo]) -> list[PlayerBest]:
        """The player's best score and rank in each of ``games`` they have played."""

    async def issuers(self) -> list[str]:
        """The issuers the stored players are keyed under, each once, in no particular order."""

    async def move_issuer(self, old: str, new: str) -> int:
        """Key every player of issuer ``old`` under ``new`` (same subject), durably; answer how many moved.

        Why: a provider whose issuer changed (the built-in one was keyed by its
        address) keeps one player per person. A moved player merges with the one
        already at ``(new, subject)``, whose name and picture stay: each game then
        ranks the better of their bests, reached when it was first reached, so
        ties still go to who got there first. A run stored under both keys (the
        same submission_id, game and score: a badge retrying) counts once, with
        its first answer; a different run under a reused submission_id is kept
        too. Nothing of ``old`` remains, so calling it again does nothing, and
        calling it again after a crash midway finishes the move.
        """

    async def get_record(self, kind: str, key: str) -> Record | None:
        """The record stored under (``kind``, ``key``), or None if there is none or it expired."""

    async def put_record(
        self,
        kind: str,
        key: str,
        value: dict[str, Any],
        *,
        version: int,
        expires_at: float | None = None,
        audit: Moderation | None = None,
    ) -> Record | None:
        """Write the record if it is still at ``version`` (0: there is none), durably.

        Returns the record as written, or None when another writer changed it
        first (read it again and decide). Putting an ``expires_at`` in the past
        deletes it. ``audit``, an action of :data:`EVENT_ACTIONS` (an admin's change to a record),
        goes into the audit log in the same durable step: both are written, or neither.
        Raises :class:`StoreUnavailable` if the write cannot be made durable.
        """

    async def add_to_counter(self, key: str, now: int, window: int, amount: int = 1) -> int:
        """Add ``amount`` at second ``now`` (unix time) to the counter ``key``; answer its sum over the window.

        The sum covers what was added at the whole seconds ``now - window``
        to ``now``, inclusive, so no span of ``window`` seconds escapes it; a
        counter is always used with the same window. A change is durable
        before it answers; ``amount=0`` only reads, a negative amount gives
        back. Used for rate limits and attempt budgets that must hold across
        every server process.
        """

    # -- moderation and players' own data (docs/running-an-event.md) ---------------------------

    async def moderate(self, change: Moderation, games: list[GameInfo]) -> StoredAudit:
        """Make the change and write its audit entry, durably, in one step; answer the entry.

        hide/unhide: the score leaves, or is offered again to, its player's best (``games`` say
        which way is better). ban/unban: every board, rank, around and best leaves out, or shows
        again, the player's scores; while banned, :meth:`submit_score` raises :class:`PlayerBanned`
        with the reason. rename/picture: the player's name or picture, locked against the
        provider's. Raises :class:`NotStored` for a player or score it does not hold.
        An action of :data:`EVENT_ACTIONS` changes nothing: it is only written to the audit log.
        """

    async def audit_log(self, limit: int, before: int | None = None) -> list[StoredAudit]:
        """The newest ``limit`` audit entries (with a ``seq`` under ``before``), newest first."""

    async def scores_of(self, player_id: str, limit: int) -> list[StoredScore]:
        """The player's newest ``limit`` scores, hidden ones too, newest first."""

    async def delete_player(self, player_id: str) -> bool:
        """Remove the player, their scores (runs and answers), bests and refused runs from every board and
        from the store's files, durably, before answering; their audit entries keep only the player's id.
        Answers whether there was such a player."""

    async def keep_refused_run(self, run: RefusedRun) -> None:
        """Keep a refused run, durably: at most :data:`REFUSED_PER_PLAYER` per player and
        :data:`REFUSED_TOTAL` in all, the oldest dropped first."""

    async def refused_runs(self, limit: int) -> list[RefusedRun]:
        """The newest ``limit`` refused runs kept, newest first."""

    def export(self) -> AsyncIterator[Stored]:
        """Everything the store holds as of the call, for ``arcade export``, in one stable order.

        Players by id, then scores by ``seq``, then records by (kind, key), then counters by key
        (strings in code point order), then audit entries by ``seq``, so two stores holding the same yield the same items in the
        same order. Expired records and the seconds of a counter that no longer count are left
        out (a bucket counts while ``second + window`` has not passed). Memory does not grow with
        the number of scores: they are read as they are yielded.
        """

    async def restore(self, items: list[Stored], games: list[GameInfo]) -> None:
        """Write items another store's :meth:`export` yielded as they were, durably, for ``arcade import``.

        A player, record or counter replaces what is stored under its key (id; kind and key;
        key). A score keeps its ``seq``, time and answer, so ties rank as before and a retried
        submission gets its original answer; one already stored under its (player,
        submission_id) is left as it is, as scores never change once stored. Each score is
        offered as its player's best in its game (``games`` say which way is better), which it
        becomes when better, or as good and reached earlier: the boards are the exported ones.
        Expired records and counter seconds are skipped. Restoring the same items again
        changes nothing, so an import cut short can run again. Players come before their scores
        (``export`` yields them so). Meant for a store that is empty or holds part of the same
        export, with nothing else writing meanwhile; later submissions and records get a seq and
        versions after the restored ones. Raises :class:`StoreError` for a score of a game not
        in ``games``.
        """

    # -- time windows and re-adjudication ---------------------------------------------------

    async def leaderboard_between(
        self, game: GameInfo, start: datetime, end: datetime, limit: int, cursor: str | None = None
    ) -> LeaderboardPage:
        """:meth:`leaderboard` of the scores accepted from ``start`` until before ``end``: each
        player's best of those, ranked the same way. Reads the scores of the range, never all of them."""

    async def around_between(
        self, game: GameInfo, start: datetime, end: datetime, player_id: str, limit: int
    ) -> LeaderboardPage:
        """:meth:`around` within the window ``[start, end)``."""

    async def adjudication(self, game: GameInfo) -> Adjudication | None:
        """What the re-adjudications of this game changed, or None if it was never re-adjudicated."""

    async def publish_adjudication(
        self,
        game: GameInfo,
        version: str,
        through: int,
        changes: dict[int, int | None],
        *,
        audit: Moderation | None = None,
    ) -> Archive:
        """Archive the game's board, then make ``changes`` (new values by seq, None: no longer
        verifies) and recompute the bests of the players they touch, atomically: a reader sees the
        old board or the new one, never half. ``audit``, a ``readjudicate`` entry, goes into the
        audit log in the same atomic step, its ``before`` naming the archive (both are written, or
        neither). Answers the archive of the old board."""

    async def archives(self, game: GameInfo) -> list[Archive]:
        """The game's archived boards, oldest first."""

    async def archived_board(
        self, game: GameInfo, archive_id: int, limit: int, cursor: str | None = None
    ) -> LeaderboardPage | None:
        """A page of an archived board as it was (None if there is no such archive)."""


@runtime_checkable
class FollowsScores(Protocol):
    """What a store that several processes share may offer besides :class:`Store`: the scores the
    other processes accept, so that every process's live pages show every score. A store of one
    process needs none: its scores reach its live pages through ``arcade_score_accepted``, which is
    announced only in the process that took the score (so a webhook posts each score once)."""

    async def follow_scores(self, listener: Callable[[ScoreAccepted], None]) -> None:
        """From now until :meth:`Store.close`, call ``listener`` on the event loop with each score that
        another process accepted (never this process's own, which it announces itself).

        Best effort, for live pages: a score accepted while the store cannot be reached is missed,
        not delivered late. Returns once the first attempt to listen is made, whether or not it
        succeeded; the store keeps trying after an outage by itself.
        """
