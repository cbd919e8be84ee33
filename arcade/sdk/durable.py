"""Crash-safe file replacement: a reader sees the old file or the new one, never a torn one."""

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
        view = view[os.write(descriptor, view):]
    os.fsync(descriptor)


def fsync_folder(folder: Path) -> None:
    """Make a folder's entries (a new or renamed file's name) survive a power cut."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
