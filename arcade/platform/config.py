"""Typed settings from ``arcade.toml`` plus ``ARCADE_*`` environment overrides.

The file and the environment are merged into one plain dict first, then decoded
strictly with msgspec, so a wrong key or type is reported once, naming where it
came from (the file or the variable), the key, and what was expected.

Environment variables address nested keys with double underscores:
``ARCADE_SERVER__PORT=8001`` sets ``[server] port``. Their values are read as
TOML values when they parse as one (``8001``, ``true``, ``["a"]``) and as plain
strings otherwise.
"""

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from arcade.sdk.errors import ConfigError
from arcade.sdk.settings import describe

CONFIG_FILE = "arcade.toml"
ENV_PREFIX = "ARCADE_"
# Variables the CLI itself reads, not settings.
_ENV_NOT_SETTINGS = {"ARCADE_CONFIG"}

LogLevel = Literal["debug", "info", "warning", "error"]


class ServerSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 8000
    public_url: str | None = None
    """The URL badges and browsers reach the server at; defaults to http://host:port."""
    workers: Annotated[int, msgspec.Meta(ge=1, le=64)] = 1
    log_level: LogLevel = "info"
    """The arcade's log lines on stderr: ``info`` has one line a request, ``warning`` only what went wrong."""


class PluginsSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    disabled: list[str] = []
    """Plugin names (as listed by ``arcade plugins``) that are not loaded."""
    strict: bool = False
    """Stop at start-up when a third-party plugin is broken, instead of leaving it out with a warning."""


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

    @property
    def public_url(self) -> str:
        if self.server.public_url:
            return self.server.public_url.rstrip("/")
        return f"http://{self.server.host}:{self.server.port}"

    def selected(self, kind: str, default: str) -> tuple[str, dict[str, Any]]:
        """The plugin chosen for ``kind`` ("store" or "identity") and its settings table."""
        table = getattr(self, kind)
        name = table.get("plugin", default)
        if not isinstance(name, str):
            raise ConfigError(f"{self.source}: {kind}.plugin: expected a plugin name (a string)")
        settings = table.get(name, {})
        if not isinstance(settings, dict):
            raise ConfigError(f"{self.source}: {kind}.{name}: expected a table of settings")
        return name, settings


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
    try:
        settings = msgspec.convert(raw, Settings)
    except msgspec.ValidationError as error:
        raise ConfigError(describe(error, source, origins)) from None
    settings.source = source
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
