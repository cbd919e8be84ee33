"""The layout is the architecture: which part may import which (docs/architecture.md).

Read from the sources' import statements, so a shortcut across a boundary fails here
before it becomes a habit.
"""

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTALLED_AS = {"arcade": "arcade", "server": "arcade.server", "plugins": "arcade.plugins", "games": "arcade.games"}


def imports_of(folder: str) -> dict[str, set[str]]:
    """Each module under ``folder`` (as installed) and the ``arcade`` modules it imports."""
    found = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        relative = path.relative_to(ROOT / folder).with_suffix("")
        module = ".".join([INSTALLED_AS[folder], *relative.parts]).removesuffix(".__init__")
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        found[module] = {name for name in names if name.split(".")[0] in INSTALLED_AS}
    return found


def crossings(folder: str, forbidden: tuple[str, ...], allowed: set[str] = frozenset()) -> list[str]:
    return sorted(
        f"{module} imports {name}"
        for module, names in imports_of(folder).items()
        if module not in allowed
        for name in names
        if name.startswith(forbidden)
    )


def test_nothing_imports_the_generic_top_level_names_the_wheel_no_longer_has():
    for folder in INSTALLED_AS:
        assert crossings(folder, ("server", "plugins", "games")) == []


def test_plugins_and_games_import_only_the_sdk_and_themselves():
    for folder in ("plugins", "games"):
        assert crossings(folder, ("arcade.server", "arcade.platform", "arcade.badge", "arcade.cli")) == []


def test_the_sdk_stands_alone():
    assert [
        f"{module} imports {name}"
        for module, names in imports_of("arcade").items()
        if module.startswith("arcade.sdk")
        for name in names
        if not name.startswith("arcade.sdk")
    ] == []


def test_the_core_reaches_the_server_only_from_the_command_that_serves():
    assert crossings("arcade", ("arcade.server", "arcade.plugins", "arcade.games"), allowed={"arcade.cli"}) == []


def test_every_package_folder_is_in_the_wheel():
    """setuptools maps the top-level folders under ``arcade``; a package left out of the list
    would work from a checkout and be missing from the installed wheel."""
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    folders = {"firmware": "arcade.firmware", **INSTALLED_AS}
    on_disk = {
        ".".join([folders[path.relative_to(ROOT).parts[0]], *path.relative_to(ROOT).parts[1:-1]])
        for folder in folders
        for path in (ROOT / folder).rglob("__init__.py")
    }
    assert on_disk == listed
