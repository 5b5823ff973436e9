"""Polling under faults, with ``python -m bot`` as a real process: the database's
connections cut, the poller SIGKILLed under load, SIGTERM with a backlog waiting.

Every assertion is about what the fake Bot API was asked to send: each update is answered,
and answered once (or at most the stated few twice).
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import asyncpg
import psutil
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.content.scripts import Script
from bot.render import texts
from bot.store import Store
from bot.store.schema import processed_updates
from fake_telegram import FakeTelegram
from fake_telegram import factories as u
from tests.conftest import free_port, fresh_postgres
from tests.replicas import Replica, Replicas
from tests.test_process import environment, start

QUOTE = "細節決定成敗"  # what /quote 4 answers with


def counts(fake: FakeTelegram, users: range) -> Counter[int]:
    return Counter({uid: fake.sent_count(uid) for uid in users})


def all_answered(fake: FakeTelegram, users: range) -> bool:
    return fake.sent_count() >= len(users) and all(fake.sent_count(uid) for uid in users)


@contextmanager
def stopped_at_the_end(proc: asyncio.subprocess.Process) -> Iterator[None]:
    try:
        yield
    finally:
        if proc.returncode is None:
            proc.kill()


async def watch_readiness(port: int, seen: list[tuple[float, int]]) -> None:
    """Record /readyz every 50 ms (a sampling rate, not a wait) until cancelled."""
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
                    seen.append((time.monotonic(), response.status))
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)


async def cut_connections(url: str) -> int:
    """Terminate every connection to the bot's database, as a restart of PostgreSQL does."""
    parsed = make_url(url)
    dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        cut = await conn.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            parsed.database,
        )
    finally:
        await conn.close()
    return len(cut)


async def until(condition: Callable[[], bool], timeout: float) -> None:
    """Re-check a condition nothing announces (the readiness samples) a few times a second."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.05)


async def until_handled(url: str, count: int, timeout: float) -> None:
    """Wait until the inbox marks ``count`` updates done (re-checked a few times a second)."""
    store = Store(url)
    done = (
        select(func.count())
        .select_from(processed_updates)
        .where(processed_updates.c.done_at.is_not(None))
    )
    try:
        async with asyncio.timeout(timeout):
            while True:
                async with store.engine.connect() as conn:
                    if (await conn.execute(done)).scalar_one() >= count:
                        return
                await asyncio.sleep(0.1)
    finally:
        await store.close()


def down_then_up(readiness: list[tuple[float, int]], since: float) -> bool:
    statuses = [status for at, status in readiness if at >= since]
    return 503 in statuses and statuses[-1] == 200


async def test_polling_resumes_after_the_databases_connections_are_cut(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    batches = [range(820_000, 820_050), range(820_050, 820_100), range(820_100, 820_150)]
    everyone = range(batches[0].start, batches[-1].stop)
    port = free_port()
    readiness: list[tuple[float, int]] = []
    async with fresh_postgres() as url:
        env = environment(
            fake, tmp_path, DATABASE_URL=url, HTTP_PORT=str(port), BOT_RATE_LIMIT="0"
        )
        env["LOG_LEVEL"] = "INFO"
        log = tmp_path / "bot.log"
        proc = await start(env, tmp_path, log)
        with stopped_at_the_end(proc):
            await fake.wait_for(lambda: fake.polling, 60)
            fake.push_many(u.command("/quote 4", uid) for uid in batches[0])
            await fake.wait_for(lambda: all_answered(fake, batches[0]), 30)
            # Handled, not only answered: the streak is written after the reply, and a
            # handler whose connection is cut under it says "try again later".
            await until_handled(url, len(batches[0]), 30)
            watcher = asyncio.create_task(watch_readiness(port, readiness))
            try:
                await until(lambda: bool(readiness), 10)
                assert readiness[-1][1] == 200, log.read_text()[-2000:]
                cut_at = time.monotonic()
                assert await cut_connections(url) >= 2  # the pool's and the poller lock's
                # Updates keep coming while the bot finds out and reconnects.
                fake.push_many(u.command("/quote 4", uid) for uid in batches[1])
                await until(lambda: down_then_up(readiness, cut_at), 30)
                ready_in = readiness[-1][0] - cut_at
                fake.push_many(u.command("/quote 4", uid) for uid in batches[2])
                await fake.wait_for(lambda: all_answered(fake, everyone), 30)
                answered_in = time.monotonic() - cut_at
            finally:
                watcher.cancel()
            proc.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(proc.wait(), 15) == 0, log.read_text()[-3000:]
    print(f"ready again {ready_in:.1f} s after the cut; all answered after {answered_in:.1f} s")
    assert answered_in < 30
    assert set(counts(fake, everyone).values()) == {1}  # every update answered, once
    # A handler whose pooled connection died under it answers "try again later"; every
    # other one answers what was asked.
    sorry = texts.t(texts.STORE_UNAVAILABLE, Script.TRADITIONAL)
    replies = [fake.sent(uid)[0].plain_text for uid in everyone]
    assert all(QUOTE in reply or reply == sorry for reply in replies)
    print(f"{sum(reply == sorry for reply in replies)} answered 'try again later'")
    assert sum(reply == sorry for reply in replies) <= 5
    assert "Traceback" not in log.read_text()


async def push_paced(fake: FakeTelegram, users: range, rate: float) -> None:
    """Push one /quote per user at ``rate`` updates a second (Telegram's arrival pace)."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    for n, uid in enumerate(users):
        fake.push(u.command("/quote 4", uid))
        await asyncio.sleep(max(0.0, started + (n + 1) / rate - loop.time()))


@pytest.mark.scale
@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_sigkill_of_the_poller_under_40_updates_a_second_loses_none(
    fake: FakeTelegram, tmp_path: Path, database: str
) -> None:
    users = range(830_000, 831_200)
    concurrency = 8  # in hand at most 16: the bound on what a kill may repeat
    async with fresh_postgres() as pg_url:
        url = pg_url if database == "postgresql" else f"sqlite:///{tmp_path / 'bot.db'}"
        env = environment(
            fake,
            tmp_path,
            DATABASE_URL=url,
            BOT_RATE_LIMIT="0",
            BOT_UPDATE_CONCURRENCY=str(concurrency),
        )
        env["LOG_LEVEL"] = "INFO"
        log = tmp_path / "bot.log"
        first = await start(env, tmp_path, log)
        with stopped_at_the_end(first):
            await fake.wait_for(lambda: fake.polling, 60)
            pushing = asyncio.create_task(push_paced(fake, users, 40))
            await fake.wait_for(lambda: fake.sent_count() >= 500, 60)
            first.kill()
            await first.wait()
        at_kill = fake.sent_count()
        second = await start(env, tmp_path, log)
        with stopped_at_the_end(second):
            await pushing
            await fake.wait_for(lambda: all_answered(fake, users), 90)
            second.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(second.wait(), 15) == 0, log.read_text()[-3000:]
    found = counts(fake, users)
    repeated = sum(n - 1 for n in found.values())
    print(f"{database}: killed after {at_kill} answers; 0 lost, {repeated} answered twice")
    assert min(found.values()) == 1  # none lost
    assert max(found.values()) <= 2
    assert repeated <= 2 * concurrency


@pytest.mark.scale
async def test_sigterm_with_600_updates_waiting_exits_in_time_and_a_restart_answers_all(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    users = range(840_000, 840_600)
    env = environment(fake, tmp_path, BOT_RATE_LIMIT="0", BOT_UPDATE_CONCURRENCY="16")
    env["LOG_LEVEL"] = "INFO"
    log = tmp_path / "bot.log"
    fake.delay("sendMessage", 0.5)  # a slow Telegram: the backlog cannot clear before the stop
    first = await start(env, tmp_path, log)
    with stopped_at_the_end(first):
        await fake.wait_for(lambda: fake.polling, 60)
        fake.push_many(u.command("/quote 4", uid) for uid in users)
        await fake.wait_for(lambda: fake.sent_count() >= 20, 30)
        stopped_at = time.monotonic()
        first.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(first.wait(), 30)
        took = time.monotonic() - stopped_at
    assert code == 0 and took < 10, (code, took, log.read_text()[-2000:])
    at_stop = fake.sent_count()
    assert at_stop < len(users)
    fake.delay("sendMessage", None)
    second = await start(env, tmp_path, log)
    with stopped_at_the_end(second):
        await fake.wait_for(lambda: all_answered(fake, users), 60)
        second.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(second.wait(), 15) == 0
    found = counts(fake, users)
    repeated = sum(n - 1 for n in found.values())
    print(f"SIGTERM took {took:.1f} s with {len(users) - at_stop} unanswered; {repeated} twice")
    assert min(found.values()) == 1  # none lost
    assert repeated == 0  # what was in hand finished within the drain; nothing ran twice
    assert "not initialized" not in log.read_text()


def _ports(replica: Replica) -> set[int]:
    connections = psutil.Process(replica.proc.pid).net_connections(kind="tcp")
    return {c.laddr.port for c in connections if c.laddr}


@pytest.mark.scale
async def test_sigkill_of_the_polling_replica_under_40_updates_a_second_another_finishes(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    users = range(850_000, 851_200)
    concurrency = 8
    async with (
        fresh_postgres() as url,
        Replicas(
            fake,
            tmp_path,
            url,
            count=2,
            webhook=False,
            BOT_RATE_LIMIT="0",
            BOT_UPDATE_CONCURRENCY=str(concurrency),
        ) as group,
    ):
        await fake.wait_for(lambda: fake.polling, 30)
        [leader] = [r for r in group.replicas if fake.poller in _ports(r)]
        pushing = asyncio.create_task(push_paced(fake, users, 40))
        await fake.wait_for(lambda: fake.sent_count() >= 500, 60)
        await leader.kill()
        group.replicas.remove(leader)
        killed_at, at_kill = time.monotonic(), fake.sent_count()
        await pushing
        await fake.wait_for(lambda: all_answered(fake, users), 90)
        finished_in = time.monotonic() - killed_at
    found = counts(fake, users)
    repeated = sum(n - 1 for n in found.values())
    print(
        f"replicas: leader killed after {at_kill} answers; the other answered the rest, "
        f"{finished_in:.0f} s after the kill; 0 lost, {repeated} answered twice"
    )
    assert min(found.values()) == 1  # none lost
    assert max(found.values()) <= 2
    assert repeated <= 2 * concurrency
