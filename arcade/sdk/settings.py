"""A plugin's settings table, decoded into the plugin's own typed settings, tox-4 style.

The platform hands each plugin a :class:`PluginSettings` for its table. It knows the table's
dotted place, the file and which keys came from environment variables, so a wrong key or type is
reported once, naming where it came from (the file or the variable), the dotted key, and what was
expected.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec

from arcade.sdk.errors import ConfigError

T = TypeVar("T")


@dataclass(frozen=True)
class PluginSettings:
    """One plugin's table, e.g. ``[plugins.webhook]``; ``decode`` it into your own msgspec Struct."""

    where: str
    """The table's dotted place, e.g. ``plugins.webhook`` or ``identity.oidc``."""
    raw: dict[str, Any] = field(default_factory=dict, repr=False)  # may hold secrets
    source: str = "defaults"
    """The settings file, or ``defaults`` when there is none."""
    origins: Mapping[str, str] = field(default_factory=dict)
    """Which dotted key an environment variable set, e.g. ``plugins.webhook.secret``."""

    def decode(self, kind: type[T]) -> T:
        """The table as ``kind`` (give it ``forbid_unknown_fields=True``, so a misspelt key is an error)."""
        try:
            return msgspec.convert(self.raw, kind)
        except msgspec.ValidationError as error:
            raise ConfigError(describe(error, self.source, self.origins, prefix=self.where)) from None

    def error(self, key: str, expected: str) -> ConfigError:
        """An error about ``key`` of this table that the decode cannot see (two keys that go together,
        a URL's scheme), worded and placed like the decode's own."""
        return ConfigError(located(f"{self.where}.{key}", expected, self.source, self.origins))


def describe(error: msgspec.ValidationError, source: str, origins: Mapping[str, str], prefix: str = "") -> str:
    """Turn msgspec's "Expected X - at `$.a.b`" into "file: a.b: expected X".

    ``origins`` names where a dotted key came from when not from ``source`` ("VAR (environment)").
    """
    message = str(error)
    match = re.match(r"(?P<what>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", message, re.S)
    what, path = match["what"], (match["path"] or "")
    unknown = re.match(r"Object contains unknown field `(?P<key>[^`]+)`", what)
    if unknown:
        path = f"{path}.{unknown['key']}"
        what = "unknown key; check its spelling against the documented settings"
    key = (prefix + path).lstrip(".") or "(top level)"
    return located(key, f"{what[0].lower()}{what[1:]}", source, origins)


def located(key: str, message: str, source: str, origins: Mapping[str, str]) -> str:
    """``where: key: message``, where is the variable that set ``key`` (or a table holding it, or
    a key inside it), else the file."""
    held = [origins[outer] for outer in _enclosing(key) if outer in origins]
    inside = [variable for dotted, variable in sorted(origins.items()) if dotted.startswith(f"{key}.")]
    variable = next(iter(held + inside), None)
    return f"{variable or source}: {key}: {message}"


def _enclosing(key: str) -> list[str]:
    """``a.b[0].c`` and the keys holding it, innermost first: ``a.b[0].c``, ``a.b[0]``, ``a.b``, ``a``."""
    keys = [key]
    while (shorter := re.sub(r"(\.[^.\[]*|\[\d+\])$", "", keys[-1])) != keys[-1] and shorter:
        keys.append(shorter)
    return keys
