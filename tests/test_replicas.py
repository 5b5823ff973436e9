"""Several replicas, as real processes on one PostgreSQL (and one Redis): webhook updates
answered once, one poller at a time with failover, and moving from SQLite by copy-db.

The multi-minute proofs (ten thousand chats at Telegram's pace, a replica killed mid-way,
Redis stopped mid fan-out) are in test_replicas_scale.py, marked ``scale``.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import text

from bench.seed import add_subscribers
from bot.content.scripts import Script
from bot.store import Store
from fake_telegram import FakeTelegram
from fake_telegram import factories as u
from tests.conftest import fresh_postgres
from tests.replicas import ROOT, Replica, Replicas, post


def raw(update_id: int, text: str, user: int, message_id: int) -> dict[str, Any]:
    update: dict[str, Any] = {"update_id": update_id, **u.command(text, user)}
    update["message"]["message_id"] = message_id
    return update


async def test_three_webhook_replicas_answer_every_command_exactly_once(
    fake: FakeTelegram, tmp_path: Path, redis_url: str
) -> None:
    users = range(700_000, 701_000)
    async with (
        fresh_postgres() as url,
        Replicas(fake, tmp_path, url, redis_url=redis_url, BOT_RATE_LIMIT="0") as group,
    ):
        fake.push_many(u.command("/quote 4", uid) for uid in users)
        await fake.wait_delivered(timeout=120)
        await fake.wait_for(lambda: all(fake.sent_count(uid) >= 1 for uid in users), 60)
        assert {uid: fake.sent_count(uid) for uid in users} == dict.fromkeys(users, 1)
        served = Counter(d.target for d in fake.deliveries.values())
        assert all(served[r.url] >= 200 for r in group.replicas), served

        # Two /next for one user, sent to two replicas at the same moment.
        reader = 702_000
        fake.add_chats([reader])
        statuses = await asyncio.gather(
            post(group.replicas[0], raw(900_001, "/next", reader, 1)),
            post(group.replicas[1], raw(900_002, "/next", reader, 2)),
        )
        assert statuses == [200, 200]
        store = Store(url)
        try:
            state = await store.chats.get(reader)
        finally:
            await store.close()
        assert state is not None and state.progress == 2  # exactly two sections, in order
        headers = sorted(
            re.findall(r"第 \d/5 節", "\n".join(m.plain_text for m in fake.sent(reader)))
        )
        assert headers == ["第 1/5 節", "第 2/5 節"]

        # A wrong or missing secret: 401, nothing processed.
        for secret in ("not-it", ""):
            assert await post(group.replicas[2], raw(900_003, "/next", reader, 3), secret) == 401
        assert fake.sent_count(reader) == 2


def _ports(replica: Replica) -> set[int]:
    connections = psutil.Process(replica.proc.pid).net_connections(kind="tcp")
    return {c.laddr.port for c in connections if c.laddr}


async def test_exactly_one_replica_polls_and_another_takes_over_when_it_dies(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    async with (
        fresh_postgres() as url,
        Replicas(fake, tmp_path, url, webhook=False) as group,
    ):
        await fake.wait_for(lambda: fake.polling, 30)
        [leader] = [r for r in group.replicas if fake.poller in _ports(r)]
        before = fake.sent_count(703_000)
        fake.push(u.command("/quote 4", 703_000))
        await fake.wait_sent(before + 1, 703_000, timeout=20)
        pollers = {c.client for c in fake.calls_for("getUpdates")}
        assert pollers <= _ports(leader)  # nobody else ever asked

        gone = _ports(leader)
        await leader.kill()
        killed_at = time.monotonic()
        await fake.wait_for(lambda: fake.polling and fake.poller not in gone, 40)
        assert time.monotonic() - killed_at < 30
        fake.push(u.command("/quote 5", 703_000))
        await fake.wait_sent(before + 2, 703_000, timeout=20)
        assert fake.conflicts <= 2  # a takeover, not a 409 loop
        group.replicas.remove(leader)


async def test_copy_db_moves_ten_thousand_chats_to_postgresql_and_reruns_safely(
    tmp_path: Path,
) -> None:
    source_url = f"sqlite:///{tmp_path / 'bot.db'}"
    source = Store(source_url)
    await source.init()
    await add_subscribers(source, range(1, 10_001), next_due_at=1_800_000_000)
    async with source.engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO users (user_id, script, updated_at) VALUES (7, 'simplified', 1)")
        )
        await conn.execute(text("UPDATE chats SET progress = 3, read_mask = 7 WHERE chat_id = 5"))
    # What the reader kept: a passage, saved, and the log of sections read.
    passage = await source.saved.keep_passage(3, Script.TRADITIONAL, "像是這座城市的一道瘡疤。")
    await source.saved.toggle(7, "p", passage, 100)
    await source.history.read(5, 2, 1_700_000_000)
    await source.close()

    def copy(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", "copy-db", "--from", source_url, "--to", target, *args],
            cwd=tmp_path,
            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "TELEGRAM_BOT_TOKEN": "1:x"},
            capture_output=True,
            text=True,
            timeout=300,
        )

    async with fresh_postgres() as target:
        first = copy()
        assert first.returncode == 0, first.stderr
        assert "10000 chats" in first.stdout and "1 users" in first.stdout
        again = copy()
        assert again.returncode == 0 and "nothing to do" in again.stdout

        moved = Store(target)
        try:
            chat = await moved.chats.get(5)
            assert chat is not None and (chat.progress, chat.read_mask) == (3, 7)
            assert chat.next_due_at == 1_800_000_000 and chat.subscribed
            kept = await moved.saved.passage(passage)
            assert kept is not None and kept.text == "像是這座城市的一道瘡疤。"
            assert [i.number for i in (await moved.saved.newest(7, 10))[0]] == [passage]
            assert [r.at for r in await moved.history.of(5)] == [1_700_000_000]
            # New passages are numbered after the copied ones.
            assert await moved.saved.keep_passage(1, Script.SIMPLIFIED, "新的。") == passage + 1
            async with moved.engine.begin() as conn:
                await conn.execute(text("DELETE FROM users"))
                await conn.execute(
                    text("UPDATE chats SET progress = 0 WHERE chat_id = 5")
                )  # the target drifted
        finally:
            await moved.close()
        refused = copy()
        assert refused.returncode == 2 and "--force" in refused.stderr
        forced = copy("--force")
        assert forced.returncode == 0 and "copied and verified" in forced.stdout
