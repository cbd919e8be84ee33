"""The embedded default store: TinyDB in the data folder, for one server process.

The store itself is in ``store.py``; its journal (group commit) and its in-memory
rankings live beside it, as they serve this store alone.
"""

from typing import Annotated

import msgspec
from arcade.plugins.store_tinydb.store import FOLD_EVERY, TinyDBStore

from arcade.sdk.hookspecs import hookimpl

NAME = "tinydb"


class TinyDBSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    file: str = "arcade.json"
    """The database file, relative to the data folder."""
    fold_every: Annotated[int, msgspec.Meta(ge=1)] = FOLD_EVERY
    """Journaled changes after which the journal is folded into the file (and at shutdown)."""


@hookimpl
def arcade_store(name, settings, context):
    if name != NAME:
        return None
    options = settings.decode(TinyDBSettings)
    return TinyDBStore(context.data_dir / options.file, options.fold_every)
