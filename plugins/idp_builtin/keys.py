"""The built-in provider's ES256 signing keys: one set for every server process of the arcade.

Where they live: with a store that several processes share (PostgreSQL), in that store, one
record written by compare-and-set, so every process signs and verifies with the same keys; with
one that a single process holds (TinyDB, locked while it serves), in the data folder's
``signing-keys.json``, which `arcade token` and `arcade keys rotate` reach beside the server.

Either way it is a JWK set, the signing key first, with two members of the arcade's own (a JWK
set may carry more; an older arcade reads the file as it always did): ``retiring``, the unix time
until which each key a rotation replaced still verifies the tokens it signed, and
``form_secret``, which the verification pages' CSRF tokens derive from, so they outlive a rotation.

The first start on a shared store adopts the data folder's key file, if there is one, so
players' tokens outlive the move; processes starting together make one set (the compare-and-set's
loser reads the winner's). Each process reads the set again every :data:`REFRESH_S`, and at once
for a token naming a key it does not know, so a rotation reaches every process within that time.
"""

import asyncio
import hashlib
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet

from arcade.sdk.durable import replace_if_unchanged
from arcade.sdk.errors import PluginError
from arcade.sdk.store import Store

log = logging.getLogger("arcade.keys")

KEYS_FILE = "signing-keys.json"
RECORD = ("signing_keys", "builtin")
"""The store record (kind, key) holding the set when the store is shared."""
REFRESH_S = 30
"""How often each process reads the key set again: the longest a rotation takes to reach it."""
UNKNOWN_KEY_READS_S = 1
"""At most one read a second for tokens naming a key this process does not know, made-up ones included."""


class SigningKeyError(PluginError):
    """The stored key set exists but cannot be used; it is left in place."""


@dataclass(frozen=True)
class Keys:
    """One reading of the key set."""

    every: list[ECKey]
    """As stored, the signing key first."""
    retiring: dict[str, float]
    verifying: KeySet
    """The signing key and every other key not past its ``retiring`` time."""
    form_secret: bytes

    @property
    def signing(self) -> ECKey:
        return self.every[0]


def parse(document: dict, where: str) -> Keys:
    """The keys of a stored set; :class:`SigningKeyError` naming ``where`` if they cannot be used."""
    try:
        every = KeySet.import_key_set(document).keys
        retiring = {str(kid): float(until) for kid, until in document.get("retiring", {}).items()}
        form_secret = bytes.fromhex(document["form_secret"]) if "form_secret" in document else None
    except (ValueError, KeyError, TypeError, AttributeError, JoseError) as error:
        raise _unusable(where, f"is not a valid JWK set ({error})") from None
    if not every or not all(isinstance(key, ECKey) and key.is_private for key in every):
        raise _unusable(where, "holds no private EC key")
    for key in every:
        key.ensure_kid()
    now = time.time()
    verifying = [every[0], *(key for key in every[1:] if retiring.get(key.kid, now + 1) > now)]
    return Keys(every, retiring, KeySet(verifying), form_secret or _form_secret(every[0]))


def new_document(keys: list[ECKey] | None = None) -> dict:
    """A set of ``keys`` (one new key unless given), its form secret derived from the first."""
    keys = keys or [_new_key()]
    return {"keys": [key.as_dict(private=True) for key in keys], "form_secret": _form_secret(keys[0]).hex()}


class FolderKeys:
    """The data folder's file; its version is its content as read (compare-and-set:
    :func:`replace_if_unchanged`). A file of a few hundred bytes is read and written on the event loop."""

    def __init__(self, folder: Path):
        self.path = folder / KEYS_FILE
        self.where = f"the signing key file {self.path}"

    async def read(self) -> tuple[dict | None, bytes | None]:
        return self.read_now()

    async def write(self, document: dict, version: bytes | None) -> bool:
        return self.write_now(document, version)

    def read_now(self) -> tuple[dict | None, bytes | None]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None, None
        try:
            return json.loads(raw), raw
        except ValueError as error:
            raise _unusable(self.where, f"is not a valid JWK set ({error})") from None

    def write_now(self, document: dict, version: bytes | None) -> bool:
        return replace_if_unchanged(self.path, json.dumps(document, indent=2).encode(), version)

    def first(self) -> dict:
        return new_document()


class StoredKeys:
    """A record of a shared store; the first set adopts the data folder's file if there is one."""

    where = f"the store's {RECORD[0]!r} record"

    def __init__(self, store: Store, folder: Path):
        self.store = store
        self.folder = FolderKeys(folder)

    async def read(self) -> tuple[dict | None, int]:
        record = await self.store.get_record(*RECORD)
        return (None, 0) if record is None else (record.value, record.version)

    async def write(self, document: dict, version: int) -> bool:
        return await self.store.put_record(*RECORD, document, version=version) is not None

    def first(self) -> dict:
        document = self.folder.read_now()[0]
        if document is None:
            return new_document()
        parse(document, self.folder.where)
        log.warning("the keys of %s go to the store, where every server process finds them", self.folder.where)
        return document

    def check_folder(self, keys: Keys) -> None:
        """A data folder's own key that is not the store's signs nothing any more: say so."""
        document = self.folder.read_now()[0]
        kids = {key.get("kid") for key in (document or {}).get("keys", [])}
        if kids and not kids & {key.kid for key in keys.every}:
            log.warning(
                "the signing key in %s is not this arcade's: the keys in the store sign and verify, so tokens "
                "signed with that file's key are refused; delete the file once no one needs it",
                self.folder.path,
            )


class KeyRing:
    """The keys a process signs and verifies with, read again from their source now and then."""

    def __init__(self, source: FolderKeys | StoredKeys):
        self.source = source
        self._keys: Keys | None = None
        self._read_at = float("-inf")
        self._reading = asyncio.Lock()
        self._refresher: asyncio.Task | None = None

    @classmethod
    def in_folder(cls, folder: Path) -> "KeyRing":
        """The data folder's keys, read (or made) now: a process that holds no store signs at once."""
        ring = cls(FolderKeys(folder))
        document, version = ring.source.read_now()
        while document is None:
            ring.source.write_now(ring.source.first(), version)
            document, version = ring.source.read_now()
        ring._keys, ring._read_at = parse(document, ring.source.where), time.monotonic()
        return ring

    @property
    def current(self) -> Keys:
        if self._keys is None:
            raise PluginError("the signing keys are read once the store is open (arcade_startup)")
        return self._keys

    async def start(self) -> None:
        """Read the set (making the first one if there is none), then keep it fresh."""
        await self._load()
        if isinstance(self.source, StoredKeys):
            self.source.check_folder(self.current)
        self._refresher = asyncio.create_task(self._refresh())

    async def stop(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()

    async def verifying(self, kid: str | None) -> KeySet:
        """The keys to verify a token signed with ``kid``; if they lack that key, read again first,
        unless a read began after the token came. Reads are :data:`UNKNOWN_KEY_READS_S` apart: a token
        signed just after the last read waits for the next one instead of being refused."""
        if kid is None or any(key.kid == kid for key in self.current.verifying.keys):
            return self.current.verifying
        came = time.monotonic()
        async with self._reading:
            if self._read_at < came:
                await asyncio.sleep(self._read_at + UNKNOWN_KEY_READS_S - time.monotonic())
                await self._load()
        return self.current.verifying

    async def rotate(self, lifetime: int) -> tuple[str, str, float]:
        """A new key signs from now on; each other key verifies ``lifetime`` s more (the longest a token
        lives) plus :data:`REFRESH_S` (processes that have not read the new set still sign with the
        old key), or until the time a rotation before gave it. Keys past their time are dropped.
        Answers (new kid, old kid, until when the old one verifies)."""
        while True:
            await self._load()  # makes the first set if there is none
            document, version = await self.source.read()
            keys, now = parse(document, self.source.where), time.time()
            until = now + lifetime + REFRESH_S
            ends = {key.kid: keys.retiring.get(key.kid, until) for key in keys.every[1:]}
            ends[keys.signing.kid] = until
            kept = [key for key in keys.every if ends[key.kid] > now]
            rotated = new_document([_new_key(), *kept])
            rotated.update(retiring={key.kid: ends[key.kid] for key in kept}, form_secret=keys.form_secret.hex())
            if await self.source.write(rotated, version):
                self._keys, self._read_at = parse(rotated, self.source.where), time.monotonic()
                return self._keys.signing.kid, keys.signing.kid, until

    async def document(self) -> dict | None:
        """The key set as it is kept (private keys, retiring times, form secret), for ``arcade export``;
        None before the first set is made."""
        return (await self.source.read())[0]

    async def replace(self, document: dict) -> None:
        """Keep ``document`` (from :meth:`document`) in place of the key set, for ``arcade import``:
        every process signs and verifies with it once it has read it again."""
        keys = parse(document, "the signing keys to import")
        while True:
            kept, version = await self.source.read()
            if kept == document or await self.source.write(document, version):
                self._keys, self._read_at = keys, time.monotonic()
                return

    async def _load(self) -> None:
        began = time.monotonic()
        document, version = await self.source.read()
        while document is None:
            await self.source.write(self.source.first(), version)
            document, version = await self.source.read()  # ours, or the one another process made first
        self._keys, self._read_at = parse(document, self.source.where), began

    async def _refresh(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_S)
            try:
                async with self._reading:
                    await self._load()
            except Exception as error:  # a passing outage: the keys read before still serve
                log.warning("keeping the signing keys read before: %s", error)


def _new_key() -> ECKey:
    key = ECKey.generate_key("P-256", parameters={"use": "sig", "alg": "ES256"}, private=True)
    key.ensure_kid()
    return key


def _unusable(where: str, problem: str) -> SigningKeyError:
    return SigningKeyError(
        f"{where} {problem}. It was left in place: restore it from a backup, or delete it to create a new key "
        "(tokens signed with the old key then stop working and players log in again)."
    )


def _form_secret(key: ECKey) -> bytes:
    """What the CSRF tokens derive from, as earlier arcades derived it from their signing key."""
    private = key.as_dict(private=True)["d"]
    return hashlib.sha256(f"arcade csrf\0{private}".encode()).digest()
