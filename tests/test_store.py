"""The store on both backends: SQLite always, PostgreSQL (a fresh database per test)."""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from time import monotonic
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from bench.seed import add_subscribers
from bot.content.scripts import Script
from bot.rules.chats import ChatDefaults, ChatState, next_due
from bot.rules.schedule import plan_delivery, read_to_end
from bot.rules.streaks import Streak, touch
from bot.services.chat_service import ChatService
from bot.store import Claim, Delivered, Store, chats, engine
from tests.conftest import fresh_postgres
from tests.tcp_proxy import TcpProxy

NOW = 1_700_000_000
DEFAULTS = ChatDefaults(ZoneInfo("Asia/Shanghai"), time(8, 0))


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    async with AsyncExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / 'store.db'}"
        else:
            url = await stack.enter_async_context(fresh_postgres())
        store = Store(url)
        stack.push_async_callback(store.close)
        await store.init()
        yield store


@pytest.fixture
def service(store: Store) -> ChatService:
    return ChatService(store, DEFAULTS, lambda: datetime.fromtimestamp(NOW, UTC))


async def subscribe(service: ChatService, chat_id: int, due: int = NOW - 60) -> None:
    chat = await service.contact(chat_id, "private")
    await service.subscribe(
        chat, at=time(8, 0), quiet=False, thread_id=None, script=Script.TRADITIONAL
    )
    await service.store.chats.change(chat_id, lambda c: replace(c, next_due_at=due))


async def test_init_twice_keeps_data(store: Store, service: ChatService) -> None:
    await service.contact(5, "private", "five")
    await store.init()
    chat = await store.chats.get(5)
    assert chat is not None and chat.title == "five"


async def test_concurrent_first_contact_creates_one_chat(
    store: Store, service: ChatService
) -> None:
    states = await asyncio.gather(*(service.contact(7, "private") for _ in range(20)))
    assert {s.chat_id for s in states} == {7}
    assert await store.chats.count() == 1


async def test_a_group_is_greeted_once_however_many_times_it_is_added(
    service: ChatService,
) -> None:
    greeted = await asyncio.gather(*(service.joined(-8, "group", "g") for _ in range(10)))
    assert sum(arrival is not None for arrival in greeted) == 1
    await service.removed(-8, "group")
    assert await service.joined(-8, "group", "g") is not None


async def test_take_next_gives_each_section_once_under_concurrency(store: Store) -> None:
    taken = await asyncio.gather(*(store.chats.take_next(-3, 5, kind="group") for _ in range(10)))
    assert sorted(t.progress for t in taken if t is not None) == [1, 2, 3, 4, 5]
    chat = await store.chats.get(-3)
    assert chat is not None and chat.progress == 5
    assert all(chat.has_read(n) for n in range(1, 6))


def becomes(state: ChatState) -> Callable[[ChatState], ChatState]:
    """Return an edit that sets a chat's whole state, for a test to start from."""
    return lambda _: state


async def test_the_one_statement_next_ends_the_schedule_by_the_rule(store: Store) -> None:
    """/next's SQL clears the schedule exactly when ``schedule.read_to_end`` says so.

    Over chat states (article length, place in it, sections shown, subscribed or not,
    something scheduled or not): the stored result must be what the rule decides, and agree
    with ``chats.next_due`` and the deliverer's ``plan_delivery`` for the same chat.
    """
    rng = random.Random(18)
    now = datetime.fromtimestamp(NOW, UTC)
    chat_id = 1_000
    for total in (1, 2, 3, 7, 40):
        defaults = replace(DEFAULTS, sections=total)
        for progress in range(total + 1):
            for subscribed, scheduled in ((True, True), (True, False), (False, False)):
                chat_id += 1
                mask = rng.getrandbits(total) | (1 << progress) - 1  # shown: at least 1..progress
                before = ChatState(
                    chat_id,
                    "private",
                    progress=progress,
                    read_mask=mask,
                    subscribed=subscribed,
                    next_due_at=NOW + rng.randrange(60, 86_400) if scheduled else None,
                )
                await store.chats.change(chat_id, becomes(before), create=("private", ""))
                after = await store.chats.take_next(chat_id, total)
                case = (total, progress, subscribed, scheduled)
                if read_to_end(progress, total):
                    assert after is None, case
                    assert await store.chats.get(chat_id) == before, case
                    continue
                assert after is not None, case
                ended = read_to_end(after.progress, total)
                assert after.progress == progress + 1, case
                assert after.read_mask == mask | 1 << progress, case
                assert after.next_due_at == (None if ended else before.next_due_at), case
                assert plan_delivery(progress, total).finished == ended, case
                if subscribed:
                    assert (next_due(after, now, defaults) is None) == ended, case


async def test_typed_settings_round_trip(store: Store, service: ChatService) -> None:
    chat = await service.contact(21, "private")
    chat = await service.subscribe(
        chat, at=time(21, 5), quiet=True, thread_id=None, script=Script.SIMPLIFIED
    )
    chat = await service.set_zone(chat, ZoneInfo("America/New_York"))
    stored = await store.chats.get(21)
    assert stored == chat
    assert stored.delivery_time == time(21, 5) and stored.script is Script.SIMPLIFIED
    assert stored.timezone == ZoneInfo("America/New_York") and stored.quiet


async def test_two_workers_claim_disjoint_sets(store: Store, service: ChatService) -> None:
    for chat_id in range(1, 201):
        await subscribe(service, chat_id)
    first, second = await asyncio.gather(
        store.queue.claim(NOW, limit=150, lease=60), store.queue.claim(NOW, limit=150, lease=60)
    )
    a, b = {c.state.chat_id for c in first}, {c.state.chat_id for c in second}
    assert not a & b
    assert a | b == set(range(1, 201))
    # Nothing is claimable again while the leases hold.
    assert await store.queue.claim(NOW + 30, limit=500, lease=60) == []


async def test_only_the_lease_holder_records_a_delivery(
    store: Store, service: ChatService
) -> None:
    await subscribe(service, 11)
    [claim] = await store.queue.claim(NOW, limit=10, lease=60)
    claimed = claim.state
    assert claimed.claim_token is not None and not claim.lapsed
    stale = [Delivered(11, "not-the-token", 1, NOW + 86_400, False)]
    assert await store.queue.complete(stale) == set()  # 0 rows matched: said so
    chat = await store.chats.get(11)
    assert chat is not None and chat.progress == 0
    done = [Delivered(11, claimed.claim_token, 1, NOW + 86_400, False)]
    assert await store.queue.complete(done) == {11}
    chat = await store.chats.get(11)
    assert chat is not None
    assert (chat.progress, chat.next_due_at, chat.claim_token) == (1, NOW + 86_400, None)
    assert await store.queue.results_since(0) == {"delivered": 1}


async def expire_leases(store: Store, seconds: int = 3600) -> None:
    """Move every lease that far into the past, as if the database's clock had moved on."""
    async with store.engine.begin() as conn:
        await conn.execute(
            update(chats)
            .where(chats.c.claimed_until.is_not(None))
            .values(claimed_until=chats.c.claimed_until - seconds)
        )


async def test_a_stale_token_matches_nothing_once_another_worker_took_the_chat(
    store: Store, service: ChatService
) -> None:
    await subscribe(service, 17)
    await subscribe(service, 18)
    first = await store.queue.claim(NOW, limit=10, lease=60)
    old = first[0].state.claim_token
    assert old is not None
    assert await store.queue.start_sending(old, [17]) == {17}
    assert await store.queue.renew(old, 60) == {17, 18}
    await expire_leases(store)  # the holder froze past its lease
    # An expired lease is not renewed nor marked, even before anyone else takes it.
    assert await store.queue.renew(old, 60) == set()
    assert await store.queue.start_sending(old, [18]) == set()
    second = await store.queue.claim(NOW, limit=10, lease=60)
    new = second[0].state.claim_token
    assert new is not None and new != old
    # Only 17 was being sent when the lease ran out: only its send may be a repeat.
    assert {c.state.chat_id: c.lapsed for c in second} == {17: True, 18: False}
    assert await store.queue.complete([Delivered(17, old, 1, NOW + 86_400, False)]) == set()
    assert not await store.queue.release(18, old, retry_at=None, failures=0)
    assert await store.queue.start_sending(new, [17, 18]) == {17, 18}
    done = [
        Delivered(17, new, 1, NOW + 86_400, False, repeated=True),
        Delivered(18, new, 1, NOW + 86_400, False),
    ]
    assert await store.queue.complete(done) == {17, 18}
    assert await store.queue.results_since(0) == {"delivered": 1, "repeated": 1}
    chat = await store.chats.get(17)
    assert chat is not None and chat.progress == 1 and chat.claim_token is None


async def test_leases_are_decided_on_the_databases_clock_not_the_callers(
    store: Store, service: ChatService
) -> None:
    """A caller whose clock is hours ahead still cannot take a lease that holds."""
    await subscribe(service, 19)
    assert len(await store.queue.claim(NOW, limit=10, lease=60)) == 1
    assert await store.queue.claim(NOW + 7200, limit=10, lease=60) == []
    async with store.engine.connect() as conn:
        row = (
            await conn.execute(
                select(chats.c.claimed_until - engine.db_now()).where(chats.c.chat_id == 19)
            )
        ).scalar_one()
    assert 59 <= row <= 60  # the lease runs from the database's now, whatever NOW says


async def test_a_lease_runs_out_on_the_databases_clock(store: Store, service: ChatService) -> None:
    await subscribe(service, 20)
    [first] = await store.queue.claim(NOW, limit=10, lease=1)
    began = monotonic()
    again: list[Claim] = []
    while not again:  # re-asked until the database's clock passes the lease
        again = await store.queue.claim(NOW, limit=10, lease=1)
        assert monotonic() - began < 5
        await asyncio.sleep(0.05)
    assert monotonic() - began >= 1  # not before the lease was over
    assert again[0].state.claim_token != first.state.claim_token


async def test_a_record_racing_a_renewal_is_never_lost(store: Store) -> None:
    """A renewal changes every row of the claim while its deliveries are being recorded."""
    await add_subscribers(store, range(1, 2001), next_due_at=NOW - 60)
    claims = await store.queue.claim(NOW, limit=2000, lease=60)
    token = claims[0].state.claim_token
    assert token is not None and len(claims) == 2000
    lost: list[int] = []
    for start in range(1, 2001, 8):
        group = list(range(start, start + 8))
        assert await store.queue.start_sending(token, group) == set(group)
        recorded, _ = await asyncio.gather(
            store.queue.complete([Delivered(c, token, 1, NOW + 86_400, False) for c in group]),
            store.queue.renew(token, 60),
        )
        lost.extend(set(group) - recorded)
    assert lost == []
    assert await store.queue.results_since(0) == {"delivered": 2000}


async def test_the_claim_and_the_backlog_agree_on_what_is_due(store: Store) -> None:
    """/stats' backlog and its age count exactly the chats a claim would take."""
    rng = random.Random(4)
    due_at: dict[int, int] = {}
    for chat_id in range(300, 360):
        state = ChatState(
            chat_id,
            "private",
            subscribed=rng.random() < 0.8,
            active=rng.random() < 0.8,
            next_due_at=rng.choice([None, NOW - rng.randrange(1, 9_000), NOW + 60, NOW]),
        )
        await store.chats.change(chat_id, becomes(state), create=("private", ""))
        at = state.next_due_at
        if state.subscribed and state.active and at is not None and at <= NOW:
            due_at[chat_id] = at
    assert 5 < len(due_at) < 60  # the draw really mixed due and not due
    backlog, oldest = await store.queue.backlog(NOW), await store.queue.oldest_due(NOW)
    claimed = await store.queue.claim(NOW, limit=1_000, lease=60)
    assert {c.state.chat_id for c in claimed} == set(due_at)
    assert backlog == len(due_at) and oldest == min(due_at.values())


async def test_released_claim_waits_for_its_retry_time(store: Store, service: ChatService) -> None:
    await subscribe(service, 12)
    [claim] = await store.queue.claim(NOW, limit=10, lease=60)
    assert claim.state.claim_token is not None
    await store.queue.release(12, claim.state.claim_token, retry_at=NOW + 30, failures=1)
    assert await store.queue.claim(NOW + 10, limit=10, lease=60) == []
    [again] = await store.queue.claim(NOW + 31, limit=10, lease=60)
    assert again.state.failures == 1 and not again.lapsed  # handed back, not lapsed


async def test_a_lease_that_ran_out_unsent_is_taken_again_and_not_counted_as_a_repeat(
    store: Store, service: ChatService
) -> None:
    await subscribe(service, 15)
    [first] = await store.queue.claim(NOW, limit=10, lease=60)
    assert await store.queue.claim(NOW, limit=10, lease=60) == []
    await expire_leases(store)  # its worker died before sending
    [second] = await store.queue.claim(NOW, limit=10, lease=60)
    assert not second.lapsed and second.state.claim_token != first.state.claim_token


async def test_a_renewed_lease_is_not_taken(store: Store, service: ChatService) -> None:
    await subscribe(service, 16)
    [claim] = await store.queue.claim(NOW, limit=10, lease=60)
    assert claim.state.claim_token is not None
    await expire_leases(store, 30)  # half of it has gone by
    assert await store.queue.renew(claim.state.claim_token, 60) == {16}
    await expire_leases(store, 45)  # the first lease would be over by now
    assert await store.queue.claim(NOW, limit=10, lease=60) == []
    await expire_leases(store, 30)
    assert len(await store.queue.claim(NOW, limit=10, lease=60)) == 1


async def test_a_claim_takes_at_most_its_limit_oldest_first(
    store: Store, service: ChatService
) -> None:
    for chat_id in range(300, 340):
        await subscribe(service, chat_id, due=NOW - 1000 + chat_id)
    claims = await store.queue.claim(NOW, limit=7, lease=60)
    assert [c.state.chat_id for c in claims] == list(range(300, 307))
    assert await store.queue.backlog(NOW) == 40  # due, whether claimed or not


async def test_deactivated_and_unsubscribed_chats_are_never_due(
    store: Store, service: ChatService
) -> None:
    await subscribe(service, 13)
    await subscribe(service, 14)
    await service.deactivate(13)
    chat = await store.chats.get(14)
    assert chat is not None
    await service.unsubscribe(chat)
    assert await store.queue.claim(NOW, limit=10, lease=60) == []


async def test_migration_keeps_state_under_the_new_id(store: Store, service: ChatService) -> None:
    await subscribe(service, -50)
    chat = await store.chats.get(-50)
    assert chat is not None
    await service.set_script(chat, Script.SIMPLIFIED)
    await store.chats.take_next(-50, 5)
    await store.chats.take_next(-50, 5)
    await service.contact(-1000000000050, "supergroup")  # the supergroup spoke first
    await service.migrate(-50, -1000000000050)
    await service.migrate(-50, -1000000000050)  # reported from both sides: harmless
    moved = await store.chats.get(-1000000000050)
    assert await store.chats.get(-50) == moved  # the old id leads to the new row
    assert moved is not None
    assert (moved.kind, moved.script, moved.progress, moved.subscribed) == (
        "supergroup",
        Script.SIMPLIFIED,
        2,
        True,
    )


async def test_user_script_upsert_under_concurrency(store: Store) -> None:
    await asyncio.gather(*(store.users.set_script(9, Script.TRADITIONAL) for _ in range(10)))
    assert await store.users.script(9) is Script.TRADITIONAL
    await store.users.set_script(9, Script.SIMPLIFIED)
    assert await store.users.script(9) is Script.SIMPLIFIED
    assert await store.users.script(10) is None


async def test_the_streak_upsert_counts_like_the_streak_rule(store: Store) -> None:
    """One SQL statement counts a visit; it must agree with bot.rules.streaks.touch, each visit."""
    rng = random.Random(2026)
    day, expected = date(2026, 2, 13), Streak()
    for _ in range(120):
        day += timedelta(days=rng.choice([0, 1, 1, 1, 2, 5, -1]))  # -1: the zone moved west
        expected = touch(expected, day)
        await store.users.touch(77, day)
        assert await store.users.streak(77) == expected, day
    assert expected.best > 3  # the walk really built and broke runs
    await asyncio.gather(*(store.users.touch(78, date(2026, 3, 1)) for _ in range(8)))
    assert await store.users.streak(78) == Streak(1, 1, date(2026, 3, 1))


async def test_bulk_subscribers_are_counted(store: Store) -> None:
    await add_subscribers(store, range(100_000, 101_200), next_due_at=NOW + 3600)
    assert await store.chats.count(subscribed=True) == 1200
    assert await store.queue.claim(NOW, limit=10, lease=60) == []


@pytest.mark.parametrize("idle_ping", [True, False])
async def test_a_connection_lost_while_idle_is_replaced_before_use(
    idle_ping: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database restart kills the pooled connections; the next request must not see it."""
    async with fresh_postgres() as url, TcpProxy(make_url(url).port or 5432) as proxy:
        through = make_url(url).set(port=proxy.port).render_as_string(hide_password=False)
        store = Store(through)
        try:
            await store.init()
            await store.users.set_script(5, Script.SIMPLIFIED)
            await proxy.cut()  # every pooled connection is reset, as by a restart
            await proxy.restore()
            # Idle "long enough": the threshold, not the clock, is what the test moves.
            monkeypatch.setattr(engine, "IDLE_PING_SECONDS", 0.0 if idle_ping else 1e9)
            if idle_ping:
                assert await store.users.script(5) is Script.SIMPLIFIED
            else:  # the control: without the ping, the dead connection is used and fails
                with pytest.raises(DBAPIError):
                    await store.users.script(5)
        finally:
            await store.close()


async def test_sqlite_answers_on_the_callers_thread(tmp_path: Path) -> None:
    """No driver thread: each hop to one cost more than the statement (bot/store/sqlite_inline)."""
    before = set(threading.enumerate())
    store = Store(f"sqlite:///{tmp_path / 'inline.db'}")
    try:
        await store.init()
        await store.users.set_script(3, Script.TRADITIONAL)
        assert await store.users.script(3) is Script.TRADITIONAL
        assert set(threading.enumerate()) - before == set()
    finally:
        await store.close()


def test_the_installed_aiosqlite_is_the_one_the_inline_connection_was_written_against() -> None:
    """The inline connection overrides aiosqlite internals, which any release may change.

    pyproject.toml pins a compatible range, but private attributes carry no compatibility
    promise: when this fails, reread ``aiosqlite.core.Connection`` against
    ``bot/store/sqlite_inline.py``, run the store tests, then move ``WRITTEN_AGAINST``.
    """
    from importlib.metadata import version

    from bot.store.sqlite_inline import WRITTEN_AGAINST

    assert version("aiosqlite") == WRITTEN_AGAINST
