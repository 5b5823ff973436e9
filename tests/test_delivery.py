"""Deliverer.run_due against a real Store (SQLite file) and a real Bot talking to the fake.

Time is moved by hand: ``now`` is an argument, so a day, a DST change or three days of
downtime take milliseconds.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import and_, func, select, update
from sqlalchemy.exc import OperationalError
from telegram import Bot

from bench.seed import add_subscribers
from bot.content import Library
from bot.content.scripts import Script
from bot.rules.chats import ChatDefaults, ChatState
from bot.services.chat_service import ChatService
from bot.services.delivery import Deliverer, DeliveryConfig, Report
from bot.services.reading import ReadingService
from bot.store import DeliveryQueue, Store, chats
from bot.store import chats as chats_table
from bot.store.engine import db_now
from fake_telegram import FakeTelegram, SentMessage

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
KATHMANDU = ZoneInfo("Asia/Kathmandu")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


DEFAULTS = ChatDefaults(SHANGHAI, time(8, 0))


def service(store: Store, now: datetime | None = None) -> ChatService:
    """The chat rules over ``store``, with the clock stopped at ``now``."""
    return ChatService(store, DEFAULTS, lambda: now or datetime.now(UTC))


def make_deliverer(store: Store, library: Library, **overrides: Any) -> Deliverer:
    reading = ReadingService(
        store, replace(DEFAULTS, sections=library.section_count), lambda: datetime.now(UTC)
    )
    return Deliverer(
        service(store),
        reading,
        store.queue,
        library,
        config(**overrides),
        bot_username=lambda: "SerialBot",
    )


def config(**overrides: Any) -> DeliveryConfig:
    values: dict[str, Any] = {
        "concurrency": 4,
        "lease_seconds": 120,
        "retry_base_seconds": 5,
        "retry_max_seconds": 300,
    }
    values.update(overrides)
    return DeliveryConfig(**values)


async def open_store(path: Path) -> Store:
    store = Store(f"sqlite:///{path}")
    await store.init()
    return store


@pytest.fixture(autouse=True)
def timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's timedelta ``retry_after`` as build_application does.

    Without it, constructing RetryAfter emits a PTBDeprecationWarning, which
    filterwarnings=error would raise in place of the RetryAfter these tests inject.
    """
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    store = await open_store(tmp_path / "delivery.db")
    yield store
    await store.close()


@pytest.fixture
async def tg(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(fake.token, base_url=fake.base_url) as bot:
        yield bot


@pytest.fixture
def deliverer(store: Store, library: Library) -> Deliverer:
    return make_deliverer(store, library)


async def subscribe(
    store: Store,
    fake: FakeTelegram,
    chat_id: int,
    *,
    now: datetime,
    at: str = "08:00",
    tz: ZoneInfo = SHANGHAI,
    quiet: bool = False,
    known: bool = True,
) -> int:
    """Subscribe a chat the way /subscribe does; return its first due epoch."""
    kind = "private" if chat_id > 0 else "group"
    chats = service(store, now)
    chat = await chats.set_zone(await chats.contact(chat_id, kind), tz)
    hour, minute = map(int, at.split(":"))
    chat = await chats.subscribe(
        chat, at=time(hour, minute), quiet=quiet, thread_id=None, script=Script.TRADITIONAL
    )
    if known:
        fake.add_chats([chat_id], kind)
    assert chat.next_due_at is not None
    return chat.next_due_at


def at_epoch(epoch: int, seconds: int = 0) -> datetime:
    return datetime.fromtimestamp(epoch + seconds, UTC)


_HEADER = re.compile(r"第 (\d+)/5 [節节]")


def section_of(message: SentMessage) -> int:
    """Return the section number a digest message carries ("第 N/5 節")."""
    found = _HEADER.search(message.plain_text)
    assert found is not None, message.plain_text[:80]
    return int(found.group(1))


def sections(fake: FakeTelegram, chat_id: int) -> list[int]:
    """Return the section numbers sent to a chat, in order (other messages left out)."""
    return [section_of(m) for m in fake.sent(chat_id) if _HEADER.search(m.plain_text)]


async def state(store: Store, chat_id: int) -> ChatState:
    found = await store.chats.get(chat_id)
    assert found is not None
    return found


async def taken(store: Store, chat_id: int) -> int | None:
    """Press /next the way the handler does; return the section it moved the chat to."""
    state = await store.chats.take_next(chat_id, 5)
    return state.progress if state is not None else None


def sends_to(fake: FakeTelegram, chat_id: int) -> int:
    """Count sendMessage attempts to a chat, failed ones included."""
    return fake.call_count("sendMessage", chat_id=chat_id)


# --- the right local minute ------------------------------------------------------------------


async def earliest_due(queue: DeliveryQueue) -> int | None:
    """Return the earliest time any subscribed chat is due (far future included), or None."""
    query = select(func.min(chats.c.next_due_at)).where(
        and_(chats.c.subscribed.is_(True), chats.c.active.is_(True))
    )
    async with queue.engine.connect() as conn:
        value = (await conn.execute(query)).scalar()
    return int(value) if value is not None else None


async def drive(deliverer: Deliverer, bot: Bot, end: datetime) -> list[tuple[datetime, int]]:
    """Jump from one due instant to the next until ``end``; return (instant, chat) pairs.

    A second before each due instant nothing is sent, so each delivery happens exactly at
    the instant the store holds; between due instants nothing is due by construction.
    """
    deliveries: list[tuple[datetime, int]] = []
    while (due := await earliest_due(deliverer.queue)) is not None and due <= end.timestamp():
        early = await deliverer.run_due(bot, at_epoch(due, -1))
        assert early.chats == [], "delivered before its minute"
        now = at_epoch(due)
        report = await deliverer.run_due(bot, now)
        assert report.chats, "a due chat was not delivered"
        deliveries.extend((now, chat) for chat in report.chats)
    return deliveries


def local_times(deliveries: Iterable[tuple[datetime, int]], chat: int, tz: ZoneInfo) -> list[str]:
    return [f"{now.astimezone(tz):%m-%d %H:%M}" for now, c in deliveries if c == chat]


async def test_delivers_at_the_local_minute_across_zones_and_spring_forward(
    store: Store, fake: FakeTelegram, tg: Bot, deliverer: Deliverer
) -> None:
    # New York springs forward on 2025-03-09 at 02:00; Kathmandu is UTC+05:45 all year.
    start = utc(2025, 3, 8, 0, 0)
    chats = {
        1: ("08:00", NEW_YORK),
        2: ("02:30", NEW_YORK),  # does not exist on 03-09: delivered at 03:30 that day
        3: ("08:00", KATHMANDU),
        4: ("21:15", SHANGHAI),
    }
    for chat, (at, tz) in chats.items():
        await subscribe(store, fake, chat, now=start, at=at, tz=tz)
    deliveries = await drive(deliverer, tg, utc(2025, 3, 10, 23, 59))

    assert local_times(deliveries, 1, NEW_YORK) == ["03-08 08:00", "03-09 08:00", "03-10 08:00"]
    assert local_times(deliveries, 2, NEW_YORK) == ["03-08 02:30", "03-09 03:30", "03-10 02:30"]
    assert local_times(deliveries, 3, KATHMANDU) == ["03-08 08:00", "03-09 08:00", "03-10 08:00"]
    assert local_times(deliveries, 4, SHANGHAI) == ["03-08 21:15", "03-09 21:15", "03-10 21:15"]
    # Each delivery was the chat's next section, one message each.
    for chat in chats:
        assert sections(fake, chat) == [1, 2, 3]


async def test_fall_back_repeated_hour_delivers_once(
    store: Store, fake: FakeTelegram, tg: Bot, deliverer: Deliverer
) -> None:
    # New York falls back on 2025-11-02: 01:00-02:00 happens twice.
    start = utc(2025, 11, 1, 4, 0)
    await subscribe(store, fake, 11, now=start, at="01:30", tz=NEW_YORK)
    await subscribe(store, fake, 12, now=start, at="08:00", tz=NEW_YORK)
    deliveries = await drive(deliverer, tg, utc(2025, 11, 4, 3, 59))

    assert [now for now, chat in deliveries if chat == 11] == [
        utc(2025, 11, 1, 5, 30),  # EDT
        utc(2025, 11, 2, 5, 30),  # the first 01:30 of the day (EDT) - not again at 06:30
        utc(2025, 11, 3, 6, 30),  # EST
    ]
    assert local_times(deliveries, 12, NEW_YORK) == ["11-01 08:00", "11-02 08:00", "11-03 08:00"]
    assert len(fake.sent(11)) == len(fake.sent(12)) == 3


# --- progress: read-ahead and the end of the article -----------------------------------------


async def test_daily_delivery_continues_from_where_the_chat_read_ahead(
    store: Store, fake: FakeTelegram, tg: Bot, deliverer: Deliverer
) -> None:
    start = utc(2025, 5, 1, 0, 0)
    due = await subscribe(store, fake, 21, now=start)
    await subscribe(store, fake, 22, now=start)
    # Chat 21 pressed /next twice between deliveries (the handler calls take_next).
    assert await taken(store, 21) == 1
    assert await taken(store, 21) == 2

    report = await deliverer.run_due(tg, at_epoch(due))
    assert sorted(report.chats) == [21, 22]
    assert sections(fake, 21) == [3]
    assert sections(fake, 22) == [1]
    assert (await state(store, 21)).progress == 3
    assert (await state(store, 21)).has_read(3)

    # Reading ahead again between deliveries: the next day continues after it.
    assert await taken(store, 21) == 4
    report = await deliverer.run_due(tg, at_epoch(due, 86_400))
    assert sections(fake, 21) == [3, 5]


async def test_the_last_section_ends_the_deliveries_and_nothing_follows_it(
    store: Store, fake: FakeTelegram, tg: Bot, deliverer: Deliverer
) -> None:
    start = utc(2025, 5, 1, 0, 0)
    due = await subscribe(store, fake, 31, now=start)  # reaches section 5 by delivery
    await subscribe(store, fake, 32, now=start)  # reads everything with /next first
    for _ in range(5):
        await store.chats.take_next(32, 5)
    for _ in range(3):
        await store.chats.take_next(31, 5)
    assert (await state(store, 32)).next_due_at is None  # nothing left to schedule

    for day in range(6):
        await deliverer.run_due(tg, at_epoch(due, day * 86_400 + 30))

    assert sections(fake, 31) == [4, 5]  # no separate end message
    *_, last, summary = fake.sent(31)
    # The end is said once, in the summary, with the ways on; the section has no copy of them.
    assert "全文完" not in last.plain_text and "rs" not in str(last.reply_markup)
    assert "全文完" in summary.plain_text and "讀了 5/5 節" in summary.plain_text
    assert "rs" in str(summary.reply_markup)  # "read again" under the summary
    assert fake.sent(32) == []  # a delivery would only have said it is over
    for chat in (31, 32):
        final = await state(store, chat)
        assert final.next_due_at is None and final.subscribed

    # Starting over resumes the deliveries at section 1 the next day.
    later = at_epoch(due, 6 * 86_400 + 60)
    await service(store, later).restart(await state(store, 32))
    await deliverer.run_due(tg, at_epoch(due, 7 * 86_400))
    assert sections(fake, 32) == [1]


async def test_quiet_subscription_disables_notification(
    store: Store, fake: FakeTelegram, tg: Bot, deliverer: Deliverer
) -> None:
    start = utc(2025, 5, 1, 0, 0)
    due = await subscribe(store, fake, 41, now=start, quiet=True)
    await subscribe(store, fake, 42, now=start)
    await deliverer.run_due(tg, at_epoch(due))
    assert [m.disable_notification for m in fake.sent(41)] == [True]
    assert [m.disable_notification for m in fake.sent(42)] == [False]


# --- downtime and concurrent workers ---------------------------------------------------------


async def test_three_days_down_gives_one_catch_up_then_the_normal_time(
    store: Store, fake: FakeTelegram, tg: Bot, deliverer: Deliverer
) -> None:
    start = utc(2025, 5, 1, 0, 0)  # 08:00 Shanghai on 05-01 is 00:00 UTC: due immediately
    due = await subscribe(store, fake, 51, now=start - timedelta(minutes=1))
    assert due == int(start.timestamp())

    # The bot comes back on 05-04 at 09:30 Shanghai: 05-01, 05-02, 05-03 and 05-04 missed.
    back = datetime(2025, 5, 4, 9, 30, tzinfo=SHANGHAI)
    report = await deliverer.run_due(tg, back)
    assert report.chats == [51]
    for minutes in range(1, 22 * 60 + 30, 7):  # until 07:59 the next day: nothing more
        await deliverer.run_due(tg, back + timedelta(minutes=minutes))
    assert sections(fake, 51) == [1]
    assert (await state(store, 51)).next_due_at == int(
        datetime(2025, 5, 5, 8, 0, tzinfo=SHANGHAI).timestamp()
    )

    await deliverer.run_due(tg, datetime(2025, 5, 5, 7, 59, 59, tzinfo=SHANGHAI))
    assert len(fake.sent(51)) == 1
    await deliverer.run_due(tg, datetime(2025, 5, 5, 8, 0, tzinfo=SHANGHAI))
    assert sections(fake, 51) == [1, 2]


async def test_two_workers_racing_never_double_deliver(
    tmp_path: Path, fake: FakeTelegram, tg: Bot, library: Library
) -> None:
    # Two processes: two engines on one SQLite file, each with its own Deliverer.
    path = tmp_path / "shared.db"
    stores = await open_store(path), await open_store(path)
    first, second = stores
    try:
        start = utc(2025, 5, 1, 0, 0)
        chats = list(range(1000, 1300))
        due = 0
        for chat in chats:
            due = await subscribe(first, fake, chat, now=start)
        # Small claims and some latency so the two runs interleave for real.
        fake.delay("sendMessage", 0.002)
        workers = [make_deliverer(s, library, batch=10, concurrency=4) for s in (first, second)]
        now = at_epoch(due)
        reports: list[Report] = await asyncio.gather(*(w.run_due(tg, now) for w in workers))

        assert all(r.delivered > 0 for r in reports), "both workers should have taken a share"
        assert sorted(reports[0].chats + reports[1].chats) == chats
        assert {chat: len(fake.sent(chat)) for chat in chats} == dict.fromkeys(chats, 1)
        # Racing again at the same instant finds nothing left to take.
        again = await asyncio.gather(*(w.run_due(tg, now) for w in workers))
        assert again[0].chats == again[1].chats == []
        assert fake.sent_count() == len(chats)
    finally:
        await first.close()
        await second.close()


# --- faults ----------------------------------------------------------------------------------


async def test_blocked_or_missing_chat_is_deactivated_after_one_attempt(
    store: Store, fake: FakeTelegram, tg: Bot, deliverer: Deliverer
) -> None:
    start = utc(2025, 5, 1, 0, 0)
    due = await subscribe(store, fake, 61, now=start)
    await subscribe(store, fake, -62, now=start)
    await subscribe(store, fake, 63, now=start, known=False)  # 400 chat not found
    await subscribe(store, fake, 64, now=start)
    fake.block(61)
    fake.kick(-62)

    report = await deliverer.run_due(tg, at_epoch(due))
    assert report.deactivated == 3
    assert report.chats == [64]
    for chat in (61, -62, 63):
        gone = await state(store, chat)
        assert not gone.active and gone.next_due_at is None
        assert sends_to(fake, chat) == 1

    for day in range(1, 4):
        await deliverer.run_due(tg, at_epoch(due, day * 86_400))
    assert [sends_to(fake, chat) for chat in (61, -62, 63)] == [1, 1, 1]
    assert len(fake.sent(64)) == 4


async def test_migrated_group_gets_the_delivery_at_its_new_id_once(
    store: Store, fake: FakeTelegram, tg: Bot, deliverer: Deliverer
) -> None:
    start = utc(2025, 5, 1, 0, 0)
    due = await subscribe(store, fake, -71, now=start)
    fake.migrate(-71, -1000000000071)

    report = await deliverer.run_due(tg, at_epoch(due))
    assert report.migrated == 1 and report.chats == [-1000000000071]
    assert fake.sent(-71) == []
    assert sections(fake, -1000000000071) == [1]
    assert (await state(store, -71)).chat_id == -1000000000071  # the old id leads there
    moved = await state(store, -1000000000071)
    assert moved.subscribed and moved.progress == 1 and moved.kind == "supergroup"

    await deliverer.run_due(tg, at_epoch(due, 60))
    await deliverer.run_due(tg, at_epoch(due, 86_400))
    assert sections(fake, -1000000000071) == [1, 2]
    assert sends_to(fake, -71) == 1


async def test_server_errors_are_retried_later_with_backoff(
    store: Store, fake: FakeTelegram, tg: Bot, deliverer: Deliverer
) -> None:
    start = utc(2025, 5, 1, 0, 0)
    due = await subscribe(store, fake, 81, now=start)
    await subscribe(store, fake, 82, now=start)
    fake.fail_next("sendMessage", 500, count=2, chat_id=81)
    fake.fail_next("sendMessage", 502, "Bad Gateway", count=1, chat_id=81)

    report = await deliverer.run_due(tg, at_epoch(due))
    assert report.retried == 1 and report.chats == [82]
    first = await state(store, 81)
    assert first.failures == 1 and first.progress == 0

    # Backoff doubles from the 5 s base: tried at +0, +6 (after 5), +17 (after 10), +38.
    attempts: list[int] = []
    for second in range(1, 60):
        before = sends_to(fake, 81)
        await deliverer.run_due(tg, at_epoch(due, second))
        if sends_to(fake, 81) > before:
            attempts.append(second)
    assert attempts == [6, 17, 38]
    assert sections(fake, 81) == [1]
    done = await state(store, 81)
    assert done.failures == 0 and done.progress == 1
    assert done.next_due_at == due + 86_400  # tomorrow at the normal time, not shifted
    assert sections(fake, 82) == [1]


async def test_bot_api_outage_then_every_due_chat_once(
    store: Store, fake: FakeTelegram, tg: Bot, deliverer: Deliverer
) -> None:
    start = utc(2025, 5, 1, 0, 0)
    chats = [91, 92, 93, -94]
    due = 0
    for chat in chats:
        due = await subscribe(store, fake, chat, now=start)
    async with fake.outage():
        report = await deliverer.run_due(tg, at_epoch(due))
        assert report.retried == len(chats) and report.chats == []
        report = await deliverer.run_due(tg, at_epoch(due, 6))
        assert report.retried == len(chats)
    for second in range(7, 30):
        await deliverer.run_due(tg, at_epoch(due, second))
    assert {chat: sections(fake, chat) for chat in chats} == {chat: [1] for chat in chats}


async def test_retry_after_without_rate_limiter_waits_before_the_next_try(
    store: Store, fake: FakeTelegram, tg: Bot, deliverer: Deliverer
) -> None:
    start = utc(2025, 5, 1, 0, 0)
    due = await subscribe(store, fake, 101, now=start)
    # retry_after (8 s, plus a second of margin) outweighs the 5 s backoff base here.
    fake.fail_next("sendMessage", retry_after=8, chat_id=101)
    report = await deliverer.run_due(tg, at_epoch(due))
    assert report.retried == 1
    for second in range(1, 10):
        await deliverer.run_due(tg, at_epoch(due, second))
    assert sends_to(fake, 101) == 1  # nothing before retry_after has passed
    await deliverer.run_due(tg, at_epoch(due, 10))
    assert sections(fake, 101) == [1]
    assert sends_to(fake, 101) == 2


async def test_stopping_hands_unsent_claims_back_at_once(
    store: Store, fake: FakeTelegram, tg: Bot, library: Library
) -> None:
    start = utc(2025, 5, 1, 0, 0)
    chats = list(range(2000, 2060))
    due = 0
    for chat in chats:
        due = await subscribe(store, fake, chat, now=start)
    fake.delay("sendMessage", 0.01)
    now = at_epoch(due)
    first = make_deliverer(store, library, concurrency=2)
    run = asyncio.create_task(first.run_due(tg, now))
    await fake.wait_for(lambda: fake.sent_count() >= 5)
    first.stopping = True  # what running() does on shutdown
    stopped = await run
    assert 5 <= len(stopped.chats) < len(chats) // 2  # finished what it had in hand only

    # A restarted bot takes the rest right away, at the same instant: no lease to wait out.
    second = make_deliverer(store, library, concurrency=2)
    rest = await second.run_due(tg, now)
    assert sorted(stopped.chats + rest.chats) == chats
    assert {chat: len(fake.sent(chat)) for chat in chats} == dict.fromkeys(chats, 1)


# --- the store under concurrent handlers -----------------------------------------------------


async def test_concurrent_first_contact_creates_each_chat_once(tmp_path: Path) -> None:
    # Updates from one chat are handled concurrently (and by several replicas), so two
    # handlers can both see a chat for the first time; neither may fail.
    path = tmp_path / "shared.db"
    stores = await open_store(path), await open_store(path)
    try:
        for chat in range(1, 41):
            results = await asyncio.gather(
                *(service(s).contact(chat, "private") for s in (*stores, *stores)),
                *(s.users.set_script(chat, Script.SIMPLIFIED) for s in stores),
                return_exceptions=True,
            )
            errors = [r for r in results if isinstance(r, BaseException)]
            assert errors == []
        assert await stores[0].chats.count() == 40
        assert await stores[1].users.script(40) is Script.SIMPLIFIED
    finally:
        for store in stores:
            await store.close()


async def test_deleted_topic_delivers_to_the_chat_itself_from_then_on(
    store: Store, fake: FakeTelegram, tg: Bot, deliverer: Deliverer
) -> None:
    start = utc(2025, 5, 1, 0, 0)
    due = await subscribe(store, fake, -1000000000081, now=start)
    await store.chats.change(-1000000000081, lambda c: replace(c, thread_id=7))
    fake.delete_topic(-1000000000081, 7)

    report = await deliverer.run_due(tg, at_epoch(due))
    assert report.chats == [-1000000000081] and report.retried == 0
    [message] = fake.sent(-1000000000081)
    assert message.message_thread_id is None and section_of(message) == 1
    assert (await state(store, -1000000000081)).thread_id is None
    # The next day goes straight to the chat: no second failed try into the dead topic.
    await deliverer.run_due(tg, at_epoch(due, 86_400))
    assert sections(fake, -1000000000081) == [1, 2]
    assert sends_to(fake, -1000000000081) == 3


# --- leases: fenced, on the database's clock, never growing ----------------------------------


async def due_now(store: Store, fake: FakeTelegram, chats: list[int]) -> None:
    """Subscribe ``chats`` with their digest due a minute ago by the real clock."""
    fake.add_chats(chats)
    await add_subscribers(store, chats, next_due_at=int(datetime.now(UTC).timestamp()) - 60)


async def move_leases_back(store: Store, seconds: int) -> None:
    """Age every lease by ``seconds``, as if the holder had been frozen that long."""
    async with store.engine.begin() as conn:
        await conn.execute(
            update(chats_table)
            .where(chats_table.c.claim_token.is_not(None))
            .values(claimed_until=chats_table.c.claimed_until - seconds)
        )


def first_sections(fake: FakeTelegram, chats: list[int]) -> Counter[int]:
    return Counter(
        m.chat_id for m in fake.sent() if m.chat_id in chats and "第 1/5" in m.plain_text
    )


async def test_a_deliverer_that_lost_its_lease_stops_at_once_and_repeats_at_most_its_slots(
    tmp_path: Path, fake: FakeTelegram, tg: Bot, library: Library
) -> None:
    path = tmp_path / "shared.db"
    mine, theirs = await open_store(path), await open_store(path)
    try:
        chats = list(range(3000, 3100))
        await due_now(mine, fake, chats)
        fake.delay("sendMessage", 0.02)
        frozen = make_deliverer(mine, library, concurrency=4)
        run = asyncio.create_task(frozen.run_due(tg, datetime.now(UTC)))
        await fake.wait_for(lambda: fake.sent_count() >= 10)
        # Its lease runs out (a freeze would do that) and another worker takes the chats.
        await move_leases_back(mine, 3600)
        taken = await theirs.queue.claim(int(datetime.now(UTC).timestamp()), limit=500, lease=120)
        sent_at_takeover = fake.sent_count()
        report = await asyncio.wait_for(run, 10)  # it stops by itself, without the rest
        after = fake.sent_count() - sent_at_takeover
        assert after <= 4, f"{after} sent after the lease was lost"  # those in flight only
        assert len(report.chats) < len(chats) // 2
        # Its late records matched nothing: the new holder still owns every taken chat.
        assert {c.state.chat_id for c in taken} <= set(chats)
        async with mine.engine.connect() as conn:
            held = (
                await conn.execute(
                    select(chats_table.c.chat_id).where(
                        chats_table.c.claim_token == taken[0].state.claim_token
                    )
                )
            ).scalars()
            assert set(held) == {c.state.chat_id for c in taken}
        # The new holder sends what it took; a chat is repeated only if it was in flight.
        await move_leases_back(theirs, 3600)
        await make_deliverer(theirs, library, concurrency=4).run_due(tg, datetime.now(UTC))
        received = first_sections(fake, chats)
        assert set(received) == set(chats)  # none missed
        repeats = sum(n - 1 for n in received.values())
        assert repeats <= 4, received
        counted = await theirs.queue.results_since(0)
        assert counted.get("repeated", 0) == repeats  # each real repeat counted once
    finally:
        await mine.close()
        await theirs.close()


async def test_a_lease_stays_its_length_however_long_the_run(
    store: Store, fake: FakeTelegram, tg: Bot, library: Library
) -> None:
    chats = list(range(4000, 4040))
    await due_now(store, fake, chats)
    fake.delay("sendMessage", 0.1)  # 40 chats, 2 at a time: a run of about 2 s
    deliverer = make_deliverer(store, library, concurrency=2, batch=6, lease_seconds=3)
    run = asyncio.create_task(deliverer.run_due(tg, datetime.now(UTC)))
    longest = 0
    ahead = select(func.max(chats_table.c.claimed_until - db_now())).where(
        chats_table.c.claim_token.is_not(None)
    )
    while not run.done():  # sample the leases on the database's clock as the run ages
        async with store.engine.connect() as conn:
            longest = max(longest, (await conn.execute(ahead)).scalar() or 0)
        await asyncio.sleep(0.05)
    report = await run
    assert len(report.chats) == len(chats)
    assert 0 < longest <= 3  # never more than the lease, late in the run as early


async def test_a_record_the_database_could_not_take_is_written_when_it_is_back(
    store: Store, fake: FakeTelegram, tg: Bot, library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    chats = list(range(5000, 5020))
    await due_now(store, fake, chats)
    complete = store.queue.complete
    failures = 0

    async def flaky(done: Any) -> set[int]:
        nonlocal failures
        if failures < 3:  # the database restarts under the first records
            failures += 1
            raise OperationalError("UPDATE chats", {}, ConnectionResetError("connection lost"))
        return await complete(done)

    monkeypatch.setattr(store.queue, "complete", flaky)
    report = await make_deliverer(store, library, concurrency=4).run_due(tg, datetime.now(UTC))
    assert failures == 3 and sorted(report.chats) == chats
    assert first_sections(fake, chats) == Counter(dict.fromkeys(chats, 1))
    assert [(await state(store, chat)).progress for chat in chats] == [1] * len(chats)
    assert await store.queue.results_since(0) == {"delivered": len(chats)}


async def test_a_worker_whose_clock_is_minutes_ahead_takes_no_lease_that_holds(
    postgres_url: str, fake: FakeTelegram, tg: Bot, library: Library
) -> None:
    stores = [Store(postgres_url), Store(postgres_url)]
    try:
        for s in stores:
            await s.init()
        chats = list(range(6000, 6300))
        await due_now(stores[0], fake, chats)
        fake.delay("sendMessage", 0.005)
        workers = [make_deliverer(s, library, batch=10, concurrency=4) for s in stores]
        right = datetime.now(UTC)
        ahead = right + timedelta(minutes=5)  # more than the 120 s lease
        reports = await asyncio.gather(
            workers[0].run_due(tg, right), workers[1].run_due(tg, ahead)
        )
        assert all(r.delivered > 0 for r in reports), "both should have taken a share"
        assert first_sections(fake, chats) == Counter(dict.fromkeys(chats, 1))
    finally:
        for s in stores:
            await s.close()
