"""A player of the built-in provider stays one player when the arcade's address changes.

The organiser moves the arcade to another port or public_url mid-event: real `arcade serve`
processes on one folder, restarted on a new loopback port.
"""

import asyncio
import re

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet

from arcade.sdk.game import GameInfo
from arcade.sdk.models import Player, player_id
from tests.badge_client import Badge
from tests.conftest import free_port
from tests.people import Person
from tests.stores import Stores, submission

BALLOON = GameInfo(id="balloon", title="Balloon", version="1", package="arcade.games.dino", unit="pumps")


def move(server) -> str:
    """Stop the server and give its folder a new port and public_url; answer the old address."""
    old = server.url
    server.stop()
    server.port = free_port()
    server.config.write_text(f'[server]\npublic_url = "{server.url}"\n')
    return old


def leaderboard(server) -> list[tuple[int, str, int]]:
    page = httpx.get(f"{server.url}/api/v1/games/balloon/leaderboard").json()
    return [(entry["rank"], entry["player"]["name"], entry["score"]) for entry in page["entries"]]


def scores_before_the_fix(server, *played: tuple[str, str, int]) -> None:
    """Write scores as the arcade did before this fix: each keyed by the address (issuer) it ran at."""

    async def write():
        store = await Stores("tinydb", server.data).open()
        for index, (issuer, name, score) in enumerate(played):
            player = Player(id=player_id(issuer, name), issuer=issuer, subject=name, name=name)
            await store.submit_score(BALLOON, player, submission(score, f"{name}-old-run-{index}"))
        await store.close()

    asyncio.run(write())


def test_a_player_stays_one_player_when_the_port_and_public_url_change(make_server):
    server = make_server()
    first = server.post_score(server.token("ada"), 30, "ada-run-0001")
    assert first.status_code == 201
    move(server)
    server.start()
    token = server.token("ada")
    second = server.post_score(token, 50, "ada-run-0002")
    again = server.post_score(token, 30, "ada-run-0001")  # the badge retries a run sent before the move
    assert second.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert first.json()["player"]["id"] == second.json()["player"]["id"] == again.json()["player"]["id"]
    assert leaderboard(server) == [(1, "ada", 50)]
    player = httpx.get(f"{server.url}/api/v1/players/{second.json()['player']['id']}").json()
    assert [(best["game"], best["score"]) for best in player["bests"]] == [("balloon", 50)]
    page = httpx.get(f"{server.url}/players/{second.json()['player']['id']}").text
    assert ">50 <small>pumps" in page
    assert len(re.findall(r'class="name">ada<', httpx.get(f"{server.url}/games/balloon").text)) == 1


def test_players_split_by_an_address_change_before_the_fix_merge_into_one(make_server):
    server = make_server(start=False)
    p1, p2 = f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"
    scores_before_the_fix(
        server,
        (p1, "ada", 40), (p1, "bob", 20), (p2, "ada", 25), (p2, "bob", 35),
        ("https://id.example/realms/event", "ada", 10),  # another provider's ada: not ours
    )
    server.start()
    answer = server.post_score(server.token("ada"), 30, "ada-run-0001")
    assert (answer.json()["best"], answer.json()["rank"]) == (40, 1)
    assert leaderboard(server) == [(1, "ada", 40), (2, "bob", 35), (3, "ada", 10)]
    server.restart()
    assert leaderboard(server) == [(1, "ada", 40), (2, "bob", 35), (3, "ada", 10)]


def test_an_issuer_that_was_never_our_address_is_left_alone_after_the_first_start(make_server):
    server = make_server()
    server.post_score(server.token("ada"), 30, "ada-run-0001")
    server.stop()
    scores_before_the_fix(server, ("https://login.example", "ada", 20))  # e.g. an OIDC provider used since
    server.start()
    server.post_score(server.token("ada"), 40, "ada-run-0002")
    assert leaderboard(server) == [(1, "ada", 40), (2, "ada", 20)]


def id_token_picture(server, tokens: dict) -> str:
    keys = KeySet.import_key_set(httpx.get(f"{server.url}/.well-known/jwks.json").json())
    return jwt.decode(tokens["id_token"], keys, algorithms=["ES256"]).claims["picture"]


def test_a_badge_login_and_its_avatar_outlive_the_move(make_server):
    server = make_server()
    person = Person(server.url, "ada-lovelace")
    tokens = Badge(server.url).log_in(person)
    before = server.post_score(tokens["access_token"], 30, "ada-run-0001").json()["player"]["id"]
    assert id_token_picture(server, tokens) == f"{server.url}/players/{before}/avatar.svg"
    old = move(server)
    server.start()
    refreshed = Badge(server.url).refresh(tokens["refresh_token"]).json()  # the badge keeps its login
    after = server.post_score(refreshed["access_token"], 40, "ada-run-0002").json()["player"]["id"]
    assert after == before
    assert id_token_picture(server, refreshed) == f"{server.url}/players/{before}/avatar.svg"
    stale = server.post_score(tokens["access_token"], 50, "ada-run-0003")  # minted at the old address
    assert stale.status_code == 401
    assert old in stale.json()["detail"] and server.url in stale.json()["detail"]
    assert leaderboard(server) == [(1, "Ada-Lovelace", 40)]
