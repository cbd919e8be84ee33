"""The embedded default store: TinyDB files in the data folder, for one server process.

Why it stays fast as it fills: TinyDB hands its storage the whole database on
every write, so a durable write per change would be a whole-file rewrite per
change. Instead a change is staged in memory (visible at once), concurrent
changes share one append to a journal with one fsync (group commit), and only
then are the waiting requests answered. A fold, every ``fold_every`` changes
(more as the store grows, so its cost per change stays level) and at shutdown,
makes the files hold everything: new scores are appended to the ledger (a TinyDB
file of every score and its run, never rewritten: ``ledger.py``), and the main
TinyDB file, which holds what is small and changes (players, each player's best
per game, records, counters), is replaced atomically from documents encoded when
they changed (``tables.py``). Memory holds the players, the rankings, the
records and 16 bytes per stored score; reads never touch a file except to answer
a retried submission from the ledger.
"""

import asyncio
import fcntl
import heapq
import logging
import os
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
from arcade.plugins.store_tinydb.journal import Journal, JournalDamaged
from arcade.plugins.store_tinydb.ledger import Head, Ledger, LedgerDamaged
from arcade.plugins.store_tinydb.ranking import Ranking, decode_cursor, encode_cursor
from arcade.plugins.store_tinydb.tables import EncodedTable, database_bytes
from arcade.plugins.store_tinydb.timeline import Timeline

from arcade.sdk.durable import write_atomically
from arcade.sdk.game import GameInfo
from arcade.sdk.models import (
    LeaderboardEntry,
    LeaderboardPage,
    Player,
    PlayerBest,
    ScoreAccepted,
    ScoreSubmission,
    player_id,
)
from arcade.sdk.store import (
    Adjudication,
    Archive,
    REFUSED_PER_PLAYER,
    REFUSED_TOTAL,
    EVENT_ACTIONS,
    BadCursor,
    Moderation,
    NotStored,
    PlayerBanned,
    Record,
    RefusedRun,
    Stored,
    StoredAudit,
    StoredCounter,
    StoredPlayer,
    StoredRecord,
    StoredScore,
    StoreError,
    StoreUnavailable,
    SubmissionConflict,
    adjudication_audit,
)

FOLD_EVERY = 2000
"""Journaled changes after which the journal is folded into the files, by default."""
FOLD_SHARE = 8
"""A fold waits for at least one change per this many documents held, so its cost per change stays level."""
FOLD_BYTES = 16 * 2**20
"""Scores (with their runs) held in memory after which a fold moves them to the ledger."""
WINDOWS_KEPT = 32
"""Time-window rankings kept up to date in memory; one more drops the least recently made."""
NO_ADJUDICATION = {"version": "", "through": 0, "changes": [], "archives": []}
EPOCH_START = datetime(1970, 1, 1, tzinfo=UTC)
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)
BATCH = "together"
"""The journal line of changes staged together (:meth:`TinyDBStore._together`)."""
META_TABLE = "journal"
"""The table recording which journal generation the file already holds, and the last score's sequence."""

log = logging.getLogger(__name__)

_Database = dict[str, dict[str, msgspec.Raw]]
_Change = tuple[str, Any, msgspec.Raw]
"""A journal line: table, key, the document's JSON (``null``: deleted)."""


class _Score(msgspec.Struct):
    """What start-up needs of a score document: never its run."""

    game: str
    player: str
    submission_id: str
    score: int
    seq: int
    at: str


class _Best(msgspec.Struct):
    game: str
    player: str
    score: int
    seq: int
    at: str


class _Issuer(msgspec.Struct):
    issuer: str
    banned: str | None = None


class TinyDBStore:
    shareable = False

    def __init__(self, path: Path, fold_every: int = FOLD_EVERY):
        self.path = Path(path)
        self.fold_every = fold_every
        self._lock_fd: int | None = None
        self._ledger = Ledger(self.path.with_name(f"{self.path.stem}.scores{self.path.suffix}"))
        self._tables = {
            "players": EncodedTable("players", lambda doc: doc["id"]),
            "bests": EncodedTable("bests", lambda doc: (doc["game"], doc["player"], doc["seq"])),
            "records": EncodedTable("records", lambda doc: (doc["kind"], doc["key"])),
            "counters": EncodedTable("counters", lambda doc: doc["key"]),
            "adjudications": EncodedTable("adjudications", lambda doc: doc["game"]),
            # moderation (docs/running-an-event.md): small tables, rewritten at each fold
            "hidden": EncodedTable("hidden", lambda doc: (doc["player"], doc["submission_id"])),
            "audit": EncodedTable("audit", lambda doc: doc["seq"]),
            "refused": EncodedTable("refused", lambda doc: doc["seq"]),
            # tombstones of deleted players, until a fold has erased their scores from the ledger
            "erased": EncodedTable("erased", lambda doc: doc["player"]),
        }
        self._archives = self.path.with_name(f"{self.path.stem}.archives")
        """One JSON Lines file per archived board, written before the re-adjudication that archives it."""
        self._timeline: Timeline | None = None
        self._timeline_task: asyncio.Task | None = None
        self._backlog: list | None = None
        """Scores accepted while the timeline is read from the ledger, added once it is."""
        self._window_rankings: dict[tuple[str, datetime, datetime], Ranking] = {}
        self._banned: set[str] = set()
        self._recent: dict[tuple[str, str], tuple[int, bytes]] = {}
        """Scores not yet in the ledger: (seq, document) by (player, submission_id)."""
        self._recent_bytes = 0
        self._issuers: dict[str, int] = {}
        self._in_flight: dict[tuple[str, str], asyncio.Future] = {}
        self._rankings: dict[str, Ranking] = {}
        self._pending: list[list] = []
        self._unfolded = 0
        self._next_write: asyncio.Future | None = None
        self._writer: asyncio.Task | None = None
        self._folder: asyncio.Task | None = None
        self._write_requested = False
        self._seq = 0
        self._record_version = 0

    # -- life cycle -------------------------------------------------------------------------

    async def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock()
        try:
            changes, folded_through, legacy = await asyncio.to_thread(self._load)
        except JournalDamaged as error:
            self._unlock()
            raise StoreError(
                f"the journal of {self.path} is damaged ({error}). It was left untouched: restore the data "
                "folder from a backup, or move the journal file away to lose the changes it holds."
            ) from None
        except LedgerDamaged as error:
            self._unlock()
            raise StoreError(
                f"the ledger of scores beside {self.path} is damaged ({error}). It was left untouched: restore "
                f"the data folder from a backup; if only {self._ledger.index_path.name} is damaged, move it away "
                "and the next start builds it again from the ledger."
            ) from None
        except StoreError:
            self._unlock()
            raise
        for table, key, document in changes:
            self._replay(table, tuple(key) if isinstance(key, list) else key, bytes(document))
        if legacy is not None:
            self._adopt(legacy + [msgspec.json.decode(doc) for table, _, doc in changes if table == "scores"])
        self._journal.discard_through(folded_through)
        self._next_write = asyncio.get_running_loop().create_future()
        for key in self._tables["players"]:
            player = self._tables["players"].get(key, _Issuer)
            self._issuers[player.issuer] = self._issuers.get(player.issuer, 0) + 1
            if player.banned is not None:
                self._banned.add(key)
        for key in list(self._recent):  # a deleted player's scores, replayed from the journal
            if key[0] in self._tables["erased"]:
                self._drop_held(key)
        records = self._tables["records"]
        self._record_version = max((records.get(key)["version"] for key in records), default=0)
        if changes or legacy or len(self._tables["erased"]):  # start from files that hold everything
            await self._fold(self._journal.rotate())

    def _load(self) -> tuple[list[_Change], int, list[dict] | None]:
        """Read the files (blocking): the main file into the tables, the ledger's index, the journal.

        Answers the journal's changes, the generation the file holds, and the scores of a file
        written before the ledger existed (None for a file of this version).
        """
        data = self._read_file()
        for name, table in self._tables.items():
            table.load(data.get(name, {}))
        meta = msgspec.json.decode(data.get(META_TABLE, {}).get("1", b"{}"))
        folded_through, self._seq = meta.get("folded_through", 0), meta.get("seq", 0)
        self._ledger.open()
        self._journal = Journal(self.path.parent, f"{self.path.name}.journal", folded_through)
        changes = self._journal.read(after=folded_through, type=_Change)
        legacy = None
        if "scores" in data:
            legacy = [msgspec.json.decode(raw) for raw in data["scores"].values()]
            for document in legacy:
                self._replay("scores", (document["player"], document["submission_id"]), msgspec.json.encode(document))
        return changes, folded_through, legacy

    def _replay(self, table: str, key, document: bytes) -> None:
        """Apply a change read back at start-up (blocking: may read the ledger)."""
        if table == BATCH:
            for inner, inner_key, inner_document in msgspec.json.decode(document, type=list[_Change]):
                self._replay(
                    inner, tuple(inner_key) if isinstance(inner_key, list) else inner_key, bytes(inner_document)
                )
            return
        encoded = None if document == b"null" else document
        if table != "scores":
            expires_at = None if encoded is None else msgspec.json.decode(encoded).get("expires_at")
            self._tables[table].put(key, encoded, expires_at)
            return
        seq = msgspec.json.decode(encoded, type=_Score).seq
        self._seq = max(self._seq, seq)
        if key not in self._recent and self._ledger.find(*key) is None:
            self._hold(key, seq, encoded)

    def _adopt(self, scores: list[dict]) -> None:
        """Keep the bests of a file from before the ledger, which had none: every score that was a
        new best when accepted is a candidate, and the first ranking of its game keeps the best."""
        for document in scores:
            if document["new_best"]:
                best = _best(document)
                self._tables["bests"].put((best["game"], best["player"], best["seq"]), msgspec.json.encode(best))

    async def close(self) -> None:
        """Answer every staged write, then fold the journal so the files hold everything."""
        if self._writer is not None:
            await asyncio.shield(self._writer)
        if self._folder is not None:
            await asyncio.shield(self._folder)
        if self._unfolded or self._recent:
            await self._fold(self._journal.rotate())
        self._ledger.close()
        self._unlock()

    def _lock(self) -> None:
        lock_path = self.path.with_name(f".{self.path.name}.lock")
        descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(descriptor, 32).decode(errors="replace").strip() or "unknown"
            os.close(descriptor)
            raise StoreError(
                f"the TinyDB store {self.path} is already open in another process (pid {holder}). "
                "TinyDB serves one server process only: stop the other process, or give this one its own "
                "data folder (--data)"
            ) from None
        os.ftruncate(descriptor, 0)
        os.write(descriptor, str(os.getpid()).encode())
        self._lock_fd = descriptor

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _read_file(self) -> _Database:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        try:
            return msgspec.json.decode(raw, type=_Database) if raw.strip() else {}
        except msgspec.DecodeError as error:
            raise StoreError(
                f"the database file {self.path} is corrupt ({error}). It was left untouched: restore it "
                "from a backup, or move it away to start with an empty database."
            ) from None

    # -- writes -----------------------------------------------------------------------------

    async def submit_score(
        self, game: GameInfo, player: Player, submission: ScoreSubmission
    ) -> tuple[ScoreAccepted, bool]:
        key = (player.id, submission.submission_id)
        if player.id in self._banned:
            raise PlayerBanned(self._tables["players"].get(player.id, Player).banned)
        self._save_player(player)
        document = await self._stored_score(key)
        if document is not None:
            if document["game"] != game.id or document["score"] != submission.score:
                raise SubmissionConflict(
                    f"submission_id {submission.submission_id!r} was already used for a score of "
                    f"{document['score']} in {document['game']}; use a new submission_id for a new run"
                )
            written = self._in_flight.get(key)
            if written is not None and written.done() and written.exception() is not None:
                written = self._in_flight[key] = self._request_write()
            if written is not None:
                await asyncio.shield(written)
            return self._answer(document, game), False

        self._seq += 1
        now = datetime.now(UTC)
        ranking = self._ranking(game)
        beaten = ranking.seq_of(player.id)
        new_best = ranking.offer(player.id, submission.score, self._seq, now)
        best, rank, _ = ranking.best(player.id)
        document = {
            "game": game.id,
            "player": player.id,
            "score": submission.score,
            "submission_id": submission.submission_id,
            "run": msgspec.to_builtins(submission.run),
            "at": now.isoformat(),
            "seq": self._seq,
            "best": best,
            "rank": rank,
            "players": len(ranking),
            "new_best": new_best,
        }
        encoded = msgspec.json.encode(document)
        self._hold(key, self._seq, encoded)
        self._change("scores", key, encoded)
        if new_best:
            self._replace_best(document, beaten)
        self._note_score(game, player.id, submission.score, self._seq, now)
        written = self._in_flight[key] = self._request_write()
        await asyncio.shield(written)
        if self._in_flight.get(key) is written:
            del self._in_flight[key]
        return self._answer(document, game), True

    async def _stored_score(self, key: tuple[str, str]) -> dict | None:
        """The score stored under (player, submission_id): held in memory, or read from the ledger."""
        held = self._recent.get(key)
        if held is None and self._ledger.may_hold(*key):
            found = await asyncio.to_thread(self._ledger.find, *key)
            held = self._recent.get(key)  # staged while the ledger was read: that one is newer
            if held is None:
                return found
        return None if held is None else msgspec.json.decode(held[1])

    def _drop_held(self, key: tuple[str, str]) -> None:
        self._recent_bytes -= len(self._recent.pop(key)[1])

    def _hold(self, key: tuple[str, str], seq: int, encoded: bytes) -> None:
        """Keep a score in memory until a fold appends it to the ledger."""
        previous = self._recent.get(key)
        self._recent_bytes += len(encoded) - (0 if previous is None else len(previous[1]))
        self._recent[key] = (seq, encoded)

    def _replace_best(self, document: dict, beaten: int | None) -> None:
        """Stage the score ``document`` as its player's best, in place of the one at seq ``beaten``;
        after the score itself, so no prefix of the journal holds a best without its score."""
        game, player = document["game"], document["player"]
        if beaten is not None:
            self._change("bests", (game, player, beaten), None)
        self._change("bests", (game, player, document["seq"]), msgspec.json.encode(_best(document)))

    def _save_player(self, player: Player, as_is: bool = False) -> None:
        """Keep the player as the provider describes them now; what the arcade set stays (``as_is``:
        exactly as given, for a restore)."""
        known = None if as_is else self._tables["players"].get(player.id, Player)
        if known is not None:
            player = known.refreshed(player)
        if player.banned is None:
            self._banned.discard(player.id)
        else:
            self._banned.add(player.id)
        encoded = msgspec.json.encode(player)
        stored = self._tables["players"].raw(player.id)
        if stored != encoded:
            if stored is None:
                self._issuers[player.issuer] = self._issuers.get(player.issuer, 0) + 1
            self._change("players", player.id, encoded)

    async def move_issuer(self, old: str, new: str) -> int:
        if old == new or not self._issuers.get(old):
            return 0
        players = self._tables["players"]
        movers = [player for key in list(players) if (player := players.get(key, Player)).issuer == old]
        ids = {player.id for player in movers}
        stored = await asyncio.to_thread(self._ledger.documents_of, ids)
        stored.update({key: msgspec.json.decode(held[1]) for key, held in self._recent.items() if key[0] in ids})
        scores, bests = {pid: [] for pid in ids}, {pid: [] for pid in ids}
        for (pid, _), document in stored.items():
            scores[pid].append(document)
        for key in self._tables["bests"]:
            if key[1] in ids:
                bests[key[1]].append(key)
        games = set()
        for player in movers:
            moved = msgspec.structs.replace(player, id=player_id(new, player.subject), issuer=new)
            games |= await self._merge(player, moved, scores[player.id], bests[player.id])
        for game in games:  # ranked again from the bests at next use
            self._rankings.pop(game, None)
        self._forget_timeline()
        await asyncio.shield(self._request_write())
        return len(movers)

    async def _merge(self, old: Player, new: Player, scores: list[dict], bests: list[tuple]) -> set[str]:
        """Stage moving ``old``'s scores and the keys of its bests to ``new``; answer the games they were in.

        The journal gets the changes in this order, so whatever prefix of them a
        crash leaves is a state reads can serve and a second move completes: the
        player first, then each score's copy, then the bests, and the old player
        last. The ledger keeps the old copies as evidence; no board shows them.
        """
        if self._tables["players"].raw(new.id) is None:
            self._save_player(new)
        for document in sorted(scores, key=_by_seq):
            moved = {**document, "player": new.id}
            there = await self._stored_score((new.id, document["submission_id"]))
            if there is not None and (there["game"], there["score"]) != (document["game"], document["score"]):
                moved["submission_id"] = f"{document['submission_id']}~{old.id}"  # another run: keep it apart
                there = None
            if there is None or there["seq"] > document["seq"]:  # the same run counts once, as first stored
                encoded = msgspec.json.encode(moved)
                self._hold((new.id, moved["submission_id"]), moved["seq"], encoded)
                self._change("scores", (new.id, moved["submission_id"]), encoded)
        games = set()
        for game, player, seq in bests:
            best = {**self._tables["bests"].get((game, player, seq)), "player": new.id}  # ranking keeps the better
            self._change("bests", (game, new.id, seq), msgspec.json.encode(best))
            self._change("bests", (game, player, seq), None)
            games.add(game)
        self._issuers[old.issuer] -= 1
        self._change("players", old.id, None)
        return games

    async def issuers(self) -> list[str]:
        return [issuer for issuer, count in self._issuers.items() if count]

    def _change(self, table: str, key, document: bytes | None, expires_at: float | None = None) -> None:
        """Stage a change: visible at once, journaled by the next write, in the files at the next fold."""
        if table != "scores":
            self._tables[table].put(key, document, expires_at)
        raw = msgspec.Raw(b"null" if document is None else document)
        self._pending.append([table, list(key) if isinstance(key, tuple) else key, raw])

    @contextmanager
    def _together(self):
        """The changes staged inside, which a crash must not part (a re-adjudication, a change and its
        audit entry), are journaled as one line, which a start-up replays whole or, torn, not at all.
        Nothing inside may await: the writer takes what is pending whenever the loop runs it."""
        start = len(self._pending)
        yield
        lines = self._pending[start:]
        del self._pending[start:]
        self._pending.append([BATCH, None, msgspec.Raw(msgspec.json.encode(lines))])

    def _request_write(self) -> asyncio.Future:
        """The future of the next durable write, which will include everything staged so far."""
        self._write_requested = True
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_loop())
        return self._next_write

    async def _write_loop(self) -> None:
        """Group commit: each pass appends everything staged since the previous pass, with one fsync."""
        loop = asyncio.get_running_loop()
        while self._write_requested:
            await asyncio.sleep(0)  # let requests already in this loop iteration join the write
            self._write_requested = False
            written, self._next_write = self._next_write, loop.create_future()
            batch, self._pending = self._pending, []
            try:
                if batch:
                    await asyncio.to_thread(self._journal.append, batch)
            except Exception as error:  # disk full, permissions: tell the waiters, keep the changes
                self._pending[:0] = batch
                written.set_exception(
                    StoreUnavailable(f"could not write to {self.path.parent}: {error}; retry with the same request")
                )
                written.exception()  # retrieved: callers that left already need no warning
                continue
            written.set_result(None)
            self._unfolded += len(batch)
            if self._fold_due() and (self._folder is None or self._folder.done()):
                self._folder = asyncio.create_task(self._fold(self._journal.rotate()))

    def _fold_due(self) -> bool:
        held = sum(len(table) for table in self._tables.values())
        return self._unfolded >= max(self.fold_every, held // FOLD_SHARE) or self._recent_bytes >= FOLD_BYTES

    async def _fold(self, sealed: int) -> None:
        """Make the files hold every journal generation up to ``sealed``, then drop those generations.

        The new scores go to the ledger first, then the main file is replaced; a
        crash between the two leaves the journal to replay, and the ledger's index
        to recognise the scores it already holds. Only the blocking work runs in a
        thread; the tables change on the loop, while requests go on staging.
        """
        self._unfolded = 0
        now = time.time()
        for table in self._tables.values():
            table.drop_expired(now)
        scores = list(self._recent.items())
        erased = set(self._tables["erased"])
        try:
            if erased:
                await asyncio.to_thread(self._ledger.erase, erased)
                for player in erased:  # the main file written below no longer needs the tombstone
                    self._tables["erased"].put(player, None)
            if scores:
                await asyncio.to_thread(self._ledger.append, sorted(held for _, held in scores))
                for key, held in scores:
                    if self._recent.get(key) is held:
                        del self._recent[key]
                        self._recent_bytes -= len(held[1])
            meta = msgspec.json.encode({"folded_through": sealed, "seq": self._seq})
            tables = [(name, table.entries()) for name, table in self._tables.items()]
            tables.append((META_TABLE, [b'"1": ' + meta]))
            await asyncio.to_thread(lambda: write_atomically(self.path, database_bytes(tables)))
        except OSError as error:  # the journal still holds it all: the next fold tries again
            log.warning("could not fold the journal into %s: %s; it will be tried again", self.path.parent, error)
            self._unfolded = self.fold_every
            return
        self._journal.discard_through(sealed)

    # -- moderation and players' own data ---------------------------------------------------

    async def moderate(self, change: Moderation, games: list[GameInfo]) -> StoredAudit:
        """Whatever it reads comes first: the change and its audit entry are then staged with no
        await between, as one journal line."""
        player = self._tables["players"].get(change.player, Player)
        if player is None and change.action not in EVENT_ACTIONS:
            raise NotStored(f"no player {change.player!r} in this arcade")
        game, before = None, None
        if change.action in ("hide", "unhide"):
            key = (change.player, change.submission_id or "")
            document = await self._stored_score(key)
            if document is None:
                raise NotStored(f"player {change.player!r} has no score {change.submission_id!r}")
            game = document["game"]
            found = next((info for info in games if info.id == game), None)
            if found is None:
                raise StoreError(f"a score of {game!r}, which is not one of the games given")
            scores = await asyncio.to_thread(self._ledger.documents_of, {change.player})
        with self._together():
            if change.action in EVENT_ACTIONS:
                before = change.before
            elif change.action in ("hide", "unhide"):
                self._change("hidden", key, _hidden(document) if change.action == "hide" else None)
                self._rank_again(found, change.player, scores)
            else:
                if change.action == "ban":
                    before, player.banned = player.banned, change.reason
                elif change.action == "unban":
                    before, player.banned = player.banned, None
                elif change.action == "rename":
                    before, player.name, player.name_locked = player.name, change.value or player.name, True
                else:
                    before, player.picture, player.picture_locked = player.picture, change.value, True
                self._save_player(player, as_is=True)
                if change.action in ("ban", "unban"):
                    self._rankings.clear()  # ranked again at next use, with or without the player
                    self._window_rankings.clear()
            entry = self._stage_audit(change, game, before)
        await asyncio.shield(self._request_write())
        return entry

    def _stage_audit(self, change: Moderation, game: str | None, before: str | None) -> StoredAudit:
        """Stage the audit entry of ``change``, to be made durable with the change itself."""
        entry = StoredAudit(
            seq=1 + max(self._tables["audit"], default=0),
            at=datetime.now(UTC),
            **{**msgspec.structs.asdict(change), "game": game, "before": before},
        )
        self._change("audit", entry.seq, msgspec.json.encode(entry))
        return entry

    def _rank_again(self, game: GameInfo, player: str, documents: dict) -> None:
        """Stage the player's best in ``game`` from their scores that are not hidden: ``documents``, the
        ledger's, and those not yet folded into it."""
        documents.update({key: msgspec.json.decode(held[1]) for key, held in self._recent.items() if key[0] == player})
        hidden = self._tables["hidden"]
        shown = [doc for key, doc in documents.items() if doc["game"] == game.id and key not in hidden]
        for key in self._tables["bests"]:
            if key[:2] == (game.id, player):
                self._change("bests", key, None)
        if shown:
            best = min(shown, key=lambda doc: (game.ordered(doc["score"]), doc["seq"]))
            self._change("bests", (game.id, player, best["seq"]), msgspec.json.encode(_best(best)))
        self._rankings.pop(game.id, None)
        self._window_rankings.clear()

    async def audit_log(self, limit: int, before: int | None = None) -> list[StoredAudit]:
        audit = self._tables["audit"]
        seqs = sorted((seq for seq in audit if before is None or seq < before), reverse=True)[:limit]
        return [audit.get(seq, StoredAudit) for seq in seqs]

    async def scores_of(self, player_id: str, limit: int) -> list[StoredScore]:
        documents = await asyncio.to_thread(self._ledger.documents_of, {player_id})
        documents.update(
            {key: msgspec.json.decode(held[1]) for key, held in self._recent.items() if key[0] == player_id}
        )
        newest = sorted(documents.values(), key=_by_seq, reverse=True)[:limit]
        hidden = self._tables["hidden"]
        return [
            msgspec.convert({**doc, "hidden": (doc["player"], doc["submission_id"]) in hidden}, StoredScore)
            for doc in newest
        ]

    async def delete_player(self, player_id: str) -> bool:
        """Staged like any change, then folded at once: the fold erases the ledger's copies, and
        the journal files that held the player's changes are gone when it answers."""
        player = self._tables["players"].get(player_id, Player)
        if player is None:
            return False
        for name, matches in (
            ("bests", lambda key: key[1] == player_id),
            ("hidden", lambda key: key[0] == player_id),
            ("refused", lambda key: self._tables["refused"].get(key)["player"] == player_id),
        ):
            for key in self._tables[name]:
                if matches(key):
                    self._change(name, key, None)
        for seq in self._tables["audit"]:  # the log keeps what was done, not the names
            entry = self._tables["audit"].get(seq, StoredAudit)
            if entry.player == player_id and (entry.before, entry.value) != (None, None):
                self._change("audit", seq, msgspec.json.encode(msgspec.structs.replace(entry, before=None, value=None)))
        for key in [key for key in self._recent if key[0] == player_id]:
            self._drop_held(key)
        self._issuers[player.issuer] -= 1
        self._banned.discard(player_id)
        self._change("players", player_id, None)
        self._change("erased", player_id, msgspec.json.encode({"player": player_id}))
        self._rankings.clear()
        self._window_rankings.clear()  # the timeline keeps the player's scores, which no window ranks now
        await asyncio.shield(self._request_write())
        if self._folder is not None:
            await asyncio.shield(self._folder)
        self._folder = asyncio.create_task(self._fold(self._journal.rotate()))
        await asyncio.shield(self._folder)
        if player_id in self._tables["erased"]:  # the fold could not write: the next one erases
            raise StoreUnavailable(
                f"could not erase the player's scores from {self.path.parent} yet; they are on no board, "
                "and the next fold erases them"
            )
        return True

    async def keep_refused_run(self, run: RefusedRun) -> None:
        refused = self._tables["refused"]
        seq = 1 + max(refused, default=0)
        self._change("refused", seq, msgspec.json.encode({**msgspec.to_builtins(run), "seq": seq}))
        kept = sorted(refused)
        theirs = [key for key in kept if refused.get(key)["player"] == run.player]
        for key in set(theirs[:-REFUSED_PER_PLAYER]) | set(kept[:-REFUSED_TOTAL]):
            self._change("refused", key, None)
        await asyncio.shield(self._request_write())

    async def refused_runs(self, limit: int) -> list[RefusedRun]:
        refused = self._tables["refused"]
        return [refused.get(key, RefusedRun) for key in sorted(refused, reverse=True)[:limit]]

    # -- moving an event --------------------------------------------------------------------

    async def export(self):
        """A snapshot, taken at once on the event loop before the first item: the tables' documents,
        the scores held in memory and the ledger's index (the ledger is only ever appended to, so
        what that index covers reads later as it was)."""
        if self._folder is not None:  # it changes the ledger and its index together
            await asyncio.shield(self._folder)
        now = time.time()
        players, records, counters = (
            [(key, self._tables[name].raw(key)) for key in sorted(self._tables[name])]
            for name in ("players", "records", "counters")
        )
        recent, ledger = dict(self._recent), self._ledger.snapshot()
        hidden = set(self._tables["hidden"])
        audit = [self._tables["audit"].raw(key) for key in sorted(self._tables["audit"])]
        known = {player for player, _ in players}
        for _, document in players:
            yield msgspec.json.decode(document, type=StoredPlayer)
        # Scores of players moved to another issuer stay in the ledger as evidence: no longer stored.
        stored = await asyncio.to_thread(self._ledger.latest, ledger, lambda *key: key in recent or key[0] not in known)
        held = sorted((seq, document) for key, (seq, document) in recent.items() if key[0] in known)
        in_ledger = ((packed >> 64, packed) for packed in stored)
        for chunk in _chunks(heapq.merge(in_ledger, held, key=lambda entry: entry[0]), 1000):
            for document in await asyncio.to_thread(_documents, self._ledger, chunk):
                score = msgspec.json.decode(document, type=StoredScore)
                yield (
                    msgspec.structs.replace(score, hidden=True)
                    if (score.player, score.submission_id) in hidden
                    else score
                )
        for _, document in records:
            record = msgspec.json.decode(document, type=StoredRecord)
            if record.expires_at is None or record.expires_at > now:
                yield record
        for key, document in counters:
            counter = msgspec.json.decode(document)
            window = counter["expires_at"] - max(second for second, _ in counter["buckets"]) - 1
            buckets = [(second, amount) for second, amount in counter["buckets"] if second + window + 1 > now]
            if buckets:
                yield StoredCounter(key=key, window=window, buckets=buckets)
        for document in audit:
            yield msgspec.json.decode(document, type=StoredAudit)

    async def restore(self, items: list[Stored], games: list[GameInfo]) -> None:
        known = {game.id: game for game in games}
        now = time.time()
        moderated = False
        for item in items:
            if isinstance(item, StoredPlayer):
                self._save_player(Player(**msgspec.structs.asdict(item)), as_is=True)
                moderated |= item.banned is not None
            elif isinstance(item, StoredAudit):
                self._change("audit", item.seq, msgspec.json.encode(item))
            elif isinstance(item, StoredScore):
                game = known.get(item.game)
                if game is None:
                    raise StoreError(f"a score of {item.game!r}, which is not one of the games given")
                key = (item.player, item.submission_id)
                if await self._stored_score(key) is None:
                    document = {**msgspec.structs.asdict(item), "run": msgspec.to_builtins(item.run)}
                    document["at"] = item.at.isoformat()
                    del document["hidden"]  # kept in its own table, as moderation can change it
                    encoded = msgspec.json.encode(document)
                    self._seq = max(self._seq, item.seq)
                    self._hold(key, item.seq, encoded)
                    self._change("scores", key, encoded)
                    if item.hidden:
                        self._change("hidden", key, _hidden(document))
                        moderated = True
                        continue
                    moderated |= item.player in self._banned  # offered below, then left out again
                    ranking = self._ranking(game)
                    beaten = ranking.seq_of(item.player)
                    if ranking.offer(item.player, item.score, item.seq, item.at):
                        self._replace_best(document, beaten)
                    self._forget_timeline()  # restored scores come in any order of time: read again
            elif isinstance(item, StoredRecord):
                if item.expires_at is None or item.expires_at > now:
                    self._record_version = max(self._record_version, item.version)
                    document = msgspec.json.encode(msgspec.structs.asdict(item))
                    self._change("records", (item.kind, item.key), document, item.expires_at)
            else:
                buckets = [(second, amount) for second, amount in item.buckets if second + item.window + 1 > now]
                if buckets:
                    expires_at = max(second for second, _ in buckets) + item.window + 1
                    document = {"key": item.key, "buckets": buckets, "expires_at": expires_at}
                    self._change("counters", item.key, msgspec.json.encode(document), expires_at)
        if moderated:  # ranked again at next use, without hidden scores and banned players
            self._rankings.clear()
        await asyncio.shield(self._request_write())

    # -- records and counters ---------------------------------------------------------------

    async def get_record(self, kind: str, key: str) -> Record | None:
        document = self._live_record(kind, key)
        if document is None:
            return None
        return Record(value=document["value"], version=document["version"], expires_at=document["expires_at"])

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
        current = self._live_record(kind, key)
        if (0 if current is None else current["version"]) != version:
            return None
        if audit is not None and audit.action not in EVENT_ACTIONS:
            raise StoreError(f"a record's audit entry must be an event action, not {audit.action!r}")
        # Versions follow the clock in microseconds, so they stay unique across restarts
        # even after the record holding the highest one was deleted.
        self._record_version = max(self._record_version + 1, time.time_ns() // 1000)
        document = {"kind": kind, "key": key, "value": value, "version": self._record_version, "expires_at": expires_at}
        gone = expires_at is not None and expires_at <= time.time()
        with self._together():  # the record and its audit entry: a crash keeps both or neither
            self._change("records", (kind, key), None if gone else msgspec.json.encode(document), expires_at)
            if audit is not None:
                self._stage_audit(audit, None, audit.before)
        await asyncio.shield(self._request_write())
        return Record(value=value, version=document["version"], expires_at=expires_at)

    async def add_to_counter(self, key: str, now: int, window: int, amount: int = 1) -> int:
        document = self._tables["counters"].get(key)
        buckets = {} if document is None else {second: n for second, n in document["buckets"] if second >= now - window}
        if amount:
            buckets[now] = buckets.get(now, 0) + amount
            expires_at = max(buckets) + window + 1
            encoded = msgspec.json.encode({"key": key, "buckets": sorted(buckets.items()), "expires_at": expires_at})
            self._change("counters", key, encoded, expires_at)
        total = sum(n for second, n in buckets.items() if second <= now)
        if amount:
            await asyncio.shield(self._request_write())
        return total

    def _live_record(self, kind: str, key: str) -> dict | None:
        document = self._tables["records"].get((kind, key))
        if document is None or (document["expires_at"] is not None and document["expires_at"] <= time.time()):
            return None
        return document

    # -- reads ------------------------------------------------------------------------------

    async def leaderboard(self, game: GameInfo, limit: int, cursor: str | None = None) -> LeaderboardPage:
        return self._page_after(game, self._ranking(game), limit, cursor)

    async def around(self, game: GameInfo, player_id: str, limit: int) -> LeaderboardPage:
        return self._page_around(game, self._ranking(game), player_id, limit)

    def _page_after(self, game: GameInfo, ranking: Ranking, limit: int, cursor: str | None) -> LeaderboardPage:
        start = 0
        if cursor:
            try:
                start = ranking.index_after(*decode_cursor(cursor))
            except ValueError:
                raise BadCursor(f"cursor {cursor!r} was not handed out by this leaderboard") from None
        return self._page(game, ranking, start, limit)

    def _page_around(self, game: GameInfo, ranking: Ranking, player_id: str, limit: int) -> LeaderboardPage:
        position = ranking.position(player_id)
        if position is None:
            return LeaderboardPage(game=game.id, players=len(ranking), entries=[])
        return self._page(game, ranking, position - (limit - 1) // 2, limit)

    async def player(self, player_id: str) -> Player | None:
        return self._tables["players"].get(player_id, Player)

    async def player_bests(self, player_id: str, games: list[GameInfo]) -> list[PlayerBest]:
        bests = []
        for game in games:
            found = self._ranking(game).best(player_id)
            if found is not None:
                score, rank, at = found
                bests.append(PlayerBest(game=game.id, score=score, rank=rank, at=at))
        return bests

    def _page(self, game: GameInfo, ranking: Ranking, start: int, limit: int) -> LeaderboardPage:
        rows = ranking.entries(start, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        players = self._tables["players"]
        through = self._adjudication_of(game.id)["through"]
        entries = [
            LeaderboardEntry(
                rank=rank,
                player=players.get(pid, Player).ref(),
                score=score,
                at=at,
                verification="readjudicated" if key[1] <= through else "verified",
            )
            for rank, pid, score, at, key in rows
        ]
        next_cursor = encode_cursor(rows[-1][4]) if more else None
        return LeaderboardPage(game=game.id, players=len(ranking), entries=entries, next_cursor=next_cursor)

    def _ranking(self, game: GameInfo) -> Ranking:
        """The game's ranking, built on first use from the stored bests."""
        ranking = self._rankings.get(game.id)
        if ranking is None:
            bests = self._tables["bests"]
            rows = [bests.get(key, _Best) for key in bests if key[0] == game.id and key[1] not in self._banned]
            ranking, beaten = Ranking.of_bests(
                game, ((row.player, row.score, row.seq, datetime.fromisoformat(row.at)) for row in rows)
            )
            for player, seq in beaten:  # journaled with the next write; dropped again if a crash loses it
                self._change("bests", (game.id, player, seq), None)
            self._rankings[game.id] = ranking
        return ranking

    # -- time windows and re-adjudication ---------------------------------------------------

    async def leaderboard_between(
        self, game: GameInfo, start: datetime, end: datetime, limit: int, cursor: str | None = None
    ) -> LeaderboardPage:
        return self._page_after(game, await self._window_ranking(game, start, end), limit, cursor)

    async def around_between(
        self, game: GameInfo, start: datetime, end: datetime, player_id: str, limit: int
    ) -> LeaderboardPage:
        return self._page_around(game, await self._window_ranking(game, start, end), player_id, limit)

    async def _window_ranking(self, game: GameInfo, start: datetime, end: datetime) -> Ranking:
        """Each player's best of the window, ranked once from the timeline and then kept up to date by
        the scores that arrive (a few windows are kept: the event's boards are few)."""
        key = (game.id, start, end)
        ranking = self._window_rankings.get(key)
        if ranking is None:
            timeline = await self._read_timeline()
            changes = self._changes_of(game.id)
            hidden = {self._tables["hidden"].get(key)["seq"] for key in self._tables["hidden"]}
            players, banned = self._tables["players"], self._banned
            candidates = (
                (player, changes.get(seq, score), seq, at)
                for player, score, seq, at in timeline.between(game.id, start, end)
                if changes.get(seq, score) is not None
                and seq not in hidden
                and player in players  # not deleted
                and player not in banned
            )
            ranking, _ = Ranking.of_bests(game, candidates)
            if self._timeline is timeline:  # not forgotten meanwhile
                if len(self._window_rankings) >= WINDOWS_KEPT:
                    del self._window_rankings[next(iter(self._window_rankings))]
                self._window_rankings[key] = ranking
        return ranking

    async def _read_timeline(self) -> Timeline:
        """The timeline, read from the ledger once (in a thread, from a snapshot taken on the loop, as
        :meth:`export` does); scores accepted meanwhile wait in the backlog."""
        while self._timeline is None:
            if self._timeline_task is None or self._timeline_task.done():
                self._timeline_task = asyncio.create_task(self._build_timeline())
            await asyncio.shield(self._timeline_task)
        return self._timeline

    async def _build_timeline(self) -> None:
        if self._folder is not None:
            await asyncio.shield(self._folder)
        recent, snapshot = dict(self._recent), self._ledger.snapshot()
        known = set(self._tables["players"])
        backlog = self._backlog = []
        heads = await asyncio.to_thread(self._ledger.heads, snapshot, lambda *key: key in recent or key[0] not in known)
        if self._backlog is not backlog:  # forgotten meanwhile (an issuer moved): read again
            return
        held = [msgspec.json.decode(document, type=Head) for _, document in recent.values()]
        heads += [head for head in held if head.player in known]
        rows = ((head.game, head.player, head.score, head.seq, datetime.fromisoformat(head.at)) for head in heads)
        timeline = await asyncio.to_thread(Timeline.of, rows)  # sorted once, off the loop
        if self._backlog is not backlog:
            return
        for score in backlog:
            timeline.add(*score)
        self._timeline, self._backlog = timeline, None

    def _note_score(self, game: GameInfo, player: str, score: int, seq: int, at: datetime) -> None:
        """A score just accepted joins the timeline (or its backlog) and the windows it falls in."""
        if self._timeline is not None:
            self._timeline.add(game.id, player, score, seq, at)
        elif self._backlog is not None:
            self._backlog.append((game.id, player, score, seq, at))
        for (game_id, start, end), ranking in self._window_rankings.items():
            if game_id == game.id and start <= at < end:
                ranking.offer(player, score, seq, at)

    def _forget_timeline(self) -> None:
        """Scores changed under the timeline (moved, restored, re-adjudicated): read it again at next use."""
        self._timeline, self._backlog = None, None
        self._window_rankings.clear()

    def _adjudication_of(self, game_id: str) -> dict:
        return self._tables["adjudications"].get(game_id) or NO_ADJUDICATION

    def _changes_of(self, game_id: str) -> dict[int, int | None]:
        return {seq: value for seq, value in self._adjudication_of(game_id)["changes"]}

    async def adjudication(self, game: GameInfo) -> Adjudication | None:
        document = self._tables["adjudications"].get(game.id)
        if document is None:
            return None
        return Adjudication(
            version=document["version"],
            through=document["through"],
            at=datetime.fromisoformat(document["at"]),
            changes=self._changes_of(game.id),
        )

    async def publish_adjudication(
        self,
        game: GameInfo,
        version: str,
        through: int,
        changes: dict[int, int | None],
        *,
        audit: Moderation | None = None,
    ) -> Archive:
        """The archive file is written (and synced) first; then the new values, the bests they change,
        the archive's listing and the audit entry are staged at once, with no await between, and
        journaled as one line: a reader sees the old board or the new one, and a crash leaves one or
        the other."""
        timeline = await self._read_timeline()
        ranking = self._ranking(game)
        document = dict(self._adjudication_of(game.id))
        now = datetime.now(UTC)
        archive = Archive(
            id=1 + max((entry["id"] for entry in document["archives"]), default=0),
            game=game.id,
            at=now,
            version=version,
            players=len(ranking),
        )
        audit = None if audit is None else adjudication_audit(audit, archive.id)
        void = {seq for seq, value in changes.items() if value is None}
        rows = self._page(game, ranking, 0, len(ranking)).entries
        seqs = [key[1] for *_, key in ranking.entries(0, len(ranking))]
        lines = [msgspec.json.encode(archive)]
        for entry, seq in zip(rows, seqs):
            if seq in void:
                entry.verification = "no_longer_verifies"
            lines.append(msgspec.json.encode(entry))
        await asyncio.to_thread(self._write_archive, game.id, archive.id, lines)
        owners = {player for player, _, seq, _ in timeline.between(game.id, EPOCH_START, FAR_FUTURE) if seq in changes}
        merged = {**self._changes_of(game.id), **changes}
        best: dict[str, tuple] = {}
        for player, score, seq, at in timeline.of_players(game.id, owners):
            value = merged.get(seq, score)
            if value is not None and (player not in best or (game.ordered(value), seq) < best[player][0]):
                best[player] = ((game.ordered(value), seq), value, at)
        document.update(
            game=game.id,
            version=version,
            through=max(through, document["through"]),
            at=now.isoformat(),
            changes=sorted(merged.items()),
            archives=[*document["archives"], msgspec.to_builtins(archive)],
        )
        with self._together():
            for player in owners:
                beaten = ranking.seq_of(player)
                if beaten is not None:
                    self._change("bests", (game.id, player, beaten), None)
                if player in best:
                    (_, seq), value, at = best[player]
                    reached = {"game": game.id, "player": player, "score": value, "seq": seq, "at": at.isoformat()}
                    self._change("bests", (game.id, player, seq), msgspec.json.encode(reached))
            self._change("adjudications", game.id, msgspec.json.encode(document))
            if audit is not None:
                self._stage_audit(audit, None, audit.before)
        self._rankings.pop(game.id, None)
        self._window_rankings.clear()
        await asyncio.shield(self._request_write())
        return archive

    def _write_archive(self, game_id: str, archive_id: int, lines: list[bytes]) -> None:
        self._archives.mkdir(exist_ok=True)
        write_atomically(self._archives / f"{game_id}.{archive_id}.jsonl", b"\n".join(lines) + b"\n")

    async def archives(self, game: GameInfo) -> list[Archive]:
        return [msgspec.convert(entry, Archive) for entry in self._adjudication_of(game.id)["archives"]]

    async def archived_board(
        self, game: GameInfo, archive_id: int, limit: int, cursor: str | None = None
    ) -> LeaderboardPage | None:
        """Reads the archive's file line by line up to the page (archives are browsed, not polled)."""
        known = {archive.id: archive for archive in await self.archives(game)}
        if archive_id not in known:
            return None
        first = _position(cursor)
        lines = await asyncio.to_thread(self._archive_lines, game.id, archive_id, first, limit + 1)
        entries = [msgspec.json.decode(line, type=LeaderboardEntry) for line in lines[:limit]]
        more = len(lines) > limit
        return LeaderboardPage(
            game=game.id,
            players=known[archive_id].players,
            entries=entries,
            next_cursor=str(first + limit) if more else None,
        )

    def _archive_lines(self, game_id: str, archive_id: int, first: int, count: int) -> list[bytes]:
        found = []
        with open(self._archives / f"{game_id}.{archive_id}.jsonl", "rb") as lines:
            next(lines)  # the archive's own description
            for number, line in enumerate(lines):
                if number >= first + count:
                    break
                if number >= first:
                    found.append(line)
        return found

    def _answer(self, document: dict, game: GameInfo) -> ScoreAccepted:
        """The answer stored with the score; one stored before answers held the board's size says the
        board's size now (at least its rank)."""
        players = document.get("players") or max(document["rank"], len(self._ranking(game)))
        return ScoreAccepted(
            game=document["game"],
            submission_id=document["submission_id"],
            player=self._tables["players"].get(document["player"], Player).ref(),
            score=document["score"],
            best=document["best"],
            rank=document["rank"],
            players=players,
            new_best=document["new_best"],
            at=datetime.fromisoformat(document["at"]),
        )


def _position(cursor: str | None) -> int:
    """The entry an archived board's cursor points at: its position."""
    if not cursor:
        return 0
    if not cursor.isdigit() or len(cursor) > 12:
        raise BadCursor(f"cursor {cursor!r} was not handed out by this archived board")
    return int(cursor)


def _best(document: dict) -> dict:
    """A player's best in a game, as the bests table keeps it, from the score that reached it."""
    return {key: document[key] for key in ("game", "player", "score", "seq", "at")}


def _hidden(document: dict) -> bytes:
    """A hidden score, as the ``hidden`` table keeps it."""
    return msgspec.json.encode({key: document[key] for key in ("player", "submission_id", "game", "seq")})


def _by_seq(document: dict) -> int:
    return document["seq"]


def _documents(ledger: Ledger, entries: list[tuple[int, int | bytes]]) -> list[bytes]:
    """The documents of ``(seq, where)`` entries: held in memory (bytes), or where the ledger has them."""
    return [where if isinstance(where, bytes) else ledger.read(where) for _, where in entries]


def _chunks(entries, size: int):
    """Lists of ``size`` entries (the last one shorter) from an iterator."""
    chunk = []
    for entry in entries:
        chunk.append(entry)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
