"""A hard kill in the middle of a digest run: nobody misses a section, few get one twice.

The bot runs as a real ``python -m bot`` subprocess against the in-process fake Bot API,
so SIGKILL lands wherever the process happens to be: mid-request, mid-commit, anywhere.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from bench.seed import add_subscribers
from bot.store import Store, chats
from fake_telegram import FakeTelegram

ROOT = Path(__file__).resolve().parents[1]
CHATS = 3000
CONCURRENCY = 16


async def _prepare_database(url: str, ids: range) -> None:
    store = Store(url)
    await store.init()
    due = int(time.time()) - 60  # everyone is already due when the bot starts
    await add_subscribers(store, ids, next_due_at=due)
    await store.close()


async def _start_bot(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", env=env, cwd=log.parent, stdout=out, stderr=out
        )


async def _until(
    fake: FakeTelegram,
    proc: asyncio.subprocess.Process,
    predicate: Callable[[], bool],
    timeout: float,
    log: Path,
) -> None:
    """Wait for predicate (re-checked on every request to the fake); fail if the bot exits."""
    waiting = asyncio.ensure_future(fake.wait_for(predicate, timeout))
    exited = asyncio.ensure_future(proc.wait())
    done, _ = await asyncio.wait({waiting, exited}, return_when=asyncio.FIRST_COMPLETED)
    if waiting not in done:
        waiting.cancel()
        raise AssertionError(f"bot exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
    exited.cancel()
    waiting.result()


async def _until_recorded(url: str, proc: asyncio.subprocess.Process, timeout: float) -> None:
    """Wait until the database records a delivery for every chat.

    The database has no change notification, so this re-checks it a few times a second.
    Once every row is recorded nothing is due, so no further message can be sent.
    """
    store = Store(url)
    behind = select(func.count()).select_from(chats).where(chats.c.progress < 1)
    try:
        async with asyncio.timeout(timeout):
            while True:
                async with store.engine.connect() as conn:
                    if (await conn.execute(behind)).scalar_one() == 0:
                        return
                assert proc.returncode is None, "the bot exited before recording everything"
                await asyncio.sleep(0.1)  # re-check interval of a condition poll, not a wait
    finally:
        await store.close()


async def test_sigkill_mid_digest_then_restart(tmp_path: Path, fake: FakeTelegram) -> None:
    ids = range(1, CHATS + 1)
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    await _prepare_database(url, ids)
    fake.add_chats(ids)
    fake.delay("sendMessage", 0.005)  # slow enough that the kill lands mid-run
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "DELIVERY_", "BOT_", "DATABASE_"))
    }
    env.update(
        PYTHONPATH=str(ROOT),
        TELEGRAM_BOT_TOKEN=fake.token,
        TELEGRAM_BASE_URL=fake.base_url,
        DATABASE_URL=url,
        BOT_RATE_LIMIT="0",
        DELIVERY_CONCURRENCY=str(CONCURRENCY),
        DELIVERY_LEASE_SECONDS="3",
        HTTP_PORT="0",
        DELIVERY_TICK_SECONDS="1",
        LOG_LEVEL="INFO",
    )
    log = tmp_path / "bot.log"

    first = await _start_bot(env, log)
    try:
        await _until(fake, first, lambda: fake.sent_count() >= CHATS // 3, 60, log)
    finally:
        first.send_signal(signal.SIGKILL)
        await first.wait()
    at_kill = fake.sent_count()
    assert at_kill < CHATS, "the kill should land in the middle of the run"

    second = await _start_bot(env, log)
    try:
        missing = set(ids)

        def everyone_has_one() -> bool:
            if fake.sent_count() < CHATS:
                return False  # cheap pre-check: runs after every request
            missing.difference_update([c for c in missing if fake.sent_count(c)])
            return not missing

        await _until(fake, second, everyone_has_one, 60, log)
        await _until_recorded(url, second, 30)
        second.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(second.wait(), 30) == 0
    finally:
        if second.returncode is None:
            second.kill()
            await second.wait()

    counts = {chat: fake.sent_count(chat) for chat in ids}
    assert fake.sent_count() > at_kill, "the restarted bot should have finished the run"
    # Nobody missed section 1, and every message anyone got was section 1.
    assert all("1/5" in fake.sent(chat)[0].plain_text for chat in ids)
    assert all("1/5" in m.plain_text for m in fake.sent())
    repeated = [chat for chat, n in counts.items() if n > 1]
    assert max(counts.values()) <= 2
    # Only what was between its mark and its record at the kill: DELIVERY_CONCURRENCY at most.
    assert len(repeated) <= CONCURRENCY, f"{len(repeated)} repeated (killed at {at_kill})"
    print(f"\n[faults] sigkill: chats={CHATS} killed_at={at_kill} repeats={len(repeated)}")
