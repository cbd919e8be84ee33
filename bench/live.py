"""How many live updates reach 1,000 open pages within 15 s, and what each costs the server: the
change carried in the event (how the pages work now) against the old way, where each event made
every page fetch its rows again (``GET /games/{id}/rows``, which the server still answers for a
page that missed events), as the baseline in the same run.

For each way, a fresh ``arcade serve`` on loopback gets a full first page (50 players), then
``--pages`` pages open its live stream (asyncio clients in this process, as many sockets as a
browser per page would hold), then ``--updates`` new bests are posted ``--interval`` s apart. A
page has an update when its event arrived (now) or when its fetched rows arrived (the old way).
Printed: the share of (page, update) pairs that arrived within 15 s, the median and the 95th
percentile, and the server process's CPU (its own utime + stime, read from /proc) per update and
per page an update reached, with the ratio of the two ways. The server's share that does not
depend on the pages (the score's replay and storing, building the event once) is in both; what
grows with the pages now is only writing the same encoded bytes to each page's socket.

    .venv/bin/python bench/live.py [--pages 1000] [--updates 20] [--interval 1]
"""

import argparse
import asyncio
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path[0] = str(HERE.parent)  # `python bench/live.py` imports the project, not bench/ alone

from bench.runs import recorded_runs  # noqa: E402
from tests.conftest import RunningServer, free_port, write_config  # noqa: E402

GAME = "dino"
FIRST_PAGE = 50
WITHIN_S = 15
GRACE_S = 30
"""How long after the last update the pages are given before what has not arrived counts as late."""


def server_cpu(pid: int) -> float:
    """The process's CPU seconds so far (user + system), from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Pages:
    """``count`` open pages of one game; each notes when each update reached it."""

    def __init__(self, url: str, count: int, refetch: bool):
        self.url, self.count, self.refetch = url, count, refetch
        self.arrived: dict[str, list[float]] = {}
        self.ready = 0
        self.all_ready = asyncio.Event()
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
        timeout = httpx.Timeout(60, read=None)
        self.streams = httpx.AsyncClient(base_url=url, limits=limits, timeout=timeout)
        self.fetches = httpx.AsyncClient(base_url=url, limits=limits, timeout=timeout)
        self.tasks: list[asyncio.Task] = []

    async def open(self) -> None:
        self.tasks = [asyncio.create_task(self.page()) for _ in range(self.count)]
        await asyncio.wait_for(self.all_ready.wait(), 120)

    async def page(self) -> None:
        async with self.streams.stream("GET", f"/games/{GAME}/events") as stream:
            assert stream.status_code == 200, f"a page was refused its stream: {stream.status_code}"
            event = None
            async for line in stream.aiter_lines():
                if line.startswith("event: "):
                    event = line.removeprefix("event: ")
                elif line.startswith("data: ") and event == "live":
                    self.ready += 1
                    if self.ready == self.count:
                        self.all_ready.set()
                elif line.startswith("data: ") and event == "score":
                    submission = json.loads(line.removeprefix("data: "))["submission_id"]
                    if self.refetch:
                        asyncio.create_task(self.fetch_rows(submission))
                    else:
                        self.arrived.setdefault(submission, []).append(time.monotonic())

    async def fetch_rows(self, submission: str) -> None:
        try:
            answer = await self.fetches.get(f"/games/{GAME}/rows")
            answer.raise_for_status()
        except httpx.HTTPError:
            return  # never arrived
        self.arrived.setdefault(submission, []).append(time.monotonic())

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.streams.aclose()
        await self.fetches.aclose()


async def measure(server: RunningServer, args, refetch: bool) -> dict:
    runs = recorded_runs(FIRST_PAGE + args.updates, shortest=150, longest=400)
    provider = server.provider()
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:

        async def post(index: int) -> str:
            submission = f"bench-live-{index:06d}"
            token = provider.issue_access_token(subject=f"player-{index}", name=f"Player number {index}")
            body = b'{"score":%d,"run":%s,"submission_id":"%s"}' % (
                runs[index].score,
                runs[index].run_json,
                submission.encode(),
            )
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            for _ in range(5):  # a loaded server may drop a kept-alive connection: the badge's retry
                try:
                    answer = await client.post(f"/api/v1/games/{GAME}/scores", content=body, headers=headers)
                except httpx.TransportError:
                    continue
                assert answer.status_code == 201, answer.text
                return submission
            raise RuntimeError(f"score {submission} could not be posted")

        for index in range(FIRST_PAGE):
            await post(index)
        pages = Pages(server.url, args.pages, refetch)
        await pages.open()
        sent: dict[str, float] = {}
        cpu_before = server_cpu(server.process.pid)
        for index in range(FIRST_PAGE, FIRST_PAGE + args.updates):
            started = time.monotonic()
            sent[await post(index)] = started
            await asyncio.sleep(max(0.0, args.interval - (time.monotonic() - started)))
        deadline = time.monotonic() + GRACE_S
        expected = args.pages * len(sent)
        while sum(len(pages.arrived.get(key, ())) for key in sent) < expected and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        cpu = server_cpu(server.process.pid) - cpu_before
        await pages.close()
    delays = sorted(arrived - sent[key] for key in sent for arrived in pages.arrived.get(key, ()))
    on_time = sum(delay <= WITHIN_S for delay in delays)
    return {
        "within": on_time / expected,
        "arrived": len(delays) / expected,
        "median": statistics.median(delays) if delays else float("nan"),
        "p95": delays[int(0.95 * (len(delays) - 1))] if delays else float("nan"),
        "cpu_per_update": cpu / len(sent),
        "cpu_per_delivery": cpu / max(len(delays), 1),
    }


def serve(folder: Path, pages: int) -> RunningServer:
    server = RunningServer(folder=folder, port=free_port())
    write_config(folder, server.url, f"live_pages_per_address = {pages + 10}\n")
    return server.start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--updates", type=int, default=20)
    parser.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args(argv)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 4 * args.pages + 256  # the server's streams are capped at half its open-file limit
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    results = {}
    with tempfile.TemporaryDirectory() as base:
        for name, refetch in [("re-fetch rows (before)", True), ("change in the event (now)", False)]:
            server = serve(Path(base) / name.split()[0], args.pages)
            try:
                results[name] = asyncio.run(measure(server, args, refetch))
            finally:
                server.stop()
    print(f"live updates: {args.pages} open pages, {args.updates} new bests {args.interval:g} s apart")
    print(
        f"{'':28} {'within 15 s':>12} {'arrived':>8} {'median s':>9} {'p95 s':>7} {'CPU s/update':>13} "
        f"{'CPU ms/page reached':>20}"
    )
    for name, result in results.items():
        print(
            f"{name:28} {result['within']:>11.1%} {result['arrived']:>8.1%} {result['median']:>9.2f} "
            f"{result['p95']:>7.2f} {result['cpu_per_update']:>13.3f} {1000 * result['cpu_per_delivery']:>20.3f}"
        )
    before, now = results.values()
    print(
        "server CPU per page reached, before/now: "
        f"{before['cpu_per_delivery'] / max(now['cpu_per_delivery'], 1e-9):.1f}× "
        "(CPU counted until every page had every update, or 30 s after the last)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
