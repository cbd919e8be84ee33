"""An append-only journal: JSON lines, fsynced per batch, in numbered generation files.

Why: a durable change must cost an append and an fsync, not a rewrite of the
whole database. A store appends each batch of changes here before it answers,
and now and then folds the journal into its snapshot file: it seals the current
generation (:meth:`Journal.rotate`), writes a snapshot that includes it, then
discards the sealed files. At start-up it replays what is newer than its snapshot.

A crash can leave the last line of the last file half-written; that batch was
never acknowledged (its fsync had not returned), so it is cut off. A bad line
anywhere else is damage, and reading stops with an error that says where.
"""

import os
from pathlib import Path
from typing import Any

import msgspec

from arcade.sdk.durable import fsync_folder, write_and_sync
from arcade.sdk.errors import ArcadeError


class JournalDamaged(ArcadeError):
    """A journal line other than the very last one cannot be read."""


class Journal:
    def __init__(self, folder: Path, stem: str, folded_through: int = 0):
        """``folded_through``: the newest generation the snapshot holds. New appends go past it
        even when its files are gone, or the next start-up would skip them as already folded."""
        self.folder = Path(folder)
        self.stem = stem
        self.generation = 1 + max([*self._generations(), folded_through])
        self._created = False

    def path(self, generation: int) -> Path:
        return self.folder / f"{self.stem}.{generation:06d}"

    def read(self, after: int, type=Any) -> list:
        """The entries of every generation newer than ``after``, oldest first, each decoded as ``type``."""
        entries = []
        newer = [number for number in self._generations() if number > after]
        for number in newer:
            entries += self._read_file(self.path(number), newer[-1] == number, type)
        return entries

    def append(self, entries: list) -> None:
        """Write ``entries`` to the current generation and fsync (blocking: run it off the loop)."""
        payload = b"".join(msgspec.json.encode(entry) + b"\n" for entry in entries)
        descriptor = os.open(self.path(self.generation), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            start = os.fstat(descriptor).st_size
            try:
                write_and_sync(descriptor, payload)
            except BaseException:
                # A half-written batch would glue itself to the retry's first line, and the
                # reader would cut that whole line off as torn: the retry would be lost.
                os.ftruncate(descriptor, start)
                raise
        finally:
            os.close(descriptor)
        if not self._created:  # the new file's name must survive a power cut too
            fsync_folder(self.folder)
            self._created = True

    def rotate(self) -> int:
        """Seal the current generation and answer its number; later appends start the next one."""
        sealed = self.generation
        self.generation += 1
        self._created = False
        return sealed

    def discard_through(self, generation: int) -> None:
        """Delete the generations up to ``generation``: a snapshot now holds them."""
        for number in self._generations():
            if number <= generation:
                self.path(number).unlink(missing_ok=True)

    def _generations(self) -> list[int]:
        prefix = f"{self.stem}."
        numbers = []
        for path in self.folder.glob(f"{self.stem}.*"):
            suffix = path.name[len(prefix) :]
            if suffix.isdigit():
                numbers.append(int(suffix))
        return sorted(numbers)

    def _read_file(self, path: Path, last: bool, type) -> list:
        raw = path.read_bytes()
        *lines, tail = raw.split(b"\n")  # tail: what follows the last newline, normally nothing
        entries, good_end = [], 0
        for number, line in enumerate(lines, 1):
            try:
                entries.append(msgspec.json.decode(line, type=type))
            except msgspec.DecodeError as error:
                if not (last and number == len(lines) and not tail):
                    raise JournalDamaged(f"{path}, line {number}: {error}") from None
                tail = line  # the final line is torn: cut off below
                break
            good_end += len(line) + 1
        if tail:
            if not last:
                raise JournalDamaged(f"{path} ends in a partial line, yet a newer journal file follows it")
            os.truncate(path, good_end)
        return entries
