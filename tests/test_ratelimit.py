"""Flood control without Telegram: the budget's rules on a hand-moved clock, and the
scheduler's order (replies ahead of digests, a blocked chat stepping aside)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from telegram.error import RetryAfter

from bot.flood.budget import CATCH_UP, SHARE, Decision, Limits, LocalBudget, catch_up
from bot.flood.control import FloodControl, Lane, digest_lane
from bot.ops.failures import Stopping


@pytest.fixture(autouse=True)
def timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")  # RetryAfter without a deprecation warning


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def budget(clock: Clock, **limits: Any) -> LocalBudget:
    return LocalBudget(Limits(**limits), clock=clock)


def test_the_overall_pace_is_even_never_a_burst() -> None:
    clock = Clock()
    b = budget(clock, rate=30)
    assert b.acquire_now(1, False).wait == 0
    blocked = b.acquire_now(2, False)
    assert blocked.scope == "global"
    # Out of idle, the first slot's catch-up credit is already spent.
    assert blocked.wait == pytest.approx((1 - CATCH_UP) / (30 * SHARE))
    clock.now += blocked.wait
    assert b.acquire_now(2, False).wait == 0
    assert b.acquire_now(3, False).wait == pytest.approx(1 / (30 * SHARE))


@pytest.mark.parametrize("late", [0.001, 0.002, 0.005])
def test_a_fast_pace_sends_what_came_due_while_the_loop_slept(late: float) -> None:
    """At 1,000/s a slot is a millisecond: every wake-up is late by one or more, and the
    sends that came due meanwhile go at once, yet no second ever holds 1,000 of them."""
    clock = Clock()
    b = budget(clock, rate=30, paid_rate=1000)
    granted: list[float] = []
    chat, end = 0, clock.now + 5.0
    while clock.now < end:
        decision = b.acquire_now(chat, True)
        if decision.wait > 0:
            clock.now += decision.wait + late  # the event loop wakes late
        else:
            granted.append(clock.now)
            chat += 1
    assert len(granted) >= 0.95 * 1000 * 5
    first = 0
    for last, t in enumerate(granted):
        while granted[first] <= t - 1.0:
            first += 1
        assert last - first + 1 <= 961, t  # an even pace's most: catching up adds none


def test_the_catch_up_of_a_slow_pace_stays_within_one_slot() -> None:
    assert catch_up(30) == pytest.approx(CATCH_UP / (30 * SHARE))
    assert catch_up(1000) * 1000 * SHARE == pytest.approx(1000 * (1 - SHARE) / 2 - 1)


def test_late_wake_ups_do_not_slow_the_pace() -> None:
    """A sender that always comes 2 ms after its slot still gets 30 x SHARE a second."""
    clock = Clock()
    b = budget(clock, rate=30)
    sent, end = 0, clock.now + 10.0
    while clock.now < end:
        decision = b.acquire_now(sent + 1, False)
        if decision.wait > 0:
            clock.now += decision.wait + 0.002
        else:
            sent += 1
    assert sent == pytest.approx(10 * 30 * SHARE, abs=2)


@settings(max_examples=50, deadline=None)
@given(
    steps=st.lists(st.floats(0.0, 0.2), min_size=50, max_size=300), rate=st.sampled_from([5, 30])
)
def test_no_sliding_second_ever_holds_more_than_the_limit(steps: list[float], rate: int) -> None:
    clock = Clock()
    b = budget(clock, rate=rate)
    granted: list[float] = []
    for chat, step in enumerate(steps):
        clock.now += step
        while (decision := b.acquire_now(chat + 1, False)).wait > 0:
            clock.now += decision.wait
        granted.append(clock.now)
    for i, start in enumerate(granted):
        in_window = [t for t in granted[i:] if t < start + 1.0]
        assert len(in_window) <= rate


def test_a_private_chat_gets_one_message_a_second() -> None:
    clock = Clock()
    b = budget(clock, rate=30)
    assert b.acquire_now(7, False).wait == 0
    clock.now += 0.5
    blocked = b.acquire_now(7, False)
    assert blocked.scope == "chat" and blocked.wait == pytest.approx(1 / SHARE - 0.5)
    assert b.acquire_now(8, False).wait == 0  # another chat is not held up


def test_a_group_gets_twenty_a_minute_then_waits_for_the_oldest() -> None:
    clock = Clock()
    b = budget(clock, rate=1000)
    for _ in range(20):
        assert b.acquire_now(-5, False).wait == 0
        clock.now += 0.1
    blocked = b.acquire_now(-5, False)
    assert blocked.scope == "chat"
    assert blocked.wait == pytest.approx(60 / SHARE - 2.0)
    clock.now += blocked.wait
    assert b.acquire_now(-5, False).wait == 0


def test_paid_broadcasts_have_their_own_pace() -> None:
    clock = Clock()
    b = budget(clock, rate=30, paid_rate=1000)
    assert b.acquire_now(1, False).wait == 0
    start = clock.now
    for chat in range(2, 12):  # the free pace is spent; paid ones still go, 1 ms apart
        while (decision := b.acquire_now(chat, True)).wait > 0:
            assert decision.wait <= 1 / (1000 * SHARE) + 1e-9
            clock.now += decision.wait
    assert clock.now - start < 0.02  # ten paid sends in about 10 ms, not at 30/s
    free = b.acquire_now(99, False)  # the free pace did not move for the paid ones
    assert free.scope == "global"
    assert free.wait == pytest.approx((1 - CATCH_UP) / (30 * SHARE) - (clock.now - start))


async def test_a_429_holds_the_chat_when_it_was_at_its_limit() -> None:
    clock = Clock()
    b = budget(clock, rate=30)
    assert b.acquire_now(7, False).wait == 0
    clock.now += 1.1  # the chat's second message, just after its gap
    assert b.acquire_now(7, False).wait == 0
    assert await b.hold(7, 3) == "chat"
    clock.now += 2
    assert b.acquire_now(7, False).scope == "chat"
    assert b.acquire_now(8, False).wait == 0


async def test_a_429_for_a_chats_first_send_holds_every_send() -> None:
    clock = Clock()
    b = budget(clock, rate=30)
    assert b.acquire_now(7, False).wait == 0
    assert await b.hold(7, 3) == "global"  # one message cannot break the chat's 1/s
    clock.now += 2
    assert b.acquire_now(8, False).scope == "global"


async def test_a_429_for_an_idle_chat_holds_every_send_and_is_never_shortened() -> None:
    clock = Clock()
    b = budget(clock, rate=30)
    assert await b.hold(9, 5) == "global"
    assert await b.hold(10, 1) == "global"  # a shorter window later does not release early
    clock.now += 4.9
    assert b.acquire_now(11, False).scope == "global"
    clock.now += 0.2
    assert b.acquire_now(11, False).wait == 0


async def test_replies_go_ahead_of_waiting_digests() -> None:
    b = LocalBudget(Limits(rate=20))
    flood = FloodControl(b)
    order: list[str] = []
    two_out = asyncio.Event()

    async def send(name: str) -> bool:
        order.append(name)
        if len(order) == 2:
            two_out.set()
        return True

    async def request(name: str, chat: int) -> Any:
        return await flood.process_request(
            send, (name,), {}, "sendMessage", {"chat_id": chat}, None
        )

    with digest_lane():
        digests = [asyncio.create_task(request(f"d{i}", 100 + i)) for i in range(10)]
    await two_out.wait()  # a couple of digests are out; the rest wait their turn
    reply = asyncio.create_task(request("reply", 5))
    await asyncio.gather(reply, *digests)
    await flood.shutdown()
    assert order.index("reply") <= 3, order  # the very next free slot
    assert order[-1].startswith("d")


async def test_a_blocked_chat_steps_aside_for_the_others() -> None:
    flood = FloodControl(LocalBudget(Limits(rate=1000)))
    order: list[int] = []

    async def send(chat: int) -> bool:
        order.append(chat)
        return True

    async def request(chat: int) -> Any:
        return await flood.process_request(
            send, (chat,), {}, "sendMessage", {"chat_id": chat}, None
        )

    await asyncio.gather(request(1), request(1), request(2), request(3))
    await flood.shutdown()
    assert order[:3] == [1, 2, 3] and order[3] == 1  # chat 1's second waited its second


async def test_a_429_is_retried_after_its_window_and_never_inside_it() -> None:
    loop = asyncio.get_running_loop()
    flood = FloodControl(LocalBudget(Limits(rate=30)))
    sent: list[float] = []

    async def send() -> bool:
        sent.append(loop.time())
        if len(sent) == 1:
            raise RetryAfter(1)
        return True

    assert await flood.process_request(send, (), {}, "sendMessage", {"chat_id": 3}, None)
    await flood.shutdown()
    assert sent[1] - sent[0] >= 1.0


async def test_only_sends_to_a_chat_are_counted() -> None:
    flood = FloodControl(LocalBudget(Limits(rate=1)))
    calls = 0

    async def other() -> bool:
        nonlocal calls
        calls += 1
        return True

    for _ in range(5):  # answers and reads pass straight through
        await flood.process_request(other, (), {}, "answerCallbackQuery", {}, None)
        await flood.process_request(other, (), {}, "getChatMember", {"chat_id": 1}, None)
    assert calls == 10
    await flood.shutdown()


class SlowBudget(LocalBudget):
    """A budget whose answer waits for the test: a Redis round trip caught mid-way."""

    def __init__(self) -> None:
        super().__init__(Limits(rate=1000))
        self.asked = asyncio.Event()
        self.answer = asyncio.Event()

    async def acquire(self, chat: int | str, paid: bool, reply: bool = False) -> Decision:
        self.asked.set()
        await self.answer.wait()
        return await super().acquire(chat, paid, reply)


async def test_stopping_while_the_budget_is_asked_fails_the_waiters_and_nothing_else() -> None:
    budget = SlowBudget()
    flood = FloodControl(budget)

    async def send() -> bool:
        return True

    waiting = [
        asyncio.create_task(
            flood.process_request(send, (), {}, "sendMessage", {"chat_id": chat}, None)
        )
        for chat in (1, 2)
    ]
    await budget.asked.wait()  # the dispatcher is inside acquire() for chat 1
    flood.scheduler.abort()  # the bot stops: the lanes are emptied under it
    budget.answer.set()
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert [type(r) for r in results] == [Stopping, Stopping]
    await flood.shutdown()  # the dispatcher ended cleanly: no IndexError surfaces here


def test_lanes_order_replies_first() -> None:
    assert Lane.REPLY < Lane.DIGEST
