"""The badge over https, under the MicroPython unix port: the real arcade behind a TLS proxy on
loopback, certificates made in the test. The badge trusts only the CA given at deploy (``--ca``):
it logs in, plays and sends through the genuine server within 136K of heap, TLS's
share held as the device's mbedtls takes it (hal/simtls.py); a look-alike in the server's place (a
self-signed certificate, another CA's, the right CA's for another host) gets a clear screen and
not one byte, the refresh token least of all, and the score goes once the genuine server is back."""

import dataclasses
import json
import os
import re
import ssl
import subprocess

import httpx
import pytest

from arcade.badge.build import find_program
from arcade.badge.trust import read_certificates
from tests.badge_client import Badge as OAuthClient
from tests.certificates import make_certificates
from tests.conftest import RunningServer, free_port, on_path, write_config
from tests.people import Person
from tests.simulator import Badge
from tests.tcp_proxy import TcpProxy
from tests.test_firmware_faults import SEND_FROM_ACCOUNT, TO_ACCOUNT, queue_run
from tests.test_firmware_get_games import (
    BALLOON_INSTALLED,
    GET_BALLOON,
    OPEN_GET_GAMES,
    keys_of,
)
from tests.test_firmware_login import FAST_LOGIN, LOG_IN_THEN, THEN_PLAY, scan

HEAP_K = "136K"
"""The whole flow's heap on the unix port with TLS's 34.6 KB held (a Badger 2040 W has 166K): it
passes at 125K and 128K, 9 of 9 at 128K beside busy loops, and fails every run at 124K; a full CI run
failed it once at 128K (the upload out of memory), so this is 8 KB above. Not the 96K the other tests
use (docs/badge.md, Memory)."""
HEAP = int(HEAP_K[:-1]) * 1024
HEAP_LINE = re.compile(r"^live heap \(peak per screen, TLS included, -X heapsize=\d+K\): (.*)$", re.MULTILINE)
SEND_AND_EXIT = TO_ACCOUNT + SEND_FROM_ACCOUNT + "wait account\nexit\n"
LOG_IN_REFUSED = "wait menu\n1 b\n2 -\nwait account\n1 a\n2 -\nwait login-untrusted\n1 a\n2 -\nwait account\nexit\n"
LOOK_ALIKES = {
    "self-signed": "The certificate is not correctly signed by the trusted CA",
    "another CA": "The certificate is not correctly signed by the trusted CA",
    "another host": "The certificate Common Name (CN) does not match with the expected CN",
}


@pytest.fixture(scope="module")
def certificates(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("tls")
    genuine = make_certificates(base / "genuine")
    return {
        "genuine": genuine,
        "self-signed": make_certificates(base / "self-signed", self_signed=True),
        "another CA": make_certificates(base / "another-ca"),
        "another host": make_certificates(base / "another-host", hosts=("arcade.example.org",), signer=genuine),
    }


def serving(files) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files.cert_file, files.key_file)
    return context


class HttpsArcade:
    """The arcade as the badge and the person reach it: https://127.0.0.1:PORT, through the proxy."""

    def __init__(self, server: RunningServer, proxy: TcpProxy, ca_file):
        self.server = server
        self.proxy = proxy
        self.ca_file = ca_file
        self.url = f"https://127.0.0.1:{proxy.port}"

    def connect(self, address=None, **options) -> httpx.Client:
        return httpx.Client(base_url=self.url, verify=ssl.create_default_context(cafile=self.ca_file), **options)

    def pose_as(self, files) -> None:
        """A look-alike takes the server's place (the same address, forwarding to the genuine arcade)
        with ``files``' certificate; it keeps what reaches it."""
        self.proxy.cut()
        self.proxy.tls = serving(files)
        self.proxy.restore()
        self.proxy.received.clear()

    def leaderboard(self) -> list[tuple[str, int]]:
        with self.connect() as client:
            entries = client.get("/api/v1/games/dino/leaderboard").json()["entries"]
        return [(entry["player"]["name"], entry["score"]) for entry in entries]


@pytest.fixture
def arcade(tmp_path, fixture_games, certificates):
    port = free_port()
    with TcpProxy(("127.0.0.1", port), serving(certificates["genuine"])) as proxy:
        server = RunningServer(folder=tmp_path / "site", port=port, env=on_path({}, fixture_games))
        write_config(server.folder, f"https://127.0.0.1:{proxy.port}", FAST_LOGIN)
        server.start()
        yield HttpsArcade(server, proxy, certificates["genuine"].ca_file)
        server.stop()


def heap_peaks(output: str) -> dict[str, float]:
    """The simulator's peak live heap per screen, in KB, TLS's share included."""
    peaks = {}
    for part in HEAP_LINE.search(output).group(1).split(", "):
        screen, kb, _ = part.rsplit(" ", 2)
        peaks[screen] = float(kb)
    return peaks


def test_over_https_the_badge_logs_in_by_qr_plays_and_sends_within_a_badges_heap(
    badge_build, arcade, certificates, tmp_path, zbarimg
):
    badge = Badge(badge_build, tmp_path / "flash", arcade.url, ca=(certificates["genuine"].ca_file,), heap=HEAP_K)
    shots = tmp_path / "shots"

    running = badge.start(LOG_IN_THEN.format(after=THEN_PLAY), screenshots=shots)
    running.wait_for("login")
    link = scan(zbarimg, shots)
    Person(arcade, "ada").approve(link=link)
    result = running.finish()

    assert result.returncode == 0, result.output
    assert link.startswith(f"{arcade.url}/device/")  # https, and the port the badge's Host carried
    score = int(result.last("result").text.split(" | ")[2].split()[0])
    assert result.last("result").said.endswith(f"Rank #1 of 1, best {score}. A: menu")
    assert arcade.leaderboard() == [("Ada", score)]
    sent = bytes(arcade.proxy.received)
    assert f"Host: 127.0.0.1:{arcade.proxy.port}\r\n".encode() in sent
    assert b"resource=https%3A%2F%2F127.0.0.1" in sent and b"device_name=Badger%202040%20W" in sent
    peaks = heap_peaks(result.output)
    print("heap peaks over https (KB):", peaks)
    for screen in ("menu", "login", "dino", "result"):
        assert screen in peaks
    assert max(peaks.values()) * 1024 < HEAP
    assert peaks["login"] > 34  # the polls hold TLS's share of the heap: 34 KB


def logged_in_badge(build, root, arcade: HttpsArcade, person: str, ca) -> tuple[Badge, dict]:
    """A badge logged in at the genuine arcade (its refresh token real), one Dino run queued."""
    tokens = OAuthClient(arcade).log_in(Person(arcade, person))
    (root / "state").mkdir(parents=True)
    session = {
        "access_token": tokens["access_token"],
        "refresh_token": tokens["refresh_token"],
        "token_endpoint": f"{arcade.url}/oauth/token",
        "client_id": "badge",
        "name": person,
    }
    (root / "state" / "session.json").write_text(json.dumps(session))
    return Badge(build, root, arcade.url, ca=ca, heap=HEAP_K), session


@pytest.mark.parametrize("look_alike", LOOK_ALIKES)
def test_a_look_alike_server_gets_nothing_the_badge_says_so_and_sends_once_the_genuine_one_is_back(
    badge_build, arcade, certificates, tmp_path, look_alike
):
    badge, session = logged_in_badge(
        badge_build, tmp_path / "flash", arcade, "grace", (certificates["genuine"].ca_file,)
    )
    score = queue_run(badge.root, "tls-run-000000000001", seed=7)
    arcade.pose_as(certificates[look_alike])

    refused = badge.play(SEND_AND_EXIT)

    assert refused.returncode == 0, refused.output
    said = refused.last("sent").said
    assert "1 still waiting: the server did not prove it is the arcade (a look-alike on this Wi-Fi?)" in said
    assert bytes(arcade.proxy.received) == b""  # not the request, not the refresh token
    assert (
        f"127.0.0.1 did not prove it is the server deployed to this badge: {LOOK_ALIKES[look_alike]}" in refused.output
    )
    assert badge.state("session.json")["refresh_token"] == session["refresh_token"]  # the login is kept
    assert badge.queued() == ["dino.tls-run-000000000001.json"]

    arcade.pose_as(certificates["genuine"])
    sent = badge.play("wait menu\nexit\n")  # a boot sends what waits

    assert sent.returncode == 0, sent.output
    assert arcade.leaderboard() == [("Grace", score)]
    assert badge.queued() == []


def test_a_badge_without_the_heap_for_tls_says_so_and_the_score_waits_for_a_badge_that_has_it(
    badge_build, arcade, certificates, tmp_path
):
    """At 96K the upload's connection cannot take TLS's share (docs/badge.md, Memory): the badge says
    it ran out of memory, not that the server cannot be reached (what it said), and keeps the run."""
    badge, _ = logged_in_badge(badge_build, tmp_path / "flash", arcade, "grace", (certificates["genuine"].ca_file,))
    score = queue_run(badge.root, "tls-run-000000000002", seed=7)

    short = dataclasses.replace(badge, heap="96K").play(SEND_AND_EXIT)

    assert short.returncode == 0, short.output
    said = short.last("sent").said
    assert "1 still waiting: the badge ran out of memory to send it; it will be sent later" in said, said
    assert "cannot be reached" not in said
    assert badge.queued() == ["dino.tls-run-000000000002.json"]
    assert badge.play("wait menu\nexit\n").returncode == 0  # with the heap TLS needs, a boot sends it
    assert arcade.leaderboard() == [("Grace", score)] and badge.queued() == []


def test_a_login_without_the_heap_for_tls_says_the_badge_ran_out_of_memory(badge_build, arcade, certificates, tmp_path):
    badge = Badge(badge_build, tmp_path / "flash", arcade.url, ca=(certificates["genuine"].ca_file,))  # 96K

    result = badge.play(LOG_IN_REFUSED.replace("login-untrusted", "login-failed"))

    assert result.returncode == 0, result.output
    said = result.last("login-failed").said
    assert said.startswith("Login failed The badge ran out of memory for the request. Restart the badge"), said
    assert "Could not reach the server" not in said  # what it said, under the title "No connection"
    assert badge.state("session.json") is None


@pytest.mark.parametrize("trusted", ["another CA", None])
def test_a_login_the_badge_cannot_check_stops_on_a_screen_that_says_why(
    badge_build, arcade, certificates, tmp_path, trusted
):
    ca = (certificates[trusted].ca_file,) if trusted else ()
    badge = Badge(badge_build, tmp_path / "flash", arcade.url, ca=ca, heap=HEAP_K)

    result = badge.play(LOG_IN_REFUSED)

    assert result.returncode == 0, result.output
    said = result.last("login-untrusted").said
    assert said.startswith("Not the arcade 127.0.0.1 did not prove it is the server deployed to this badge:")
    reason = (
        "not correctly signed by the trusted CA"
        if trusted
        else "the badge has no certificate to check https servers with"
    )
    assert reason in said and "Nothing was sent to it." in said
    assert bytes(arcade.proxy.received) == b""
    assert badge.state("session.json") is None


@pytest.mark.parametrize("gap", [0.2, 60], ids=["trickled", "stalled"])
def test_a_handshake_trickled_or_stalled_is_given_up_at_the_deadline_and_the_score_goes_later(
    badge_build, arcade, certificates, tmp_path, gap
):
    """A Wi-Fi that hands on the server's side of TLS's handshake a byte every ``gap`` seconds: at
    0.2 s its certificate alone would take minutes, each byte well within any socket's time-out; at
    60 s it stalls after a byte. The badge gives up at its request's deadline, keeps the score and
    sends it once the way is clear."""
    root = tmp_path / "flash"
    logged_in_badge(badge_build, root, arcade, "hedy", (certificates["genuine"].ca_file,))
    score = queue_run(root, "tls-run-000000000002", seed=11)
    with TcpProxy(("127.0.0.1", arcade.proxy.port), trickle=gap) as trickling:
        trusting = (certificates["genuine"].ca_file,)
        badge = Badge(badge_build, root, f"https://127.0.0.1:{trickling.port}", ca=trusting, heap=HEAP_K)

        slow = badge.play(SEND_AND_EXIT)

    assert slow.returncode == 0, slow.output
    assert "1 still waiting: the server did not answer in time" in slow.last("sent").said
    assert badge.queued() == ["dino.tls-run-000000000002.json"]
    assert arcade.leaderboard() == []

    sent = Badge(badge_build, root, arcade.url, ca=trusting, heap=HEAP_K).play("wait menu\nexit\n")

    assert sent.returncode == 0, sent.output
    assert arcade.leaderboard() == [("Hedy", score)]
    assert badge.queued() == []


def test_get_games_over_https_lists_the_servers_games_and_installs_one(badge_build, arcade, certificates, tmp_path):
    keys_of(arcade.server)
    ca = (certificates["genuine"].ca_file,)
    badge = Badge(badge_build, tmp_path / "flash", arcade.url, ca=ca, heap=HEAP_K, arcade=arcade.server.folder)

    result = badge.play(GET_BALLOON + BALLOON_INSTALLED)

    assert result.returncode == 0, result.output
    assert result.last("get-games").text.split(" | ")[1:3] == ["Balloon", "new"]
    installed = result.last("games-installed").said
    assert installed.startswith("Get games Balloon ") and "is installed: it is on the menu." in installed
    assert (badge.root / "state" / "games" / "balloon.mpy").exists()


@pytest.mark.parametrize(
    "heap, look_alike, said",
    [
        (HEAP_K, "self-signed", "127.0.0.1 did not prove it is the server deployed to this badge: The certificate"),
        ("96K", None, "The badge ran out of memory for the request. Restart the badge and try again."),
    ],
    ids=["look-alike", "short-heap"],
)
def test_get_games_that_cannot_check_the_list_says_why_not_that_the_server_cannot_be_reached(
    badge_build, arcade, certificates, tmp_path, heap, look_alike, said
):
    keys_of(arcade.server)
    ca = (certificates["genuine"].ca_file,)
    badge = Badge(badge_build, tmp_path / "flash", arcade.url, ca=ca, heap=heap, arcade=arcade.server.folder)
    if look_alike:
        arcade.pose_as(certificates[look_alike])

    result = badge.play(OPEN_GET_GAMES + "wait games-failed\n1 a\n2 -\nwait menu\nexit\n")

    assert result.returncode == 0, result.output
    shown = result.last("games-failed").said
    assert said in shown and "Your games are as they were." in shown, shown
    assert "cannot be reached" not in shown  # what it said, whatever the reason
    if look_alike:
        assert "Nothing was sent to it." in shown and bytes(arcade.proxy.received) == b""
    assert not (badge.root / "state" / "games" / "index.json").exists()


ROOM_KEPT = """
import gc
import net

def attempt(url):
    try:
        return "answered %d" % net.request("GET", url)[0]
    except net.OutOfMemory:
        return "out of memory"
    except OSError as error:
        return "failed: %s" % error

def play():
    # a game's objects, left scattered: 1 KB pieces in every free place, three of four freed
    pieces = []
    try:
        while True:
            pieces.append(bytearray(1024))
    except MemoryError:
        pass
    for index in range(len(pieces)):
        if index % 4:
            pieces[index] = None
    gc.collect()
    return pieces

print(attempt(GENUINE))
print(attempt(DOWN))
first = play()
print(attempt(DOWN))
second = play()
print(attempt(GENUINE))
"""


def test_a_server_that_cannot_be_reached_leaves_the_room_kept_for_tls_so_the_next_request_fits(
    badge_build, arcade, certificates, tmp_path
):
    """net keeps 18 KB free between https requests, where TLS's 16 KB record block lands once a game
    has left no such block. A request that ends before TLS (the server cannot be reached) must keep
    that room: it used to make a new one beside it, find no 18 KB in a heap full of a game's objects,
    and drop both, so the game took the room and the next request, to a server up again, ran out of
    memory with 40 KB free (reproduced before the fix, at this heap). Run as net's own calls under the
    unix port at 128K, the heap filled between the requests as a game fills it."""
    (tmp_path / "ca.der").write_bytes(read_certificates([certificates["genuine"].ca_file]))
    urls = f"GENUINE = '{arcade.url}/api/v1/players/nobody'\nDOWN = 'https://127.0.0.1:{free_port()}/'\n"
    (tmp_path / "room.py").write_text(urls + ROOM_KEPT)

    ran = subprocess.run(
        [find_program("micropython"), "-X", "heapsize=128K", "room.py"],
        cwd=tmp_path,
        env={**os.environ, "MICROPYPATH": f"{badge_build}:.frozen"},  # .frozen: the port's own ssl
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert ran.returncode == 0, ran.stderr
    said = [line for line in ran.stdout.splitlines() if not line.startswith("@@heap")]
    assert said == ["answered 404", *["failed: [Errno 111] ECONNREFUSED"] * 2, "answered 404"], ran.stdout
