"""Shared fixtures: real `arcade serve` processes on loopback ports, tokens, and Chromium."""

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

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ARCADE = str(BIN / "arcade")
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
            [ARCADE, "serve", "--port", str(self.port)],
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

    def post_score(self, token: str, score: int, submission_id: str, game: str = "dino", **extra) -> httpx.Response:
        body = {"score": score, "run": {"seed": 7, "inputs": [[1, 1]], "ticks": 10}, "submission_id": submission_id}
        body.update(extra)
        return httpx.post(
            f"{self.url}/api/v1/games/{game}/scores", json=body, headers={"Authorization": f"Bearer {token}"}
        )


class Servers:
    """Starts servers, each in its own folder under ``base``, and stops them all at the end."""

    def __init__(self, base: Path):
        self.base = base
        self.started: list[RunningServer] = []

    def __call__(self, config: str = "", start: bool = True, env: dict | None = None) -> RunningServer:
        folder = self.base / f"site{len(self.started)}"
        folder.mkdir()
        server = RunningServer(folder=folder, port=free_port(), env=env or {})
        server.config.write_text(f'[server]\npublic_url = "{server.url}"\n{config}')
        self.started.append(server)
        return server.start() if start else server

    def stop_all(self) -> None:
        for server in self.started:
            server.stop()


@pytest.fixture
def make_server(tmp_path):
    """Start servers in their own folders; `make_server(config_text)` returns a started one."""
    servers = Servers(tmp_path)
    yield servers
    servers.stop_all()


@pytest.fixture
def server(make_server) -> RunningServer:
    return make_server()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory) -> RunningServer:
    """One server for a module's tests that store nothing (refusals, reads of an empty arcade)."""
    servers = Servers(tmp_path_factory.mktemp("shared"))
    yield servers()
    servers.stop_all()


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
