"""The TinyDB file's tables, kept in memory as the JSON they are written as.

Why: a fold writes every table, and encoding a hundred thousand documents again
each time would hold the interpreter (and with it the event loop) for as long as
it takes. Each document is encoded once, when it changes, together with its
TinyDB document id; writing a table is then one ``bytes.join``.
"""

from typing import Any

import msgspec


class EncodedTable:
    """One table: documents by the store's own key, each as ``"<doc id>": <json>``."""

    def __init__(self, name: str, key_of):
        self.name = name
        self._key_of = key_of
        self._entries: dict[Any, bytes] = {}
        self._expiry: dict[Any, float] = {}
        self._next_id = 1

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key) -> bool:
        return key in self._entries

    def load(self, documents: dict[str, msgspec.Raw]) -> None:
        """Take the table as the file holds it (document ids and their raw JSON)."""
        for doc_id, raw in documents.items():
            document = msgspec.json.decode(raw)
            self._set(self._key_of(document), int(doc_id), bytes(raw), document.get("expires_at"))

    def __iter__(self):
        return iter(list(self._entries))

    def get(self, key, type=Any):
        """The document under ``key`` decoded (as ``type``), or None."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        return msgspec.json.decode(memoryview(entry)[entry.index(b":") + 1 :], type=type)

    def raw(self, key) -> bytes | None:
        entry = self._entries.get(key)
        return None if entry is None else entry[entry.index(b":") + 1 :].lstrip()

    def put(self, key, document: bytes | None, expires_at: float | None = None) -> None:
        """Set the encoded document under ``key`` (None deletes it); ``expires_at`` is the document's own."""
        if document is None:
            self._entries.pop(key, None)
            self._expiry.pop(key, None)
        else:
            self._set(key, self._next_id, document, expires_at)

    def drop_expired(self, now: float) -> None:
        """Forget documents whose ``expires_at`` has passed (the file loses them at this fold)."""
        for key in [key for key, expires_at in self._expiry.items() if expires_at <= now]:
            self.put(key, None)

    def entries(self) -> list[bytes]:
        return list(self._entries.values())

    def _set(self, key, doc_id: int, document: bytes, expires_at: float | None) -> None:
        self._entries[key] = b'"%d": %s' % (doc_id, document)
        self._next_id = max(self._next_id, doc_id + 1)
        if expires_at is None:
            self._expiry.pop(key, None)
        else:
            self._expiry[key] = expires_at


def database_bytes(tables: list[tuple[str, list[bytes]]]) -> bytes:
    """A TinyDB database file holding these tables' entries (run it off the event loop)."""
    parts = [b"{"]
    for number, (name, entries) in enumerate(tables):
        parts += [b",\n" if number else b"", msgspec.json.encode(name), b": {", b",\n".join(entries), b"}"]
    parts.append(b"}\n")
    return b"".join(parts)
