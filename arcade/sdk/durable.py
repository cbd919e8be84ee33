"""Crash-safe file replacement: a reader sees the old file or the new one, never a torn one."""

import fcntl
import os
from pathlib import Path


def write_atomically(path: Path, payload: bytes, mode: int = 0o600) -> None:
    """Write ``payload`` to a temporary file beside ``path``, fsync it, rename it over ``path``,
    then fsync the folder so the rename itself survives a power cut."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        write_and_sync(descriptor, payload)
    except BaseException:
        os.close(descriptor)
        temporary.unlink(missing_ok=True)
        raise
    os.close(descriptor)
    os.replace(temporary, path)
    fsync_folder(path.parent)


def write_and_sync(descriptor: int, payload: bytes) -> None:
    """Write all of ``payload`` (``os.write`` may write less) and fsync it."""
    view = memoryview(payload)
    while view:
        view = view[os.write(descriptor, view) :]
    os.fsync(descriptor)


def fsync_folder(folder: Path) -> None:
    """Make a folder's entries (a new or renamed file's name) survive a power cut."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def replace_if_unchanged(path: Path, payload: bytes, version: bytes | None, mode: int = 0o600) -> bool:
    """Replace ``path`` with ``payload`` only if it still holds ``version`` (its bytes as read; None:
    no file), under an exclusive lock on a file beside it: a compare-and-set for processes sharing
    a folder. Answers whether it wrote."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = os.open(path.with_name(f".{path.name}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            held = path.read_bytes()
        except FileNotFoundError:
            held = None
        if held != version:
            return False
        write_atomically(path, payload, mode=mode)
        return True
    finally:
        os.close(lock)
