"""Typed settings from ``arcade.toml`` plus ``ARCADE_*`` environment overrides.

The file and the environment are merged into one plain dict first, then decoded
strictly with msgspec, so a wrong key or type is reported once, naming where it
came from (the file or the variable), the key, and what was expected.

Environment variables address nested keys with double underscores:
``ARCADE_SERVER__PORT=8001`` sets ``[server] port`` and ``ARCADE_PLUGINS__WEBHOOK__SECRET=...``
sets ``[plugins.webhook] secret``. Their values are read as
TOML values when they parse as one (``8001``, ``true``, ``["a"]``) and as plain
strings otherwise. Command-line flags (``--port``) override both.
"""

import os
import socket
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import msgspec

from arcade.platform.windows import EventSettings, windows_of
from arcade.sdk.errors import ConfigError
from arcade.sdk.settings import PluginSettings, describe, located

CONFIG_FILE = "arcade.toml"
ENV_PREFIX = "ARCADE_"
# Variables the CLI itself reads, not settings.
_ENV_NOT_SETTINGS = {"ARCADE_CONFIG"}
EVERY_INTERFACE = {"0.0.0.0", "::", "[::]", ""}

LogLevel = Literal["debug", "info", "warning", "error"]


class ServerSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 8000
    public_url: str | None = None
    """The URL badges and browsers reach the server at; defaults to http://host:port."""
    workers: Annotated[int, msgspec.Meta(ge=1, le=64)] = 1
    log_level: LogLevel = "info"
    """The arcade's log lines on stderr: ``info`` has one line a request, ``warning`` only what went wrong."""
    scores_per_minute: Annotated[int, msgspec.Meta(ge=1)] = 30
    """Score submissions one player may send in any minute; a badge keeps a refused one queued."""
    scores_per_minute_per_address: Annotated[int, msgspec.Meta(ge=1)] = 3000
    """Score submissions from one client address in any minute: a whole event's badges may share
    one address behind the venue's Wi-Fi, so this only stops a flood."""
    replay_workers: Annotated[int, msgspec.Meta(ge=1, le=64)] = 2
    """Runs replayed at once, on threads of their own: the rest of the server never waits behind them."""
    replays_waiting: Annotated[int, msgspec.Meta(ge=0)] = 32
    """Runs that may wait for a replay thread; one more is a 503 with ``Retry-After``."""
    live_pages_per_address: Annotated[int, msgspec.Meta(ge=1)] = 64
    """Live leaderboard streams from one client address; more pages poll (the total is half the
    process's open-file limit)."""
    replays_per_player: Annotated[int, msgspec.Meta(ge=1)] = 2
    """Runs of one player replayed or waiting at once; one more is a 429 with ``Retry-After``."""


class PictureSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``[pictures]``: the limits within which the server fetches the pictures players bring."""

    max_bytes: Annotated[int, msgspec.Meta(ge=1024, le=16 * 1024 * 1024)] = 2 * 1024 * 1024
    """The most a picture may weigh as sent; a larger one is refused and the avatar shown."""
    timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=60)] = 5.0
    """The whole fetch, redirects included."""
    private_addresses: bool = False
    """Fetch from loopback and private addresses too: for tests and a picture host on the event's own
    network only, since otherwise a player could make the server probe its neighbours."""


class PluginsSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The keys of ``[plugins]`` itself; its tables ``[plugins.<name>]`` are each plugin's own."""

    disabled: list[str] = []
    """Plugin names (as listed by ``arcade plugins``) that are not loaded."""
    strict: bool = False
    """Stop at start-up when a third-party plugin is broken, instead of leaving it out with a warning."""


class AdminSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``[admins]``: who may moderate (docs/running-an-event.md). Anyone matching one entry is an admin."""

    accounts: list[str] = []
    """Usernames of the built-in provider's accounts."""
    players: list[str] = []
    """Player ids (as on /players/<id>), whatever the provider."""
    claim: str | None = None
    """A claim of an external provider's ID token, such as ``groups`` or ``https://arcade/roles``..."""
    claim_value: str | None = None
    """...and the value it must be, or hold (a list): e.g. ``arcade-admins``."""


class Settings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    data_dir: str = "arcade-data"
    server: ServerSettings = msgspec.field(default_factory=ServerSettings)
    store: dict[str, Any] = {}
    """``plugin = "tinydb"`` picks the store; ``[store.<name>]`` holds each one's settings."""
    identity: dict[str, Any] = {}
    """``plugin = "builtin"`` picks the identity provider; ``[identity.<name>]`` its settings."""
    plugins: PluginsSettings = msgspec.field(default_factory=PluginsSettings)
    event: EventSettings = msgspec.field(default_factory=EventSettings)
    """The event's time zone and its time-window boards (``arcade/platform/windows.py``)."""
    pictures: PictureSettings = msgspec.field(default_factory=PictureSettings)
    admins: AdminSettings = msgspec.field(default_factory=AdminSettings)
    source: str = "defaults"
    """Where the settings came from, for error messages (set by :func:`load`)."""
    origins: dict[str, str] = {}
    """Which dotted key which environment variable set, for error messages (set by :func:`load`)."""
    plugin_tables: dict[str, dict[str, Any]] = {}
    """The ``[plugins.<name>]`` tables, set apart from ``[plugins]`` by :func:`load`."""

    @property
    def public_url(self) -> str:
        """Where badges and browsers reach the arcade; it is in their tokens, links and QR codes."""
        if self.server.public_url:
            return self.server.public_url.rstrip("/")
        host, port = self.server.host, self.server.port
        if host in EVERY_INTERFACE:
            raise ConfigError(
                f"server.host {host!r} listens on every interface, which is no address badges and phones can "
                "reach: set server.public_url (or --public-url, or ARCADE_SERVER__PUBLIC_URL) to the address they "
                f"reach this machine at, like http://{_outward_address()}:{port}"
            )
        return f"http://{_bracketed(host)}:{port}"

    @property
    def windows(self):
        """The event's time-window boards (checked by :func:`load`)."""
        return windows_of(self.event, self.source, self.origins)

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


def load(
    path: str | os.PathLike | None = None,
    environ: dict[str, str] | None = None,
    flags: dict[str, tuple[str, Any]] | None = None,
) -> Settings:
    """Read the settings: ``path``, else ``$ARCADE_CONFIG``, else ./arcade.toml if present.

    ``flags`` maps a dotted key to the command-line flag that set it and its value.
    """
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
    origins = {}
    for variable, value in environ.items():
        if variable.startswith(ENV_PREFIX) and variable not in _ENV_NOT_SETTINGS:
            parts = variable[len(ENV_PREFIX) :].split("__")
            if not all(parts):
                raise ConfigError(
                    f"{variable} (environment): names no setting; join the parts of a key with double "
                    "underscores, like ARCADE_SERVER__PORT for [server] port"
                )
            key = ".".join(part.lower() for part in parts)
            origins[key] = _put(raw, key, _parse_value(value), f"{variable} (environment)")
    for key, (flag, value) in (flags or {}).items():
        origins[key] = _put(raw, key, value, f"{flag} (command line)")
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
    windows_of(settings.event, source, origins)  # a bad window stops every command, not only serve
    if settings.server.public_url is not None:
        problem = _public_url_problem(settings.server.public_url)
        if problem:
            raise ConfigError(f"{origins.get('server.public_url', source)}: server.public_url: {problem}")
    return settings


def _put(raw: dict[str, Any], key: str, value, origin: str) -> str:
    """Set the dotted ``key`` in ``raw`` to ``value``; answer ``origin``, for error messages."""
    *tables, last = key.split(".")
    table = raw
    for name in tables:
        table = table.setdefault(name, {})
        if not isinstance(table, dict):
            raise ConfigError(f"{origin}: {key} is not inside a table")
    table[last] = value
    return origin


def _public_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be where badges and browsers reach the arcade, or None if it can."""
    try:
        parts = urlsplit(url)
    except ValueError as error:  # an unclosed [ of an IPv6 address
        return f"{url!r} is not a URL ({error})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return (
            "expected the http:// or https:// address badges and browsers reach the arcade at, like "
            f"https://arcade.example.org or http://192.168.1.20:8000; got {url!r}"
        )
    try:
        parts.port
    except ValueError:
        return f"{url!r} has no valid port (1 to 65535)"
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return (
            f"the arcade answers at the root of its address, so {url!r} cannot work; "
            f"give it without a path, query or fragment, like {parts.scheme}://{parts.netloc}"
        )
    return None


def _bracketed(host: str) -> str:
    """An IPv6 address in a URL goes in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _outward_address() -> str:
    """This machine's address on the network its default route leads to (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: only the route is looked up
            return probe.getsockname()[0]
        except OSError:
            return "<this machine's address on the event network>"


def _parse_value(text: str):
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text
