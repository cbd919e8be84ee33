"""The built-in provider's signing keys in a data folder, as the tests read and replace them."""

from pathlib import Path

from arcade.plugins.idp_builtin.keys import FolderKeys, KeyRing, new_document
from joserfc.jwk import KeySet


def folder_keys(folder: Path) -> KeySet:
    """The data folder's keys, the signing key first (made on first use)."""
    return KeySet(KeyRing.in_folder(folder).current.every)


def save_keys(folder: Path, keys: KeySet) -> None:
    """Replaces the data folder's keys with ``keys``, the first signing."""
    source = FolderKeys(folder)
    source.write_now(new_document(keys.keys), source.read_now()[1])
