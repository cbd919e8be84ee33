"""Moving an event between stores: ``arcade export`` writes everything a store holds, and the
built-in provider's signing keys, to one file; ``arcade import`` loads that file into another store.

The file is JSON lines, read and written a line at a time so a million scores never sit in
memory: a header, the signing keys, the store's items in the order :meth:`Store.export` yields
them, and a closing line with the count of each kind and the SHA-256 of every line before it.
It holds secrets (the signing keys, the accounts' password hashes), so it is made readable by its
owner alone, and it appears under its name only once it is whole.

An import reads the whole file before it changes anything, and goes on only if the file is
complete and its checksum matches. It refuses a store that holds anything the file does not hold
as it is (an event of its own), and restoring is idempotent, so an import cut short runs again to
the same end. At the end it reads the store back and compares it with the file, item by item.
"""

import hashlib
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from arcade.platform.assembly import Arcade
from arcade.sdk.durable import fsync_folder
from arcade.sdk.errors import ArcadeError
from arcade.sdk.store import (
    Stored,
    StoredCounter,
    StoredPlayer,
    StoredAudit,
    StoredRecord,
    StoredScore,
)

FORMAT = "badge-arcade-export"
VERSION = 1
"""The version of the file's format this arcade writes and reads."""
BATCH_ITEMS = 1000
BATCH_BYTES = 4 * 2**20
"""A restore is given this many items, or this many bytes of them, at a time: one durable write each."""

Progress = Callable[[str, int, int | None, int], None]
"""Told (stage, bytes done, bytes in all or None if unknown, items done) as a stage goes on."""


class TransferError(ArcadeError):
    """An export file that cannot be imported, or a store that cannot take it; nothing was changed."""


class Header(msgspec.Struct, kw_only=True, tag="header"):
    format: str
    version: int
    created: datetime
    store: str
    """The store plugin the items were exported from."""


class SigningKeys(msgspec.Struct, kw_only=True, tag="signing-keys"):
    keys: dict[str, Any]
    """The identity provider's private JWK set."""


class End(msgspec.Struct, kw_only=True, tag="end"):
    counts: dict[str, int]
    """Lines of each kind, by their ``type``."""
    sha256: str
    """Of every line before this one, newlines included."""


Line = Header | SigningKeys | Stored | End
_encode = msgspec.json.Encoder(order="deterministic").encode
_decode = msgspec.json.Decoder(Line).decode
KINDS = {
    StoredPlayer: "player",
    StoredScore: "score",
    StoredRecord: "record",
    StoredCounter: "counter",
    StoredAudit: "audit",
}
ITEMS = tuple(KINDS)


@dataclass
class Summary:
    """What a file holds, as ``arcade export`` and ``arcade import`` report it."""

    path: Path
    counts: Counter = field(default_factory=Counter)
    """Items of each kind (``player``, ``score``, ``record``, ``counter``)."""
    records: Counter = field(default_factory=Counter)
    """Records of each record kind (``account``, ``login``...)."""
    signing_keys: int = 0
    sha256: str = ""
    size: int = 0
    games: set[str] = field(default_factory=set)
    """The games the scores are of."""
    key_set: dict | None = None
    """The signing keys the file holds (a secret)."""
    keys_used: bool = False
    """Whether an import handed the signing keys to the identity provider."""

    def add(self, item: Stored) -> None:
        self.counts[KINDS[type(item)]] += 1
        if isinstance(item, StoredRecord):
            self.records[item.kind] += 1
        elif isinstance(item, StoredScore):
            self.games.add(item.game)


async def export(arcade: Arcade, path: Path, progress: Progress) -> Summary:
    """Write everything ``arcade``'s store holds, and its provider's signing keys, to ``path``."""
    if path.exists():
        raise TransferError(f"{path} exists already; give arcade export a new file name")
    partial = path.with_name(f".{path.name}.partial")
    summary, digest, written = Summary(path), hashlib.sha256(), 0
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "wb", buffering=2**20) as out:

            def write(line: Line) -> None:
                nonlocal written
                data = _encode(line) + b"\n"
                digest.update(data)
                out.write(data)
                written += len(data)

            write(Header(format=FORMAT, version=VERSION, created=datetime.now(UTC), store=arcade.active()["store"]))
            await arcade.store.start()
            try:
                keys = await _signing_keys(arcade)
                if keys is not None:
                    write(SigningKeys(keys=keys))
                    summary.signing_keys = len(keys["keys"])
                async with aclosing(arcade.store.export()) as items:
                    async for item in items:
                        if _carried_apart(arcade, item):
                            continue
                        write(item)
                        summary.add(item)
                        if summary.counts.total() % BATCH_ITEMS == 0:
                            progress("exporting", written, None, summary.counts.total())
            finally:
                await arcade.store.close()
            counts = {**summary.counts, **({"signing-keys": 1} if keys is not None else {})}
            summary.sha256 = digest.hexdigest()
            write(End(counts=counts, sha256=summary.sha256))
            progress("exporting", written, written, summary.counts.total())
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
        fsync_folder(path.parent)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    summary.size = written
    return summary


async def import_(arcade: Arcade, summary: Summary, progress: Progress) -> Summary:
    """Load the export file :func:`check` read into ``arcade``'s store, its signing keys into its provider."""
    path = summary.path
    missing = sorted(summary.games - set(arcade.games))
    if missing:
        raise TransferError(
            f"{path} holds scores of {', '.join(missing)}, which this arcade does not have; nothing was changed. "
            "Install the game's distribution where arcade runs (arcade plugins lists the games), then import again"
        )
    games, store = list(arcade.games.values()), arcade.store
    await store.start()
    try:
        difference = await _difference(arcade, path, progress, summary.size, complete=False)
        if difference is not None:
            raise TransferError(
                f"the {arcade.active()['store']} store is not empty: {difference}; nothing was changed. arcade "
                "import fills an empty store, or finishes an import of the same file that was cut short: import "
                "into a new PostgreSQL schema ([store.postgres] schema) or an empty data folder (--data)"
            )
        save_keys = getattr(arcade.identity, "save_signing_keys", None)
        if summary.key_set is not None and save_keys is not None:
            await save_keys(summary.key_set)
            summary.keys_used = True
        batch, size, done, items = [], 0, 0, 0
        for item, length in _items(path):
            batch.append(item)
            size, done, items = size + length, done + length, items + 1
            if len(batch) == BATCH_ITEMS or size >= BATCH_BYTES:
                await store.restore(batch, games)
                progress("importing", done, summary.size, items)
                batch, size = [], 0
        if batch:
            await store.restore(batch, games)
        progress("importing", summary.size, summary.size, items)
        difference = await _difference(arcade, path, progress, summary.size, complete=True)
        if difference is not None:
            raise TransferError(
                f"after importing {path}, the {arcade.active()['store']} store does not hold what the file holds: "
                f"{difference}. Run arcade import again: it goes on where it stopped"
            )
    finally:
        await store.close()
    return summary


def check(path: Path, progress: Progress) -> Summary:
    """Read the whole file, before anything else is touched: it must be an export of a format this
    arcade reads, complete, in order, and match its checksum. Answers what it holds."""
    summary, digest, end, last, number = Summary(path), hashlib.sha256(), None, None, 0
    try:
        total = path.stat().st_size
        reader = path.open("rb")
    except OSError as error:
        raise TransferError(f"cannot read {path}: {error.strerror}; nothing was changed") from None
    with reader:
        for number, data in enumerate(reader, 1):
            if end is not None:
                raise _damaged(path, f"it goes on after its closing line (line {number - 1})")
            try:
                line = _decode(data)
            except msgspec.DecodeError as error:
                if number == 1:
                    raise TransferError(
                        f"{path} is not a file arcade export wrote ({error}); nothing was changed"
                    ) from None
                if not data.endswith(b"\n"):
                    raise _cut_short(path, number - 1) from None
                raise _damaged(path, f"line {number} cannot be read ({error})") from None
            if number == 1:
                if not isinstance(line, Header) or line.format != FORMAT:
                    raise TransferError(
                        f"{path} is not a file arcade export wrote (it does not start with its header); nothing was "
                        "changed"
                    )
                if line.version > VERSION:
                    raise TransferError(
                        f"{path} was written by a newer arcade (format {line.version}; this one reads {VERSION}); "
                        "nothing was changed: import it with an arcade at least as new as the one that exported it"
                    )
            elif isinstance(line, End):
                end = line
                continue
            elif isinstance(line, SigningKeys) and number == 2:
                summary.key_set, summary.signing_keys = line.keys, len(line.keys.get("keys", []))
            elif isinstance(line, ITEMS):
                if last is not None and _order(line) <= _order(last):
                    raise _damaged(path, f"line {number} is out of order")
                last = line
                summary.add(line)
            else:
                raise _damaged(path, f"line {number} is a {type(line).__name__} where none belongs")
            digest.update(data)
            summary.size += len(data)
            if number % BATCH_ITEMS == 0:
                progress("checking", summary.size, total, summary.counts.total())
    if end is None:
        raise _cut_short(path, number)
    counts = {**summary.counts, **({"signing-keys": 1} if summary.key_set is not None else {})}
    if end.sha256 != digest.hexdigest() or end.counts != counts:
        raise _damaged(path, "its checksum or its counts do not match its lines")
    progress("checking", total, total, summary.counts.total())
    summary.sha256, summary.size = end.sha256, total
    return summary


def _items(path: Path) -> Iterator[tuple[Stored, int]]:
    """The store's items of a file :func:`check` read, each with its length in bytes."""
    with path.open("rb") as reader:
        for data in reader:
            line = _decode(data)
            if isinstance(line, ITEMS):
                yield line, len(data)


async def _difference(arcade: Arcade, path: Path, progress: Progress, total: int, *, complete: bool) -> str | None:
    """The first thing the store holds that the file does not hold as it is, in words; with
    ``complete``, also the first thing the file holds that the store lacks. None: there is none.

    Both are in the same order, so they are walked side by side. What expires meanwhile is
    left out of both: the store no longer holds it, and the file's copy no longer counts.
    """
    stage = "verifying" if complete else "comparing"
    wanted, done, matched = _items(path), 0, 0
    async with aclosing(arcade.store.export()) as exported:
        held = await anext(exported, None)
        given, length = next(wanted, (None, 0))
        while held is not None or given is not None:
            now = time.time()
            if held is not None and (not _live(held, now) or _carried_apart(arcade, held)):
                held = await anext(exported, None)
                continue
            if given is not None and not _live(given, now):
                done += length
                given, length = next(wanted, (None, 0))
                continue
            if given is None or (held is not None and _order(held) < _order(given)):
                return f"it holds {_describe(held)}, which the file does not"
            if held is None or _order(given) < _order(held):
                if complete:
                    return f"it lacks {_describe(given)}"
                if held is None:  # all it holds is in the file
                    return None
                done += length
                given, length = next(wanted, (None, 0))
                continue
            if _trimmed(held, now) != _trimmed(given, now):
                return f"it holds {_describe(held)} otherwise than the file"
            held, done, matched = await anext(exported, None), done + length, matched + 1
            given, length = next(wanted, (None, 0))
            if matched % BATCH_ITEMS == 0:
                progress(stage, done, total, matched)
    progress(stage, total, total, matched)
    return None


async def _signing_keys(arcade: Arcade) -> dict | None:
    """The identity provider's signing keys, if it keeps keys of its own (the built-in one does)."""
    keys = getattr(arcade.identity, "signing_keys", None)
    return None if keys is None else await keys()


def _carried_apart(arcade: Arcade, item: Stored) -> bool:
    """Whether ``item`` is the record a shared store keeps the signing keys in: the file carries them
    on a line of their own whatever the store, and the provider keeps them where its store needs."""
    record = getattr(arcade.identity, "keys_record", None)
    return isinstance(item, StoredRecord) and (item.kind, item.key) == record


def _order(item: Stored) -> tuple:
    """Where an item comes in :meth:`Store.export`'s order."""
    if isinstance(item, StoredPlayer):
        return (0, item.id)
    if isinstance(item, StoredScore):
        return (1, item.seq)
    if isinstance(item, StoredRecord):
        return (2, item.kind, item.key)
    if isinstance(item, StoredAudit):
        return (4, item.seq)
    return (3, item.key)


def _live(item: Stored, now: float) -> bool:
    if isinstance(item, StoredRecord):
        return item.expires_at is None or item.expires_at > now
    if isinstance(item, StoredCounter):
        return bool(_trimmed(item, now).buckets)
    return True


def _trimmed(item: Stored, now: float) -> Stored:
    """A counter without the seconds that no longer count; any other item as it is."""
    if not isinstance(item, StoredCounter):
        return item
    buckets = [(second, amount) for second, amount in item.buckets if second + item.window + 1 > now]
    return msgspec.structs.replace(item, buckets=buckets)


def _describe(item: Stored) -> str:
    """An item in words, without the secrets some records are keyed by."""
    if isinstance(item, StoredPlayer):
        return f"player {item.name!r} ({item.id})"
    if isinstance(item, StoredScore):
        return f"score {item.seq} ({item.score} in {item.game} by player {item.player})"
    if isinstance(item, StoredRecord):
        return f"a record of kind {item.kind!r}"
    if isinstance(item, StoredAudit):
        return f"audit entry {item.seq} ({item.action} of player {item.player})"
    return f"counter {item.key!r}"


def _damaged(path: Path, what: str) -> TransferError:
    return TransferError(f"{path} is damaged: {what}; nothing was changed. Import an undamaged copy, or export again")


def _cut_short(path: Path, lines: int) -> TransferError:
    return TransferError(
        f"{path} ends after {lines} lines without the line that closes an export: it was cut short (an export "
        "or a copy that did not finish); nothing was changed. Copy the whole file, or export again"
    )
