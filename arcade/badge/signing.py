"""The key that signs the games a badge gets over the air, and its rotation.

RSA-2048 with e = 65537 (RSASSA-PKCS1-v1_5, SHA-256): the badge verifies in pure MicroPython with
no crypto module but ``hashlib.sha256``, and with e = 65537 a verification is 17 multiplications
of its arbitrary-precision integers, far cheaper there than an elliptic-curve one
(``bench/badge_signature.py``). ``arcade deploy`` writes the public halves onto the badge.

Kept as the built-in identity provider keeps its keys: with a store several processes share
(PostgreSQL), one record of it written by compare-and-set; otherwise the data folder's
``badge-signing-keys.json``, which ``arcade deploy`` and ``arcade badge-key rotate`` reach
beside the running server. It is a JWK set, the signing key first, and at most the key it
replaced after it: that one still signs too, so badges deployed before a rotation take the new
key from a catalogue they can verify (``docs/badge.md``).
"""

import asyncio
import json
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

from arcade.sdk.durable import replace_if_unchanged
from arcade.sdk.errors import ArcadeError
from arcade.sdk.models import CatalogSignature
from arcade.sdk.store import Store

KEYS_FILE = "badge-signing-keys.json"
RECORD = ("badge_signing_keys", "arcade")
"""The store record (kind, key) holding the set when the store is shared."""
KEY_BITS = 2048
EXPONENT = 65537


class BadgeKeyError(ArcadeError):
    """The stored set cannot be used; it is left in place."""


def public(key: RSAKey) -> dict:
    """What a badge keeps of a key: its id and modulus (hex); the exponent is always 65537."""
    numbers = key.public_key.public_numbers()
    return {"kid": key.kid, "n": f"{numbers.n:x}"}


def sign(keys: list[RSAKey], payload: bytes) -> list[CatalogSignature]:
    """``payload`` signed by each key (RSASSA-PKCS1-v1_5, SHA-256), the signing key first."""
    return [
        CatalogSignature(kid=key.kid, sig=key.private_key.sign(payload, padding.PKCS1v15(), hashes.SHA256()).hex())
        for key in keys
    ]


class BadgeKeys:
    """The set, where this arcade keeps it: ``store`` when it is shared, else the data ``folder``."""

    def __init__(self, folder: Path, store: Store | None = None):
        self.store = store if store is not None and store.shareable else None
        self.path = folder / KEYS_FILE
        self.where = f"the store's {RECORD[0]!r} record" if self.store else f"the badge key file {self.path}"

    async def keys(self) -> list[RSAKey]:
        """The keys, the signing one first; the first read makes the set."""
        document, _ = await self._read()
        made = await asyncio.to_thread(_new_key) if document is None else None  # 0.1 s or more: not on the loop
        return await self._change(lambda keys: keys or [made or _new_key()])

    async def existing(self) -> list[RSAKey]:
        """The keys, or none if the arcade has made none yet (it makes them when first asked for games)."""
        document, _ = await self._read()
        return [] if document is None else self._parse(document)

    async def rotate(self) -> tuple[str, str]:
        """A new key signs from now on; the one it replaces signs beside it, the one before that is
        dropped. Answers (new kid, replaced kid)."""
        keys = await self.keys()
        made = await asyncio.to_thread(_new_key)
        rotated = await self._change(lambda kept: [made, kept[0]] if kept[0].kid == keys[0].kid else kept)
        return rotated[0].kid, rotated[1].kid

    async def _change(self, change) -> list[RSAKey]:
        """Apply ``change`` to the set by compare-and-set and answer the set as then stored."""
        while True:
            document, version = await self._read()
            kept = self._parse(document) if document is not None else []
            changed = change(kept)
            if changed is kept:
                return kept
            document = {"keys": [key.as_dict(private=True) for key in changed]}
            if await self._write(document, version):
                return changed

    def _parse(self, document: dict) -> list[RSAKey]:
        try:
            keys = KeySet.import_key_set(document).keys
        except (ValueError, KeyError, TypeError, AttributeError, JoseError) as error:
            raise self._unusable(f"is not a valid JWK set ({error})") from None
        if not keys or not all(isinstance(key, RSAKey) and key.is_private for key in keys):
            raise self._unusable("holds no private RSA key")
        for key in keys:
            if key.public_key.public_numbers().e != EXPONENT:
                raise self._unusable(f"holds a key whose exponent is not {EXPONENT}, the one badges verify with")
            key.ensure_kid()
        return keys

    async def _read(self) -> tuple[dict | None, object]:
        if self.store is not None:
            record = await self.store.get_record(*RECORD)
            return (None, 0) if record is None else (record.value, record.version)
        return await asyncio.to_thread(self._read_file)

    async def _write(self, document: dict, version) -> bool:
        if self.store is not None:
            return await self.store.put_record(*RECORD, document, version=version) is not None
        return await asyncio.to_thread(self._write_file, document, version)

    def _read_file(self) -> tuple[dict | None, bytes | None]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None, None
        try:
            return json.loads(raw), raw
        except ValueError as error:
            raise self._unusable(f"is not valid JSON ({error})") from None

    def _write_file(self, document: dict, version: bytes | None) -> bool:
        return replace_if_unchanged(self.path, json.dumps(document, indent=2).encode(), version)

    def _unusable(self, problem: str) -> BadgeKeyError:
        return BadgeKeyError(
            f"{self.where} {problem}. It was left in place: restore it from a backup, or delete it to make a new "
            "key (then deploy every badge again with arcade deploy: they trust only the key they were given)."
        )


def _new_key() -> RSAKey:
    key = RSAKey.generate_key(KEY_BITS, parameters={"use": "sig", "alg": "RS256"}, private=True)
    key.ensure_kid()
    return key
