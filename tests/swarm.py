"""Simulated badges: asyncio clients that log in and send scores over HTTP as the firmware does,
every answer timed and every acknowledgement kept.

Not a test module: tests/test_load.py runs a few for seconds, bench/load.py more for longer,
bench/replay_flood.py has them as the players a flood must not hold up. A badge

1. asks for a device code, and its person approves from the QR link on the real verification
   pages (tests/people.py, on a thread: its client is synchronous), signing up on the way;
2. polls the token endpoint every ``interval`` seconds, five more after each ``slow_down``;
3. plays: a pause as long as a game (compressed), then a genuine run of a built-in game
   (tests/runs.py) sent with a new ``submission_id`` until it is acknowledged. A 429 or 503 is
   sent again after its ``Retry-After``; a connection dropped mid-request or an answer lost on
   its way back at once, with the same ``submission_id``; the access token is refreshed a minute
   before it expires, as ``firmware/session.py`` does.

Spectators read leaderboards meanwhile, as the live pages' visitors do. :class:`Ledger` keeps
what the badges were told; after a clean stop :func:`losses` compares it with what the store
holds, and :func:`check` what the arcade shows with that.
"""

import asyncio
import itertools
import json
import math
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path

import httpx

from arcade.games.dino import DINO
from arcade.games.maze import MAZE
from arcade.games.tiles import TILES
from arcade.scoring.replay import RunRefused, replay
from arcade.sdk.models import Run
from tests.people import Person
from tests.runs import dino_run, maze_path, run_of, tiles_moves

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
SLOW_DOWN_S = 5
REFRESH_MARGIN_S = 60
"""A token is refreshed when it has this long left, as the firmware does."""
DROP_AFTER_S = (0.0005, 0.005)
"""How soon after the request left a dropped connection drops: before most answers are ready."""
ONE_REQUEST_A_CONNECTION = httpx.Limits(max_keepalive_connections=0)
GAMES = {game.id: game for game in (DINO, MAZE, TILES)}
RUNS_PER_GAME = 6


@cache
def genuine_runs() -> dict[str, list[tuple[int, dict]]]:
    """A few finished runs of each built-in game with the score its replay reaches, made once a
    process (the dino player of tests/runs.py now and then outlasts its ticks: that run is left out)."""
    makers = {
        "dino": dino_run,
        "maze": lambda seed: run_of(maze_path(seed), seed),
        "tiles": lambda seed: run_of(tiles_moves(seed), seed),
    }
    runs = {}
    for name, make in makers.items():
        scored = (_scored(GAMES[name], make(seed)) for seed in itertools.count(1))
        runs[name] = list(itertools.islice(filter(None, scored), RUNS_PER_GAME))
    return runs


def _scored(game, run: dict) -> tuple[int, dict] | None:
    try:
        return replay(game, Run(**run)), run
    except RunRefused:
        return None


def percentile(sorted_seconds: list[float], share: float) -> float:
    """The nearest-rank percentile: the smallest latency at least ``share`` of the answers took."""
    return sorted_seconds[max(0, math.ceil(share * len(sorted_seconds)) - 1)]


@dataclass
class Timings:
    """Every answer's latency and status by request kind, with when it was sent, so a run can be
    cut into phases afterwards."""

    samples: dict[str, list[tuple[float, float, int]]] = field(default_factory=lambda: defaultdict(list))
    """kind: (sent at, seconds, status), in time.monotonic seconds."""

    async def timed(self, kind: str, request) -> httpx.Response:
        sent = time.monotonic()
        response = await request
        self.samples[kind].append((sent, time.monotonic() - sent, response.status_code))
        return response

    def between(self, start: float, end: float) -> "Timings":
        """The answers to requests sent from ``start`` to ``end``."""
        cut = Timings()
        for kind, samples in self.samples.items():
            cut.samples[kind] = [sample for sample in samples if start <= sample[0] < end]
        return cut

    def seconds(self, kind: str) -> list[float]:
        return sorted(seconds for _, seconds, _ in self.samples.get(kind, []))

    def statuses(self, kind: str) -> Counter:
        return Counter(status for _, _, status in self.samples.get(kind, []))

    def table(self, elapsed: float) -> str:
        """Requests, throughput and p50/p95/p99 per kind, and how each was answered."""
        lines = [f"{'request':<14}{'count':>7}{'per s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}  answers"]
        for kind in sorted(self.samples):
            seconds = self.seconds(kind)
            if not seconds:
                continue
            p50, p95, p99 = (percentile(seconds, share) * 1000 for share in (0.5, 0.95, 0.99))
            answers = ", ".join(f"{status} x{count}" for status, count in sorted(self.statuses(kind).items()))
            lines.append(
                f"{kind:<14}{len(seconds):>7}{len(seconds) / elapsed:>8.1f}{p50:>9.1f}{p95:>9.1f}{p99:>9.1f}  {answers}"
            )
        total = sum(len(samples) for samples in self.samples.values())
        lines.append(f"{'all':<14}{total:>7}{total / elapsed:>8.1f}")
        return "\n".join(lines)


@dataclass
class Acknowledged:
    player: str
    game: str
    score: int
    at: datetime


@dataclass
class Ledger:
    """What the badges were told, and everything that was not what a badge expects."""

    acknowledged: dict[str, Acknowledged] = field(default_factory=dict)
    """By submission_id."""
    unanswered: set[str] = field(default_factory=set)
    """Submissions sent at least once and never acknowledged: still queued on their badge."""
    counts: Counter = field(default_factory=Counter)
    """Refusals a badge honours and faults it rides out: 429, slow_down, lost answers, replays."""
    errors: list[str] = field(default_factory=list)

    def error(self, what: str, response: httpx.Response | None = None) -> None:
        if response is not None:
            what += f": {response.status_code} {response.text[:300]}"
        self.errors.append(what)


@dataclass
class Queued:
    """A run in a badge's queue, and what became of the earlier tries to send it."""

    game: str
    body: dict
    maybe_stored: bool = False
    """An earlier try may have reached the store: a replayed answer is then expected."""
    lost: dict | None = None
    """The first answer that never reached the badge: every later answer must repeat it."""

    @property
    def key(self) -> str:
        return self.body["submission_id"]

    @property
    def score(self) -> int:
        return self.body["score"]


class Badge:
    """One badge, its own player, sending from its own loopback address (as badges on a venue's
    Wi-Fi do; the arcade's budgets are per address) while its person's phone uses another. Like
    the firmware's HTTP/1.0 requests, each request has a connection of its own."""

    def __init__(self, url: str, number: int, timings: Timings, ledger: Ledger, *, pause, reading, lose: float):
        """``pause``: the shortest and longest game, in seconds; ``reading``: how long a person
        takes to scan the QR code, shortest and longest; ``lose``: the share of score requests the
        Wi-Fi fails, half of them dropped mid-request, half their answer lost."""
        self.url = url
        self.name = f"badge{number:04d}"
        self.address = f"127.0.{1 + number // 250}.{1 + number % 250}"
        self.phone = f"127.1.{1 + number // 250}.{1 + number % 250}"
        self.http = httpx.AsyncClient(
            base_url=url,
            transport=httpx.AsyncHTTPTransport(local_address=self.address, limits=ONE_REQUEST_A_CONNECTION),
            timeout=30,
        )
        self.timings = timings
        self.ledger = ledger
        self.pause = pause
        self.reading = reading
        self.lose = lose
        self.random = random.Random(number)
        self.client_id = ""
        self.tokens: dict = {}
        self.fresh_until = 0.0
        self.queue: list[Queued] = []
        self.busy_until = 0.0
        """When the server last said to come back (``Retry-After``)."""

    async def close(self) -> None:
        await self.http.aclose()

    async def log_in(self) -> None:
        """The device flow, its person approving on the pages once they have scanned the code."""
        settings = (await self.timings.timed("boot", self.http.get("/api/v1/badge"))).json()["identity"]
        self.client_id = settings["client_id"]
        asked = await self.timings.timed(
            "authorize",
            self.http.post(
                "/oauth/device_authorization", data={"client_id": self.client_id, "scope": settings["scope"]}
            ),
        )
        if asked.status_code != 200:
            raise RuntimeError(f"{self.name}: device authorization answered {asked.status_code} {asked.text}")
        grant = asked.json()
        approval = asyncio.create_task(self._approve(grant["verification_uri_complete"]))
        interval = grant["interval"]
        form = {
            "grant_type": DEVICE_CODE_GRANT,
            "device_code": grant["device_code"],
            "client_id": self.client_id,
        }
        while True:
            await asyncio.sleep(interval)
            if approval.done() and approval.exception():
                raise approval.exception()
            answer = await self.timings.timed("poll", self.http.post("/oauth/token", data=form))
            error = answer.json().get("error") if answer.status_code == 400 else None
            if answer.status_code == 200:
                break
            if error == "slow_down":
                self.ledger.counts["slow_down"] += 1
                interval += SLOW_DOWN_S
            elif error != "authorization_pending":
                raise RuntimeError(f"{self.name}: polling answered {answer.status_code} {answer.text}")
        await approval
        self._keep(answer.json())

    async def _approve(self, link: str) -> None:
        person = Person(self.url, self.name, password=f"{self.name} plays all night", address=self.phone)
        await asyncio.sleep(self.random.uniform(*self.reading))
        try:
            sent = time.monotonic()
            page = await asyncio.to_thread(person.approve, link=link)
            self.timings.samples["approve"].append((sent, time.monotonic() - sent, page.status_code))
            if "Approved" not in page.text:
                raise RuntimeError(f"{self.name}: approving answered {page.status_code} {page.text[:300]}")
        finally:
            person.close()

    def _keep(self, tokens: dict) -> None:
        self.tokens = {**self.tokens, **tokens}
        self.fresh_until = time.monotonic() + tokens["expires_in"] - REFRESH_MARGIN_S

    async def refresh(self) -> None:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self.tokens["refresh_token"],
            "client_id": self.client_id,
        }
        answer = await self.timings.timed("refresh", self.http.post("/oauth/token", data=form))
        if answer.status_code != 200:
            raise RuntimeError(f"{self.name}: refreshing answered {answer.status_code} {answer.text}")
        self._keep(answer.json())

    async def play(self, until: float, switched_on: float = 0.0, runs: int | None = None) -> None:
        """Switched on after ``switched_on`` seconds: log in, then play ``runs`` games (or games until
        ``until``, time.monotonic), queueing each run and delivering the queue. Switched off, a
        badge keeps what is still queued."""
        await asyncio.sleep(switched_on)
        try:
            await self.log_in()
            made = genuine_runs()
            for number in itertools.count() if runs is None else range(runs):
                await asyncio.sleep(self.random.uniform(*self.pause))
                if time.monotonic() >= until:
                    return
                game = self.random.choice(sorted(made))
                score, run = self.random.choice(made[game])
                queued = Queued(game, {"score": score, "run": run, "submission_id": f"{self.name}-{number:06d}"})
                self.queue.append(queued)
                self.ledger.unanswered.add(queued.key)
                await self.deliver(until)
        except (RuntimeError, httpx.TransportError) as error:
            self.ledger.error(f"{self.name} gave up: {type(error).__name__}: {error}")

    async def deliver(self, until: float) -> None:
        """Send the queued runs, oldest first, unless the server said when to come back and that is
        still ahead (the badge plays on meanwhile, as ``firmware/scores.py`` does)."""
        while self.queue and time.monotonic() >= self.busy_until:
            if not await self.send(self.queue[0], until):
                return
            self.queue.pop(0)

    async def send(self, queued: Queued, until: float) -> bool:
        """Send one run until it is answered for good (True) or the server is busy (False). Now and
        then the Wi-Fi fails: the connection drops while the server works on the run, or the answer
        is lost on its way back; the badge sends the run again at once, with the same submission_id."""
        while time.monotonic() < until:
            if time.monotonic() >= self.fresh_until:
                await self.refresh()
            luck = self.random.random()
            drops, loses_answer = luck < self.lose / 2, self.lose / 2 <= luck < self.lose
            dropped = httpx.Timeout(30, read=self.random.uniform(*DROP_AFTER_S))
            request = self.http.post(
                f"/api/v1/games/{queued.game}/scores",
                json=queued.body,
                headers={"Authorization": f"Bearer {self.tokens['access_token']}"},
                timeout=dropped if drops else httpx.USE_CLIENT_DEFAULT,
            )
            try:
                answer = await self.timings.timed("score", request)
            except httpx.ReadTimeout:
                self.ledger.counts["dropped mid-request"] += 1
                queued.maybe_stored = True
                continue
            if answer.status_code == 201 and loses_answer:
                self.ledger.counts["answer lost"] += 1
                queued.lost, queued.maybe_stored = queued.lost or answer.json(), True
                continue
            if answer.status_code == 201:
                self._acknowledged(queued, answer)
                return True
            retry_after = answer.headers.get("retry-after")
            if answer.status_code in (429, 503) and retry_after:
                self.ledger.counts[f"{answer.status_code}: kept queued"] += 1
                if answer.status_code == 503:
                    self.ledger.error(f"{self.name}: score {queued.key}", answer)
                self.busy_until = time.monotonic() + int(retry_after)
                return False
            if answer.status_code == 401:
                self.ledger.error(f"{self.name}: score {queued.key} with a fresh token", answer)
                await self.refresh()
                continue
            self.ledger.error(f"{self.name}: score {queued.key}", answer)
            return True  # the badge moves a refused run aside
        return False

    def _acknowledged(self, queued: Queued, answer: httpx.Response) -> None:
        accepted = answer.json()
        replayed = answer.headers.get("idempotent-replayed") == "true"
        self.ledger.counts["answered as a replay"] += replayed
        if (accepted["submission_id"], accepted["score"], accepted["game"]) != (queued.key, queued.score, queued.game):
            self.ledger.error(f"{self.name}: {queued.key} was answered for another run", answer)
        if replayed and not queued.maybe_stored:
            self.ledger.error(f"{self.name}: {queued.key} answered as a replay of a run never stored", answer)
        if queued.lost is not None and (not replayed or accepted != queued.lost):
            self.ledger.error(f"{self.name}: {queued.key} sent again was answered otherwise: {queued.lost}", answer)
        at = datetime.fromisoformat(accepted["at"])
        self.ledger.acknowledged[queued.key] = Acknowledged(
            accepted["player"]["id"], queued.game, queued.body["score"], at
        )
        self.ledger.unanswered.discard(queued.key)


async def spectate(url: str, timings: Timings, ledger: Ledger, until: float, done: asyncio.Event) -> None:
    """A live page's visitor: reads a game's top 25 every half second, until the badges are done,
    on one keep-alive connection as a browser does."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        for game in itertools.cycle(GAMES):
            if time.monotonic() >= until or done.is_set():
                return
            read = http.get(f"/api/v1/games/{game}/leaderboard", params={"limit": 25})
            try:
                answer = await timings.timed("leaderboard", read)
                if answer.status_code != 200:
                    ledger.error(f"leaderboard of {game}", answer)
            except httpx.TransportError as error:
                ledger.error(f"leaderboard of {game}: {type(error).__name__}: {error}")
            await asyncio.sleep(0.5)


@dataclass
class Swarm:
    """``badges`` badges, switched on over the first ``ramp`` seconds, and ``spectators`` readers
    against the arcade at ``url`` for ``seconds``, or until each badge played ``runs`` games."""

    url: str
    badges: int
    seconds: float
    runs: int | None = None
    ramp: float = 2.0
    spectators: int = 2
    pause: tuple[float, float] = (0.2, 0.8)
    reading: tuple[float, float] = (1.0, 3.0)
    lose: float = 0.1
    timings: Timings = field(default_factory=Timings)
    ledger: Ledger = field(default_factory=Ledger)

    async def run(self) -> float:
        """Runs the load; answers how long it took, the badges' last answers included."""
        genuine_runs()  # made before the clock starts
        started = time.monotonic()
        until = started + self.seconds
        badges = [
            Badge(self.url, number, self.timings, self.ledger, pause=self.pause, reading=self.reading, lose=self.lose)
            for number in range(self.badges)
        ]
        switched_on = random.Random(self.badges)
        done = asyncio.Event()

        async def play() -> None:
            await asyncio.gather(*(badge.play(until, switched_on.uniform(0, self.ramp), self.runs) for badge in badges))
            done.set()

        try:
            await asyncio.gather(
                play(), *(spectate(self.url, self.timings, self.ledger, until, done) for _ in range(self.spectators))
            )
        finally:
            for badge in badges:
                await badge.close()
        return time.monotonic() - started


def stored(data_dir: Path) -> list[dict]:
    """The scores in the TinyDB store's ledger, read after a clean stop folded the journal into it."""
    return list(json.loads((data_dir / "arcade.scores.json").read_bytes()).get("scores", {}).values())


def losses(ledger: Ledger, scores: list[dict]) -> dict[str, list[str]]:
    """Acknowledged scores missing from ``scores`` or stored otherwise than acknowledged, scores
    stored twice, and scores stored though no badge sent them."""
    found = {score["submission_id"]: score for score in scores}
    counted = Counter(score["submission_id"] for score in scores)

    def as_acknowledged(score: dict) -> Acknowledged:
        return Acknowledged(score["player"], score["game"], score["score"], datetime.fromisoformat(score["at"]))

    return {
        "lost": [key for key in ledger.acknowledged if key not in found],
        "changed": [
            key for key, ack in ledger.acknowledged.items() if key in found and as_acknowledged(found[key]) != ack
        ],
        "doubled": [key for key, count in counted.items() if count > 1],
        "unexpected": [key for key in found if key not in ledger.acknowledged and key not in ledger.unanswered],
    }


def check(url: str, scores: list[dict]) -> list[str]:
    """Where the arcade's player pages and leaderboards disagree with the best of ``scores``."""
    bests: dict[tuple[str, str], int] = {}
    for score in scores:
        better = min if GAMES[score["game"]].order == "lower" else max
        key = (score["player"], score["game"])
        bests[key] = better(bests.get(key, score["score"]), score["score"])
    problems = []
    with httpx.Client(base_url=url, timeout=30) as http:
        for player in {player for player, _ in bests}:
            shown = {best["game"]: best["score"] for best in http.get(f"/api/v1/players/{player}").json()["bests"]}
            kept = {game: score for (who, game), score in bests.items() if who == player}
            if shown != kept:
                problems.append(f"player {player} shows bests {shown}, not {kept}")
        for game in GAMES:
            board, cursor = [], None
            while True:
                page = http.get(f"/api/v1/games/{game}/leaderboard", params={"limit": 100, "cursor": cursor}).json()
                board += [(entry["player"]["id"], entry["score"]) for entry in page["entries"]]
                cursor = page.get("next_cursor")
                if not cursor:
                    break
            kept = sorted((player, score) for (player, in_game), score in bests.items() if in_game == game)
            if sorted(board) != kept:
                problems.append(f"{game}'s leaderboard holds {sorted(board)}, not {kept}")
    return problems
