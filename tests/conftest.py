"""Shared fixtures: real `arcade serve` processes on loopback ports, tokens, and Chromium.

Every test server also loads Balloon, the third-party game in tests/fixtures, pip-installed
once per session: its runs can reach any score, so tests post genuine runs that the server's
replay accepts (tests/runs.py).
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.runs import balloon_run
from tests.stores import STORES, Stores

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ARCADE = str(BIN / "arcade")
FIXTURES = ROOT / "tests" / "fixtures"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def on_path(env: dict, folder: Path) -> dict:
    """``env`` with ``folder`` added to its PYTHONPATH (or to the one inherited)."""
    paths = [env.get("PYTHONPATH", os.environ.get("PYTHONPATH", "")), str(folder)]
    return {**env, "PYTHONPATH": os.pathsep.join(path for path in paths if path)}


def install(distribution: Path, target: Path) -> None:
    """`pip install` a distribution from its source folder into ``target``, offline.

    It builds from a copy, as setuptools leaves build files beside the sources."""
    source = target.parent / f"{distribution.name}-source"
    shutil.copytree(distribution, source)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--no-build-isolation",
         "--target", str(target), str(source)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr


def run_arcade(*args: str, cwd: Path, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run the `arcade` command as a user would."""
    return subprocess.run(
        [ARCADE, *args], cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=timeout
    )


@dataclass
class RunningServer:
    """An `arcade serve` process on a loopback port, with its own folder, settings and data."""

    folder: Path
    port: int
    process: subprocess.Popen | None = None
    env: dict = field(default_factory=dict)
    args: tuple[str, ...] = ()
    """More arguments for `arcade serve`."""
    log: Path = field(init=False)

    def __post_init__(self):
        self.log = self.folder / "serve.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def data(self) -> Path:
        return self.folder / "arcade-data"

    @property
    def config(self) -> Path:
        return self.folder / "arcade.toml"

    def start(self) -> "RunningServer":
        log = self.log.open("ab")
        self.process = subprocess.Popen(
            [ARCADE, "serve", "--port", str(self.port), *self.args],
            cwd=self.folder,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"arcade serve exited: {self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/api/v1/games", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError(f"arcade serve did not answer: {self.log.read_text()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise

    def restart(self) -> "RunningServer":
        self.stop()
        return self.start()

    def token(self, player: str) -> str:
        """A token signed by the server's built-in provider, through the `arcade token` command."""
        result = run_arcade("token", "--player", player, cwd=self.folder, env=self.env)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def post_score(
        self, token: str, score: int, submission_id: str, game: str = "balloon", run: dict | None = None
    ) -> httpx.Response:
        """Posts ``score`` with ``run``, by default a genuine Balloon run reaching it."""
        body = {"score": score, "run": run or balloon_run(score), "submission_id": submission_id}
        return httpx.post(
            f"{self.url}/api/v1/games/{game}/scores", json=body, headers={"Authorization": f"Bearer {token}"}
        )


class Servers:
    """Starts servers, each in its own folder under ``base``, and stops them all at the end."""

    def __init__(self, base: Path, games: Path):
        self.base = base
        self.games = games
        self.started: list[RunningServer] = []

    def __call__(self, config: str = "", start: bool = True, env: dict | None = None) -> RunningServer:
        folder = self.base / f"site{len(self.started)}"
        folder.mkdir()
        server = RunningServer(folder=folder, port=free_port(), env=on_path(env or {}, self.games))
        server.config.write_text(f'[server]\npublic_url = "{server.url}"\n{config}')
        self.started.append(server)
        return server.start() if start else server

    def stop_all(self) -> None:
        for server in self.started:
            server.stop()


@pytest.fixture(scope="session")
def fixture_games(tmp_path_factory) -> Path:
    """The folder where the game distributions of tests/fixtures are installed, once a session."""
    target = tmp_path_factory.mktemp("fixture-games") / "site-packages"
    install(FIXTURES / "arcade-game-balloon", target)
    return target


@pytest.fixture
def make_server(tmp_path, fixture_games):
    """Start servers in their own folders; `make_server(config_text)` returns a started one."""
    servers = Servers(tmp_path, fixture_games)
    yield servers
    servers.stop_all()


@pytest.fixture
def server(make_server) -> RunningServer:
    return make_server()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory, fixture_games) -> RunningServer:
    """One server for a module's tests that store nothing (refusals, reads of an empty arcade)."""
    servers = Servers(tmp_path_factory.mktemp("shared"), fixture_games)
    yield servers()
    servers.stop_all()


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(params=STORES)
async def stores(request, tmp_path):
    """Opens stores of each kind in the contract suites; closes them after the test."""
    stores = Stores(request.param, tmp_path)
    yield stores
    for store in stores.opened:
        await store.close()


@pytest.fixture
async def store(stores):
    return await stores.open()


@pytest.fixture(scope="module")
def zbarimg() -> str:
    """The real QR decoder; missing it fails in CI and skips elsewhere."""
    path = shutil.which("zbarimg")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("zbarimg is missing; install zbar-tools")
        pytest.skip("zbarimg is not installed (apt-get install zbar-tools)")
    return path


@pytest.fixture(scope="module")
def browser():
    """Real Chromium through Playwright; missing Chromium fails in CI and skips elsewhere.

    Module-scoped: Playwright's sync API keeps an event loop running in the main
    thread, which would stop the async store tests of later modules from running."""
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing; .ci/run installs it with apt-get")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()
