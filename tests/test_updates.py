"""The update lanes without Telegram: order within a chat, concurrency across chats,
bounded queues (a flood's excess dropped) and backpressure when every lane is full."""

from __future__ import annotations

import asyncio

import pytest
from telegram import Update

from bot.telegram_io.lanes import ChatLanes, describe, lane_key
from fake_telegram import factories as u


def update(chat: int, text: str = "/quote", update_id: int = 1) -> Update:
    data = u.message(u.private_chat(chat), u.user(chat), text)
    data["update_id"] = update_id
    data["message"]["message_id"] = update_id
    found = Update.de_json(data, None)
    assert found is not None
    return found


async def test_a_chat_runs_in_order_and_chats_run_side_by_side() -> None:
    lanes = ChatLanes()
    log: list[str] = []
    release = asyncio.Event()

    async def work(name: str, wait: bool) -> None:
        log.append(f"{name} start")
        if wait:
            await release.wait()
        log.append(f"{name} end")

    a1 = await lanes.submit(update(1), work("a1", True))
    a2 = await lanes.submit(update(1), work("a2", False))
    b1 = await lanes.submit(update(2), work("b1", False))
    await b1  # chat 2 is not held up by chat 1's slow update
    assert "a2 start" not in log  # chat 1's second update waits for its first
    release.set()
    assert await a1 and await a2
    assert log.index("a1 end") < log.index("a2 start")


async def test_a_flood_beyond_the_lane_is_dropped_not_queued() -> None:
    dropped: list[object] = []
    lanes = ChatLanes(per_chat=3, on_dropped=dropped.append)
    release = asyncio.Event()

    async def slow() -> None:
        await release.wait()

    results = [await lanes.submit(update(7, update_id=i), slow()) for i in range(10)]
    assert len(dropped) == 6 and lanes.dropped == 6  # one running, three waiting
    release.set()
    handled = [await r for r in results]
    assert handled == [True] * 4 + [False] * 6


async def test_every_lane_full_makes_taking_updates_wait() -> None:
    lanes = ChatLanes(concurrency=1)  # one running, and as many again waiting
    release = asyncio.Event()
    started: list[int] = []

    async def slow(chat: int) -> None:
        started.append(chat)
        await release.wait()

    assert lanes.capacity == 2
    await lanes.submit(update(1), slow(1))
    await lanes.submit(update(2), slow(2))
    third = asyncio.create_task(lanes.submit(update(3), slow(3)))
    await asyncio.sleep(0.05)
    assert not third.done() and lanes.held == 2  # backpressure: a producer waits here
    assert started == [1]  # chat 2 waits for a turn: one update runs at a time
    release.set()
    await (await third)
    await lanes.drain()
    assert lanes.held == 0 and started == [1, 2, 3]


async def test_updates_left_when_the_lanes_stop_are_cancelled_not_done() -> None:
    lanes = ChatLanes(concurrency=2)
    release = asyncio.Event()
    finished: list[int] = []

    async def slow(n: int) -> None:
        await release.wait()
        finished.append(n)

    running = await lanes.submit(update(1, update_id=1), slow(1))
    waiting = await lanes.submit(update(1, update_id=2), slow(2))
    await asyncio.sleep(0)
    await lanes.cancel_all()
    assert running.cancelled() and waiting.cancelled()  # neither counts as handled
    assert lanes.held == 0 and finished == []


async def test_a_failing_update_frees_its_lane(caplog: pytest.LogCaptureFixture) -> None:
    lanes = ChatLanes()

    async def boom() -> None:
        raise RuntimeError("handler bug")

    async def fine() -> None:
        return None

    first = await lanes.submit(update(5), boom())
    second = await lanes.submit(update(5), fine())
    assert await second
    assert first.done()
    await lanes.drain()
    assert "escaped its error handling" in caplog.text


def test_updates_are_described_with_bounded_names() -> None:
    assert describe(update(1, "/Next@SerialBot extra")) == ("message", "next")
    assert describe(update(1, "hello")) == ("message", "")
    assert lane_key(update(9)) == 9
