"""Stop the arcade every way it is stopped at an event, while badges keep sending, and count losses.

Badges (asyncio clients, each its own player) submit genuine dino runs with fresh submission_ids
to a real ``arcade serve`` on loopback. Every cycle the server is stopped while they send: by
SIGTERM (a clean stop, which folds the journal), by SIGKILL (the OOM killer, a power cut), by
SIGKILL right after a clean restart, and by SIGKILL during the clean stop's own fold. Each start
sets how often the journal is folded (``[store.tinydb] fold_every``): after a kill so often that
the next kill lands in the middle of a fold, after a clean stop so rarely that the next kill finds
everything since the restart in the journal alone. Then it is started again on the same folder. At the end every acknowledged submission must be in the
database file exactly once: the table counts cycles, acknowledged writes, lost and doubled.

    .venv/bin/python bench/crash.py [--cycles 12] [--badges 8] [--seconds 1.5]

Exits 1 if anything acknowledged was lost or stored twice.
"""

import argparse
import asyncio
import itertools
import json
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path[0] = str(HERE.parent)  # `python bench/crash.py` imports the project, not bench/ alone

from arcade.platform import config  # noqa: E402
from arcade.platform.assembly import assemble  # noqa: E402

ARCADE = Path(sys.executable).with_name("arcade")
RUN = {"seed": 1, "inputs": [], "ticks": 109}
"""A dino that never jumps meets the first cactus at tick 109 with 34 points."""
SCORE = 34
STOPS = ["term", "kill", "kill-after-restart", "kill-during-shutdown"]
FOLD_OFTEN, FOLD_RARELY = 8, 1_000_000
"""Changes between folds: about every second score, or never within a cycle."""


class Server:
    """One ``arcade serve`` on a data folder that outlives it."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.start(FOLD_OFTEN)

    def start(self, fold_every: int) -> None:
        settings = (
            f'[server]\npublic_url = "{self.url}"\nscores_per_minute = 1000000\n'
            f"[store.tinydb]\nfold_every = {fold_every}\n"
        )
        (self.folder / "arcade.toml").write_text(settings)
        log = (self.folder / "serve.log").open("ab")
        self.process = subprocess.Popen(
            [str(ARCADE), "serve", "--port", str(self.port), "--log-level", "warning"],
            cwd=self.folder,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"arcade serve exited: {(self.folder / 'serve.log').read_text()}")
            try:
                if httpx.get(f"{self.url}/api/v1/games", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        raise SystemExit("arcade serve did not answer within 30 s")

    def signal(self, number: int) -> None:
        self.process.send_signal(number)

    def wait(self) -> None:
        self.process.wait(timeout=60)


async def badge(client: httpx.AsyncClient, url: str, token: str, name: str, acknowledged: list, stop: asyncio.Event):
    """Send runs one after another; a 201 is an acknowledgement, anything else is tried again later
    with the same submission_id, as the badge's queue does. ``name`` is new each cycle, as a
    submission_id is never used for two runs."""
    headers = {"Authorization": f"Bearer {token}"}
    for number in itertools.count():
        key = f"{name}-{number:06d}"
        while not stop.is_set():
            try:
                answer = await client.post(
                    f"{url}/api/v1/games/dino/scores",
                    json={"score": SCORE, "run": RUN, "submission_id": key},
                    headers=headers,
                )
            except httpx.TransportError:
                await asyncio.sleep(0.05)
                continue
            if answer.status_code == 201:
                acknowledged.append(key)
                break
            await asyncio.sleep(0.05)
        if stop.is_set():
            return


async def cycle(number: int, server: Server, stop_kind: str, seconds: float, tokens: dict, acknowledged: list):
    stop = asyncio.Event()
    async with httpx.AsyncClient(timeout=5) as client:
        badges = [
            asyncio.create_task(badge(client, server.url, token, f"{name}-c{number}", acknowledged, stop))
            for name, token in tokens.items()
        ]
        await asyncio.sleep(seconds)
        fold_every = FOLD_OFTEN
        if stop_kind == "term":
            server.signal(signal.SIGTERM)
            fold_every = FOLD_RARELY
        elif stop_kind == "kill":
            server.signal(signal.SIGKILL)
        elif stop_kind == "kill-after-restart":
            server.signal(signal.SIGTERM)
            await asyncio.to_thread(server.wait)
            await asyncio.to_thread(server.start, FOLD_RARELY)
            await asyncio.sleep(seconds / 3)
            server.signal(signal.SIGKILL)
        else:  # kill during shutdown: SIGTERM starts the final fold, SIGKILL lands in it
            server.signal(signal.SIGTERM)
            await asyncio.sleep(0.02)
            server.signal(signal.SIGKILL)
        await asyncio.to_thread(server.wait)
        await asyncio.to_thread(server.start, fold_every)
        await asyncio.sleep(seconds / 3)  # the badges' retries of what was in flight land now
        stop.set()
        await asyncio.gather(*badges)


def stored_submissions(folder: Path) -> Counter:
    """Each submission_id in the ledger of scores, counted, read after a clean stop folded everything."""
    database = json.loads((folder / "arcade-data" / "arcade.scores.json").read_text())
    return Counter(document["submission_id"] for document in database.get("scores", {}).values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=12)
    parser.add_argument("--badges", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=1.5, help="sending time before each stop")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        server = Server(folder)
        settings = config.load(folder / "arcade.toml", environ={})
        provider = assemble(settings, data_dir=folder / "arcade-data", with_store=False).identity
        tokens = {
            f"badge{n}": provider.issue_access_token(subject=f"badge{n}", name=f"badge{n}") for n in range(args.badges)
        }
        acknowledged: list[str] = []
        kinds = Counter()
        for number in range(args.cycles):
            kind = STOPS[number % len(STOPS)]
            kinds[kind] += 1
            asyncio.run(cycle(number, server, kind, args.seconds, tokens, acknowledged))
        server.signal(signal.SIGTERM)
        server.wait()
        stored = stored_submissions(folder)
    lost = [key for key in acknowledged if key not in stored]
    doubled = [key for key, count in stored.items() if count > 1]
    print(f"stops: {', '.join(f'{kind} x{count}' for kind, count in kinds.items())}")
    print(f"{'cycles':>8} {'acknowledged':>13} {'lost':>6} {'doubled':>8}")
    print(f"{args.cycles:>8} {len(acknowledged):>13} {len(lost):>6} {len(doubled):>8}")
    if lost or doubled:
        print(f"lost: {lost[:10]} doubled: {doubled[:10]}")
        return 1
    return 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


if __name__ == "__main__":
    sys.exit(main())
