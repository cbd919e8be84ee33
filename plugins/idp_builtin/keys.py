"""The built-in provider's ES256 signing keys, kept in the data folder across restarts."""

import json
from pathlib import Path

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet

from arcade.sdk.durable import write_atomically
from arcade.sdk.errors import PluginError

KEYS_FILE = "signing-keys.json"


class SigningKeyError(PluginError):
    """The key file exists but cannot be used; it is left in place."""


def load_or_create(folder: Path) -> KeySet:
    """The key set in ``folder``; the first key signs. A new key is made on first run."""
    path = folder / KEYS_FILE
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        keys = KeySet([_new_key()])
        save(folder, keys)
        return keys
    return _private(
        raw,
        f"the signing key file {path}",
        "It was left in place: restore it from a backup, or delete it to create a new key (tokens signed "
        "with the old key then stop working and players log in again).",
    )


def replace(folder: Path, key_set: dict) -> None:
    """Keep ``key_set`` (a private JWK set) in ``folder`` in place of its keys, as ``arcade import`` does."""
    save(folder, _private(key_set, "the signing keys to import", "The key file was left as it was."))


def _private(data: str | dict, what: str, remedy: str) -> KeySet:
    """The JWK set ``data`` (or its JSON) as keys to sign with; ``what`` and ``remedy`` word the error
    if it is not one."""
    try:
        keys = KeySet.import_key_set(json.loads(data) if isinstance(data, str) else data)
    except (ValueError, KeyError, TypeError, JoseError) as error:
        raise SigningKeyError(f"{what} is not a valid JWK set ({error}). {remedy}") from None
    if not keys.keys or not all(key.is_private for key in keys.keys):
        raise SigningKeyError(f"{what} holds no private EC key. {remedy}")
    return keys


def save(folder: Path, keys: KeySet) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(keys.as_dict(private=True), indent=2).encode()
    write_atomically(folder / KEYS_FILE, payload, mode=0o600)


def _new_key() -> ECKey:
    key = ECKey.generate_key("P-256", parameters={"use": "sig", "alg": "ES256"}, private=True)
    key.ensure_kid()
    return key
