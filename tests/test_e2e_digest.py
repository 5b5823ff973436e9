"""The daily digest end to end: the real Application, its delivery job and the fake Bot API.

The clock is injected; a test moves it and then waits until the delivery job has looked
at the store at (or after) that instant and found nothing left to do.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bench.seed import add_subscribers
from bot.rules.chats import ChatState
from bot.store import Claim, Store
from bot.store.schema import chats
from fake_telegram import FakeTelegram, SentMessage
from tests.conftest import BotRunner, Clock, Harness

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
# The digest job's ticks are the slowest thing here; a second each (the minimum).
TIMEOUT = 15.0


class Probe:
    """Watches the deliverer's claims: which instant it asked about and how many it got."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.claims: list[tuple[int, int]] = []
        self._changed = asyncio.Event()
        original = store.queue.claim

        async def claim(now: int, *, limit: int, lease: int) -> list[Claim]:
            rows = await original(now, limit=limit, lease=lease)
            self.claims.append((now, len(rows)))
            self._changed.set()
            return rows

        store.queue.claim = claim  # type: ignore[method-assign,assignment]

    async def settled(self, at: datetime, timeout: float = TIMEOUT) -> None:
        """Wait until a run at ``at`` or later found nothing (more) due.

        A run claims, sends, records and claims again until nothing is left, so an empty
        claim at ``at`` means everything due by then has been attempted and recorded.
        """
        epoch, start = int(at.timestamp()), len(self.claims)
        async with asyncio.timeout(timeout):
            while not any(e >= epoch and n == 0 for e, n in self.claims[start:]):
                self._changed.clear()
                await self._changed.wait()
            # The next claim goes out while the last batch is still being sent: wait for
            # every claimed chat to be recorded or handed back.
            while await self._in_flight():
                await asyncio.sleep(0.02)

    async def _in_flight(self) -> int:
        query = select(func.count()).select_from(chats).where(chats.c.claim_token.is_not(None))
        async with self.store.engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())


@pytest.fixture
def run_bot(
    run_bot: BotRunner,
) -> Callable[..., AbstractAsyncContextManager[tuple[Harness, Probe]]]:
    """The conftest runner with the delivery job on, and a probe on its claims."""

    @asynccontextmanager
    async def run(**env: str) -> AsyncIterator[tuple[Harness, Probe]]:
        async with run_bot(run_jobs=True, **env) as harness:
            yield harness, Probe(harness.services.store)

    return run


def digests(fake: FakeTelegram, chat_id: int) -> list[SentMessage]:
    """Messages to a chat that are daily deliveries (they open with the preview of the day,
    then the digest line)."""
    return [
        m
        for m in fake.sent(chat_id)
        if m.plain_text.startswith("今天：第 ") and "\n每日連載" in m.plain_text
    ]


def sections(fake: FakeTelegram, chat_id: int) -> list[str]:
    """Return each delivery's section header ("第 N/5 節")."""
    return [re.search(r"第 \d/5 節", m.plain_text).group() for m in digests(fake, chat_id)]  # type: ignore[union-attr]


async def chat(harness: Harness, chat_id: int) -> ChatState:
    found = await harness.services.store.chats.get(chat_id)
    assert found is not None
    return found


async def test_subscribed_chat_gets_one_message_at_its_minute_and_none_after_restart(
    fake: FakeTelegram, clock: Clock, run_bot: Callable[..., Any]
) -> None:
    clock.now = datetime(2025, 3, 5, 7, 58, 20, tzinfo=SHANGHAI)
    async with run_bot() as (bot, probe):
        [reply] = await bot.command("/subscribe 07:59", user_id=501)
        assert "07:59" in reply.plain_text and "Asia/Shanghai" in reply.plain_text
        assert "3月5日 07:59" in reply.plain_text  # the next delivery, in local time

        await probe.settled(clock.now)
        clock.now = datetime(2025, 3, 5, 7, 58, 59, tzinfo=SHANGHAI)
        await probe.settled(clock.now)
        assert digests(fake, 501) == []  # not a second early

        clock.now = datetime(2025, 3, 5, 7, 59, 0, tzinfo=SHANGHAI)
        await fake.wait_for(lambda: len(digests(fake, 501)) >= 1, TIMEOUT)
        assert sections(fake, 501) == ["第 1/5 節"]
        assert not digests(fake, 501)[0].disable_notification

        # Further ticks, later the same minute and the same day: nothing more.
        for later in (timedelta(seconds=30), timedelta(hours=3)):
            clock.now += later
            await probe.settled(clock.now)
        assert len(digests(fake, 501)) == 1

    async with run_bot() as (bot, probe):  # a restart later that day
        clock.now = datetime(2025, 3, 5, 23, 59, 59, tzinfo=SHANGHAI)
        await probe.settled(clock.now)
        assert len(digests(fake, 501)) == 1
        assert len(fake.sent(501)) == 2  # the /subscribe reply and one digest, nothing else

        # The schedule survived the restart: the next morning brings section 2.
        clock.now = datetime(2025, 3, 6, 7, 59, 0, tzinfo=SHANGHAI)
        await fake.wait_for(lambda: len(digests(fake, 501)) >= 2, TIMEOUT)
        await probe.settled(clock.now)
        assert sections(fake, 501) == ["第 1/5 節", "第 2/5 節"]


async def test_time_zone_dst_quiet_and_unsubscribe(
    fake: FakeTelegram, clock: Clock, run_bot: Callable[..., Any]
) -> None:
    # The evening before New York springs forward (2025-03-09 02:00).
    clock.now = datetime(2025, 3, 8, 20, 0, tzinfo=NEW_YORK)
    async with run_bot() as (bot, probe):
        [bad] = await bot.command("/timezone Mars/Olympus", user_id=601)
        assert "Mars/Olympus" in bad.plain_text and "tz:America/New_York" in str(bad.reply_markup)
        assert (await chat(bot, 601)).timezone is None  # a bad name changes nothing

        await bot.command("/timezone america/new_york", user_id=601)
        [reply] = await bot.command("/subscribe 08:00 quiet", user_id=601)
        assert "America/New_York" in reply.plain_text and "3月9日 08:00" in reply.plain_text
        await bot.command("/subscribe 08:00", user_id=602)
        [gone] = await bot.command("/unsubscribe", user_id=602)
        assert not (await chat(bot, 602)).subscribed, gone.plain_text

        # 08:00 EDT is 12:00 UTC on the 9th (it would be 13:00 UTC without the change).
        clock.now = datetime(2025, 3, 9, 7, 59, 59, tzinfo=NEW_YORK)
        await probe.settled(clock.now)
        assert digests(fake, 601) == []
        clock.now = datetime(2025, 3, 9, 8, 0, tzinfo=NEW_YORK)
        await fake.wait_for(lambda: len(digests(fake, 601)) >= 1, TIMEOUT)
        await probe.settled(clock.now)
        [digest] = digests(fake, 601)
        assert digest.disable_notification  # /subscribe ... quiet
        assert digests(fake, 602) == []  # unsubscribed before it was due


async def test_blocked_chat_is_deactivated_after_one_attempt(
    fake: FakeTelegram,
    clock: Clock,
    run_bot: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot.services.delivery")
    clock.now = datetime(2025, 3, 5, 7, 0, tzinfo=SHANGHAI)
    async with run_bot() as (bot, probe):
        for user in (701, 702):
            await bot.command("/subscribe 07:59", user_id=user)
        fake.block(701)
        attempts = fake.call_count("sendMessage", chat_id=701)

        for day in range(3):
            clock.now = datetime(2025, 3, 5 + day, 7, 59, tzinfo=SHANGHAI)
            await fake.wait_for(partial(lambda n: len(digests(fake, 702)) > n, day), TIMEOUT)
            await probe.settled(clock.now)

        tries = [c for c in fake.calls_for("sendMessage") if c.params.get("chat_id") == 701]
        assert [c.status for c in tries[attempts:]] == [403]  # one attempt, no retry storm
        blocked = await chat(bot, 701)
        assert not blocked.active and blocked.next_due_at is None
        assert len(digests(fake, 702)) == 3  # the other chat was not affected
    assert any("701" in r.getMessage() and "deactivated" in r.getMessage() for r in caplog.records)


async def test_retry_after_is_waited_out(
    fake: FakeTelegram, clock: Clock, run_bot: Callable[..., Any]
) -> None:
    clock.now = datetime(2025, 3, 5, 7, 0, tzinfo=SHANGHAI)
    async with run_bot(BOT_RATE_LIMIT="30") as (bot, probe):  # flood control waits it out
        for user in (801, 802):
            await bot.command("/subscribe 07:59", user_id=user)
        fake.fail_next("sendMessage", retry_after=1, chat_id=801)

        clock.now = datetime(2025, 3, 5, 7, 59, tzinfo=SHANGHAI)
        await fake.wait_for(lambda: len(digests(fake, 801)) >= 1, TIMEOUT)
        await probe.settled(clock.now)

    assert fake.http_429 == 1
    assert fake.retry_after_violations == []
    tries = [c for c in fake.calls_for("sendMessage") if c.params.get("chat_id") == 801]
    assert [c.status for c in tries[-2:]] == [429, 200]
    assert tries[-1].t - tries[-2].t >= 1.0
    assert len(digests(fake, 801)) == len(digests(fake, 802)) == 1


async def test_bot_api_outage_ends_with_every_due_chat_delivered_once(
    fake: FakeTelegram, clock: Clock, run_bot: Callable[..., Any]
) -> None:
    users = [901, 902, 903, 904]
    clock.now = datetime(2025, 3, 5, 7, 0, tzinfo=SHANGHAI)
    async with run_bot() as (bot, probe):
        for user in users:
            await bot.command("/subscribe 07:59", user_id=user)

        await fake.stop()
        # Several minutes of outage on the bot's clock, with failed attempts along the way.
        for minute, second in ((59, 0), (59, 30), (2, 0)):
            hour = 7 if minute == 59 else 8
            clock.now = datetime(2025, 3, 5, hour, minute, second, tzinfo=SHANGHAI)
            await probe.settled(clock.now)
        for user in users:
            state = await chat(bot, user)
            assert state.failures >= 2 and state.progress == 0, state
        await fake.start()

        clock.now = datetime(2025, 3, 5, 8, 5, tzinfo=SHANGHAI)
        await fake.wait_for(lambda: all(digests(fake, u) for u in users), TIMEOUT)
        await probe.settled(clock.now)
        clock.now += timedelta(minutes=10)
        await probe.settled(clock.now)

        assert {u: sections(fake, u) for u in users} == {u: ["第 1/5 節"] for u in users}
        for user in users:
            state = await chat(bot, user)
            assert state.failures == 0 and state.progress == 1
            local_next = datetime.fromtimestamp(state.next_due_at or 0, SHANGHAI)
            assert local_next == datetime(2025, 3, 6, 7, 59, tzinfo=SHANGHAI)


async def test_flood_control_like_telegram_sees_no_429_from_a_burst_of_due_chats(
    fake: FakeTelegram, clock: Clock, run_bot: Callable[..., Any]
) -> None:
    users = list(range(1101, 1146))  # 45 chats due at once: more than a second's allowance
    clock.now = datetime(2025, 3, 5, 7, 0, tzinfo=SHANGHAI)
    due = int(datetime(2025, 3, 5, 7, 59, tzinfo=SHANGHAI).timestamp())
    async with run_bot(BOT_RATE_LIMIT="30") as (bot, probe):
        # Subscribed in the store, not by command: a command's reply would count against
        # the fake's 1/s per chat and blur what this test measures (the overall pace).
        await add_subscribers(bot.services.store, users, next_due_at=due, delivery_time="07:59")
        fake.add_chats(users)
        fake.flood_control = True  # 30/s overall and 1/s per chat, 429 beyond, as Telegram
        clock.now = datetime(2025, 3, 5, 7, 59, tzinfo=SHANGHAI)
        await probe.settled(clock.now, timeout=30)

    assert fake.http_429 == 0
    assert [len(digests(fake, user)) for user in users] == [1] * len(users)
    sends = sorted(c.t for c in fake.calls_for("sendMessage") if c.params["chat_id"] in users)
    window = sends[-45:]
    # Paced, not bursted: no sliding second holds more than the limit.
    assert max(sum(1 for t in window if s <= t < s + 1) for s in window) <= 30
