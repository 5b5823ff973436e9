"""Our own poller against the fake Bot API: nothing fetched beyond the room to handle it,
nothing confirmed before it is stored or handled, and nothing handled after the bot's HTTP
transport is closed (a stop hands what it did not finish back, and a restart answers it).

The process-level faults (SIGKILL, SIGTERM with a backlog, connections cut) are in
test_polling_faults.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from bot.runtime import lifecycle
from bot.runtime.polling import STORE_TRIES
from bot.store import Seen, Store, UpdateLedger
from fake_telegram import FakeTelegram
from fake_telegram import factories as u
from tests.conftest import BotRunner, free_port, fresh_postgres

QUOTE = "細節決定成敗"  # what /quote 4 answers with


def held_in_memory(fake: FakeTelegram) -> list[tuple[int, int]]:
    """Return, for each getUpdates request, (updates fetched and not yet answered, limit).

    An update is answered before its handler finishes, so "fetched and not answered" is
    at most what the bot held in memory when it asked for more.
    """
    sent_at = sorted(m.t for m in fake.sent())
    fetched: set[int] = set()
    found = []
    for call in fake.calls_for("getUpdates"):
        answered = sum(1 for t in sent_at if t <= call.t)
        found.append((len(fetched) - answered, int(call.params.get("limit", 100))))
        if call.ok:
            fetched.update(update["update_id"] for update in call.response["result"])
    return found


def answers(fake: FakeTelegram, users: range) -> Counter[int]:
    return Counter({uid: fake.sent_count(uid) for uid in users})


async def test_it_fetches_no_more_than_twice_the_handling_concurrency(
    run_bot: BotRunner, fake: FakeTelegram
) -> None:
    users = range(810_000, 810_300)
    fake.delay("sendMessage", 0.02)  # slower to answer than to fetch: a backlog builds up
    async with run_bot(BOT_UPDATE_CONCURRENCY="4") as bot:
        assert bot.services.lanes.capacity == 8
        fake.push_many(u.command("/quote 4", uid) for uid in users)
        await fake.wait_for(lambda: all(fake.sent_count(uid) for uid in users), 60)
    assert set(answers(fake, users).values()) == {1}
    assert all(QUOTE in fake.sent(uid)[0].plain_text for uid in users)
    held = held_in_memory(fake)
    assert all(limit <= 8 for _, limit in held)
    assert max(unanswered + limit for unanswered, limit in held) <= 8
    assert max(unanswered for unanswered, _ in held) >= 4  # the bound was reached, not idle


async def test_updates_the_inbox_cannot_take_are_handled_before_they_are_confirmed(
    run_bot: BotRunner, fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    users = range(811_000, 811_020)
    failures = 3 * STORE_TRIES  # the first three batches: every try fails
    real = UpdateLedger.receive

    async def failing(self: UpdateLedger, batch: Any, lease: int) -> set[int]:
        nonlocal failures
        if failures > 0:
            failures -= 1
            raise OperationalError("INSERT", {}, Exception("the database is away"))
        return await real(self, batch, lease)

    monkeypatch.setattr(UpdateLedger, "receive", failing)
    async with run_bot() as bot:
        problems: list[str | None] = []
        pushed: list[int] = []
        for uid in users:
            pushed.append(fake.push(u.command("/quote 4", uid)))
            await fake.wait_sent(1, uid, timeout=10)
            await fake.wait_for(lambda: fake.pending_updates == 0, 10)  # confirmed
            problems.append(bot.services.health.updates)
        assert failures == 0
        # While the inbox refused them, /readyz said why; once it takes them again, ready.
        assert problems[0] is not None and "cannot store" in problems[0]
        assert problems[-1] is None
    assert set(answers(fake, users).values()) == {1}
    # The three the inbox refused were confirmed (an offset past them) only once answered.
    for update_id, uid in list(zip(pushed, users, strict=True))[:3]:
        answered = fake.sent(uid)[0].t
        confirming = [
            c.t
            for c in fake.calls_for("getUpdates")
            if int(c.params.get("offset") or 0) > update_id
        ]
        assert confirming and min(confirming) >= answered


async def test_a_stop_closes_the_transport_only_after_the_lanes_and_a_restart_answers_the_rest(
    run_bot: BotRunner,
    fake: FakeTelegram,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(lifecycle, "DRAIN_SECONDS", 0.3)  # shorter than one answer below
    users = range(812_000, 812_012)
    fake.delay("sendMessage", 1.0)
    with caplog.at_level(logging.INFO):
        async with run_bot(BOT_UPDATE_CONCURRENCY="2") as bot:
            fake.push_many(u.command("/quote 4", uid) for uid in users)
            lanes = bot.services.lanes
            await fake.wait_for(lambda: lanes.held == lanes.capacity, 10)
        # The stop cut short the two running and two waiting: nothing ran after the
        # transport closed, and none of them counts as handled.
        assert "not initialized" not in caplog.text
        stopped_with = fake.sent_count()
        fake.delay("sendMessage", None)
        async with run_bot(BOT_UPDATE_CONCURRENCY="2"):
            await fake.wait_for(lambda: all(fake.sent_count(uid) for uid in users), 20)
    counts = answers(fake, users)
    assert set(counts) == set(users) and min(counts.values()) == 1
    # At most the two that were being sent at the stop are answered twice.
    assert sum(n - 1 for n in counts.values()) <= 2, (counts, stopped_with)
    assert "not initialized" not in caplog.text


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_the_inbox_decides_claims_on_the_databases_clock(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with fresh_postgres() as pg_url:
        url = pg_url if database == "postgresql" else f"sqlite:///{tmp_path / 'bot.db'}"
        store = Store(url)
        try:
            await store.init()
            inbox = store.updates
            assert await inbox.receive([(1, "{}"), (2, "{}")], lease=10) == {1, 2}
            assert await inbox.begin(3, lease=10) is Seen.NEW
            # A replica whose clock runs 150 s ahead sees the same live claims.
            real = time.time
            monkeypatch.setattr(time, "time", lambda: real() + 150)
            assert await inbox.claim_stale(10, lease=10) == []
            assert await inbox.receive([(1, "{}")], lease=10) == set()
            assert await inbox.begin(3, lease=10) is Seen.BUSY
            monkeypatch.undo()
            # Handed back (a stop), one is anyone's at once; done, it is nobody's.
            await inbox.release([1])
            await inbox.finish_many([2])
            assert await inbox.claim_stale(10, lease=10) == [(1, "{}")]
            assert await inbox.pending() == 1
            await inbox.finish_many([1, 3])
            assert await inbox.begin(3, lease=10) is Seen.DONE
            assert await inbox.pending() == 0
        finally:
            await store.close()


async def test_a_webhook_update_the_stop_cuts_short_gets_503_and_telegram_redelivers_it(
    run_bot: BotRunner, fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lifecycle, "DRAIN_SECONDS", 0.3)  # shorter than the answer below
    fake.set_webhook_interval = 0
    port = free_port()
    fake.webhook_targets = [f"http://127.0.0.1:{port}"]
    env = {
        "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/telegram/hook",
        "TELEGRAM_WEBHOOK_SECRET": "s3cret_Token-1",
        "HTTP_PORT": str(port),
    }
    fake.delay("sendMessage", 1.5)
    async with run_bot(**env) as bot:
        update_id = fake.push(u.command("/quote 4", 6101))
        # The fake records a call once it answered: re-check the lanes themselves instead.
        async with asyncio.timeout(10):
            while bot.services.lanes.held < 1:
                await asyncio.sleep(0.01)
    fake.delay("sendMessage", None)
    async with run_bot(**env):
        await fake.wait_delivered(timeout=20)
    delivery = fake.deliveries[update_id]
    # Cut short by the stop: 503, so Telegram delivered it again, and the restart handled it.
    assert delivery.statuses[0] == 503 and delivery.statuses[-1] == 200
    assert any(QUOTE in m.plain_text for m in fake.sent(6101))
