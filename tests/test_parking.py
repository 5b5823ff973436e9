"""A chat whose digests Telegram keeps refusing is parked, counted, and resumed by talking."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.services.delivery import PARK_AFTER_FAILURES
from fake_telegram import FakeTelegram
from tests.conftest import BotRunner, Clock, Harness
from tests.test_e2e_digest import SHANGHAI, TIMEOUT, Probe, chat, digests

REFUSAL = "Bad Request: message is too long"


@pytest.fixture
def run_digests(
    run_bot: BotRunner,
) -> Callable[..., AbstractAsyncContextManager[tuple[Harness, Probe]]]:
    @asynccontextmanager
    async def run(**env: str) -> AsyncIterator[tuple[Harness, Probe]]:
        async with run_bot(run_jobs=True, **env) as harness:
            yield harness, Probe(harness.services.store)

    return run


def tries(fake: FakeTelegram, chat_id: int) -> list[int]:
    return [c.status for c in fake.calls_for("sendMessage") if c.params.get("chat_id") == chat_id]


async def test_refused_digests_park_the_chat_until_it_talks_again(
    fake: FakeTelegram,
    clock: Clock,
    run_digests: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock.now = datetime(2025, 3, 5, 7, 0, tzinfo=SHANGHAI)
    async with run_digests(BOT_ADMIN_IDS="1209") as (bot, probe):
        for user in (1201, 1202):
            await bot.command("/subscribe 07:59", user_id=user)
        before = len(tries(fake, 1201))
        fake.fail_next("sendMessage", 400, REFUSAL, count=1000, chat_id=1201)

        clock.now = datetime(2025, 3, 5, 7, 59, tzinfo=SHANGHAI)
        with caplog.at_level(logging.INFO, logger="bot"):
            for _ in range(PARK_AFTER_FAILURES * 3):  # retries are 1-2 s apart here
                await probe.settled(clock.now)
                if (await chat(bot, 1201)).parked_reason is not None:
                    break
                clock.now += timedelta(seconds=10)
            # An hour on, nothing more was tried.
            clock.now += timedelta(hours=1)
            await probe.settled(clock.now)

        parked = await chat(bot, 1201)
        assert parked.parked_reason == "400 Message is too long"
        assert parked.next_due_at is None and parked.failures == PARK_AFTER_FAILURES
        assert tries(fake, 1201)[before:] == [400] * PARK_AFTER_FAILURES
        rejected = [r for r in caplog.records if "rejected" in r.getMessage()]
        assert len(rejected) == PARK_AFTER_FAILURES  # bounded, not one every 5 minutes forever
        assert sum("parked after" in r.getMessage() for r in caplog.records) == 1
        assert len(digests(fake, 1202)) == 1  # the other chat was not held up
        assert b"bot_parked_chats 1.0" in bot.services.metrics.render()

        [stats] = await bot.command("/stats", 1209)
        assert "暫停推播：1 個聊天" in stats.plain_text
        assert "400 Message is too long" in stats.plain_text

        fake.clear_faults()
        [section] = await bot.command("/next", 1201)  # the chat talks to the bot again
        assert "1/5" in section.plain_text
        resumed = await chat(bot, 1201)
        assert resumed.parked_reason is None and resumed.failures == 0
        assert resumed.next_due_at == int(datetime(2025, 3, 6, 7, 59, tzinfo=SHANGHAI).timestamp())

        clock.now = datetime(2025, 3, 6, 7, 59, tzinfo=SHANGHAI)
        await fake.wait_for(lambda: len(digests(fake, 1201)) == 1, TIMEOUT)
        await probe.settled(clock.now)
        [stats] = await bot.command("/stats", 1209)
        assert "暫停推播：0 個聊天" in stats.plain_text
