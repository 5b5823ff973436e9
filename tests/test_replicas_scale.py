"""Three webhook replicas delivering ten thousand digests at Telegram's pace: once each,
no 429, the work spread; a replica killed mid-way; Redis gone for twenty seconds.

These take minutes (10,000 messages at 30/s is 5.5 minutes), so they are marked ``scale``:
``.ci/run`` runs them after the default suite (``python -m pytest -q -m scale``).
"""

from __future__ import annotations

import asyncio
import gc
import os
import re
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bench.seed import add_subscribers
from bot.store import Store
from fake_telegram import FakeTelegram
from fake_telegram import factories as u
from tests.conftest import fresh_postgres
from tests.replicas import Replica, Replicas
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.scale

CHATS = int(os.environ.get("SCALE_CHATS", "10000"))
RATE = 30  # Telegram's overall limit, which the fake enforces
FIRST_SECTION = re.compile(r"第 1/\d+ 節")
# The stated bound (bot.services.delivery): a hard kill repeats at most what was in flight, at most
# DELIVERY_CONCURRENCY (each chat takes a slot from its mark until its record).
CONCURRENCY = 32
REPEAT_BOUND = CONCURRENCY


@pytest.fixture(autouse=True)
def no_collector_pauses() -> Iterator[None]:
    """Keep this process's garbage collector from pausing the fake mid fan-out.

    The fake judges the flood limits by when it reads each request. A full collection over
    the tens of thousands of requests it records takes ~85 ms here, and requests that
    arrived apart during it would be read as if they came together.
    """
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


async def seed_due(url: str, fake: FakeTelegram, chats: range) -> None:
    """Subscribe ``chats`` with their digest due this very minute."""
    fake.add_chats(list(chats))
    store = Store(url)
    try:
        await add_subscribers(store, chats, next_due_at=int(time.time()) // 60 * 60)
    finally:
        await store.close()


class Digests:
    """First sections received per chat, tallied as they arrive: cheap enough to poll on
    every request without stalling the fake (whose clock judges the flood limits)."""

    def __init__(self, fake: FakeTelegram, chats: range) -> None:
        self.fake = fake
        self.chats = chats
        self.received: Counter[int] = Counter()
        self._seen = 0

    def update(self) -> Counter[int]:
        new = self.fake.sent_since(self._seen)
        self._seen += len(new)
        for message in new:
            if message.chat_id in self.chats and FIRST_SECTION.search(message.plain_text):
                self.received[message.chat_id] += 1
        return self.received

    def all_in(self) -> bool:
        return len(self.update()) == len(self.chats)


def send_times(fake: FakeTelegram, chats: range) -> list[float]:
    return sorted(m.t for m in fake.sent() if m.chat_id in chats)


async def delivered_by(replica: Replica) -> float:
    """Read how many digests a replica says it delivered, from its /metrics."""
    async with aiohttp.ClientSession() as http, http.get(f"{replica.url}/metrics") as response:
        body = await response.text()
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            if sample.name == "bot_digests_total" and sample.labels.get("result") == "delivered":
                return sample.value
    return 0.0


def report(name: str, **figures: object) -> None:
    """Print what a run measured (seen with ``pytest -s``; the README quotes it)."""
    print(f"\n[scale] {name}: " + " ".join(f"{k}={v}" for k, v in figures.items()))


async def test_ten_thousand_digests_once_each_at_telegrams_pace_over_three_replicas(
    fake: FakeTelegram, tmp_path: Path, redis_url: str
) -> None:
    chats = range(1, CHATS + 1)
    fake.flood_control = True  # 30/s overall, 1/s per chat: 429 beyond
    async with (
        fresh_postgres() as url,
        Replicas(fake, tmp_path, url, redis_url=redis_url) as group,
    ):
        await seed_due(url, fake, chats)
        tally = Digests(fake, chats)
        await fake.wait_for(tally.all_in, CHATS / RATE * 1.5 + 60)
        received = tally.update()
        assert set(received) == set(chats)
        assert set(received.values()) == {1}  # each chat exactly once
        assert fake.http_429 == 0, fake.flood_rejections
        times = send_times(fake, chats)
        rate = (len(times) - 1) / (times[-1] - times[0])
        assert rate >= 0.95 * RATE, f"{rate:.2f} messages/s"
        shares = [await delivered_by(r) for r in group.replicas]
        assert sum(shares) == CHATS
        assert min(shares) >= CHATS / 3 * 0.5, shares  # every replica did a fair part
        report("fan-out", chats=CHATS, rate=round(rate, 2), http_429=0, split=shares)


async def test_a_replica_killed_mid_fanout_loses_nothing_and_repeats_within_the_bound(
    fake: FakeTelegram, tmp_path: Path, redis_url: str
) -> None:
    chats = range(1, CHATS + 1)
    users = range(800_000, 800_090)
    fake.flood_control = True
    fake.add_chats(list(users))
    async with (
        fresh_postgres() as url,
        Replicas(fake, tmp_path, url, redis_url=redis_url, DELIVERY_LEASE_SECONDS="60") as group,
    ):
        await seed_due(url, fake, chats)
        await fake.wait_for(lambda: fake.sent_count() >= CHATS // 2, CHATS / RATE + 60)
        victim = group.replicas[1]
        # Updates already on their way to the victim die with it; so do the next ones the
        # load balancer sends there before it notices. Telegram redelivers both.
        fake.push_many(u.command("/quote 4", uid) for uid in users[:45])
        await victim.kill()
        group.replicas.remove(victim)
        fake.push_many(u.command("/quote 4", uid) for uid in users[45:])

        await fake.wait_delivered(timeout=120)
        await fake.wait_for(lambda: all(fake.sent_count(uid) >= 1 for uid in users), 60)
        refused = [
            d
            for d in fake.deliveries.values()
            if any(a.target == victim.url and a.status is None for a in d.attempts)
        ]
        assert refused and all(d.delivered and d.target != victim.url for d in refused)
        # Answered once each, but for those the victim may have answered before it died.
        answers = Counter(fake.sent_count(uid) for uid in users)
        assert answers[1] >= len(users) - len(refused), answers

        tally = Digests(fake, chats)
        await fake.wait_for(tally.all_in, CHATS / RATE + 180)
        received = tally.update()
        repeats = sum(n - 1 for n in received.values())
        assert repeats <= REPEAT_BOUND, repeats
        assert fake.http_429 == 0, fake.flood_rejections
        report("kill", chats=CHATS, repeats=repeats, bound=REPEAT_BOUND, refused=len(refused))


async def test_redis_gone_for_twenty_seconds_mid_fanout_costs_no_429_storm(
    fake: FakeTelegram, tmp_path: Path, redis_url: str
) -> None:
    chats = range(1, min(CHATS, 3000) + 1)
    fake.flood_control = True
    async with (
        TcpProxy.to(redis_url) as redis,
        fresh_postgres() as url,
        Replicas(fake, tmp_path, url, redis_url=redis.through(redis_url)) as group,
    ):
        await seed_due(url, fake, chats)
        await fake.wait_for(lambda: fake.sent_count() >= 300, 60)
        await redis.cut()
        sent_at_cut = fake.sent_count()
        await asyncio.sleep(20)  # the outage itself: twenty seconds without Redis
        sent_while_down = fake.sent_count() - sent_at_cut
        await redis.restore()
        tally = Digests(fake, chats)
        await fake.wait_for(tally.all_in, 240)

        assert all(r.alive for r in group.replicas)
        assert sent_while_down >= 20 * RATE * 0.5  # kept sending on local shares
        assert fake.http_429 <= RATE  # at most a second's worth, not a storm
        assert set(tally.update().values()) == {1}
        logs = "".join(r.output() for r in group.replicas)
        assert "flood budget is local now" in logs
        assert "flood budget is shared again" in logs
        report("redis", chats=len(chats), sent_while_down=sent_while_down, http_429=fake.http_429)
