"""The flood budget of one process: who may send when, under Telegram's limits.

A ``Budget`` counts granted sends and holds 429 windows; ``LocalBudget`` keeps it in this
process, and the Redis budget (``bot.flood.budget_redis``) keeps the same rules for every replica.
The lanes and the dispatcher that ask it for turns are in ``bot.flood.control``.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

# Pace at this share of each limit: the server sees our sends a few milliseconds apart
# from when we timed them, and a sliding window must never count one too many.
SHARE = 0.96
# A send that comes up to this share of one interval after its slot keeps the slot's place
# in the pace: otherwise every wake-up's lateness (a millisecond or two) is lost for good,
# about 5 % of 30/s. At 30/s x 0.96 = 28.8 slots a second, a credit under 0.2 of an interval
# still allows at most 29 sends in any second.
CATCH_UP = 0.15


def catch_up(rate: float) -> float:
    """Return how far (seconds) a pace for ``rate``/s may fall behind and still catch up.

    The event loop wakes a millisecond or two late; at 1,000/s that is one or two slots per
    wake-up, lost for good unless the sends that came due meanwhile go at once. A pace that
    lags by c seconds grants at most rate x SHARE x (1 + c) + 1 sends in any second; the lag
    allowed is half of what SHARE keeps in hand, less that one send: at 1,000/s, 19 slots
    (at most 980 sends in any second); at 30/s, CATCH_UP of one slot (at most 29).
    """
    interval = 1.0 / (rate * SHARE)
    spare = rate * (1.0 - SHARE) / 2 - 1
    return max(CATCH_UP, spare) * interval


def window_cap(rate: float) -> int:
    """Return the most sends a pace for ``rate``/s grants in any one second.

    What an even pace without catch-up would allow (29 at 30/s, 961 at 1,000/s): catching
    up never bunches more sends into a second than that, so a server that sees them a few
    milliseconds apart from when they were timed still counts fewer than ``rate``.
    """
    return int(rate * SHARE) + 1


@dataclass(frozen=True)
class Limits:
    rate: float = 30.0  # messages/s overall
    paid_rate: float | None = None  # messages/s for paid broadcasts (None: not used)
    private_interval: float = 1.0  # seconds between two messages to one private chat
    group_count: int = 20  # messages per group_window in one group or channel
    group_window: float = 60.0


@dataclass(frozen=True)
class Decision:
    wait: float  # seconds until the send may go; 0: it was granted and counted
    scope: str = ""  # what blocks it: "chat" or "global"


class Budget(Protocol):
    """Who may send when: granted sends are counted; 429 windows are held."""

    async def acquire(self, chat: int | str, paid: bool, reply: bool = False) -> Decision:
        """Count the send, or say how long it must wait; ``reply``: a person's reply."""
        ...

    async def hold(self, chat: int | str, seconds: float) -> str: ...

    async def close(self) -> None: ...


def is_group(chat: int | str) -> bool:
    """Tell whether a chat counts as a group or channel (20/min) rather than a person."""
    return isinstance(chat, str) or chat < 0


class LocalBudget:
    """The budget of one process (monotonic clock)."""

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._interval = 1.0 / (limits.rate * SHARE)
        self._paid_interval = 1.0 / (limits.paid_rate * SHARE) if limits.paid_rate else None
        self._credit = catch_up(limits.rate)
        self._paid_credit = catch_up(limits.paid_rate) if limits.paid_rate else 0.0
        # Each pace's grants in the last second (the window its cap counts).
        self._granted: deque[float] = deque()
        self._paid_granted: deque[float] = deque()
        self._cap = window_cap(limits.rate)
        self._paid_cap = window_cap(limits.paid_rate) if limits.paid_rate else 0
        self._private_gap = limits.private_interval / SHARE
        self._group_window = limits.group_window / SHARE
        self._free_at = 0.0  # the next instant the overall pace allows a send
        self._paid_at = 0.0
        self._held_until = 0.0  # a global 429's window
        self._holds: dict[int | str, float] = {}
        self._last: dict[int | str, float] = {}  # private chats: their last send
        self._before: dict[int | str, float] = {}  # ... and the send before that one
        self._recent: dict[int | str, deque[float]] = {}  # groups: their sends in the window

    async def acquire(self, chat: int | str, paid: bool, reply: bool = False) -> Decision:
        # One process: the dispatcher (bot.flood.control) already serves replies first.
        return self.acquire_now(chat, paid)

    def acquire_now(self, chat: int | str, paid: bool) -> Decision:
        now = self._clock()
        paced = paid and self._paid_interval is not None
        granted = self._paid_granted if paced else self._granted
        cap = self._paid_cap if paced else self._cap
        while granted and granted[0] <= now - 1.0:
            granted.popleft()
        waits = [
            (self._held_until - now, "global"),
            (self._holds.get(chat, 0.0) - now, "chat"),
            (self._chat_wait(chat, now), "chat"),
            ((self._paid_at if paced else self._free_at) - now, "global"),
            (granted[0] + 1.0 - now if len(granted) >= cap else 0.0, "global"),
        ]
        wait, scope = max(waits)
        if wait > 0:
            return Decision(wait, scope)
        if paced:
            assert self._paid_interval is not None
            self._paid_at = max(self._paid_at, now - self._paid_credit) + self._paid_interval
        else:
            self._free_at = max(self._free_at, now - self._credit) + self._interval
        granted.append(now)
        self._record(chat, now)
        return Decision(0.0)

    async def hold(self, chat: int | str, seconds: float) -> str:
        """Hold the chat for a 429's window - or every send, when it cannot be the chat's."""
        now = self._clock()
        until = now + seconds
        if self._near_chat_limit(chat, now):
            self._holds[chat] = max(self._holds.get(chat, 0.0), until)
            return "chat"
        self._held_until = max(self._held_until, until)
        return "global"

    async def close(self) -> None:
        return None

    def _chat_wait(self, chat: int | str, now: float) -> float:
        if is_group(chat):
            recent = self._recent.get(chat)
            if recent is None:
                return 0.0
            while recent and recent[0] <= now - self._group_window:
                recent.popleft()
            if len(recent) < self.limits.group_count:
                return 0.0
            return recent[0] + self._group_window - now
        last = self._last.get(chat)
        return 0.0 if last is None else last + self._private_gap - now

    def _near_chat_limit(self, chat: int | str, now: float) -> bool:
        if is_group(chat):
            recent = self._recent.get(chat, ())
            return sum(1 for t in recent if t > now - self._group_window) >= (
                self.limits.group_count - 1
            )
        # The last send is the one that got the 429: the chat's limit is at stake only if
        # another came shortly before it.
        before = self._before.get(chat)
        return before is not None and now - before < 2 * self._private_gap

    def _record(self, chat: int | str, now: float) -> None:
        if is_group(chat):
            self._recent.setdefault(chat, deque()).append(now)
        else:
            last = self._last.get(chat)
            if last is not None:
                self._before[chat] = last
            else:
                self._before.pop(chat, None)
            self._last[chat] = now
        if len(self._last) + len(self._recent) > 50_000:
            self._forget(now)

    def _forget(self, now: float) -> None:
        """Drop chats whose limits no longer matter (their windows are over)."""
        self._last = {c: t for c, t in self._last.items() if t > now - self._private_gap}
        self._before = {c: t for c, t in self._before.items() if c in self._last}
        self._recent = {
            c: q for c, q in self._recent.items() if q and q[-1] > now - self._group_window
        }
        self._holds = {c: t for c, t in self._holds.items() if t > now}
