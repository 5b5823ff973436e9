"""Digests under faults, as real replicas on PostgreSQL: what Telegram received, per chat.

Each test breaks one thing in the middle of a fan-out - a replica frozen past its lease, the
database restarted, a replica's clock minutes ahead, a replica killed - and then reads the
fake Bot API's own record: every chat got its section, and at most the messages in flight
at the fault (``DELIVERY_CONCURRENCY`` per affected replica) got it twice.

The one over 30 s is marked ``scale`` (``.ci/run`` runs it after the default suite).
"""

from __future__ import annotations

import asyncio
import re
import signal
import time
from collections import Counter
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from bench.seed import add_subscribers
from bot.store import Store, chats
from fake_telegram import FakeTelegram
from tests.conftest import fresh_postgres
from tests.pg_cluster import private_postgres
from tests.replicas import Replica, Replicas

CONCURRENCY = 8
LEASE = 5
FIRST_SECTION = re.compile(r"第 1/\d+ 節")
# No flood limiter here: each replica sends CONCURRENCY at a time, each send taking SEND_DELAY.
SEND_DELAY = 0.05


def replicas(
    fake: FakeTelegram, workdir: Path, url: str, *, count: int, lease: int = LEASE, rate: int = 0
) -> Replicas:
    """``count`` replicas delivering CONCURRENCY at a time under a ``lease``-second lease."""
    return Replicas(
        fake,
        workdir,
        url,
        count=count,
        BOT_RATE_LIMIT=str(rate),
        DELIVERY_CONCURRENCY=str(CONCURRENCY),
        DELIVERY_LEASE_SECONDS=str(lease),
    )


async def seed_due(url: str, fake: FakeTelegram, ids: range) -> None:
    """Subscribe ``ids`` with their digest due a minute ago."""
    fake.add_chats(list(ids))
    store = Store(url)
    try:
        await add_subscribers(store, ids, next_due_at=int(time.time()) - 60)
    finally:
        await store.close()


class Tally:
    """First sections received per chat, counted as they arrive (cheap to re-check often)."""

    def __init__(self, fake: FakeTelegram, ids: range) -> None:
        self.fake = fake
        self.ids = ids
        self.received: Counter[int] = Counter()
        self.first_at: dict[int, float] = {}
        self._seen = 0

    def update(self) -> Counter[int]:
        new = self.fake.sent_since(self._seen)
        self._seen += len(new)
        for message in new:
            if message.chat_id in self.ids and FIRST_SECTION.search(message.plain_text):
                self.received[message.chat_id] += 1
                self.first_at.setdefault(message.chat_id, message.t)
        return self.received

    def all_in(self) -> bool:
        return len(self.update()) == len(self.ids)

    def repeats(self) -> int:
        return sum(n - 1 for n in self.update().values())


async def logged(replica: Replica, *texts: str, timeout: float, since: int = 0) -> None:
    """Wait until a replica's log says one of ``texts`` after its first ``since`` characters.

    The log is a file another process writes: re-read a few times a second.
    """
    async with asyncio.timeout(timeout):
        while not any(text in replica.output()[since:] for text in texts):
            await asyncio.sleep(0.1)  # re-check interval of a condition poll, not a wait


async def counted(url: str) -> dict[str, int]:
    """Return the digests the bot logged, by result (delivered, repeated, failed)."""
    store = Store(url)
    try:
        return await store.queue.results_since(0)
    finally:
        await store.close()


async def delivered_by(replica: Replica) -> float:
    """Read how many digests a replica says it delivered, from its /metrics."""
    async with aiohttp.ClientSession() as http, http.get(f"{replica.url}/metrics") as response:
        body = await response.text()
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            if sample.name == "bot_digests_total" and sample.labels.get("result") == "delivered":
                return sample.value
    return 0.0


async def test_a_replica_frozen_past_its_lease_repeats_only_what_was_in_flight(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    ids = range(1, 2001)
    fake.delay("sendMessage", SEND_DELAY)
    async with (
        fresh_postgres() as url,
        replicas(fake, tmp_path, url, count=2) as group,
    ):
        await seed_due(url, fake, ids)
        tally = Tally(fake, ids)
        await fake.wait_for(lambda: fake.sent_count() >= 400, 60)
        frozen = group.replicas[0]
        frozen.proc.send_signal(signal.SIGSTOP)  # a paused VM, a long GC or swap stall
        stopped = time.monotonic()
        try:
            # Frozen until the other replica has delivered everything, its claims included.
            await fake.wait_for(tally.all_in, 120)
            frozen_for = time.monotonic() - stopped
        finally:
            before = len(frozen.output())
            frozen.proc.send_signal(signal.SIGCONT)
        assert frozen_for > LEASE, "the freeze must outlast the lease"
        # Back, it finds its lease gone (or its transaction ended by the database) and stops
        # its batch; whatever it sends, it has sent by the time it says so.
        await logged(
            frozen,
            "stopped before its end",
            "digest: ",
            "waits for the database",
            timeout=30,
            since=before,
        )
        repeats = tally.repeats()
        assert set(tally.received) == set(ids)  # none missed
        assert repeats <= CONCURRENCY, f"{repeats} repeated"
        # "repeated" counts the sends that may have reached the chat twice: whether a send the
        # frozen replica had begun got through, the bot cannot know. It bounds the real
        # repeats from above and stays within the in-flight bound (once each, not per batch).
        assert repeats <= (await counted(url)).get("repeated", 0) <= CONCURRENCY
        print(f"\n[faults] sigstop: chats={len(ids)} frozen={frozen_for:.1f}s repeats={repeats}")


@pytest.mark.scale  # about 35 s: a private cluster, an outage longer than the lease
async def test_postgresql_restarted_mid_fanout_repeats_only_what_was_in_flight(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    ids = range(1, 2001)
    fake.delay("sendMessage", SEND_DELAY)
    async with (
        private_postgres() as pg,
        replicas(fake, tmp_path, pg.url, count=2) as group,
    ):
        await seed_due(pg.url, fake, ids)
        tally = Tally(fake, ids)
        await fake.wait_for(lambda: fake.sent_count() >= 400, 60)
        await pg.stop()
        sent_at_stop = fake.sent_count()
        for replica in group.replicas:
            await logged(replica, "waits for the database", timeout=30)
        # The outage itself: longer than the lease, so that every lease runs out meanwhile.
        await asyncio.sleep(LEASE + 1)
        sent_while_down = fake.sent_count() - sent_at_stop
        await pg.start()
        back = time.perf_counter()
        await fake.wait_for(lambda: fake.sent_count() > sent_at_stop + sent_while_down, 30)
        resumed_in = fake.sent()[sent_at_stop + sent_while_down].t - back
        await fake.wait_for(tally.all_in, 120)
        repeats = tally.repeats()
        assert set(tally.received) == set(ids)  # none missed
        # Nothing new goes out without a lease: at most what each replica had in flight.
        assert sent_while_down <= CONCURRENCY * len(group.replicas), sent_while_down
        assert repeats <= CONCURRENCY * len(group.replicas), f"{repeats} repeated"
        assert resumed_in < 30, f"delivery resumed {resumed_in:.1f}s after the restart"
        assert all(r.alive for r in group.replicas)
        print(
            f"\n[faults] postgres restart: chats={len(ids)} sent_while_down={sent_while_down} "
            f"repeats={repeats} resumed_in={resumed_in:.1f}s"
        )


async def test_a_replica_whose_clock_is_minutes_ahead_repeats_nothing(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    ids = range(1, 1001)
    fake.delay("sendMessage", 0.2)  # 40/s a replica: each claim of 500 takes 12.5 s
    async with (
        fresh_postgres() as url,
        replicas(fake, tmp_path, url, count=2, lease=30) as group,
    ):
        await seed_due(url, fake, ids)
        tally = Tally(fake, ids)
        # Both replicas hold a claim of 500 and are sending it: nothing is left unclaimed.
        await fake.wait_for(lambda: fake.sent_count() >= 40, 60)
        # Five minutes ahead: every lease it looks at would seem to have run out long ago,
        # and it asks for more each second while the others are still sending theirs.
        ahead = await group.start("ahead", "tests.skewed_replica", CLOCK_OFFSET_SECONDS="300")
        await fake.wait_for(tally.all_in, 120)
        assert ahead.alive
        shares = [await delivered_by(r) for r in group.replicas]
        assert set(tally.update().values()) == {1}, f"{tally.repeats()} repeated"
        assert sum(shares) == len(ids), shares
        print(f"\n[faults] clock ahead: chats={len(ids)} repeats=0 split={shares}")


async def test_a_killed_replicas_chats_are_retaken_when_its_lease_ends(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    """A lease is as long as configured however long the run has gone on (it once grew)."""
    lease = 6
    ids = range(1, 271)  # three claims of 90 (30/s for half a lease) and nothing else
    async with (
        fresh_postgres() as url,
        replicas(fake, tmp_path, url, count=1, lease=lease, rate=30) as group,
    ):
        await seed_due(url, fake, ids)
        tally = Tally(fake, ids)
        # Late in the third claim, after it was renewed: the run is about 8.5 s old.
        await fake.wait_for(lambda: len(tally.update()) >= 255, 60)
        [victim] = group.replicas
        await victim.kill()
        killed = time.perf_counter()
        group.replicas.remove(victim)
        store = Store(url)
        try:
            async with store.engine.connect() as conn:
                held = await conn.execute(
                    select(chats.c.chat_id).where(chats.c.claim_token.is_not(None))
                )
                claimed = set(held.scalars())
        finally:
            await store.close()
        unsent = claimed - set(tally.update())
        assert unsent, "the kill should leave claimed chats unsent"
        await group.start("successor")
        await fake.wait_for(tally.all_in, 60)
        retaken_in = min(tally.first_at[c] for c in unsent) - killed
        repeats = tally.repeats()
        assert retaken_in <= lease + 3, f"retaken {retaken_in:.1f}s after the kill"
        assert repeats <= CONCURRENCY, f"{repeats} repeated"
        print(
            f"\n[faults] kill: chats={len(ids)} claimed={len(claimed)} lease={lease}s "
            f"retaken_in={retaken_in:.1f}s repeats={repeats}"
        )
