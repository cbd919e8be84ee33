"""The embedded default store: one TinyDB JSON file in the data folder, for one server process.

Why it is fast enough: TinyDB hands its storage the whole database on every
write, so a durable write per score would be a whole-file rewrite per score.
Instead a change is staged in memory (visible at once), concurrent changes share
one append to a journal with one fsync (group commit), and only then are the
waiting requests answered. Every ``fold_every`` changes, and at shutdown, the
journal is folded into the TinyDB file: msgspec encodes it and the file is
replaced atomically (temporary file, fsync, rename, fsync of the folder), off
the event loop. Reads come from in-memory indexes and never touch the files.
"""

import asyncio
import fcntl
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
from arcade.plugins.store_tinydb.journal import Journal, JournalDamaged
from arcade.plugins.store_tinydb.ranking import Ranking, decode_cursor, encode_cursor
from tinydb import Storage, TinyDB
from tinydb.table import Document, Table

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
from arcade.sdk.store import BadCursor, Record, StoreError, StoreUnavailable, SubmissionConflict

FOLD_EVERY = 2000
"""Journaled changes after which the journal is folded into the database file, by default."""
JOURNAL_TABLE = "journal"
"""The table recording which journal generations the file already holds."""


class _MemoryStorage(Storage):
    """TinyDB storage that keeps the database in memory; the store makes it durable."""

    def __init__(self, data: dict):
        self.data = data

    def read(self):
        return self.data

    def write(self, data):
        self.data = data


_Database = dict[str, dict[str, dict[str, Any]]]


class _KeyedTable:
    """A TinyDB table mirrored in memory by key, so a request reads and writes it in O(1).

    Every TinyDB write converts the whole table, so changes are staged here and
    reach the table in one batch when the journal is folded into the file.
    """

    def __init__(self, table: Table, key_of):
        self._table = table
        self.documents: dict[Any, dict] = {}
        self._doc_ids: dict[Any, int] = {}
        self._staged: set = set()
        for document in table.all():
            key = key_of(document)
            self.documents[key] = dict(document)
            self._doc_ids[key] = document.doc_id

    def put(self, key, document: dict | None) -> None:
        """Set (or, with None, delete) the document under ``key``."""
        if document is None:
            self.documents.pop(key, None)
        else:
            self.documents[key] = document
        self._staged.add(key)

    def drop_expired(self, now: float) -> None:
        for key, document in list(self.documents.items()):
            if document["expires_at"] is not None and document["expires_at"] <= now:
                self.put(key, None)

    def apply(self) -> None:
        """Replace the staged documents: the old copies go, the current ones come in (new ids)."""
        staged, self._staged = self._staged, set()
        stale = [self._doc_ids.pop(key) for key in staged if key in self._doc_ids]
        fresh = [key for key in staged if key in self.documents]
        if stale:
            self._table.remove(doc_ids=stale)
        if fresh:
            for key, doc_id in zip(fresh, self._table.insert_multiple(self.documents[key] for key in fresh)):
                self._doc_ids[key] = doc_id


class TinyDBStore:
    shareable = False

    def __init__(self, path: Path, fold_every: int = FOLD_EVERY):
        self.path = Path(path)
        self.fold_every = fold_every
        self._lock_fd: int | None = None
        self._players: dict[str, Player] = {}
        self._in_flight: dict[tuple[str, str], asyncio.Future] = {}
        self._rankings: dict[str, Ranking] = {}
        self._unranked: dict[str, list[dict]] = {}
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
            data = self._read_file()
            self._db = TinyDB(data, storage=_MemoryStorage)
            folded = self._db.table(JOURNAL_TABLE).get(doc_id=1) or {"folded_through": 0}
            self._journal = Journal(self.path.parent, f"{self.path.name}.journal", folded["folded_through"])
            changes = self._journal.read(after=folded["folded_through"])
        except JournalDamaged as error:
            self._unlock()
            raise StoreError(
                f"the journal of {self.path} is damaged ({error}). It was left untouched: restore the data "
                "folder from a backup, or move the journal file away to lose the changes it holds."
            ) from None
        except StoreError:
            self._unlock()
            raise
        self._tables = {
            "scores": _KeyedTable(self._db.table("scores"), lambda doc: (doc["player"], doc["submission_id"])),
            "players": _KeyedTable(self._db.table("players"), lambda doc: doc["id"]),
            "records": _KeyedTable(self._db.table("records"), lambda doc: (doc["kind"], doc["key"])),
            "counters": _KeyedTable(self._db.table("counters"), lambda doc: doc["key"]),
        }
        for name, key, document in changes:
            self._tables[name].put(tuple(key) if isinstance(key, list) else key, document)
        self._journal.discard_through(folded["folded_through"])
        for document in self._tables["players"].documents.values():
            self._players[document["id"]] = msgspec.convert(document, Player)
        for document in sorted(self._tables["scores"].documents.values(), key=lambda doc: doc["seq"]):
            self._unranked.setdefault(document["game"], []).append(document)
            self._seq = max(self._seq, document["seq"])
        records = self._tables["records"].documents.values()
        self._record_version = max((doc["version"] for doc in records), default=0)
        self._next_write = asyncio.get_running_loop().create_future()
        if changes:  # start from a file that holds everything
            await self._fold(self._journal.rotate())

    async def close(self) -> None:
        """Answer every staged write, then fold the journal so the file holds everything."""
        if self._writer is not None:
            await asyncio.shield(self._writer)
        if self._folder is not None:
            await asyncio.shield(self._folder)
        if self._unfolded:
            await self._fold(self._journal.rotate())
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
        self._save_player(player)
        document = self._tables["scores"].documents.get(key)
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
            return self._answer(document), False

        self._seq += 1
        now = datetime.now(UTC)
        ranking = self._ranking(game)
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
            "new_best": new_best,
        }
        self._change("scores", key, document)
        written = self._in_flight[key] = self._request_write()
        await asyncio.shield(written)
        if self._in_flight.get(key) is written:
            del self._in_flight[key]
        return self._answer(document), True

    def _save_player(self, player: Player) -> None:
        if self._players.get(player.id) != player:
            self._players[player.id] = player
            self._change("players", player.id, msgspec.to_builtins(player))

    async def move_issuer(self, old: str, new: str) -> int:
        movers = [player for player in self._players.values() if player.issuer == old != new]
        games = set()
        for player in movers:
            moved = msgspec.structs.replace(player, id=player_id(new, player.subject), issuer=new)
            games |= self._merge(player, moved)
        for game in games:  # rank again from the scores, in the order they were accepted
            self._rankings.pop(game, None)
            self._unranked[game] = sorted(
                (doc for doc in self._tables["scores"].documents.values() if doc["game"] == game),
                key=lambda doc: doc["seq"],
            )
        if movers:
            await asyncio.shield(self._request_write())
        return len(movers)

    def _merge(self, old: Player, new: Player) -> set[str]:
        """Stage moving ``old``'s scores to ``new``; answer the games they were in.

        The journal gets the changes in this order, so whatever prefix of them a
        crash leaves is a state reads can serve and a second move completes: the
        player first, then each score's copy before its original goes, and the
        old player last.
        """
        self._save_player(self._players.get(new.id, new))
        scores = self._tables["scores"].documents
        games = set()
        for key, document in [(key, doc) for key, doc in scores.items() if doc["player"] == old.id]:
            moved = {**document, "player": new.id}
            there = scores.get((new.id, document["submission_id"]))
            if there is not None and (there["game"], there["score"]) != (document["game"], document["score"]):
                moved["submission_id"] = f"{document['submission_id']}~{old.id}"  # another run: keep it apart
                there = None
            if there is None or there["seq"] > document["seq"]:  # the same run counts once, as first stored
                self._change("scores", (new.id, moved["submission_id"]), moved)
            self._change("scores", key, None)
            games.add(document["game"])
        del self._players[old.id]
        self._change("players", old.id, None)
        return games

    async def issuers(self) -> list[str]:
        return list({player.issuer for player in self._players.values()})

    def _change(self, table: str, key, document: dict | None) -> None:
        """Stage a change: visible at once, journaled by the next write, in the file at the next fold."""
        self._tables[table].put(key, document)
        self._pending.append([table, list(key) if isinstance(key, tuple) else key, document])

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
            if self._unfolded >= self.fold_every and (self._folder is None or self._folder.done()):
                self._folder = asyncio.create_task(self._fold(self._journal.rotate()))

    async def _fold(self, sealed: int) -> None:
        """Write a snapshot holding every journal generation up to ``sealed``, then drop those files.

        TinyDB's tables change only here, on the loop; the encoding and the atomic
        replace run in a thread while requests go on staging into the journal.
        """
        self._unfolded = 0
        now = time.time()
        self._tables["records"].drop_expired(now)
        self._tables["counters"].drop_expired(now)
        for table in self._tables.values():
            table.apply()
        self._db.table(JOURNAL_TABLE).upsert(Document({"folded_through": sealed}, doc_id=1))
        data = self._db.storage.data
        await asyncio.to_thread(lambda: write_atomically(self.path, msgspec.json.encode(data)))
        self._journal.discard_through(sealed)

    # -- records and counters ---------------------------------------------------------------

    async def get_record(self, kind: str, key: str) -> Record | None:
        document = self._live_record(kind, key)
        if document is None:
            return None
        return Record(value=document["value"], version=document["version"], expires_at=document["expires_at"])

    async def put_record(
        self, kind: str, key: str, value: dict[str, Any], *, version: int, expires_at: float | None = None
    ) -> Record | None:
        current = self._live_record(kind, key)
        if (0 if current is None else current["version"]) != version:
            return None
        # Versions follow the clock in microseconds, so they stay unique across restarts
        # even after the record holding the highest one was deleted.
        self._record_version = max(self._record_version + 1, time.time_ns() // 1000)
        document = {"kind": kind, "key": key, "value": value, "version": self._record_version, "expires_at": expires_at}
        gone = expires_at is not None and expires_at <= time.time()
        self._change("records", (kind, key), None if gone else document)
        await asyncio.shield(self._request_write())
        return Record(value=value, version=document["version"], expires_at=expires_at)

    async def add_to_counter(self, key: str, now: int, window: int, amount: int = 1) -> int:
        document = self._tables["counters"].documents.get(key)
        buckets = {} if document is None else {second: n for second, n in document["buckets"] if second >= now - window}
        if amount:
            buckets[now] = buckets.get(now, 0) + amount
            self._change(
                "counters", key, {"key": key, "buckets": sorted(buckets.items()), "expires_at": max(buckets) + window + 1}
            )
        total = sum(n for second, n in buckets.items() if second <= now)
        if amount:
            await asyncio.shield(self._request_write())
        return total

    def _live_record(self, kind: str, key: str) -> dict | None:
        document = self._tables["records"].documents.get((kind, key))
        if document is None or (document["expires_at"] is not None and document["expires_at"] <= time.time()):
            return None
        return document

    # -- reads ------------------------------------------------------------------------------

    async def leaderboard(self, game: GameInfo, limit: int, cursor: str | None = None) -> LeaderboardPage:
        ranking = self._ranking(game)
        start = 0
        if cursor:
            try:
                start = ranking.index_after(*decode_cursor(cursor))
            except ValueError:
                raise BadCursor(f"cursor {cursor!r} was not handed out by this leaderboard") from None
        return self._page(game, ranking, start, limit)

    async def around(self, game: GameInfo, player_id: str, limit: int) -> LeaderboardPage:
        ranking = self._ranking(game)
        position = ranking.position(player_id)
        if position is None:
            return LeaderboardPage(game=game.id, players=len(ranking), entries=[])
        return self._page(game, ranking, position - (limit - 1) // 2, limit)

    async def player(self, player_id: str) -> Player | None:
        return self._players.get(player_id)

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
        entries = [
            LeaderboardEntry(rank=rank, player=self._players[pid].ref(), score=score, at=at)
            for rank, pid, score, at, _ in rows
        ]
        next_cursor = encode_cursor(rows[-1][4]) if more else None
        return LeaderboardPage(game=game.id, players=len(ranking), entries=entries, next_cursor=next_cursor)

    def _ranking(self, game: GameInfo) -> Ranking:
        """The game's ranking, built on first use from the scores loaded at start-up."""
        ranking = self._rankings.get(game.id)
        if ranking is None:
            ranking = self._rankings[game.id] = Ranking(game)
            for document in self._unranked.pop(game.id, ()):
                at = datetime.fromisoformat(document["at"])
                ranking.offer(document["player"], document["score"], document["seq"], at)
        return ranking

    def _answer(self, document: dict) -> ScoreAccepted:
        return ScoreAccepted(
            game=document["game"],
            submission_id=document["submission_id"],
            player=self._players[document["player"]].ref(),
            score=document["score"],
            best=document["best"],
            rank=document["rank"],
            new_best=document["new_best"],
            at=datetime.fromisoformat(document["at"]),
        )
