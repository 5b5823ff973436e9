"""RedisBudget against a real Redis: LocalBudget's rules kept for every replica together.

Each test has a key prefix of its own (and deletes its keys afterwards), so runs never see
each other's data. The rules are checked on ``LocalBudget`` and ``RedisBudget`` alike, the
local one standing for both "replicas" of a pair. Waits come from the budgets' decisions.

Tests of the decisions run on a ``FakeClock`` they advance (the budgets pass it to the
scripts as "now"), so a busy machine's delays cannot change them. Only the tests that need
real time keep it: the pace shared by replicas sending at once, FloodControl's own
scheduling, Redis outages and timeouts, and cancellations.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError
from telegram.error import RetryAfter

from bot.flood import budget_redis
from bot.flood.budget import SHARE, Budget, Decision, Limits, LocalBudget
from bot.flood.budget_redis import PACE_JITTER, RETRY_EVERY, RedisBudget
from bot.flood.control import FloodControl
from fake_telegram import factories as u
from tests.conftest import REDIS_URL, Harness
from tests.tcp_proxy import TcpProxy

# Decisions are computed on Redis's clock to the microsecond and slept out on ours: a
# wait slept out (or advanced past, on a FakeClock) with this much to spare is over on both.
EPS = 0.005
FAST = 1e6  # a pace that never gets in the way of tests about something else


@dataclass
class FakeClock:
    """The time the budgets decide at: it moves only when the test advances it."""

    now: float = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        assert seconds >= 0, seconds
        self.now += seconds


@pytest.fixture
def fake_clock() -> FakeClock:
    """The budgets' clock in this test (conftest's ``clock`` is the bot's calendar)."""
    return FakeClock()


@dataclass
class Replicas:
    """Make RedisBudgets sharing one key prefix: the replicas of one bot."""

    prefix: str
    client: Redis
    made: list[RedisBudget] = field(default_factory=list)

    def __call__(
        self, limits: Limits, url: str = REDIS_URL, clock: FakeClock | None = None
    ) -> RedisBudget:
        budget = RedisBudget(url, limits, prefix=self.prefix, clock=clock)
        self.made.append(budget)
        return budget

    async def keys(self) -> list[str]:
        return [key async for key in self.client.scan_iter(match=f"{self.prefix}*")]


@pytest.fixture
async def replica() -> AsyncIterator[Replicas]:
    """Replicas on a fresh key prefix; skip, saying why, when no Redis answers."""
    client = Redis.from_url(
        REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5, decode_responses=True
    )
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        await client.aclose()
        pytest.skip(f"no Redis at {REDIS_URL} ({exc})")
    replicas = Replicas(f"test:{uuid.uuid4().hex[:12]}:", client)
    try:
        yield replicas
    finally:
        for budget in replicas.made:
            await budget.close()
        if keys := await replicas.keys():
            await client.delete(*keys)
        await client.aclose()


MakePair = Callable[[Limits], tuple[Budget, Budget]]


@pytest.fixture(params=["local", "redis"])
def pair(request: pytest.FixtureRequest, fake_clock: FakeClock) -> MakePair:
    """Two replicas of one budget on the test's clock: one LocalBudget seen twice, or two
    RedisBudgets."""
    if request.param == "local":

        def local(limits: Limits) -> tuple[Budget, Budget]:
            budget = LocalBudget(limits, fake_clock)
            return budget, budget

        return local
    replica: Replicas = request.getfixturevalue("replica")
    return lambda limits: (
        replica(limits, clock=fake_clock),
        replica(limits, clock=fake_clock),
    )


async def sleep_out(decision: Decision, clock: FakeClock | None = None) -> None:
    """Wait as long as the decision says (and a hair more): on ``clock``, else in real time."""
    if clock is None:
        await asyncio.sleep(decision.wait + EPS)
    else:
        clock.advance(decision.wait + EPS)


async def acquire_paced(
    budget: Budget, chat: int | str, paid: bool = False, clock: FakeClock | None = None
) -> None:
    """Send to ``chat`` as soon as the overall pace allows."""
    while (decision := await budget.acquire(chat, paid)).wait > 0:
        assert decision.scope == "global", decision
        await sleep_out(decision, clock)


async def send_twice(budget: Budget, chat: int, clock: FakeClock | None = None) -> None:
    """Send to a private chat twice, one gap apart: a 429 now may be the chat's own."""
    await acquire_paced(budget, chat, clock=clock)
    while (decision := await budget.acquire(chat, False)).wait > 0:
        await sleep_out(decision, clock)


async def eventually(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait until ``predicate()`` holds, looking every few milliseconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"condition not met within {timeout} s"
        await asyncio.sleep(0.02)


def most_in_a_second(times: list[float]) -> int:
    """Return the most timestamps that fall in any one-second window."""
    times = sorted(times)
    most, first = 0, 0
    for last, t in enumerate(times):
        while times[first] <= t - 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


async def test_a_private_chat_gets_one_send_per_interval(
    pair: MakePair, fake_clock: FakeClock
) -> None:
    a, b = pair(Limits(rate=FAST, private_interval=0.2))
    gap = 0.2 / SHARE
    assert await a.acquire(1, False) == Decision(0.0)
    fake_clock.advance(EPS)  # b asks a moment later (and float rounding stays inside)
    blocked = await b.acquire(1, False)
    assert blocked.scope == "chat"
    assert 0.1 < blocked.wait <= gap - EPS / 2
    assert await b.acquire(2, False) == Decision(0.0)  # another chat is free
    await sleep_out(blocked, fake_clock)
    assert await b.acquire(1, False) == Decision(0.0)
    assert (await a.acquire(1, False)).scope == "chat"  # b's send counts for a, too


async def test_a_group_gets_count_sends_per_window(pair: MakePair, fake_clock: FakeClock) -> None:
    a, b = pair(Limits(rate=FAST, group_count=3, group_window=0.5))
    assert await a.acquire("@news", False) == Decision(0.0)
    fake_clock.advance(0.1 + EPS)  # the oldest send leaves the window well before the others
    for budget in (b, a):
        assert await budget.acquire("@news", False) == Decision(0.0)
    full = await b.acquire("@news", False)
    assert full.scope == "chat"
    assert 0.3 < full.wait <= 0.5 / SHARE - 0.1
    assert await a.acquire(-100123, False) == Decision(0.0)  # another group is free
    await sleep_out(full, fake_clock)
    assert await b.acquire("@news", False) == Decision(0.0)  # the oldest left the window
    assert (await a.acquire("@news", False)).scope == "chat"  # and only the oldest


async def test_the_pace_is_even_and_saves_nothing_up(
    pair: MakePair, fake_clock: FakeClock
) -> None:
    a, b = pair(Limits(rate=20))
    interval = 1 / (20 * SHARE)
    assert await a.acquire(1, False) == Decision(0.0)
    paced = await b.acquire(2, False)
    assert paced.scope == "global"
    assert 0 < paced.wait <= interval * (1 + PACE_JITTER)
    await sleep_out(paced, fake_clock)
    assert await b.acquire(2, False) == Decision(0.0)
    idle = await a.acquire(3, False)
    fake_clock.advance(idle.wait + 3 * interval)  # idle time earns no burst
    assert await a.acquire(3, False) == Decision(0.0)
    assert (await b.acquire(4, False)).wait > interval / 2


async def test_paid_sends_have_a_pace_of_their_own(pair: MakePair, fake_clock: FakeClock) -> None:
    # A free pace of 2/s: half a second between free sends leaves a busy machine's delays
    # between these calls far inside the margins below.
    a, b = pair(Limits(rate=2, paid_rate=1000))
    assert await a.acquire(1, False) == Decision(0.0)
    assert await b.acquire(2, True) == Decision(0.0)  # the free pace does not hold it
    free = await a.acquire(3, False)
    assert free.scope == "global"
    assert free.wait > 0.25
    paid = await b.acquire(4, True)
    assert paid.wait <= (1 + PACE_JITTER) / (1000 * SHARE)  # at most its own pace
    await acquire_paced(b, 5, paid=True, clock=fake_clock)
    assert (await a.acquire(5, False)).wait > 0.2  # paid sends left the free pace alone


async def test_a_waiting_reply_keeps_its_slot_from_every_replicas_digests(
    replica: Replicas, fake_clock: FakeClock
) -> None:
    a, b = replica(Limits(rate=10), clock=fake_clock), replica(Limits(rate=10), clock=fake_clock)
    assert await a.acquire(1, False) == Decision(0.0)  # a's digest takes a slot
    waiting = await b.acquire(2, False, reply=True)  # b's reply waits for the next one
    assert waiting.scope == "global"
    await sleep_out(waiting, fake_clock)
    assert (await a.acquire(3, False)).scope == "global"  # the slot is free, but claimed
    assert await b.acquire(2, False, reply=True) == Decision(0.0)  # the reply takes it
    await acquire_paced(a, 3, clock=fake_clock)  # the claim went with the reply: digests go on


async def test_a_reply_that_never_comes_back_holds_digests_only_briefly(
    replica: Replicas, monkeypatch: pytest.MonkeyPatch, fake_clock: FakeClock
) -> None:
    monkeypatch.setattr(budget_redis, "REPLY_CLAIM", 0.2)
    a, b = replica(Limits(rate=10), clock=fake_clock), replica(Limits(rate=10), clock=fake_clock)
    assert await a.acquire(1, False) == Decision(0.0)
    started = fake_clock()
    waiting = await b.acquire(2, False, reply=True)  # b's replica dies with its reply
    await acquire_paced(a, 3, clock=fake_clock)
    elapsed = fake_clock() - started
    assert waiting.wait + 0.2 - EPS <= elapsed <= waiting.wait + 0.2 + 0.5


async def test_paid_sends_share_the_free_pace_without_a_paid_rate(pair: MakePair) -> None:
    a, b = pair(Limits(rate=10))
    assert await a.acquire(1, True) == Decision(0.0)
    assert (await b.acquire(2, True)).scope == "global"
    assert (await b.acquire(3, False)).scope == "global"


async def test_a_global_hold_stops_every_replica_and_is_never_shortened(
    pair: MakePair, fake_clock: FakeClock
) -> None:
    a, b = pair(Limits(rate=FAST))
    assert await a.hold(5, 0.6) == "global"  # chat 5 sent nothing: not its own limit
    held = await b.acquire(6, False)
    assert held.scope == "global"
    assert 0.3 < held.wait <= 0.6  # margins wide enough for a busy machine's delays
    assert await a.hold(5, 0.1) == "global"
    shorter = await b.acquire(6, False)
    assert shorter.wait > 0.2  # a later, shorter 429 does not release the hold
    assert await b.hold(7, 0.8) == "global"
    longer = await a.acquire(6, False)
    assert longer.wait > 0.6  # a longer one extends it (the first had at most 0.6 left)
    await sleep_out(longer, fake_clock)
    assert await b.acquire(6, False) == Decision(0.0)


async def test_a_chat_near_its_limit_is_held_alone(pair: MakePair, fake_clock: FakeClock) -> None:
    a, b = pair(Limits(rate=FAST, private_interval=0.1))
    await send_twice(a, 7, fake_clock)
    assert await a.hold(7, 0.6) == "chat"  # it sent twice within the gap: its own limit
    held = await b.acquire(7, False)
    assert held.scope == "chat"
    assert 0.3 < held.wait <= 0.6
    assert await b.acquire(8, False) == Decision(0.0)  # the others go on
    assert await b.hold(7, 0.1) == "chat"
    shorter = await a.acquire(7, False)
    assert shorter.wait > 0.2  # not shortened
    await sleep_out(shorter, fake_clock)
    assert await a.acquire(7, False) == Decision(0.0)


async def test_a_chat_that_sent_long_ago_cannot_be_at_its_limit(
    pair: MakePair, fake_clock: FakeClock
) -> None:
    a, b = pair(Limits(rate=FAST, private_interval=0.1))
    assert await a.acquire(9, False) == Decision(0.0)
    fake_clock.advance(2 * 0.1 / SHARE + EPS)  # twice the gap: no longer near its limit
    assert await a.acquire(9, False) == Decision(0.0)
    assert await b.hold(9, 0.2) == "global"


async def test_a_429_for_a_chats_first_send_cannot_be_the_chats(pair: MakePair) -> None:
    """One message to a person cannot break their 1/s: the 429 is the bot's overall limit."""
    a, b = pair(Limits(rate=FAST, private_interval=0.1))
    assert await a.acquire(10, False) == Decision(0.0)
    assert await a.hold(10, 0.5) == "global"
    held = await b.acquire(11, False)
    assert held.scope == "global" and held.wait > 0.2


async def test_a_group_is_held_alone_only_at_its_limit(pair: MakePair) -> None:
    a, b = pair(Limits(rate=FAST, group_count=3, group_window=1.0))
    for budget in (a, b):
        assert await budget.acquire("@full", False) == Decision(0.0)
    assert await a.acquire("@quiet", False) == Decision(0.0)
    assert await b.hold("@full", 0.3) == "chat"  # count - 1 sends in the window
    assert await a.hold("@quiet", 0.3) == "global"


async def test_every_key_expires(replica: Replicas, fake_clock: FakeClock) -> None:
    limits = Limits(rate=10, private_interval=0.5, group_count=3, group_window=2.0)
    budget = replica(limits, clock=fake_clock)
    await send_twice(budget, 1, fake_clock)
    await acquire_paced(budget, "@g", clock=fake_clock)
    await budget.hold(1, 1.5)
    await budget.hold(2, 3.0)
    keys = await replica.keys()
    ttls = {key.removeprefix(replica.prefix): await replica.client.pttl(key) for key in keys}
    assert set(ttls) == {
        "replicas",
        "pace",
        "granted",
        "last:1",
        "sends:@g",
        "hold:chat:1",
        "hold:all",
    }
    assert all(ttl > 0 for ttl in ttls.values()), ttls
    assert ttls["last:1"] <= 1000 * 2 * 0.5 / SHARE + 1
    assert ttls["sends:@g"] <= 1000 * 2.0 / SHARE + 1
    assert ttls["hold:chat:1"] <= 1500
    assert ttls["hold:all"] <= 3000
    assert ttls["pace"] <= 1000 * (0.2 + 5.0)
    assert ttls["granted"] <= 1000
    assert ttls["replicas"] <= 6000


async def test_replicas_count_each_other(replica: Replicas) -> None:
    budgets = [replica(Limits(rate=FAST)) for _ in range(3)]
    for round_ in range(2):
        for i, budget in enumerate(budgets):
            assert await budget.acquire(10 * round_ + i, False) == Decision(0.0)
    assert [b.replicas() for b in budgets] == [3, 3, 3]
    assert all(b.shared for b in budgets)
    await budgets[0].close()
    replica.made.remove(budgets[0])
    await budgets[1].acquire(99, False)
    assert budgets[1].replicas() == 2  # a replica that stops leaves at once


async def grant_loop(
    budget: Budget, chats: Iterator[int], until: float, granted: list[float]
) -> None:
    """Send to fresh private chats as fast as the budget allows until ``until``."""
    chat = next(chats)
    while (now := time.monotonic()) < until:
        decision = await budget.acquire(chat, False)
        if decision.wait > 0:
            await asyncio.sleep(min(decision.wait, until - now))
            continue
        granted.append(time.monotonic())
        chat = next(chats)


async def test_three_replicas_share_one_pace(replica: Replicas) -> None:
    rate, seconds = 30.0, 4.0
    budgets = [replica(Limits(rate=rate)) for _ in range(3)]
    chats = itertools.count(1)
    granted: list[list[float]] = [[], [], []]
    until = time.monotonic() + seconds
    await asyncio.gather(
        *(grant_loop(b, chats, until, g) for b, g in zip(budgets, granted, strict=True))
    )
    every = [t for times in granted for t in times]
    span = max(every) - min(every)
    achieved = (len(every) - 1) / span
    print(
        f"\n3 replicas, {seconds:.0f} s at rate {rate:.0f}: {len(every)} sends, "
        f"{achieved:.2f}/s, at most {most_in_a_second(every)} in a second, "
        f"shares {[len(g) for g in granted]}"
    )
    assert most_in_a_second(every) <= rate
    assert achieved >= 0.9 * rate * SHARE
    assert all(len(g) >= len(every) / 3 / 3 for g in granted)  # none starved by the others


async def test_a_cancelled_task_stops_even_when_redis_answers_meanwhile(
    replica: Replicas, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Python 3.11's wait_for, inside redis-py, may swallow a cancel (CPython issue 86296);
    # without a guard, a loop over acquire() - the dispatcher's - or the heartbeat runs on.
    monkeypatch.setattr(budget_redis, "HEARTBEAT", 0.001)  # beat all the time
    budget = replica(Limits(rate=FAST))
    chats = itertools.count()

    async def dispatcher() -> None:
        while True:
            await budget.acquire(next(chats), False)

    for _ in range(200):
        task = asyncio.create_task(dispatcher())
        await asyncio.sleep(random.uniform(0, 0.002))
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=2)
        assert done, "a cancelled task went on sending"
    for _ in range(50):
        other = replica(Limits(rate=FAST))
        await other.acquire(next(chats), False)  # starts its heartbeat
        await asyncio.sleep(random.uniform(0, 0.002))
        async with asyncio.timeout(2):
            await other.close()


@pytest.fixture
async def proxy() -> AsyncIterator[TcpProxy]:
    async with TcpProxy.to(REDIS_URL) as proxy:
        yield proxy


def test_the_proxy_keeps_the_database_number_and_credentials() -> None:
    proxy = TcpProxy.to("redis://:pw@127.0.0.1:6390/5")
    assert proxy.target == ("127.0.0.1", 6390)
    proxy.port = 41000
    assert proxy.through("redis://:pw@127.0.0.1:6390/5") == "redis://:pw@127.0.0.1:41000/5"
    assert proxy.through("redis://127.0.0.1/3") == "redis://127.0.0.1:41000/3"


async def test_a_budget_through_the_proxy_uses_the_urls_database(
    replica: Replicas, proxy: TcpProxy
) -> None:
    other_db = urlunsplit(urlsplit(REDIS_URL)._replace(path="/9"))  # not the default 0
    budget = RedisBudget(proxy.through(other_db), Limits(rate=FAST), prefix=replica.prefix)
    client = Redis.from_url(other_db, decode_responses=True)
    try:
        await budget.acquire(1, False)
        keys = [key async for key in client.scan_iter(match=f"{replica.prefix}*")]
        assert keys and await replica.keys() == []  # in db 9, nothing in REDIS_URL's
        await client.delete(*keys)
    finally:
        await budget.close()
        await client.aclose()


async def test_an_outage_falls_back_to_this_replicas_share(
    replica: Replicas, proxy: TcpProxy, caplog: pytest.LogCaptureFixture
) -> None:
    rate = 30.0
    direct = [replica(Limits(rate=rate)) for _ in range(2)]
    proxied = replica(Limits(rate=rate), url=proxy.through(REDIS_URL))
    for i, budget in enumerate([*direct, proxied]):
        await acquire_paced(budget, 1000 + i)
    assert proxied.replicas() == 3

    caplog.set_level(logging.INFO, logger="bot.flood.budget_redis")
    await proxy.cut()
    started = time.monotonic()
    first = await proxied.acquire(2000, False)
    assert time.monotonic() - started < 1.0  # answered at once, not after retries
    assert not proxied.shared
    granted = [time.monotonic()] if first.wait == 0 else []
    chats = itertools.count(2001)
    await grant_loop(proxied, chats, time.monotonic() + 3.0, granted)
    local = rate / 3
    print(
        f"\noutage, 3 s on a third of {rate:.0f}/s: {len(granted)} sends, "
        f"at most {most_in_a_second(granted)} in a second"
    )
    assert most_in_a_second(granted) <= local
    assert len(granted) >= 0.9 * 3.0 * local * SHARE
    await send_twice(proxied, 7)
    assert await proxied.hold(7, 30.0) == "chat"  # no exception while Redis is away
    logged = [r for r in caplog.records if r.name == "bot.flood.budget_redis"]
    warnings = [r for r in logged if r.levelno == logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "1/3" in warnings[0].getMessage()

    await proxy.restore()
    await eventually(lambda: proxied.shared, timeout=3 * RETRY_EVERY + 1)
    logged = [r for r in caplog.records if r.name == "bot.flood.budget_redis"]
    assert [r.levelno for r in logged] == [logging.WARNING, logging.INFO]
    await acquire_paced(proxied, 3000)
    seen = await direct[0].acquire(3000, False)
    assert seen.scope == "chat"  # the send went through Redis again
    assert seen.wait > 0.5
    held = await proxied.acquire(7, False)
    assert held.scope == "chat"  # the hold set while Redis was away still stands
    assert held.wait > 25


async def test_holds_and_sends_answer_while_redis_is_away(
    replica: Replicas, proxy: TcpProxy, fake_clock: FakeClock
) -> None:
    budget = replica(Limits(rate=FAST), url=proxy.through(REDIS_URL), clock=fake_clock)
    await proxy.cut()  # before the first word: nothing known, one replica assumed
    assert await budget.hold(5, 0.3) == "global"
    assert not budget.shared
    held = await budget.acquire(6, False)
    assert held.scope == "global"
    assert held.wait > 0.2
    await sleep_out(held, fake_clock)
    assert await budget.acquire(6, False) == Decision(0.0)
    assert budget.replicas() == 1


async def test_a_redis_that_stops_answering_costs_one_timeout(
    replica: Replicas, proxy: TcpProxy
) -> None:
    rate = 30.0
    budget = replica(Limits(rate=rate), url=proxy.through(REDIS_URL))
    assert await budget.acquire(1, False) == Decision(0.0)
    proxy.stall()
    started = time.monotonic()
    assert await budget.acquire(2, False) == Decision(0.0)
    assert time.monotonic() - started < 1.0  # one socket timeout, then the local share
    assert not budget.shared
    tried = proxy.accepted
    granted: list[float] = []
    seconds = 3.0
    await grant_loop(budget, itertools.count(3), time.monotonic() + seconds, granted)
    assert len(granted) >= 0.9 * seconds * rate * SHARE  # no send waits for Redis
    assert proxy.accepted - tried <= seconds / RETRY_EVERY  # tried once a second at most
    await proxy.restore()
    await eventually(lambda: budget.shared, timeout=3 * RETRY_EVERY + 1)
    await acquire_paced(budget, 100)
    assert (await replica(Limits(rate=FAST)).acquire(100, False)).scope == "chat"  # shared


@pytest.fixture
def timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's timedelta ``retry_after``, as build_application does.

    Without it, constructing RetryAfter emits a PTBDeprecationWarning, which
    filterwarnings=error would raise in place of the RetryAfter these tests inject.
    """
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


Callback = Callable[[], Coroutine[Any, Any, bool]]


async def send(flood: FloodControl, chat: int, callback: Callback) -> object:
    """Send one message through flood control, the way PTB's Bot does."""
    return await flood.process_request(callback, (), {}, "sendMessage", {"chat_id": chat}, None)


def recorder(times: list[float]) -> Callback:
    async def callback() -> bool:
        times.append(time.monotonic())
        return True

    return callback


async def test_flood_control_on_two_replicas_keeps_the_bots_pace(replica: Replicas) -> None:
    rate, per_replica = 30.0, 50
    floods = [FloodControl(replica(Limits(rate=rate))) for _ in range(2)]
    sent: list[list[float]] = [[], []]
    try:
        await asyncio.gather(
            *(
                send(flood, 1000 * (i + 1) + n, recorder(sent[i]))
                for n in range(per_replica)
                for i, flood in enumerate(floods)
            )
        )
    finally:
        for flood in floods:
            await flood.scheduler.close()
    every = sorted(sent[0] + sent[1])
    achieved = (len(every) - 1) / (every[-1] - every[0])
    print(
        f"\n2 FloodControls at rate {rate:.0f}: {achieved:.2f}/s, "
        f"at most {most_in_a_second(every)} in a second"
    )
    assert len(every) == 2 * per_replica
    assert most_in_a_second(every) <= rate
    assert achieved >= 0.9 * rate * SHARE


class Announcing:
    """A budget that tells when a hold is in place (the test's cue for the other replica)."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.held = asyncio.Event()

    async def acquire(self, chat: int | str, paid: bool, reply: bool = False) -> Decision:
        return await self.budget.acquire(chat, paid, reply)

    async def hold(self, chat: int | str, seconds: float) -> str:
        scope = await self.budget.hold(chat, seconds)
        self.held.set()
        return scope

    async def close(self) -> None:
        await self.budget.close()


@pytest.mark.usefixtures("timedelta_retry_after")
async def test_a_429_on_one_replica_holds_the_chat_on_both(replica: Replicas) -> None:
    limits = Limits(rate=30, private_interval=0.25)
    announcing = Announcing(replica(limits))
    first, second = FloodControl(announcing), FloodControl(replica(limits))
    sent: dict[str, list[float]] = {"first": [], "second": [], "other": []}
    refused: list[float] = []

    async def once_429() -> bool:
        if not refused:
            refused.append(time.monotonic())
            raise RetryAfter(timedelta(seconds=1))
        sent["first"].append(time.monotonic())
        return True

    async def meanwhile() -> None:
        await announcing.held.wait()
        await asyncio.gather(
            send(second, 7, recorder(sent["second"])),
            send(second, 8, recorder(sent["other"])),
        )

    try:
        assert await send(first, 7, recorder([])) is True
        await asyncio.gather(send(first, 7, once_429), meanwhile())
    finally:
        for flood in (first, second):
            await flood.scheduler.close()
    (at,) = refused
    assert sent["first"][0] >= at + 1.0 - EPS  # the retry waited the 429 out
    assert sent["second"][0] >= at + 1.0 - EPS  # and so did the other replica
    assert sent["other"][0] < at + 0.5  # other chats were not held


async def test_the_bot_counts_its_sends_in_redis(
    replica: Replicas, start_bot: Callable[..., Coroutine[Any, Any, Harness]]
) -> None:
    bot = await start_bot(
        REDIS_URL=REDIS_URL, REDIS_KEY_PREFIX=replica.prefix, BOT_RATE_LIMIT="30"
    )
    [reply] = await bot.command("/next")
    assert "1/5" in reply.plain_text
    other = await replica(Limits()).acquire(u.DEFAULT_USER_ID, False)
    assert other.scope == "chat"  # another replica knows the bot just wrote to this chat
