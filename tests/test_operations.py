"""What an operator relies on, end to end: /healthz and /readyz following the database,
/metrics moving by exactly what a conversation and a fan-out cause, and /stats."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url

from bench.seed import add_subscribers
from bot.store.migrate import head
from fake_telegram import FakeTelegram
from fake_telegram import factories as u
from tests.conftest import BotRunner, Clock, free_port, fresh_postgres
from tests.tcp_proxy import TcpProxy

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def get(http: aiohttp.ClientSession, port: int, path: str) -> tuple[int, str]:
    async with http.get(f"http://127.0.0.1:{port}{path}") as response:
        return response.status, await response.text()


async def until_status(
    http: aiohttp.ClientSession, port: int, path: str, status: int, timeout: float = 15
) -> str:
    """Ask ``path`` until it answers ``status`` (the checks run every two seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        found, body = await get(http, port, path)
        if found == status:
            return body
        assert time.monotonic() < deadline, f"{path} still {found}: {body}"
        await asyncio.sleep(0.1)


async def scrape(http: aiohttp.ClientSession, port: int) -> Samples:
    status, body = await get(http, port, "/metrics")
    assert status == 200
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


async def test_readiness_follows_the_database_and_health_stays_up(
    run_bot: BotRunner, http: aiohttp.ClientSession
) -> None:
    async with fresh_postgres() as url, TcpProxy(make_url(url).port or 5432) as proxy:
        through_proxy = make_url(url).set(port=proxy.port).render_as_string(hide_password=False)
        port = free_port()
        async with run_bot(DATABASE_URL=through_proxy, HTTP_PORT=str(port)):
            assert await until_status(http, port, "/readyz", 200)
            await proxy.cut()  # the database is gone
            body = await until_status(http, port, "/readyz", 503)
            assert '"database"' in body
            assert (await get(http, port, "/healthz"))[0] == 200  # the process is alive
            await proxy.restore()
            await until_status(http, port, "/readyz", 200)


async def test_readyz_says_updates_are_not_flowing_until_polling_starts(
    run_bot: BotRunner, http: aiohttp.ClientSession, fake: FakeTelegram
) -> None:
    port = free_port()
    async with run_bot(HTTP_PORT=str(port)) as bot:
        assert (await get(http, port, "/readyz"))[0] == 200
        bot.services.health.updates = "polling stopped"
        status, body = await get(http, port, "/readyz")
        assert status == 503 and "polling stopped" in body


async def test_metrics_move_by_exactly_what_a_conversation_and_a_fan_out_cause(
    run_bot: BotRunner, http: aiohttp.ClientSession, fake: FakeTelegram, clock: Clock
) -> None:
    port = free_port()
    clock.now = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
    async with run_bot(run_jobs=True, HTTP_PORT=str(port)) as bot:
        before = await scrape(http, port)
        sends_before = fake.call_count("sendMessage")
        await bot.command("/start", 5001)
        [section] = await bot.command("/next", 5001)
        await bot.command("/quote 4", 5001)
        await bot.ask(u.callback_query(u.user(5001), (5001, section.message_id), "toc"))
        await bot.command("/nonsense", 5001)
        # A small fan-out: three chats due now.
        due = int(clock.now.timestamp()) - 30
        fake.add_chats([5101, 5102, 5103])
        await add_subscribers(bot.services.store, [5101, 5102, 5103], next_due_at=due)
        await fake.wait_for(lambda: all(fake.sent_count(c) == 1 for c in (5101, 5102, 5103)))
        await fake.wait_for(lambda: fake.call_count("sendMessage") == sends_before + 8)
        after = await scrape(http, port)

    def updates(command: str, kind: str = "message") -> float:
        return delta(before, after, "bot_updates_total", kind=kind, command=command)

    assert [updates(c) for c in ("start", "next", "quote")] == [1, 1, 1]
    assert updates("other") == 1  # an unknown command: counted, its name not kept
    assert updates("none", "callback_query") == 1
    assert delta(before, after, "bot_update_handling_seconds_count") == 5
    assert delta(before, after, "bot_digests_total", result="delivered") == 3
    assert delta(before, after, "bot_delivery_lag_seconds_count") == 3
    sent_ok = delta(before, after, "bot_api_requests_total", method="sendMessage", outcome="ok")
    assert sent_ok == 8  # five replies (the table of contents among them), three digests
    assert (
        delta(before, after, "bot_api_requests_total", method="answerCallbackQuery", outcome="ok")
        == 1
    )
    # No label carries an id or free text: every value comes from a short, fixed list.
    labels = {value for (_, pairs) in after for _, value in pairs}
    assert not any(str(chat) in labels for chat in (5001, 5101))


async def test_stats_is_for_operators_only(run_bot: BotRunner, fake: FakeTelegram) -> None:
    async with run_bot(BOT_ADMIN_IDS="5201, 5202") as bot:
        await bot.command("/subscribe 08:00", 5203)
        [report] = await bot.command("/stats", 5201)
        text = report.plain_text
        assert "運作狀態" in text and "私訊 1" in text and "訂閱：1" in text
        assert "SQLite" in text and head() in text
        [refused] = await bot.command("/stats", 5203)
        assert "運作狀態" not in refused.plain_text and "/help" in refused.plain_text
        group = u.group_chat(-5204, "Ops")
        assert await bot.ask(u.command("/stats", 5201, chat=group)) == []  # groups: silence
        await asyncio.wait_for(bot.app.menus_published.wait(), 10)
    menus = [c.params for c in fake.calls_for("setMyCommands")]
    assert all("stats" not in str(m) for m in menus)


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


async def test_metrics_an_operator_alerts_on(
    run_bot: BotRunner, fake: FakeTelegram, http: aiohttp.ClientSession
) -> None:
    port = free_port()
    async with run_bot(HTTP_PORT=str(port)) as bot:
        before = await scrape(http, port)
        await bot.command("/quote 4", 5301)
        after = await scrape(http, port)
        # The process: CPU, memory, start time.
        for name in ("process_cpu_seconds_total", "process_resident_memory_bytes"):
            assert (value(after, name) or 0) > 0, name
        started = value(after, "process_start_time_seconds")
        assert started is not None and abs(started - time.time()) < 600
        # Which version runs.
        [build] = [labels for name, labels in after if name == "bot_build_info"]
        assert dict(build)["version"] and dict(build)["python"]
        # This replica polls; nothing fetched is left unhandled once the reply is out.
        assert value(after, "bot_polling") == 1.0
        assert value(after, "bot_updates_unhandled") == 0.0
        # Bot API latency by method: the reply's sendMessage was timed.
        assert delta(before, after, "bot_api_request_seconds_count", method="sendMessage") == 1
        assert value(after, "bot_api_request_seconds_count", method="getUpdates")
        assert value(after, "bot_parked_chats") == 0.0

        # A slow handler: the update counts as fetched and not handled until it is done.
        fake.delay("sendMessage", 1.0)
        fake.push(u.command("/quote 5", 5302))
        deadline = time.monotonic() + 10
        while value(await scrape(http, port), "bot_updates_unhandled") != 1.0:
            assert time.monotonic() < deadline, "the waiting update never showed"
            await asyncio.sleep(0.05)
        await fake.wait_sent(1, 5302, timeout=10)
        fake.delay("sendMessage", None)
