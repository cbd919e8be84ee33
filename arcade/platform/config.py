"""Typed settings from ``arcade.toml`` plus ``ARCADE_*`` environment overrides.

The file and the environment are merged into one plain dict first, then decoded
strictly with msgspec, so a wrong key or type is reported once, naming where it
came from (the file or the variable), the key, and what was expected.

Environment variables address nested keys with double underscores:
``ARCADE_SERVER__PORT=8001`` sets ``[server] port`` and ``ARCADE_PLUGINS__WEBHOOK__SECRET=...``
sets ``[plugins.webhook] secret``. Their values are read as
TOML values when they parse as one (``8001``, ``true``, ``["a"]``) and as plain
strings otherwise.
"""

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any

import msgspec

from arcade.sdk.errors import ConfigError
from arcade.sdk.settings import PluginSettings, describe, located

CONFIG_FILE = "arcade.toml"
ENV_PREFIX = "ARCADE_"
# Variables the CLI itself reads, not settings.
_ENV_NOT_SETTINGS = {"ARCADE_CONFIG"}


class ServerSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 8000
    public_url: str | None = None
    """The URL badges and browsers reach the server at; defaults to http://host:port."""
    workers: Annotated[int, msgspec.Meta(ge=1, le=64)] = 1


class PluginsSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The keys of ``[plugins]`` itself; its tables ``[plugins.<name>]`` are each plugin's own."""

    disabled: list[str] = []
    """Plugin names (as listed by ``arcade plugins``) that are not loaded."""


class Settings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    data_dir: str = "arcade-data"
    server: ServerSettings = msgspec.field(default_factory=ServerSettings)
    store: dict[str, Any] = {}
    """``plugin = "tinydb"`` picks the store; ``[store.<name>]`` holds each one's settings."""
    identity: dict[str, Any] = {}
    """``plugin = "builtin"`` picks the identity provider; ``[identity.<name>]`` its settings."""
    plugins: PluginsSettings = msgspec.field(default_factory=PluginsSettings)
    source: str = "defaults"
    """Where the settings came from, for error messages (set by :func:`load`)."""
    origins: dict[str, str] = {}
    """Which dotted key which environment variable set, for error messages (set by :func:`load`)."""
    plugin_tables: dict[str, dict[str, Any]] = {}
    """The ``[plugins.<name>]`` tables, set apart from ``[plugins]`` by :func:`load`."""

    @property
    def public_url(self) -> str:
        if self.server.public_url:
            return self.server.public_url.rstrip("/")
        return f"http://{self.server.host}:{self.server.port}"

    def selected(self, kind: str, default: str) -> tuple[str, PluginSettings]:
        """The plugin chosen for ``kind`` ("store" or "identity") and its settings table."""
        name = getattr(self, kind).get("plugin", default)
        if not isinstance(name, str):
            raise ConfigError(located(f"{kind}.plugin", "expected a plugin name (a string)", self.source, self.origins))
        return name, self.table(kind, name)

    def table(self, kind: str, name: str) -> PluginSettings:
        """``[kind.name]``, e.g. ``[plugins.webhook]``, for the plugin ``name`` to decode."""
        raw = (self.plugin_tables if kind == "plugins" else getattr(self, kind)).get(name, {})
        if not isinstance(raw, dict):
            raise ConfigError(located(f"{kind}.{name}", "expected a table of settings", self.source, self.origins))
        return PluginSettings(f"{kind}.{name}", raw, self.source, self.origins)


def load(path: str | os.PathLike | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Read the settings: ``path``, else ``$ARCADE_CONFIG``, else ./arcade.toml if present."""
    environ = os.environ if environ is None else environ
    if path is None:
        path = environ.get("ARCADE_CONFIG")
    if path is None and Path(CONFIG_FILE).is_file():
        path = CONFIG_FILE
    raw: dict[str, Any] = {}
    source = "defaults"
    if path is not None:
        source = str(path)
        try:
            raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{source}: no such configuration file") from None
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{source}: not valid TOML: {error}") from None
    origins = _merge_environment(raw, environ)
    plugins = raw.get("plugins")
    tables = {}
    if isinstance(plugins, dict):  # else the decode below says what [plugins] should be
        tables = {name: value for name, value in plugins.items() if isinstance(value, dict)}
        for name in tables:
            del plugins[name]
    try:
        settings = msgspec.convert(raw, Settings)
    except msgspec.ValidationError as error:
        raise ConfigError(describe(error, source, origins)) from None
    settings.source, settings.origins, settings.plugin_tables = source, origins, tables
    return settings


def _merge_environment(raw: dict[str, Any], environ) -> dict[str, str]:
    """Apply ``ARCADE_A__B=value`` onto ``raw``; answer which dotted key came from which variable."""
    origins = {}
    for variable, value in environ.items():
        if not variable.startswith(ENV_PREFIX) or variable in _ENV_NOT_SETTINGS:
            continue
        keys = [part.lower() for part in variable[len(ENV_PREFIX):].split("__")]
        table = raw
        for key in keys[:-1]:
            table = table.setdefault(key, {})
            if not isinstance(table, dict):
                raise ConfigError(f"{variable}: {'.'.join(keys)} is not inside a table")
        table[keys[-1]] = _parse_value(value)
        origins[".".join(keys)] = variable
    return origins


def _parse_value(text: str):
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text
