"""Several real `arcade serve` processes on one PostgreSQL schema behave as one arcade.

Two processes on two ports, each with a data folder of its own and the same public URL (as two
machines behind one address would be): a login started on one completes on the other, budgets
and single-use codes hold across them, the live page of one shows the other's scores, and the
signing keys, rotation included, are the same in both. Then `arcade serve --workers 2`: the same
across its workers, each reached alone by stopping the other (SIGSTOP), and its supervision.
"""

import json
import os
import re
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from urllib.parse import urlsplit

import httpx
import pytest

from arcade.sdk import tokens
from tests.conftest import RunningServer, run_arcade
from tests.people import Person
from tests.stores import postgres_settings
from tests.test_device_flow import Badge, assert_oauth_error

LIMITS = "[identity.builtin.limits]\ndevice_authorizations_per_minute = 3\n"
SCORES = {"ARCADE_SERVER__SCORES_PER_MINUTE": "4"}
_addresses = iter(range(2, 250))


def address() -> str:
    """A loopback address of the test's own, so per-address budgets start from nothing."""
    return f"127.0.0.{next(_addresses)}"


def together(*calls):
    """Run the calls at the same moment, each on its own thread; their answers in order."""
    start = threading.Barrier(len(calls))

    def run(call):
        start.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def on(server: RunningServer, link: str) -> str:
    """The same page (a link handed out under the public URL) at ``server``."""
    return server.url + urlsplit(link).path


@pytest.fixture
def pair(make_server, postgres_schema) -> tuple[RunningServer, RunningServer]:
    one = make_server(postgres_settings(postgres_schema) + LIMITS, env=SCORES)
    other = make_server(
        postgres_settings(postgres_schema) + LIMITS, env={**SCORES, "ARCADE_SERVER__PUBLIC_URL": one.url}
    )
    return one, other


def test_a_login_started_on_one_process_completes_on_the_other(pair):
    one, other = pair
    grant = Badge(one).start()
    ada = Person(other, "ada")
    assert ada.approve(user_code=grant["user_code"]).status_code == 200  # typed on the other's pages
    answer = Badge(other).poll(grant)
    assert answer.status_code == 200, answer.text
    login = answer.json()
    assert one.post_score(login["access_token"], 5, "ada-run-0001").status_code == 201  # its token, on the first
    refreshed = Badge(one).refresh(login["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    assert other.post_score(refreshed.json()["access_token"], 7, "ada-run-0002").status_code == 201
    assert one.get("/.well-known/jwks.json").json() == other.get("/.well-known/jwks.json").json()


def test_budgets_hold_across_processes(pair):
    one, other = pair
    token = one.token("bob")
    answers = [server.post_score(token, 3 + index, f"bob-run-{index:04}") for index, server in enumerate(pair * 2)]
    assert [answer.status_code for answer in answers] == [201, 201, 201, 201]
    assert other.post_score(token, 9, "bob-run-0009").status_code == 429  # the player's 5th in a minute
    assert one.post_score(token, 9, "bob-run-0009").status_code == 429
    where = address()
    badge_one, badge_other = Badge(one, address=where), Badge(other, address=where)
    asks = [badge_one.ask(), badge_other.ask(), badge_one.ask(), badge_other.ask()]
    assert [ask.status_code for ask in asks] == [200, 200, 200, 429]  # 3 a minute from one address


def test_a_device_code_redeemed_on_both_at_once_works_once(pair):
    one, other = pair
    for attempt in range(3):
        grant = Badge(one).start()
        Person(one, f"carol{attempt}").approve(link=grant["verification_uri_complete"])
        answers = together(lambda: Badge(one).poll(grant), lambda: Badge(other).poll(grant))
        # One login: the poll that lost is refused, or (a badge retrying an answer it lost) given
        # the same tokens again within the grace window, never a second login.
        statuses = sorted(answer.status_code for answer in answers)
        if statuses == [200, 400]:
            (refused,) = [answer for answer in answers if answer.status_code == 400]
            assert "already used" in assert_oauth_error(refused, "invalid_grant")
        else:
            assert statuses == [200, 200]
            assert answers[0].json()["refresh_token"] == answers[1].json()["refresh_token"]


def test_a_refresh_token_used_on_both_at_once_rotates_once(pair):
    one, other = pair
    badge = Badge(one)
    login = badge.log_in(Person(one, "dave"))
    for _ in range(3):
        answers = together(*(lambda server=server: Badge(server).refresh(login["refresh_token"]) for server in pair))
        assert [answer.status_code for answer in answers] == [200, 200], [answer.text for answer in answers]
        # One rotation: the other process replays its answer (the grace for a badge that lost it).
        assert len({answer.json()["refresh_token"] for answer in answers}) == 1
        login = answers[0].json()
    assert Badge(other).refresh(login["refresh_token"]).status_code == 200  # the login was never revoked


def test_one_approval_and_one_denial_at_once_decide_a_login_once(pair):
    one, other = pair
    for attempt in range(3):
        grant = Badge(one).start()
        here, there = Person(one, f"erin{attempt}"), Person(other, f"erin{attempt}")
        approving = here.logged_in(here.open(grant["verification_uri_complete"]))
        there.has_account = True
        denying = there.logged_in(there.open(on(other, grant["verification_uri_complete"])))
        approved, denied = together(lambda: here.submit(approving, "approve"), lambda: there.submit(denying, "deny"))
        assert sorted([approved.status_code, denied.status_code]) == [200, 404]  # the loser: already answered
        poll = Badge(other).poll(grant)
        if approved.status_code == 200:
            assert poll.status_code == 200, poll.text
        else:
            assert_oauth_error(poll, "access_denied")


def live_scores(server: RunningServer, game: str = "balloon"):
    """The live page's stream, read over HTTP: each score event's submission_id, as it arrives."""
    client = httpx.Client(timeout=httpx.Timeout(30, read=60))
    stream = client.send(client.build_request("GET", f"{server.url}/games/{game}/events"), stream=True)
    assert stream.status_code == 200
    lines = stream.iter_lines()
    assert "event: live" in (next(lines), next(lines))  # after the event's id

    def events():
        for line in lines:
            if line.startswith('data: {"'):  # a score's; the stream's first message has an empty object
                yield json.loads(line.removeprefix("data: "))["submission_id"]

    return events(), stream, client


def test_the_live_page_of_one_process_shows_the_scores_the_other_takes(pair):
    one, other = pair
    events, stream, client = live_scores(one)
    try:
        assert other.post_score(other.token("fay"), 6, "fay-run-0001").status_code == 201
        assert next(events) == "fay-run-0001"
        assert one.post_score(one.token("fay"), 8, "fay-run-0002").status_code == 201  # its own, once
        assert next(events) == "fay-run-0002"
    finally:
        stream.close(), client.close()


def rotate(server: RunningServer) -> tuple[str, str]:
    result = run_arcade("keys", "rotate", cwd=server.folder, env=server.env)
    assert result.returncode == 0, result.stderr
    return re.match(r"^key (\S+) signs from now on.*; key (\S+) ", result.stdout).groups()


def test_a_key_rotation_reaches_every_process(pair):
    one, other = pair
    before = one.token("gus")
    new, old = rotate(one)
    assert tokens.key_id(before) == old
    minted = run_arcade("token", "--player", "gus", cwd=other.folder, env=other.env).stdout.strip()
    assert tokens.key_id(minted) == new
    for index, server in enumerate(pair):
        assert server.post_score(minted, 3 + index, f"gus-new-{index:04}").status_code == 201
        assert server.post_score(before, 5 + index, f"gus-old-{index:04}").status_code == 201
        assert [key["kid"] for key in server.get("/.well-known/jwks.json").json()["keys"]] == [new, old]
    login = Badge(other).log_in(Person(other, "gus"))
    assert tokens.key_id(login["access_token"]) == new  # the other process signs with it too


# -- arcade serve --workers 2 --------------------------------------------------------------------

SERVES = re.compile(r"worker (\d) of 2 serves \(pid (\d+)\)")


@pytest.fixture
def workers(make_server, postgres_schema) -> RunningServer:
    server = make_server(postgres_settings(postgres_schema) + LIMITS, env=SCORES, args=("--workers", "2"))
    deadline = time.monotonic() + 60
    while "with 2 worker processes" not in server.log.read_text():  # both serve
        assert time.monotonic() < deadline and server.process.poll() is None, server.log.read_text()
        time.sleep(0.1)
    return server


def worker_pids(server: RunningServer) -> dict[int, int]:
    """The pid of each worker now serving, by number, as the supervisor's log says."""
    return {int(number): int(pid) for number, pid in SERVES.findall(server.log.read_text())}


@contextmanager
def alone(server: RunningServer, pid: int):
    """Only the worker ``pid`` takes connections meanwhile: the others are stopped (SIGSTOP), and a
    stopped process accepts nothing from the socket they share."""
    others = [other for other in worker_pids(server).values() if other != pid]
    for other in others:
        os.kill(other, signal.SIGSTOP)
    try:
        yield
    finally:
        for other in others:
            os.kill(other, signal.SIGCONT)


def closing(client: httpx.Client) -> httpx.Client:
    """No connection kept open between requests: each new one goes to whichever worker runs."""
    client.headers["Connection"] = "close"
    return client


def served_by(server: RunningServer, pid: int, path: str) -> bool:
    """Whether worker ``pid`` logged serving ``path`` (the access line follows the answer: wait for it)."""
    deadline = time.monotonic() + 10
    while f"arcade.access[{pid}]: 127.0.0.1 POST {path} " not in server.log.read_text():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_with_two_workers_a_login_live_scores_and_keys_are_shared_by_both(workers):
    first, second = worker_pids(workers)[1], worker_pids(workers)[2]
    badge, ada = Badge(workers), Person(workers, "ada")
    closing(badge.http), closing(ada.browser)
    with alone(workers, first):
        events, stream, client = live_scores(workers)  # the page's stream is on the first worker
        grant = badge.start()
    with alone(workers, second):
        assert ada.approve(link=grant["verification_uri_complete"]).status_code == 200
        login = badge.poll(grant).json()
        assert workers.post_score(login["access_token"], 4, "ada-run-0001").status_code == 201
    assert served_by(workers, first, "/oauth/device_authorization")
    assert served_by(workers, second, "/oauth/token") and served_by(workers, second, "/api/v1/games/balloon/scores")
    try:
        assert next(events) == "ada-run-0001"  # the first worker heard the score the second took
    finally:
        stream.close(), client.close()

    new, _ = rotate(workers)
    minted = run_arcade("token", "--player", "bob", cwd=workers.folder).stdout.strip()
    for number, pid in worker_pids(workers).items():
        with alone(workers, pid):
            assert workers.post_score(minted, 5 + number, f"bob-run-{number:04}").status_code == 201
            kids = [key["kid"] for key in workers.get("/.well-known/jwks.json").json()["keys"]]
            assert kids[0] == new


def test_a_worker_that_dies_is_reported_and_replaced_and_sigterm_stops_them_all(workers):
    first = worker_pids(workers)[1]
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while worker_pids(workers)[1] == first:
        assert time.monotonic() < deadline, workers.log.read_text()
        time.sleep(0.1)
    log = workers.log.read_text()
    assert f"worker 1 of 2 (pid {first}) died (killed by SIGKILL); another starts in its place" in log
    token = workers.token("ada")
    with alone(workers, worker_pids(workers)[1]):  # the replacement serves
        assert workers.post_score(token, 3, "ada-run-0001").status_code == 201

    pids = list(worker_pids(workers).values())
    _, stream, client = live_scores(workers)  # an open page does not hold the stop
    assert workers.stop() == 0
    stream.close(), client.close()
    for pid in pids:
        assert not os.path.exists(f"/proc/{pid}")
    assert "Traceback" not in workers.log.read_text()


def test_workers_whose_supervisor_is_killed_stop_by_themselves(workers):
    pids = list(worker_pids(workers).values())
    workers.stop(signal.SIGKILL)
    deadline = time.monotonic() + 60
    while any(os.path.exists(f"/proc/{pid}") for pid in pids):
        assert time.monotonic() < deadline, workers.log.read_text()
        time.sleep(0.1)
    assert workers.log.read_text().count("the supervisor is gone: this worker stops") == 2
