"""The store contract for records and counters, run unchanged against every store plugin.

Records and counters hold the built-in identity provider's state (accounts,
device grants, logins, attempt budgets), so they must behave the same in every
store and survive a restart.
"""

import asyncio
import time

import pytest

pytestmark = pytest.mark.anyio


async def test_a_record_is_created_once_and_read_back(store):
    assert await store.get_record("grant", "g1") is None
    written = await store.put_record("grant", "g1", {"status": "pending", "scope": ["a", "b"]}, version=0)
    assert written.value == {"status": "pending", "scope": ["a", "b"]} and written.version > 0
    assert await store.get_record("grant", "g1") == written
    assert await store.put_record("grant", "g1", {"status": "other"}, version=0) is None
    assert (await store.get_record("grant", "g1")).value["status"] == "pending"


async def test_kinds_are_separate_namespaces(store):
    await store.put_record("account", "ada", {"who": "account"}, version=0)
    await store.put_record("session", "ada", {"who": "session"}, version=0)
    assert (await store.get_record("account", "ada")).value == {"who": "account"}
    assert (await store.get_record("session", "ada")).value == {"who": "session"}


async def test_compare_and_set_lets_exactly_one_of_two_racing_writers_win(store):
    first = await store.put_record("grant", "g1", {"status": "approved"}, version=0)
    answers = await asyncio.gather(
        store.put_record("grant", "g1", {"status": "used", "by": "poll 1"}, version=first.version),
        store.put_record("grant", "g1", {"status": "used", "by": "poll 2"}, version=first.version),
    )
    winners = [answer for answer in answers if answer is not None]
    assert len(winners) == 1
    assert await store.get_record("grant", "g1") == winners[0]
    assert await store.put_record("grant", "g1", {"status": "x"}, version=first.version) is None


async def test_every_write_gets_a_new_version(store):
    versions = []
    record = None
    for step in range(3):
        record = await store.put_record("login", "l1", {"step": step}, version=record.version if record else 0)
        versions.append(record.version)
    assert len(set(versions)) == 3


async def test_an_expired_record_is_gone_and_its_key_can_be_used_again(store):
    past = time.time() - 1
    old = await store.put_record("user_code", "BCDFGHJK", {"grant": "old"}, version=0, expires_at=past)
    assert await store.get_record("user_code", "BCDFGHJK") is None
    assert await store.put_record("user_code", "BCDFGHJK", {"grant": "x"}, version=old.version) is None
    new = await store.put_record("user_code", "BCDFGHJK", {"grant": "new"}, version=0, expires_at=time.time() + 60)
    assert new.version != old.version
    assert (await store.get_record("user_code", "BCDFGHJK")).value == {"grant": "new"}


async def test_putting_a_past_expiry_deletes_a_record(store):
    record = await store.put_record("session", "s1", {"account": "ada"}, version=0)
    await store.put_record("session", "s1", record.value, version=record.version, expires_at=time.time() - 1)
    assert await store.get_record("session", "s1") is None


async def test_records_survive_a_restart_with_their_versions(stores):
    store = await stores.open()
    kept = await store.put_record("account", "ada", {"name": "Ada"}, version=0, expires_at=time.time() + 3600)
    gone = await store.put_record("grant", "g1", {"status": "pending"}, version=0, expires_at=time.time() - 1)
    store = await stores.reopen(store)
    assert await store.get_record("account", "ada") == kept
    assert await store.get_record("grant", "g1") is None
    again = await store.put_record("account", "ada", {"name": "Ada L."}, version=kept.version)
    assert again.version not in {kept.version, gone.version}


async def test_a_counter_sums_the_window_and_forgets_what_is_older(store):
    start = int(time.time())
    assert await store.add_to_counter("wrong-codes", now=start, window=60, amount=0) == 0
    assert await store.add_to_counter("wrong-codes", now=start, window=60) == 1
    assert await store.add_to_counter("wrong-codes", now=start + 30, window=60) == 2
    assert await store.add_to_counter("wrong-codes", now=start + 60, window=60, amount=0) == 2  # start is still in
    assert await store.add_to_counter("wrong-codes", now=start + 61, window=60) == 2  # start fell out, +61 came in
    assert await store.add_to_counter("wrong-codes", now=start + 200, window=60, amount=0) == 0


async def test_a_counter_gives_back_and_counters_are_separate(store):
    start = int(time.time())
    assert await store.add_to_counter("ip:10.0.0.1", now=start, window=60, amount=2) == 2
    assert await store.add_to_counter("ip:10.0.0.1", now=start + 1, window=60, amount=-1) == 1
    assert await store.add_to_counter("ip:10.0.0.2", now=start + 1, window=60) == 1


async def test_concurrent_additions_are_all_counted(store):
    now = int(time.time())
    totals = await asyncio.gather(*(store.add_to_counter("all", now=now, window=60) for _ in range(10)))
    assert sorted(totals) == list(range(1, 11))


async def test_counters_survive_a_restart(stores):
    store = await stores.open()
    now = int(time.time())
    await store.add_to_counter("wrong-codes", now=now, window=600, amount=3)
    store = await stores.reopen(store)
    assert await store.add_to_counter("wrong-codes", now=now + 1, window=600, amount=0) == 3
