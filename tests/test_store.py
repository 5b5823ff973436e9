"""The store on every backend it supports: SQLite always, PostgreSQL when one is given.

Set TEST_POSTGRES_URL (e.g. postgresql://postgres@127.0.0.1:55432/bottest) to run the same
tests on PostgreSQL; ``.ci/run`` starts one when the machine can.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store import Delivered, Store, metadata

NOW = 1_700_000_000


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        url = os.environ.get("TEST_POSTGRES_URL", "")
        if not url:
            pytest.skip("TEST_POSTGRES_URL is not set")
    store = Store.from_url(url)
    async with store.engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)  # a clean schema for every test
    await store.init()
    yield store
    await store.close()


async def subscribe(store: Store, chat_id: int, due: int = NOW - 60) -> None:
    await store.ensure_chat(chat_id, "private")
    await store.subscribe(
        chat_id,
        delivery_time="08:00",
        timezone="Asia/Shanghai",
        quiet=False,
        thread_id=None,
        next_due_at=due,
    )


async def test_init_twice_keeps_data(store: Store) -> None:
    await store.ensure_chat(5, "private", "five")
    await store.init()
    chat = await store.get_chat(5)
    assert chat is not None and chat.title == "five"


async def test_concurrent_first_contact_creates_one_chat(store: Store) -> None:
    states = await asyncio.gather(*(store.ensure_chat(7, "private") for _ in range(20)))
    assert {s.chat_id for s in states} == {7}
    assert await store.count() == 1


async def test_take_next_gives_each_section_once_under_concurrency(store: Store) -> None:
    taken = await asyncio.gather(*(store.take_next(-3, 5, kind="group") for _ in range(10)))
    assert sorted(t.progress for t in taken if t is not None) == [1, 2, 3, 4, 5]
    chat = await store.get_chat(-3)
    assert chat is not None and chat.progress == 5
    assert all(chat.has_read(n) for n in range(1, 6))


async def test_two_workers_claim_disjoint_sets(store: Store) -> None:
    for chat_id in range(1, 201):
        await subscribe(store, chat_id)
    first, second = await asyncio.gather(
        store.claim_due(NOW, limit=150, lease=60), store.claim_due(NOW, limit=150, lease=60)
    )
    a, b = {c.chat_id for c in first}, {c.chat_id for c in second}
    assert not a & b
    assert a | b == set(range(1, 201))
    # Nothing is claimable again while the leases hold.
    assert await store.claim_due(NOW + 30, limit=500, lease=60) == []


async def test_only_the_lease_holder_records_a_delivery(store: Store) -> None:
    await subscribe(store, 11)
    [claimed] = await store.claim_due(NOW, limit=10, lease=60)
    assert claimed.claim_token is not None
    await store.complete([Delivered(11, "not-the-token", 1, NOW + 86_400, False)])
    chat = await store.get_chat(11)
    assert chat is not None and chat.progress == 0
    await store.complete([Delivered(11, claimed.claim_token, 1, NOW + 86_400, False)])
    chat = await store.get_chat(11)
    assert chat is not None
    assert (chat.progress, chat.next_due_at, chat.claim_token) == (1, NOW + 86_400, None)


async def test_released_claim_waits_for_its_retry_time(store: Store) -> None:
    await subscribe(store, 12)
    [claimed] = await store.claim_due(NOW, limit=10, lease=60)
    assert claimed.claim_token is not None
    await store.release(12, claimed.claim_token, retry_at=NOW + 30, failures=1)
    assert await store.claim_due(NOW + 10, limit=10, lease=60) == []
    [again] = await store.claim_due(NOW + 31, limit=10, lease=60)
    assert again.failures == 1


async def test_deactivated_and_unsubscribed_chats_are_never_due(store: Store) -> None:
    await subscribe(store, 13)
    await subscribe(store, 14)
    await store.deactivate(13)
    await store.unsubscribe(14)
    assert await store.claim_due(NOW, limit=10, lease=60) == []


async def test_migration_keeps_state_under_the_new_id(store: Store) -> None:
    await subscribe(store, -50)
    await store.set_chat_script(-50, "simplified")
    await store.mark_read(-50, 2, advance=True)
    await store.ensure_chat(-1000000000050, "supergroup")  # the supergroup spoke first
    await store.migrate(-50, -1000000000050)
    await store.migrate(-50, -1000000000050)  # reported from both sides: harmless
    assert await store.get_chat(-50) is None
    moved = await store.get_chat(-1000000000050)
    assert moved is not None
    assert (moved.kind, moved.script, moved.progress, moved.subscribed) == (
        "supergroup",
        "simplified",
        2,
        True,
    )


async def test_user_script_upsert_under_concurrency(store: Store) -> None:
    await asyncio.gather(*(store.set_user_script(9, "traditional") for _ in range(10)))
    assert await store.get_user_script(9) == "traditional"
    await store.set_user_script(9, "simplified")
    assert await store.get_user_script(9) == "simplified"
    assert await store.get_user_script(10) is None


async def test_bulk_subscribers_are_counted(store: Store) -> None:
    await store.add_subscribers(range(100_000, 101_200), next_due_at=NOW + 3600)
    assert await store.count(subscribed=True) == 1200
    assert await store.claim_due(NOW, limit=10, lease=60) == []
