"""The games a badge can get over the air: each registered game built with mpy-cross, and the
manifest of them signed for the badge (``docs/badge.md``, "Games over the air").

A game's ``.mpy`` is cached in the data folder under a name made of the hash of its source and
of the compiler, so a server restarted with the same games compiles nothing, and several server
processes sharing the folder write the same bytes under the same name (each through its own
temporary file, renamed into place). Files are served by their sha256, so a name never changes
meaning.
"""

import asyncio
import hashlib
import json
import logging
import os
import threading
import time
from importlib import resources
from pathlib import Path

import msgspec

from arcade.badge.build import BuildError, Module, compile_module, find_program, mpy_version
from arcade.badge.signing import BadgeKeyError, BadgeKeys, public, sign
from arcade.sdk.durable import write_atomically
from arcade.sdk.game import GameInfo
from arcade.sdk.models import SignedCatalog

log = logging.getLogger("arcade.catalog")

CACHE = "badge-games"
REFRESH_S = 30
"""How long a signed manifest is served before it is signed again, the keys read again: the longest a
rotation takes to reach every process. Its ``issued`` is the start of that window of the clock, so every
process serves the same one at the same time, and a badge going from one to another never sees it go back."""
LIFETIME_S = 24 * 3600
"""How long after ``issued`` a badge whose clock is set takes the manifest (``expires``): the longest a
look-alike can replay a list the arcade signed to hold back the updates that came after it."""


def deployed_since(now: float) -> int:
    """The oldest ``issued`` a badge deployed at ``now`` takes (config.json's ``games_since``): that of
    the window ``now`` falls in and of the one before, for a server whose clock lags the deploying
    computer's by up to REFRESH_S. A list signed earlier was signed before the deploy: a replay."""
    return _window(now) - REFRESH_S


def _window(now: float) -> int:
    return int(now) // REFRESH_S * REFRESH_S


class CatalogGame(msgspec.Struct, kw_only=True):
    id: str
    title: str
    version: str
    order: str
    unit: str
    size: int
    sha256: str


class CatalogManifest(msgspec.Struct, kw_only=True):
    """What is signed: the games, the ``.mpy`` version they are built for, the keys that sign from
    now on (a badge that verified the manifest trusts those from then on), and when it was signed and
    stops being good (unix seconds): a badge refuses a manifest older than the newest it checked, and
    one expired by its clock."""

    mpy: str
    games: list[CatalogGame]
    keys: list[dict]
    issued: int
    expires: int


class Catalog:
    def __init__(self, games: list[GameInfo], data_dir: Path, keys: BadgeKeys):
        self.games = games
        self.cache = data_dir / CACHE
        self.keys = keys
        self.built: list[CatalogGame] | None = None
        self.mpy = ""
        self.problem: str | None = None
        self._building = threading.Lock()
        self._signed: tuple[int, SignedCatalog] | None = None

    def build(self) -> list[CatalogGame]:
        """The games, compiled on first use (or found in the cache); without mpy-cross, none, said once."""
        with self._building:
            if self.built is None:
                try:
                    self.built = self._build()
                except BuildError as error:
                    self.problem, self.built = str(error), []
                    log.warning("games over the air are off: %s", self.problem)
            return self.built

    def _build(self) -> list[CatalogGame]:
        compiler = [find_program("mpy-cross")]
        self.mpy = mpy_version(compiler)
        self.cache.mkdir(parents=True, exist_ok=True)
        built = []
        for game in sorted(self.games, key=lambda game: (game.sort_order, game.title)):
            source = Path(str(resources.files(game.package) / "badge.py"))
            try:
                text = source.read_bytes()
            except OSError as error:
                log.warning("game %s is not offered to badges: %s", game.id, error)
                continue
            key = hashlib.sha256(b"%s\0%s\0%s" % (self.mpy.encode(), game.id.encode(), text)).hexdigest()
            compiled = self.cache / f"source-{key}.mpy"
            if not compiled.is_file():
                temporary = self.cache / f".{key}.{os.getpid()}.py"
                temporary.write_bytes(text)
                try:
                    compile_module(compiler, Module(temporary, f"games/{game.id}.py"), temporary.with_suffix(".mpy"))
                    write_atomically(compiled, temporary.with_suffix(".mpy").read_bytes(), mode=0o644)
                except BuildError as error:  # this game only: the others still go
                    log.warning("game %s is not offered to badges: %s", game.id, error)
                    continue
                finally:
                    temporary.unlink(missing_ok=True)
                    temporary.with_suffix(".mpy").unlink(missing_ok=True)
            data = compiled.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            served = self.cache / f"{digest}.mpy"
            if not served.is_file():
                write_atomically(served, data, mode=0o644)
            built.append(
                CatalogGame(
                    id=game.id,
                    title=game.title,
                    version=game.version,
                    order=game.order,
                    unit=game.unit,
                    size=len(data),
                    sha256=digest,
                )
            )
        return built

    async def signed(self) -> SignedCatalog | None:
        """The manifest and its signatures; None when no game can be built here."""
        games = await asyncio.to_thread(self.build)
        if self.problem:
            return None
        issued = _window(time.time())
        if self._signed is None or self._signed[0] != issued:
            try:
                keys = await self.keys.keys()
            except BadgeKeyError as error:  # logins still work; the badges get no games until it is fixed
                log.error("games over the air are off: %s", error)
                return None
            manifest = CatalogManifest(
                mpy=self.mpy,
                games=games,
                keys=[public(key) for key in keys],
                issued=issued,
                expires=issued + LIFETIME_S,
            )
            text = json.dumps(msgspec.to_builtins(manifest), separators=(",", ":"))
            self._signed = (issued, SignedCatalog(manifest=text, signatures=sign(keys, text.encode())))
        return self._signed[1]

    def file(self, name: str) -> Path | None:
        """The served file ``<sha256>.mpy`` of a game of the catalogue, or None."""
        for game in self.build():
            if name == f"{game.sha256}.mpy":
                return self.cache / name
        return None
