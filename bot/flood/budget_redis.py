"""The flood budget shared by every replica, kept in Redis.

``RedisBudget`` keeps ``LocalBudget``'s rules (``bot.flood.budget``) for the bot as a whole:
each operation is one Lua script (``bot.flood.budget_lua``), run atomically on Redis's own clock
so that replicas agree on time and no two of them can take the same slot. Keys, all under
``prefix`` and all expiring on their own:

- ``pace`` / ``pace:paid``: the next instant the overall (or paid) pace allows a send;
- ``replies`` / ``replies:paid``: replies waiting for that pace (replica/chat → claim's
  end): while one waits, no replica's digest takes a slot of that pace;
- ``granted`` / ``granted:paid``: that pace's grants in the last second (its cap);
- ``last:<chat>``: a private chat's last send; ``sends:<chat>``: a group's sends in its
  window (a sorted set scored by time);
- ``hold:all`` / ``hold:chat:<chat>``: when a 429's hold ends, every send's or one chat's;
- ``replicas``: the live replicas (a sorted set of id → last seen), so that each knows
  what share of the limits is its own when Redis cannot be reached.

When Redis does not answer (refused, reset, or silent for half a second), the replica keeps
sending on a ``LocalBudget`` with its share of the limits - the overall paces divided by the
live replicas it last counted; per-chat limits as they are. Its heartbeat tries Redis once
a second meanwhile and brings it back to the shared budget when Redis answers; holds set
while Redis was away stay with this replica until they end.

Tests may give ``RedisBudget`` a clock of their own: the scripts then decide at the instant it
tells (and the local share, while Redis is down, counts on it too), so that a test advances
time instead of waiting for it. Production gives none and always decides on Redis's clock,
the one every replica agrees on.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import replace

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from bot.flood import budget_lua
from bot.flood.budget import SHARE, Decision, Limits, LocalBudget, catch_up, is_group, window_cap

log = logging.getLogger(__name__)

# Short, so that a Redis that stopped answering costs a send half a second, once: after
# that the replica sends on its local share until Redis is back.
SOCKET_TIMEOUT = 0.5
HEARTBEAT = 2.0  # seconds between two "still alive" marks of a replica
STALE = 3 * HEARTBEAT  # a replica not seen for this long is gone
RETRY_EVERY = 1.0  # seconds between two attempts to reach Redis while it is down
PACE_IDLE = 5.0  # the pace keys outlive their next free instant by this long
# A reply waiting for the shared pace holds back every replica's digests until it is sent,
# or until its claim runs out this long after its slot (its replica died or stalled).
REPLY_CLAIM = 0.5
# Replicas that wait for the same free instant must come back in a random order: otherwise
# the one nearest to Redis (or first in its event loop) wins every contested slot and the
# others starve. With company, a digest's global wait is lengthened by up to this share of
# one pace interval (a reply's is not: it has claimed its slot).
PACE_JITTER = 0.03
# What an unreachable or failing Redis raises (timeouts and resets included).
UNAVAILABLE = (RedisError, OSError)


class RedisBudget:
    """The budget of every replica together, in Redis; this replica's share when it is down."""

    def __init__(
        self,
        url: str,
        limits: Limits,
        *,
        prefix: str = "serialbot:",
        clock: Callable[[], float] | None = None,
    ) -> None:
        """Share ``limits`` under ``prefix``; ``clock`` (tests only) replaces Redis's TIME."""
        self.limits = limits
        self.prefix = prefix
        self._redis = Redis.from_url(
            url,
            socket_timeout=SOCKET_TIMEOUT,
            socket_connect_timeout=SOCKET_TIMEOUT,
            retry=Retry(NoBackoff(), 0),  # falling back beats retrying while sends wait
            decode_responses=True,
        )
        self._acquire = self._redis.register_script(budget_lua.ACQUIRE)
        self._hold = self._redis.register_script(budget_lua.HOLD)
        self._beat = self._redis.register_script(budget_lua.BEAT)
        self.id = f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:8]}"
        self._seq = itertools.count()
        # None: the scripts read Redis's clock. Else "now" goes with every script call.
        self._clock = clock
        self._local_clock = clock or time.monotonic  # the local share's and holds' clock
        self._interval = 1.0 / (limits.rate * SHARE)
        self._paid_interval = 1.0 / (limits.paid_rate * SHARE) if limits.paid_rate else None
        self._credit = catch_up(limits.rate)
        self._paid_credit = catch_up(limits.paid_rate) if limits.paid_rate else 0.0
        self._cap = window_cap(limits.rate)
        self._paid_cap = window_cap(limits.paid_rate) if limits.paid_rate else 0
        self._private_gap = limits.private_interval / SHARE
        self._group_window = limits.group_window / SHARE
        self._replicas = 1  # live replicas, as Redis last told us
        self._local: LocalBudget | None = None  # set while Redis is down
        self._down_since = 0.0
        # Holds set while Redis was down (chat, or None for every send → its end, local clock):
        # the shared budget never heard of them, so this replica keeps them until they end.
        self._local_holds: dict[int | str | None, float] = {}
        self._heartbeat: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def shared(self) -> bool:
        """Tell whether sends are counted in Redis (else on this replica's local share)."""
        return self._local is None

    def replicas(self) -> int:
        """Return how many replicas share the budget, as Redis last told us."""
        return self._replicas

    async def acquire(self, chat: int | str, paid: bool, reply: bool = False) -> Decision:
        """Count the send and return Decision(0), or return how long it must wait.

        ``reply``: a person's reply; while it waits for the shared pace, no replica's digest
        takes the slot it waits for.
        """
        self._start_heartbeat()
        held = self._local_hold(chat)
        if held is not None:
            return held
        if self._local is None:
            try:
                return await self._acquire_shared(chat, paid, reply)
            except UNAVAILABLE as exc:
                self._fall_back(exc)
        assert self._local is not None
        return self._local.acquire_now(chat, paid)

    async def hold(self, chat: int | str, seconds: float) -> str:
        """Hold the chat for a 429's window - or every send, when it cannot be the chat's."""
        self._start_heartbeat()
        if self._local is None:
            try:
                return await self._hold_shared(chat, seconds)
            except UNAVAILABLE as exc:
                self._fall_back(exc)
        assert self._local is not None
        scope = await self._local.hold(chat, seconds)
        held = chat if scope == "chat" else None
        until = self._local_clock() + seconds
        self._local_holds[held] = max(self._local_holds.get(held, 0.0), until)
        return scope

    async def close(self) -> None:
        """Stop the heartbeat, leave the live replicas and close the connections."""
        if self._closed:
            return
        self._closed = True  # ends the heartbeat even if the cancel below is lost
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            await asyncio.wait({self._heartbeat}, timeout=2 * SOCKET_TIMEOUT)
            self._heartbeat = None
        if self._local is None:
            # Leave at once, so the others count one replica fewer without waiting.
            with contextlib.suppress(*UNAVAILABLE):
                await self._redis.zrem(self._key("replicas"), self.id)
        await self._redis.aclose()

    def _key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def _now(self) -> list[float]:
        """Return the script's trailing "now" argument: none, unless a clock was given."""
        return [] if self._clock is None else [self._clock()]

    def _chat_key(self, chat: int | str) -> str:
        return self._key(f"sends:{chat}" if is_group(chat) else f"last:{chat}")

    async def _acquire_shared(self, chat: int | str, paid: bool, reply: bool) -> Decision:
        paid_interval = self._paid_interval if paid else None
        interval = self._interval if paid_interval is None else paid_interval
        credit = self._credit if paid_interval is None else self._paid_credit
        group = is_group(chat)
        wait, scope, replicas = await self._acquire(
            keys=[
                self._key("hold:all"),
                self._key(f"hold:chat:{chat}"),
                self._chat_key(chat),
                self._key("pace" if paid_interval is None else "pace:paid"),
                self._key("replicas"),
                self._key("replies" if paid_interval is None else "replies:paid"),
                self._key("granted" if paid_interval is None else "granted:paid"),
            ],
            args=[
                int(group),
                self._group_window if group else self._private_gap,
                self.limits.group_count,
                interval,
                self.id,
                STALE,
                PACE_IDLE,
                next(self._seq),
                credit,
                int(reply),
                REPLY_CLAIM,
                self._cap if paid_interval is None else self._paid_cap,
                *self._now(),
            ],
        )
        _raise_if_cancelled()
        self._answered(int(replicas))
        seconds = float(wait)
        if seconds <= 0:
            return Decision(0.0)
        if scope == "global" and self._replicas > 1 and not reply:
            seconds += random.uniform(0.0, PACE_JITTER * interval)
        return Decision(seconds, scope)

    async def _hold_shared(self, chat: int | str, seconds: float) -> str:
        group = is_group(chat)
        scope = await self._hold(
            keys=[self._key("hold:all"), self._key(f"hold:chat:{chat}"), self._chat_key(chat)],
            args=[
                int(group),
                self._group_window if group else self._private_gap,
                self.limits.group_count,
                seconds,
                *self._now(),
            ],
        )
        _raise_if_cancelled()
        return str(scope)

    def _local_hold(self, chat: int | str) -> Decision | None:
        """Return the wait a hold set while Redis was down imposes, if one still runs."""
        if not self._local_holds:
            return None
        now = self._local_clock()
        self._local_holds = {c: t for c, t in self._local_holds.items() if t > now}
        wait, scope = max(
            (self._local_holds.get(None, 0.0) - now, "global"),
            (self._local_holds.get(chat, 0.0) - now, "chat"),
        )
        return Decision(wait, scope) if wait > 0 else None

    def _fall_back(self, exc: BaseException) -> None:
        """Send on this replica's share of the limits until Redis answers again."""
        if self._local is not None:
            return
        share = max(1, self._replicas)
        self._local = LocalBudget(
            replace(
                self.limits,
                rate=self.limits.rate / share,
                paid_rate=self.limits.paid_rate / share if self.limits.paid_rate else None,
            ),
            clock=self._local_clock,
        )
        self._down_since = self._local_clock()
        log.warning(
            "Redis does not answer (%s: %s): flood budget is local now, 1/%d of the shared rate",
            type(exc).__name__,
            exc,
            share,
        )

    def _answered(self, replicas: int) -> None:
        """Note how many replicas share the budget; go back to Redis if it was down."""
        self._replicas = max(1, replicas)
        if self._local is not None:
            self._local = None
            log.info(
                "Redis answers again after %.1f s: flood budget is shared again (replicas: %d)",
                self._local_clock() - self._down_since,
                self._replicas,
            )

    def _start_heartbeat(self) -> None:
        if self._heartbeat is None and not self._closed:
            self._heartbeat = asyncio.create_task(self._beats(), name="flood-budget-heartbeat")

    async def _beats(self) -> None:
        """Mark this replica alive every few seconds; while Redis is down, try it again."""
        while not self._closed:
            await asyncio.sleep(HEARTBEAT if self._local is None else RETRY_EVERY)
            try:
                replicas = await self._beat(
                    keys=[self._key("replicas")], args=[self.id, STALE, *self._now()]
                )
            except UNAVAILABLE as exc:
                self._fall_back(exc)
            else:
                _raise_if_cancelled()
                self._answered(int(replicas))


def _raise_if_cancelled() -> None:
    """Raise the cancellation of this task if a Redis call returned in spite of it.

    redis-py bounds every write with ``asyncio.wait_for``, which before Python 3.12 can
    return normally although its task was cancelled meanwhile (CPython issue 86296): a
    loop being stopped - the flood-control dispatcher, our heartbeat - would go on forever.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
