"""Stop the arcade every way it is stopped at an event, while badges and people keep at it, and count losses.

Badges (asyncio clients, each its own player) submit genuine dino runs with fresh submission_ids.
People (threads, with tests/people.py for the phone and tests/badge_client.py for their badge) run
device flows to the end on the built-in provider: the badge asks, the person signs up on the
/device pages (or, every other time, logs in to an account made in an earlier flow), approves,
and the badge gets its tokens; each login is refreshed once, and every new account's login is
then revoked, with its refresh token or its access token by turns. All of it goes to a real
``arcade serve`` on loopback, and whatever a stop cuts off is sent again, as a badge does.

Every cycle the server is stopped while they work, the kinds of stop in an order shuffled by
``--seed``: by SIGTERM (a clean stop, which folds the journal), by SIGKILL (the OOM killer, a
power cut), by SIGKILL right after a clean restart, and by SIGKILL during the clean stop's own
fold. Each start sets how often the journal is folded (``[store.tinydb] fold_every``): after a
kill so often that the next kill lands in the middle of a fold, after a clean stop so rarely that
the next kill finds everything since the restart in the journal alone. Then it is started again on
the same folder.

At the end, with the server up, every acknowledged login that was not revoked must refresh and its
new access token post a score; every revoked one must be refused at the token endpoint and its
access token at the API; no device code may make a second login. After a clean stop the database
file must hold every acknowledged score exactly once and every acknowledged account. The table
counts cycles, acknowledged writes by kind, lost and doubled.

    .venv/bin/python bench/crash.py [--cycles 12] [--badges 8] [--people 4] [--seconds 1.5] [--seed N]

Exits 1 if anything acknowledged was lost or stored twice, or if the server logged a failure.
"""

import argparse
import asyncio
import itertools
import json
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path[0] = str(HERE.parent)  # `python bench/crash.py` imports the project, not bench/ alone

from arcade.platform import config  # noqa: E402
from arcade.platform.assembly import assemble  # noqa: E402
from tests.badge_client import Badge  # noqa: E402
from tests.people import Person, forms, visible_text  # noqa: E402

ARCADE = Path(sys.executable).with_name("arcade")
SCORES = "/api/v1/games/dino/scores"
RUN = {"seed": 1, "inputs": [], "ticks": 109}
"""A dino that never jumps meets the first cactus at tick 109 with 34 points."""
SCORE = 34
STOPS = ["term", "kill", "kill-after-restart", "kill-during-shutdown"]
FOLD_OFTEN, FOLD_RARELY = 8, 1_000_000
"""Changes between folds: about every second score, or never within a cycle."""
UNLIMITED = 1_000_000
"""Every budget a client address has, so that the harness's one address is never refused."""
KINDS = ["scores", "accounts", "approvals", "logins", "refreshes", "revocations"]
PAUSE = 0.05
"""Seconds between tries while the server is down."""
PATIENCE = 60
"""Seconds a client keeps trying before the harness gives up on the server."""


class Server:
    """One ``arcade serve`` on a data folder that outlives it."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.start(FOLD_OFTEN)

    def start(self, fold_every: int) -> None:
        limits = (
            "device_authorizations_per_minute",
            "token_requests_per_minute",
            "sign_ups_per_address",
            "wrong_passwords_per_account",  # a log-in a kill cuts off stays counted as a wrong password
            "wrong_passwords_per_address",
        )
        settings = (
            f'[server]\npublic_url = "{self.url}"\n'
            f"scores_per_minute = {UNLIMITED}\nscores_per_minute_per_address = {UNLIMITED}\n"
            f"[store.tinydb]\nfold_every = {fold_every}\n"
            "[identity.builtin]\ninterval = 1\n"
            "[identity.builtin.limits]\n" + "".join(f"{name} = {UNLIMITED}\n" for name in limits)
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


@dataclass
class Login:
    """A login its badge got tokens for, with the newest tokens it was given."""

    account: str
    device_code: str
    issued: str
    """The refresh token of the first answer: a poll of the device code may replay that answer, never make another."""
    refresh_token: str
    access_token: str
    revoked: bool = False
    lost: bool = False


@dataclass
class Ledger:
    """What the server acknowledged, by kind (appended to from threads and tasks alike), and every
    acknowledged thing found missing or twice."""

    scores: list[str] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)
    approvals: list[str] = field(default_factory=list)
    logins: list[Login] = field(default_factory=list)
    refreshes: list[str] = field(default_factory=list)
    revocations: list[Login] = field(default_factory=list)
    lost: list[tuple[str, str]] = field(default_factory=list)
    """(kind, what) of each acknowledged write found missing; a revocation is missing if its login works."""
    doubled: list[tuple[str, str]] = field(default_factory=list)


async def badge(client: httpx.AsyncClient, url: str, token: str, name: str, ledger: Ledger, stop: threading.Event):
    """Send runs one after another; a 201 is an acknowledgement, anything else is tried again later
    with the same submission_id, as the badge's queue does. ``name`` is new each cycle, as a
    submission_id is never used for two runs."""
    headers = {"Authorization": f"Bearer {token}"}
    for number in itertools.count():
        key = f"{name}-{number:06d}"
        while not stop.is_set():
            try:
                answer = await client.post(
                    f"{url}{SCORES}", json={"score": SCORE, "run": RUN, "submission_id": key}, headers=headers
                )
            except httpx.TransportError:
                await asyncio.sleep(PAUSE)
                continue
            if answer.status_code == 201:
                ledger.scores.append(key)
                break
            await asyncio.sleep(PAUSE)
        if stop.is_set():
            return


def answered(send: Callable[[], httpx.Response]) -> httpx.Response:
    """The first answer that is not a stopped server's (refused or dropped connection, 429, 5xx)."""
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        try:
            response = send()
        except httpx.TransportError:
            response = None
        if response is not None and response.status_code < 500 and response.status_code != 429:
            return response
        time.sleep(PAUSE)
    raise RuntimeError(f"the server gave no answer within {PATIENCE} s")


def post_score(badge: Badge, access_token: str, key: str) -> httpx.Response:
    run = {"score": SCORE, "run": RUN, "submission_id": key}
    return answered(lambda: badge.http.post(SCORES, json=run, headers={"Authorization": f"Bearer {access_token}"}))


class AccountLost(Exception):
    """An acknowledged account refused its password: counted lost, and that flow given up."""


class Visitor:
    """One person with a badge, through every cycle: odd flows sign up a new account, even ones log
    in to an earlier account of theirs from a new browser. A flow once begun is run to its end (the
    stop event only keeps a new one from starting), so that each login ends in a known state."""

    def __init__(self, number: int, url: str, ledger: Ledger):
        self.name = f"v{number}"
        self.url = url
        self.ledger = ledger
        self.accounts: list[str] = []
        """Accounts whose sign-up was acknowledged."""
        self.flows = 0

    def visit(self, stop: threading.Event) -> None:
        badge = Badge(self.url)
        try:
            while not stop.is_set():
                self.flows += 1
                returning = self.flows % 2 == 0 and self.accounts
                username = (
                    self.accounts[self.flows // 2 % len(self.accounts)] if returning else f"{self.name}-{self.flows}"
                )
                person = Person(self.url, username)
                person.has_account = bool(returning)
                try:
                    login = self.log_in(badge, person, stop)
                except AccountLost:
                    continue
                finally:
                    person.close()
                if login is None:
                    continue
                self.refresh(badge, login)
                if not returning and not login.lost:
                    by_refresh_token = self.flows % 4 == 1
                    self.revoke(badge, login, login.refresh_token if by_refresh_token else login.access_token)
        finally:
            badge.close()

    def log_in(self, badge: Badge, person: Person, stop: threading.Event) -> Login | None:
        """The whole device flow; None if it was not begun, or if what the server acknowledged of it was lost."""
        grant = None
        while grant is None:
            if stop.is_set():
                return None  # not begun: nothing was acknowledged
            try:
                response = badge.ask()
            except httpx.TransportError:
                response = None
            if response is not None and response.status_code == 200:
                grant = response.json()
            else:
                time.sleep(PAUSE)
        approved = self.approve(person, grant["verification_uri_complete"])
        interval = grant["interval"]
        while True:
            response = answered(lambda: badge.poll(grant))
            if response.status_code == 200:
                tokens = response.json()
                first = tokens["refresh_token"]
                login = Login(person.username, grant["device_code"], first, first, tokens["access_token"])
                self.ledger.logins.append(login)
                return login
            error, description = response.json()["error"], response.json()["error_description"]
            if error == "slow_down":
                interval += 5
                time.sleep(interval)
            else:
                what = "approval" if approved else "device authorization"
                text = f"{what} of {person.username}'s login: the badge hears {error}: {description}"
                self.ledger.lost.append(("approvals", text))
                return None

    def approve(self, person: Person, link: str) -> bool:
        """True once the person sees Approved; False if the link is gone, as after an approval
        whose answer a stop cut off."""
        deadline, seen = time.monotonic() + PATIENCE, "nothing"
        while time.monotonic() < deadline:
            try:
                page = person.open(link)
                if page.status_code == 404:
                    return False
                if page.status_code == 200 and "approve" not in forms(page.text):
                    page = self.enter(person, page)
                if "approve" in forms(page.text):
                    page = person.submit(page, "approve")
                    if page.status_code == 200 and "Approved" in visible_text(page.text):
                        self.ledger.approvals.append(person.username)
                        return True
                    if page.status_code == 404:
                        return False
                seen = f"{page.status_code}: {visible_text(page.text)[:300]}"
            except httpx.TransportError as error:
                seen = repr(error)
            time.sleep(PAUSE)
        raise RuntimeError(f"{person.username} could not approve within {PATIENCE} s; last seen {seen}")

    def enter(self, person: Person, page: httpx.Response) -> httpx.Response:
        """Log in or sign up on the confirm page, as this person would after what the page says."""
        if person.has_account:
            answer = person.log_in(page)
            if "Wrong username or password" in visible_text(answer.text):
                if person.username in self.accounts:
                    self.accounts.remove(person.username)
                    self.ledger.lost.append(("accounts", f"{person.username}: its password is refused"))
                    raise AccountLost
                person.has_account = False  # the sign-up that took the name was cut off before it was saved
            return answer
        answers = []  # the sign-up's own answer first, then the page its redirect leads to
        person.browser.event_hooks["response"] = [answers.append]
        try:
            answer = person.sign_up(page)
        finally:
            person.browser.event_hooks["response"] = []
            if answers and answers[0].status_code == 303:  # saved, even if a stop cuts off the page after
                person.has_account = True
                self.accounts.append(person.username)
                self.ledger.accounts.append(person.username)
        if not person.has_account and "That username is taken" in visible_text(answer.text):
            person.has_account = True  # signed up, the answer cut off by a stop
        return answer

    def refresh(self, badge: Badge, login: Login) -> None:
        response = answered(lambda: badge.refresh(login.refresh_token))
        if response.status_code != 200:
            login.lost = True
            self.ledger.lost.append(("logins", f"{login.account}'s: its refresh token is refused: {response.text}"))
            return
        tokens = response.json()
        login.refresh_token, login.access_token = tokens["refresh_token"], tokens["access_token"]
        self.ledger.refreshes.append(login.account)

    def revoke(self, badge: Badge, login: Login, token: str) -> None:
        response = answered(lambda: badge.revoke(token))
        if response.status_code != 200:
            raise RuntimeError(f"revoking {login.account}'s login was answered {response.status_code}: {response.text}")
        login.revoked = True
        self.ledger.revocations.append(login)


async def cycle(server: Server, stop_kind: str, seconds: float, tokens: dict, ledger: Ledger):
    stop = threading.Event()
    async with httpx.AsyncClient(timeout=5) as client:
        badges = [
            asyncio.create_task(badge(client, server.url, token, name, ledger, stop)) for name, token in tokens.items()
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


def check_logins(url: str, ledger: Ledger) -> None:
    """Against the running server: live logins refresh and post, revoked ones are refused both
    ways, and no device code makes a second login."""
    badge = Badge(url)
    for number, login in enumerate(ledger.logins):
        if login.lost:
            continue
        refreshed = answered(lambda login=login: badge.refresh(login.refresh_token))
        if login.revoked:
            posted = post_score(badge, login.access_token, f"revoked-{number:06d}")
            if refreshed.status_code != 400 or posted.status_code != 401:
                text = f"{login.account}'s: refresh answered {refreshed.status_code}, access token {posted.status_code}"
                ledger.lost.append(("revocations", text))
        elif refreshed.status_code != 200:
            ledger.lost.append(
                ("logins", f"{login.account}'s: refresh answered {refreshed.status_code}: {refreshed.text}")
            )
        else:
            key = f"check-{number:06d}"
            posted = post_score(badge, refreshed.json()["access_token"], key)
            if posted.status_code == 201:
                ledger.scores.append(key)
            else:
                ledger.lost.append(("logins", f"{login.account}'s: its new access token posts {posted.status_code}"))
        again = answered(lambda login=login: badge.poll({"device_code": login.device_code}))
        if again.status_code == 200 and again.json()["refresh_token"] != login.issued:
            ledger.doubled.append(("logins", f"{login.account}'s: its device code made a second login"))
    badge.close()


def logged_errors(folder: Path) -> list[str]:
    """The failures the server logged: a 500 is retried like a stopped server's answer, so a defect
    that fails requests would otherwise pass unseen."""
    return [line for line in (folder / "serve.log").read_text().splitlines() if " ERROR " in line]


def check_file(folder: Path, ledger: Ledger) -> None:
    """The files, read after a clean stop folded everything: each acknowledged score once in the
    ledger of scores, each acknowledged account in the database."""
    scores = json.loads((folder / "arcade-data" / "arcade.scores.json").read_text())
    stored = Counter(document["submission_id"] for document in scores.get("scores", {}).values())
    database = json.loads((folder / "arcade-data" / "arcade.json").read_text())
    accounts = {doc["key"] for doc in database.get("records", {}).values() if doc["kind"] == "account"}
    ledger.lost += [("scores", key) for key in ledger.scores if key not in stored]
    ledger.doubled += [("scores", f"{key} x{count}") for key, count in stored.items() if count > 1]
    ledger.lost += [("accounts", f"{name}: not in the file") for name in ledger.accounts if name not in accounts]


def order(cycles: int, seed: int) -> list[str]:
    """Each kind of stop as often as the others (the first kinds once more), shuffled."""
    kinds = [STOPS[number % len(STOPS)] for number in range(cycles)]
    random.Random(seed).shuffle(kinds)
    return kinds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=12)
    parser.add_argument("--badges", type=int, default=8, help="badges submitting scores")
    parser.add_argument("--people", type=int, default=4, help="people running device flows")
    parser.add_argument("--seconds", type=float, default=1.5, help="working time before each stop")
    parser.add_argument("--seed", type=int, default=random.randrange(1_000_000), help="shuffles the stops")
    args = parser.parse_args()
    stops = order(args.cycles, args.seed)
    ledger = Ledger()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        server = Server(folder)
        settings = config.load(folder / "arcade.toml", environ={})
        provider = assemble(settings, data_dir=folder / "arcade-data", with_store=False).identity
        tokens = {
            f"badge{n}": provider.issue_access_token(subject=f"badge{n}", name=f"badge{n}") for n in range(args.badges)
        }
        people_stop = threading.Event()
        with ThreadPoolExecutor(max(args.people, 1)) as people:
            visits = [people.submit(Visitor(n, server.url, ledger).visit, people_stop) for n in range(args.people)]
            for number, kind in enumerate(stops):
                names = {f"{name}-c{number}": token for name, token in tokens.items()}
                asyncio.run(cycle(server, kind, args.seconds, names, ledger))
            people_stop.set()
            for visit in visits:
                visit.result()
        check_logins(server.url, ledger)
        server.signal(signal.SIGTERM)
        server.wait()
        check_file(folder, ledger)
        errors = logged_errors(folder)
    counts = Counter(stops)
    print(f"stops: {', '.join(f'{kind} x{counts[kind]}' for kind in STOPS if counts[kind])}")
    print(f"order (--seed {args.seed}): {' '.join(stops)}")
    columns = ["cycles", *KINDS, "lost", "doubled"]
    figures = [args.cycles, *(len(getattr(ledger, kind)) for kind in KINDS), len(ledger.lost), len(ledger.doubled)]
    print(" ".join(f"{column:>{max(len(column), 6)}}" for column in columns))
    print(" ".join(f"{figure:>{max(len(column), 6)}}" for column, figure in zip(columns, figures)))
    for name, problems in (("lost", ledger.lost), ("doubled", ledger.doubled)):
        if problems:
            print(f"{name}: {', '.join(f'{kind} {count}' for kind, count in Counter(k for k, _ in problems).items())}")
            for kind, what in problems[:10]:
                print(f"  {kind}: {what}")
    print(f"errors the server logged: {len(errors)}")
    for line in errors[:10]:
        print(f"  {line}")
    return 1 if ledger.lost or ledger.doubled or errors else 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


if __name__ == "__main__":
    sys.exit(main())
