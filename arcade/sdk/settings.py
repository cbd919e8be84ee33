"""Decoding a plugin's settings table into its own typed settings, tox-4 style.

A wrong key or type is reported once, naming where it came from (the file or the
environment variable), the dotted key, and what was expected.
"""

import re
from typing import Any

import msgspec

from arcade.sdk.errors import ConfigError


def decode(raw: dict[str, Any], kind: type, where: str, source: str = "configuration"):
    """Decode a plugin's settings table into its own typed settings (tox-4 style).

    ``where`` is the table's dotted name, e.g. ``identity.oidc``, used in errors.
    """
    try:
        return msgspec.convert(raw, kind)
    except msgspec.ValidationError as error:
        raise ConfigError(describe(error, source, {}, prefix=where)) from None


def describe(error: msgspec.ValidationError, source: str, origins: dict[str, str], prefix: str = "") -> str:
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
    where = origins.get(path.lstrip("."), source)
    return f"{where}: {key}: {what[0].lower()}{what[1:]}"
