"""The journal on its own: a failed append leaves nothing behind that could swallow the retry."""

import errno
import os

import pytest
from arcade.plugins.store_tinydb import journal as journal_module
from arcade.plugins.store_tinydb.journal import Journal


def test_an_append_that_fails_half_written_leaves_no_fragment_to_swallow_the_retry(tmp_path, monkeypatch):
    journal = Journal(tmp_path, "db.journal")
    journal.append([["scores", "a", {"score": 1}]])
    real_write = os.write
    calls = []

    def disk_fills_up(descriptor, data):
        calls.append(len(data))
        if len(calls) == 1:
            return real_write(descriptor, bytes(data[: len(data) // 2]))  # half of the batch reaches the file
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(journal_module.os, "write", disk_fills_up)
    with pytest.raises(OSError):
        journal.append([["scores", "b", {"score": 2}]])
    monkeypatch.setattr(journal_module.os, "write", real_write)
    journal.append([["scores", "b", {"score": 2}]])  # the retry, acknowledged once its fsync returns

    reopened = Journal(tmp_path, "db.journal")
    assert reopened.read(after=0) == [["scores", "a", {"score": 1}], ["scores", "b", {"score": 2}]]
