"""Every accepted score with its run, in a TinyDB file that only ever grows, and a sorted index of it.

Why: runs are evidence, read again only when a badge retries a submission (or an
organiser inspects them). Keeping them in memory made the server's size follow
the size of the runs, and rewriting them at every fold made a fold's cost follow
everything ever stored. Here a fold appends the new scores in place, before the
file's closing braces, so the file stays a TinyDB database (``TinyDB(path)
.table("scores")`` reads it) and no byte is written twice; memory holds only
16 bytes a score: a hash of (player, submission_id) and where the document is.

The index file is rewritten, atomically, after each append. It names the ledger
length it covers; a start-up cuts what lies beyond it (an append a crash
interrupted: those scores are still in the store's journal) and closes the file.
Without an index file the ledger is read once to build it again.
"""

import hashlib
import os
import struct
import sys
from array import array
from bisect import bisect_left, bisect_right
from pathlib import Path

import msgspec

from arcade.sdk.durable import fsync_folder, write_and_sync, write_atomically
from arcade.sdk.errors import ArcadeError

HEAD = b'{"scores": {'
TAIL = b"\n}}\n"
_HEADER = struct.Struct("<8sQQ")
_MAGIC = b"arcidx1\0"
_LENGTH_BITS = 24
"""A position packs a document's offset and its length (under 16 MiB: a score body is at most 512 KiB)."""


class LedgerDamaged(ArcadeError):
    """The ledger or its index cannot be read as written."""


class _Key(msgspec.Struct):
    player: str
    submission_id: str


class _Head(msgspec.Struct):
    player: str
    submission_id: str
    seq: int


class Head(msgspec.Struct):
    """A score document without its run."""

    game: str
    player: str
    submission_id: str
    score: int
    seq: int
    at: str


def key_hash(player: str, submission_id: str) -> int:
    """A stable 64-bit hash of a submission's key; equal hashes are told apart by reading the documents."""
    digest = hashlib.blake2b(f"{player}\n{submission_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


class Ledger:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.index_path = self.path.with_name(f"{self.path.name}.index")
        self._hashes = array("Q")
        self._positions = array("Q")
        self._end = 0
        self._reader: int | None = None

    def __len__(self) -> int:
        return len(self._hashes)

    # -- opening (blocking) -----------------------------------------------------------------

    def open(self) -> None:
        """Load the index, make the file end where the index says, and keep a descriptor to read it."""
        if not self.path.exists():
            write_atomically(self.path, HEAD + TAIL)
        if self.index_path.exists():
            self._load_index()
        else:
            self._rebuild_index()
        size = self.path.stat().st_size
        if size < self._end:
            raise LedgerDamaged(f"{self.path} is shorter ({size} bytes) than its index says ({self._end})")
        with open(self.path, "r+b") as ledger:
            ledger.seek(self._end - len(TAIL))
            if size != self._end or ledger.read(len(TAIL)) != TAIL:
                ledger.seek(self._end - len(TAIL))  # an append a crash cut short: its scores are in the journal
                ledger.write(TAIL)
                ledger.truncate(self._end)
                ledger.flush()
                os.fsync(ledger.fileno())
        self._reader = os.open(self.path, os.O_RDONLY)

    def close(self) -> None:
        if self._reader is not None:
            os.close(self._reader)
            self._reader = None

    def _load_index(self) -> None:
        raw = self.index_path.read_bytes()
        try:
            magic, count, end = _HEADER.unpack_from(raw)
        except struct.error:
            magic, count, end = b"", 0, 0
        if magic != _MAGIC or len(raw) != _HEADER.size + 16 * count:
            raise LedgerDamaged(f"{self.index_path} is not an index this store wrote")
        body = memoryview(raw)[_HEADER.size :]
        self._hashes, self._positions = array("Q"), array("Q")
        self._hashes.frombytes(body[: 8 * count])
        self._positions.frombytes(body[8 * count :])
        self._hashes, self._positions = _little_endian(self._hashes), _little_endian(self._positions)
        self._end = end

    def _rebuild_index(self) -> None:
        """Read the whole ledger once (an index file was lost or never written) and index it."""
        pairs = []
        for offset, document in self._documents():
            key = msgspec.json.decode(document, type=_Key)
            pairs.append((key_hash(key.player, key.submission_id), offset << _LENGTH_BITS | len(document)))
        pairs.sort()
        self._hashes = array("Q", [pair[0] for pair in pairs])
        self._positions = array("Q", [pair[1] for pair in pairs])
        self._end = self.path.stat().st_size
        self._write_index()

    def _documents(self, end: int | None = None):
        """Each document of the ledger file and its offset, in the order they were appended (those
        before ``end``: what an index of that length covers, which later appends never rewrite)."""
        with open(self.path, "rb") as ledger:
            if ledger.readline().rstrip(b"\n") != HEAD:
                raise LedgerDamaged(f"{self.path} does not start as a ledger of scores")
            offset = len(HEAD) + 1
            for line in ledger:
                if line == b"}}\n" or (end is not None and offset >= end - len(TAIL)):
                    return
                start = line.find(b'": ') + 3
                if start < 3:
                    raise LedgerDamaged(f"{self.path}: a line at byte {offset} is not a score")
                document = line.rstrip(b"\n").removesuffix(b",")
                yield offset + start, document[start:]
                offset += len(line)
        raise LedgerDamaged(f"{self.path} ends before its closing braces: an index file would say where")

    # -- reading (blocking, small) ----------------------------------------------------------

    def find(self, player: str, submission_id: str) -> dict | None:
        """The latest document stored for this key, or None. Reads only that document from the file."""
        wanted = key_hash(player, submission_id)
        low = bisect_left(self._hashes, wanted)
        high = bisect_right(self._hashes, wanted, low)
        for position in sorted(self._positions[low:high], reverse=True):  # later appends replace earlier ones
            document = msgspec.json.decode(self._read(position))
            if (document["player"], document["submission_id"]) == (player, submission_id):
                return document
        return None

    def may_hold(self, player: str, submission_id: str) -> bool:
        """Whether the index has this key's hash (no file read): False means the ledger lacks it."""
        wanted = key_hash(player, submission_id)
        index = bisect_left(self._hashes, wanted)
        return index < len(self._hashes) and self._hashes[index] == wanted

    def documents_of(self, players: set[str]) -> dict[tuple[str, str], dict]:
        """Every stored document of these players, the latest per key (reads the whole file)."""
        found = {}
        for _, document in self._documents():
            key = msgspec.json.decode(document, type=_Key)
            if key.player in players:
                found[key.player, key.submission_id] = msgspec.json.decode(document)
        return found

    def snapshot(self) -> tuple[array, array, int]:
        """The index as it is now (appends replace its arrays, never change them), for :meth:`latest`."""
        return self._hashes, self._positions, self._end

    def latest(self, snapshot: tuple[array, array, int], leave_out) -> list[int]:
        """Where the latest document of each key of a :meth:`snapshot` is, in the order of their
        ``seq``, leaving out the keys ``leave_out(player, submission_id)`` is true of (blocking:
        reads what the snapshot covers once; later appends do no harm).

        Each answer packs ``seq << 64 | position``: an int a score, not a document, so a million
        scores fit.
        """
        found = [head.seq << 64 | position for head, position in self._latest(snapshot, leave_out, _Head)]
        found.sort()  # the file is in seq order but for scores moved from another issuer: nearly sorted
        return found

    def heads(self, snapshot: tuple[array, array, int], leave_out) -> list["Head"]:
        """What ranking needs of the latest document of each key of a :meth:`snapshot` (never the runs),
        for the store's timeline of scores; ``leave_out`` as for :meth:`latest` (blocking)."""
        return [head for head, _ in self._latest(snapshot, leave_out, Head)]

    def _latest(self, snapshot: tuple[array, array, int], leave_out, type):
        """Each latest document a snapshot covers, decoded as ``type`` (which has the key and seq), and where it is."""
        hashes, positions, end = snapshot
        for offset, document in self._documents(end):
            head = msgspec.json.decode(document, type=type)
            position = offset << _LENGTH_BITS | len(document)
            if not leave_out(head.player, head.submission_id) and self._is_latest(hashes, positions, head, position):
                yield head, position

    def _is_latest(self, hashes: array, positions: array, key: _Head, position: int) -> bool:
        """No later document of the ledger has this key (an index entry with its hash and a later
        position is read only when there is one)."""
        wanted = key_hash(key.player, key.submission_id)
        low = bisect_left(hashes, wanted)
        later = [other for other in positions[low : bisect_right(hashes, wanted, low)] if other > position]
        return not any(
            (found.player, found.submission_id) == (key.player, key.submission_id)
            for found in (msgspec.json.decode(self._read(other), type=_Key) for other in later)
        )

    def read(self, packed: int) -> bytes:
        """The document at a position :meth:`latest` answered."""
        return self._read(packed & (2**64 - 1))

    def _read(self, position: int) -> bytes:
        return os.pread(self._reader, position & ((1 << _LENGTH_BITS) - 1), position >> _LENGTH_BITS)

    # -- appending (blocking) ---------------------------------------------------------------

    def append(self, documents: list[tuple[int, bytes]]) -> None:
        """Append ``(seq, document)`` pairs in place, fsync, then index them; a failure changes nothing."""
        at, chunks, pairs = self._end - len(TAIL), [], []
        cursor = at
        for seq, document in documents:
            separator = b",\n" if len(self._hashes) or chunks else b"\n"
            prefix = separator + b'"%d": ' % seq
            key = msgspec.json.decode(document, type=_Key)
            pairs.append(
                (key_hash(key.player, key.submission_id), (cursor + len(prefix)) << _LENGTH_BITS | len(document))
            )
            chunks += (prefix, document)
            cursor += len(prefix) + len(document)
        payload = b"".join(chunks) + TAIL
        descriptor = os.open(self.path, os.O_WRONLY)
        try:
            os.lseek(descriptor, at, os.SEEK_SET)
            try:
                write_and_sync(descriptor, payload)
            except BaseException:
                os.lseek(descriptor, at, os.SEEK_SET)
                os.write(descriptor, TAIL)
                os.ftruncate(descriptor, self._end)
                raise
        finally:
            os.close(descriptor)
        hashes, positions = _merged(self._hashes, self._positions, sorted(pairs))
        end = at + len(payload)
        write_atomically(self.index_path, _index_bytes(hashes, positions, end))
        self._hashes, self._positions, self._end = hashes, positions, end

    # -- erasing (blocking) -----------------------------------------------------------------

    def erase(self, players: set[str]) -> None:
        """Rewrite the ledger without the documents of ``players``: a deleted player's runs leave the file.

        Why a rewrite: the ledger is otherwise never rewritten, and a deletion must really remove the
        data. It streams the file (memory stays level) into a new one, fsynced, then drops the index,
        replaces the file and indexes it again; a crash midway leaves the old ledger, or the new one
        without an index (the next start builds it), and the store's tombstone erases again.
        """
        temporary = self.path.with_name(f"{self.path.name}.erasing")
        with open(temporary, "wb") as out:
            out.write(HEAD)
            separator = b"\n"
            for _, document in self._documents(self._end):
                head = msgspec.json.decode(document, type=_Head)
                if head.player not in players:
                    out.write(separator + b'"%d": ' % head.seq + document)
                    separator = b",\n"
            out.write(TAIL)
            out.flush()
            os.fsync(out.fileno())
        self.index_path.unlink(missing_ok=True)
        fsync_folder(self.path.parent)
        os.replace(temporary, self.path)
        fsync_folder(self.path.parent)
        self.close()
        self._rebuild_index()
        self._reader = os.open(self.path, os.O_RDONLY)

    def _write_index(self) -> None:
        write_atomically(self.index_path, _index_bytes(self._hashes, self._positions, self._end))


def _merged(hashes: array, positions: array, pairs: list[tuple[int, int]]) -> tuple[array, array]:
    """The sorted index with ``pairs`` (sorted) merged in: copies runs of the old arrays, not items."""
    merged_hashes, merged_positions, start = array("Q"), array("Q"), 0
    for wanted, position in pairs:
        at = bisect_right(hashes, wanted, start)
        merged_hashes += hashes[start:at]
        merged_positions += positions[start:at]
        merged_hashes.append(wanted)
        merged_positions.append(position)
        start = at
    merged_hashes += hashes[start:]
    merged_positions += positions[start:]
    return merged_hashes, merged_positions


def _index_bytes(hashes: array, positions: array, end: int) -> bytes:
    return b"".join(
        [_HEADER.pack(_MAGIC, len(hashes), end), _little_endian(hashes).tobytes(), _little_endian(positions).tobytes()]
    )


def _little_endian(numbers: array) -> array:
    """The index is little-endian on every machine, so a data folder can move between them."""
    if sys.byteorder == "big":
        numbers = array("Q", numbers)
        numbers.byteswap()
    return numbers
