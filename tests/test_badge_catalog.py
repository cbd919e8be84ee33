"""The server side of games over the air: `GET /api/v1/badge` carries a manifest of every game built
with mpy-cross, signed with the arcade's badge key; each file is served by its sha256; the build is
cached in the data folder; the key is kept in the data folder (TinyDB) or the store (PostgreSQL)
and rotates with `arcade badge-key rotate`."""

import hashlib
import json

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from arcade.badge.deploy import badge_config
from tests.conftest import run_arcade
from tests.stores import postgres_settings


def verified(catalog: dict, key: dict) -> dict:
    """The manifest, once its signature by ``key`` (kid, n) checks out as a badge would check it."""
    signature = next(s for s in catalog["signatures"] if s["kid"] == key["kid"])
    public = rsa.RSAPublicNumbers(65537, int(key["n"], 16)).public_key()
    public.verify(bytes.fromhex(signature["sig"]), catalog["manifest"].encode(), padding.PKCS1v15(), hashes.SHA256())
    return json.loads(catalog["manifest"])


def same_list(one: dict, other: dict) -> bool:
    """Whether two catalogues list the same games signed by the same key, whenever each was signed."""
    games, keys = (json.loads(one["manifest"])[name] for name in ("games", "keys"))
    verified(other, keys[0])
    return json.loads(other["manifest"])["games"] == games and json.loads(other["manifest"])["keys"] == keys


def test_the_signed_list_says_when_it_was_issued_and_expires_and_every_process_says_the_same(make_app, monkeypatch):
    now = [1_800_000_015.5]
    monkeypatch.setattr("arcade.badge.catalog.time.time", lambda: now[0])
    one, two = make_app(), make_app()

    def signed(app) -> tuple[dict, dict]:
        with app.connect() as client:
            catalog = client.get("/api/v1/badge").json()["catalog"]
        return catalog, verified(catalog, json.loads(catalog["manifest"])["keys"][0])

    catalog, manifest = signed(one)
    assert (manifest["issued"], manifest["expires"]) == (1_800_000_000, 1_800_000_000 + 24 * 3600)
    now[0] += 14  # the same 30 s: the same list, to the byte
    assert signed(one)[0] == catalog
    assert signed(two)[1]["issued"] == 1_800_000_000  # another process, signing for the first time, says the same
    now[0] += 1  # the next 30 s: signed again, never older
    assert [signed(app)[1]["issued"] for app in (one, two)] == [1_800_000_030, 1_800_000_030]


def test_a_server_clock_up_to_half_a_minute_behind_the_deploying_computers_serves_a_list_a_new_badge_takes(
    make_app, monkeypatch
):
    """A badge that checked no list yet refuses one issued before its deploy (config.json's
    ``games_since``, firmware/fresh.py: ``issued < since``). A server whose clock is up to 30 s (one
    signing window) behind the deploying computer's still serves one it takes, wherever in a window the
    deploy falls; a minute behind, it serves one the badge refuses (and says the server's clock may be
    behind)."""
    server_now = [0.0]
    monkeypatch.setattr("arcade.badge.catalog.time.time", lambda: server_now[0])
    app = make_app()

    def taken(deployed: float, behind: float) -> bool:
        server_now[0] = deployed - behind
        with app.connect() as client:
            issued = json.loads(client.get("/api/v1/badge").json()["catalog"]["manifest"])["issued"]
        return not issued < badge_config("http://127.0.0.1", [], deployed)["games_since"]

    for into_window in (0.0, 0.5, 15.0, 29.9):
        deployed = 1_800_000_000 + into_window  # a signing window starts at 1_800_000_000
        assert [taken(deployed, behind) for behind in (0, 0.5, 10, 30)] == [True] * 4, into_window
        assert [taken(deployed, behind) for behind in (60.5, 3600)] == [False] * 2, into_window


def test_the_badge_info_lists_every_game_signed_with_files_that_match(app):
    with app.connect() as client:
        catalog = client.get("/api/v1/badge").json()["catalog"]
        manifest = json.loads(catalog["manifest"])
        assert manifest["mpy"] == "6.3"
        assert [game["id"] for game in manifest["games"]] == ["dino", "maze", "tiles", "balloon"]
        verified(catalog, manifest["keys"][0])
        for game in manifest["games"]:
            answer = client.get(f"/api/v1/badge/files/{game['sha256']}.mpy")
            assert answer.status_code == 200
            assert len(answer.content) == game["size"]
            assert hashlib.sha256(answer.content).hexdigest() == game["sha256"]
            assert answer.content[:2] == b"M\x06"  # real mpy-cross output, .mpy version 6
        assert client.get(f"/api/v1/badge/files/{'0' * 64}.mpy").status_code == 404
        assert client.get("/api/v1/badge/files/..%2Farcade.json").status_code == 404


def test_a_restarted_server_serves_the_same_files_from_its_cache_and_the_same_key(make_server):
    server = make_server()
    first = httpx.get(f"{server.url}/api/v1/badge").json()["catalog"]
    cache = sorted(path.name for path in (server.folder / "arcade-data" / "badge-games").iterdir())
    server.restart()
    again = httpx.get(f"{server.url}/api/v1/badge").json()["catalog"]
    assert same_list(again, first)
    assert sorted(path.name for path in (server.folder / "arcade-data" / "badge-games").iterdir()) == cache
    assert len(cache) == 8  # each game's compiled source, and its file served by sha256


def test_a_rotation_signs_with_the_new_key_beside_the_old_one_in_every_process(make_server):
    server = make_server()
    before = json.loads(httpx.get(f"{server.url}/api/v1/badge").json()["catalog"]["manifest"])["keys"]
    rotated = run_arcade("badge-key", "rotate", cwd=server.folder)
    assert rotated.returncode == 0, rotated.stderr
    server.restart()  # a process reads the key again within 30 s; a restart at once
    catalog = httpx.get(f"{server.url}/api/v1/badge").json()["catalog"]
    keys = json.loads(catalog["manifest"])["keys"]
    assert keys[1] == before[0] and keys[0] != before[0]
    assert keys[0]["kid"] in rotated.stdout and before[0]["kid"] in rotated.stdout
    verified(catalog, before[0])  # a badge that knows only the old key verifies, and learns the new one
    verified(catalog, keys[0])


def test_with_postgres_the_key_is_a_store_record_every_process_shares(make_server, postgres_schema):
    one, two = make_server(postgres_settings(postgres_schema)), make_server(postgres_settings(postgres_schema))
    first = httpx.get(f"{one.url}/api/v1/badge").json()["catalog"]
    second = httpx.get(f"{two.url}/api/v1/badge").json()["catalog"]
    assert same_list(first, second)
    assert not (one.folder / "arcade-data" / "badge-signing-keys.json").exists()


def test_without_mpy_cross_the_server_serves_no_catalogue_and_says_why(make_app, monkeypatch):
    monkeypatch.setattr("arcade.badge.build.find_program", _missing)
    monkeypatch.setattr("arcade.badge.catalog.find_program", _missing)
    with make_app().connect() as client:
        info = client.get("/api/v1/badge").json()
    assert info["catalog"] is None and [game["id"] for game in info["games"]] == ["dino", "maze", "tiles", "balloon"]


def _missing(name):
    from arcade.badge.build import BuildError

    raise BuildError(f"{name} is not installed")


def test_deploy_writes_the_public_keys_onto_the_badge(make_server, badge_build):
    server = make_server()
    keys = json.loads(httpx.get(f"{server.url}/api/v1/badge").json()["catalog"]["manifest"])["keys"]
    result = run_arcade(
        "deploy", "--build", str(badge_build), "--server", "http://192.168.1.20:8000", "--dry-run", cwd=server.folder
    )
    assert result.returncode == 0, result.stderr
    assert keys[0]["kid"] in result.stdout and keys[0]["n"] in result.stdout


def test_a_damaged_badge_key_stops_only_the_games_over_the_air(make_app, caplog):
    app = make_app()
    (app.folder / "arcade-data").mkdir(exist_ok=True)
    (app.folder / "arcade-data" / "badge-signing-keys.json").write_text("{not json")
    with app.connect() as client:
        info = client.get("/api/v1/badge")
    assert info.status_code == 200 and info.json()["catalog"] is None  # the badge can still log in
    assert "badge-signing-keys.json is not valid JSON" in caplog.text
    assert "delete it to make a new key (then deploy every badge again" in caplog.text
