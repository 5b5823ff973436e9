"""Flood control: Telegram's limits kept for every message, replies ahead of digests.

Telegram allows about 30 messages/s overall (up to 1,000/s for paid broadcasts), about one
per second in a private chat and 20 per minute in a group, and answers more with 429 and a
``retry_after``. ``FloodControl`` is PTB's rate-limiter hook (``BaseRateLimiter``): each
message waits for its turn in a queue of its own lane, replies first, and a dispatcher
hands turns out as the budget allows. Waiting holds nothing shared: a chat that floods the
bot waits alone, and a 429 holds the chat (or, when it cannot be the chat's own limit, every
send) until its window ends - a deadline that is only ever extended, never released early
(unlike PTB's AIORateLimiter, see python-telegram-bot issue 5338).

The budget - who may send when - is a ``Budget`` (``bot.flood.budget``): ``LocalBudget`` in this
process, or the Redis budget (``bot.flood.budget_redis``) shared by every replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import heapq
import itertools
import logging
from collections.abc import Callable, Coroutine, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.botapi.errors import retry_seconds
from bot.flood.budget import Budget
from bot.ops.failures import Stopping

log = logging.getLogger(__name__)

# Methods that post into a chat: the ones Telegram's flood limits count.
SENDS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendPoll",
        "editMessageText",
        "editMessageReplyMarkup",
        "editMessageCaption",
        "copyMessage",
        "forwardMessage",
    }
)


class Lane(enum.IntEnum):
    """Who is waiting: a person's reply goes ahead of any digest."""

    REPLY = 0
    DIGEST = 1


_lane: ContextVar[Lane] = ContextVar("flood_lane", default=Lane.REPLY)


@contextlib.contextmanager
def digest_lane() -> Iterator[None]:
    """Mark the sends made inside this block as digests (they yield to replies)."""
    token = _lane.set(Lane.DIGEST)
    try:
        yield
    finally:
        _lane.reset(token)


@dataclass(order=True)
class _Ticket:
    seq: int
    chat: int | str = field(compare=False)
    lane: Lane = field(compare=False)
    paid: bool = field(compare=False)
    future: asyncio.Future[float] = field(compare=False)
    since: float = field(compare=False)


class Scheduler:
    """Hand out turns to send: replies first, then digests, each in arrival order.

    Nothing is reserved ahead: the head of a lane asks the budget when it may go, so a
    reply that arrives while digests wait takes the very next free slot. A head blocked by
    its own chat's limit steps aside (parked until then) and the lane goes on.
    """

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self._lanes: dict[Lane, list[_Ticket]] = {lane: [] for lane in Lane}
        self._parked: list[tuple[float, _Ticket]] = []
        self._seq = itertools.count()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def turn(self, chat: int | str, lane: Lane, paid: bool) -> float:
        """Wait until this send may go; return how long it waited (seconds)."""
        loop = asyncio.get_running_loop()
        ticket = _Ticket(next(self._seq), chat, lane, paid, loop.create_future(), loop.time())
        heapq.heappush(self._lanes[lane], ticket)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._dispatch(), name="flood-control")
        self._wake.set()
        return await ticket.future

    def abort(self) -> None:
        """Fail every send still waiting for its turn (the bot is stopping)."""
        waiting = [t for lane in self._lanes.values() for t in lane]
        waiting += [t for _, t in self._parked]
        for lane in self._lanes.values():
            lane.clear()
        self._parked.clear()
        for ticket in waiting:
            if not ticket.future.done():
                ticket.future.set_exception(Stopping("the bot is stopping"))

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _dispatch(self) -> None:
        loop = asyncio.get_running_loop()
        while any(self._lanes.values()) or self._parked:
            self._wake.clear()
            now = loop.time()
            while self._parked and self._parked[0][0] <= now:
                _, ticket = heapq.heappop(self._parked)
                heapq.heappush(self._lanes[ticket.lane], ticket)
            next_at = now + 60.0
            for lane in Lane:
                next_at = min(next_at, await self._serve(self._lanes[lane], loop))
            if self._parked:  # including heads parked just now
                next_at = min(next_at, self._parked[0][0])
            delay = next_at - loop.time()
            if delay > 0:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow the
                # cancellation that stops this task (CPython issue 86296).
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._wake.wait()

    async def _serve(self, lane: list[_Ticket], loop: asyncio.AbstractEventLoop) -> float:
        """Grant every head of the lane the budget allows; return when to look again."""
        while lane:
            ticket = lane[0]
            if ticket.future.done():  # its sender gave up (cancelled)
                heapq.heappop(lane)
                continue
            decision = await self.budget.acquire(
                ticket.chat, ticket.paid, reply=ticket.lane is Lane.REPLY
            )
            now = loop.time()
            if not lane or lane[0] is not ticket:
                # The lane changed while the budget was asked (abort() emptied it at
                # shutdown): this ticket is no longer the head to pop.
                continue
            if decision.wait <= 0:
                heapq.heappop(lane)
                if not ticket.future.done():
                    ticket.future.set_result(now - ticket.since)
                continue
            if decision.scope == "chat":
                heapq.heappop(lane)
                heapq.heappush(self._parked, (now + decision.wait, ticket))
                continue
            return now + decision.wait
        return loop.time() + 60.0


class FloodControl(BaseRateLimiter[int]):
    """PTB's rate-limiter hook: every message to a chat waits for its turn (see module)."""

    def __init__(
        self,
        budget: Budget,
        *,
        max_retries: int = 3,
        on_wait: Callable[[Lane, float], None] | None = None,
    ) -> None:
        self.budget = budget
        self.scheduler = Scheduler(budget)
        self.max_retries = max_retries
        self._on_wait = on_wait

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        await self.scheduler.close()
        await self.budget.close()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat = _chat_key(data.get("chat_id"))
        if endpoint not in SENDS or chat is None:
            return await callback(*args, **kwargs)
        lane = _lane.get()
        paid = bool(data.get("allow_paid_broadcast"))
        for attempt in range(self.max_retries + 1):
            waited = await self.scheduler.turn(chat, lane, paid)
            if self._on_wait is not None:
                self._on_wait(lane, waited)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                seconds = retry_seconds(exc)
                scope = await self.budget.hold(chat, seconds)
                log.info("429 for chat %s: holding %s sends for %.0f s", chat, scope, seconds)
                if attempt == self.max_retries:
                    raise
        raise AssertionError("unreachable: the last attempt returns or raises")


def _chat_key(chat_id: object) -> int | str | None:
    if chat_id is None:
        return None
    if isinstance(chat_id, int):
        return chat_id
    text = str(chat_id)
    return int(text) if text.lstrip("-").isdigit() else text
