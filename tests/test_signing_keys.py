"""The built-in provider's signing keys: shared by every process of an arcade, made once, adopted
from the data folder when the store changes, and rotated with `arcade keys rotate` while serving."""

import asyncio
import json
import re

import pytest
from arcade.plugins.idp_builtin import keys
from joserfc.jwk import KeySet

from arcade.sdk import tokens
from tests.conftest import run_arcade
from tests.stores import Stores, drop_schema, new_schema, postgres_settings

ROTATED = re.compile(r"^key (\S+) signs from now on, in every server process of this arcade within 30 s; key (\S+) ")


def kid_of(token: str) -> str:
    return tokens.key_id(token)


def published(server) -> list[str]:
    return [key["kid"] for key in server.get("/.well-known/jwks.json").json()["keys"]]


def rotate(server) -> tuple[str, str]:
    result = run_arcade("keys", "rotate", cwd=server.folder, env=server.env)
    assert result.returncode == 0, result.stderr
    new, old = ROTATED.match(result.stdout).groups()
    return new, old


def test_a_rotation_beside_a_running_tinydb_server_signs_anew_and_old_tokens_still_verify(server):
    old_token = server.token("ada")
    new, old = rotate(server)
    assert kid_of(old_token) == old != new
    new_token = run_arcade("token", "--player", "bob", cwd=server.folder).stdout.strip()
    assert kid_of(new_token) == new
    assert server.post_score(new_token, 4, "bob-run-001").status_code == 201  # read at once for an unknown key
    assert server.post_score(old_token, 3, "ada-run-001").status_code == 201
    assert published(server) == [new, old]
    on_disk = json.loads((server.data / keys.KEYS_FILE).read_text())
    assert [key["kid"] for key in KeySet.import_key_set(on_disk).keys] == [new, old]  # a JWK set, as before

    server.restart()
    assert server.post_score(old_token, 5, "ada-run-002").status_code == 201
    assert kid_of(server.token("eve")) == new


def test_on_postgresql_the_keys_are_in_the_store_and_a_data_folders_key_is_adopted(make_server, postgres_schema):
    before = make_server()  # an arcade that ran on TinyDB, with its key in its data folder
    token = before.token("ada")
    assert before.post_score(token, 3, "ada-run-001").status_code == 201
    before.stop()
    before.config.write_text(before.config.read_text() + postgres_settings(postgres_schema))
    before.start()
    assert before.post_score(token, 4, "ada-run-002").status_code == 201  # the players' tokens survived
    # Another process of the same arcade (its address is the first's), with a data folder of its own.
    other = make_server(postgres_settings(postgres_schema), env={"ARCADE_SERVER__PUBLIC_URL": before.url})
    assert published(other) == published(before) == [kid_of(token)]
    assert other.post_score(token, 5, "ada-run-003").status_code == 201
    assert not (other.data / keys.KEYS_FILE).exists()  # nothing of the keys went to its folder


def test_a_data_folders_own_key_beside_a_store_with_keys_is_named_at_start(make_server, postgres_schema):
    first = make_server(postgres_settings(postgres_schema))
    stray = make_server()
    stray_token = stray.token("ada")
    stray.stop()
    stray.config.write_text(stray.config.read_text() + postgres_settings(postgres_schema))
    stray.start()
    assert published(stray) == published(first)
    assert stray.post_score(stray_token, 3, "ada-run-001").status_code == 401
    assert f"the signing key in arcade-data/{keys.KEYS_FILE} is not this arcade's" in stray.log.read_text()


@pytest.fixture
async def shared(tmp_path):
    """Stores of several processes on one new PostgreSQL schema, each with its own data folder."""
    opened = []

    async def ring(index: int) -> keys.KeyRing:
        stores = Stores("postgres", tmp_path / f"process{index}", schema)
        store = await stores.open()
        opened.append(stores)
        made = keys.KeyRing(keys.StoredKeys(store, stores.folder))
        await made.start()
        return made

    schema = await new_schema()
    yield ring
    for stores in opened:
        for store in stores.opened:
            await store.close()
    await drop_schema(schema)


@pytest.mark.anyio
async def test_processes_starting_together_make_one_key_set(shared):
    rings = await asyncio.gather(*(shared(index) for index in range(6)))
    assert len({ring.current.signing.kid for ring in rings}) == 1
    assert len({ring.current.form_secret for ring in rings}) == 1
    for ring in rings:
        await ring.stop()


@pytest.mark.anyio
async def test_a_rotation_reaches_a_process_that_sees_no_new_token_within_the_refresh_time(shared, monkeypatch):
    monkeypatch.setattr(keys, "REFRESH_S", 0.2)
    rotating, other = await shared(0), await shared(1)
    old = other.current.signing.kid
    new, replaced, _ = await rotating.rotate(lifetime=3600)
    assert replaced == old
    for _ in range(100):
        if other.current.signing.kid == new:
            break
        await asyncio.sleep(0.1)
    assert other.current.signing.kid == new
    assert [key.kid for key in other.current.verifying.keys] == [new, old]
    assert other.current.form_secret == rotating.current.form_secret  # the pages' CSRF tokens outlive it
    await rotating.stop()
    await other.stop()


@pytest.mark.anyio
async def test_a_replaced_key_verifies_until_its_tokens_expired_then_goes(shared, monkeypatch):
    monkeypatch.setattr(keys, "REFRESH_S", 0)
    ring = await shared(0)
    first = ring.current.signing.kid
    second, _, _ = await ring.rotate(lifetime=3600)
    assert [key.kid for key in ring.current.verifying.keys] == [second, first]
    third, _, _ = await ring.rotate(lifetime=0)  # the second's tokens live no time at all
    assert [key.kid for key in ring.current.verifying.keys] == [third, first]
    assert len(ring.current.every) == 2  # the second's key is gone from the store too
    await ring.stop()


@pytest.mark.anyio
async def test_a_key_rotated_elsewhere_just_after_a_read_verifies_at_once(tmp_path):
    """Reads for unknown keys are spaced out, but a token waits for the next read instead of being refused."""
    serving, rotating = keys.KeyRing(keys.FolderKeys(tmp_path)), keys.KeyRing(keys.FolderKeys(tmp_path))
    await serving.start()
    reads = []
    read = serving.source.read
    serving.source.read = lambda: reads.append(1) or read()
    new, _, _ = await rotating.rotate(lifetime=3600)
    assert new in [key.kid for key in (await serving.verifying(new)).keys]
    made_up = await asyncio.gather(*(serving.verifying(f"made-up-{index}") for index in range(20)))
    assert all(new in [key.kid for key in keyset.keys] for keyset in made_up)
    assert len(reads) == 2  # one for the new key, one for the flood of made-up ones
    await serving.stop()
