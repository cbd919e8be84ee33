"""The PostgreSQL store: every server process of an arcade, on one host or many, shares one database.

The store is in ``store.py``, its tables and their migrations in ``schema.py``, the compact
encoding of runs in ``runs.py``. The driver (asyncpg) comes with the ``postgres`` extra, so it
is imported only when this store is chosen.
"""

from typing import Annotated
from urllib.parse import parse_qs, urlsplit

import msgspec

from arcade.sdk.errors import ConfigError
from arcade.sdk.hookspecs import hookimpl
from arcade.sdk.settings import PluginSettings

NAME = "postgres"


class PostgresSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    dsn: str | None = None
    """``postgresql://user@host:port/database``, without the password; None: libpq's ``PG*`` variables."""
    schema: Annotated[str, msgspec.Meta(pattern=r"^[a-z_][a-z0-9_]{0,62}$")] = "arcade"
    """The schema the arcade's tables live in, created on first start; one database may hold several arcades."""
    pool_size: Annotated[int, msgspec.Meta(ge=1, le=100)] = 10
    """Connections this server process keeps open at most."""


@hookimpl
def arcade_store(name, settings, context):
    if name != NAME:
        return None
    options = settings.decode(PostgresSettings)
    if options.dsn is not None:
        check_dsn(options.dsn, settings)
    try:
        from arcade.plugins.store_postgres.store import PostgresStore
    except ImportError as error:
        raise ConfigError(
            f"{settings.source}: store.plugin: the postgres store needs the asyncpg driver ({error}); install it "
            "with pip install 'badge-arcade[postgres]' in the same environment as arcade"
        ) from None
    return PostgresStore(options.dsn, options.schema, options.pool_size)


def check_dsn(dsn: str, settings: PluginSettings) -> None:
    """A DSN is a postgresql:// URI, and one from the settings file holds no password: that file is
    copied, shared and committed, so the password comes from the environment instead."""
    parts = urlsplit(dsn)
    if parts.scheme not in ("postgresql", "postgres"):
        raise settings.error("dsn", f"expected a postgresql://user@host:port/database URI, got {dsn!r}")
    from_environment = {f"{settings.where}.dsn", settings.where} & set(settings.origins)
    if not from_environment and (parts.password is not None or "password" in parse_qs(parts.query)):
        raise settings.error(
            "dsn",
            "holds a password, and the settings file is no place for a secret (it gets copied, shared and "
            "committed): take it out of the dsn and give it in the server's environment as PGPASSWORD (or in "
            "~/.pgpass, or give the whole dsn in ARCADE_STORE__POSTGRES__DSN)",
        )
