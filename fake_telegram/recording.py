"""Recorder: what the bot asked of the fake, what it sent, and waiting until it happens."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
from collections.abc import Callable
from typing import Any

from fake_telegram.records import JSON, Call, InlineAnswer, SentMessage


class Recorder:
    """Keep the records of one fake server; wake waiting tests when they change."""

    def __init__(self) -> None:
        """Start with empty records and nobody waiting."""
        self._changed: asyncio.Future[None] | None = None
        self._init_records()

    def _init_records(self) -> None:
        """Create empty recording structures."""
        self.calls: list[Call] = []
        self._calls_by_method: dict[str, list[Call]] = collections.defaultdict(list)
        self._sent: list[SentMessage] = []
        self._sent_by_chat: dict[int, list[SentMessage]] = collections.defaultdict(list)
        self.http_429 = 0
        self.conflicts = 0  # 409 answers: a rival poller, or getUpdates while a webhook is set
        self.paid_sends = 0  # messages sent with allow_paid_broadcast
        self.inline_answers: dict[str, InlineAnswer] = {}
        self.callback_answers: dict[str, JSON] = {}

    def reset_records(self) -> None:
        """Forget calls and sent messages."""
        self._init_records()
        self._notify()

    def record_call(
        self, method: str, params: JSON, status: int, body: JSON, t: float, client: int | None
    ) -> None:
        """Record an answered request and wake waiters."""
        call = Call(method, params, status, body, t, client)
        self.calls.append(call)
        self._calls_by_method[method].append(call)
        if status == 429:
            self.http_429 += 1
        elif status == 409:
            self.conflicts += 1
        if self._changed is not None:
            self._notify()

    def record_sent(self, msg: SentMessage) -> None:
        """Record a message the bot just sent."""
        self._sent.append(msg)
        self._sent_by_chat[msg.chat_id].append(msg)
        if msg.paid:
            self.paid_sends += 1

    def calls_for(self, method: str) -> list[Call]:
        """Return the recorded calls of one method, oldest first."""
        return list(self._calls_by_method.get(method, ()))

    def call_count(self, method: str, **params: Any) -> int:
        """Count calls of method, optionally only those whose params match (e.g. chat_id=1)."""
        calls = self._calls_by_method.get(method, ())
        if not params:
            return len(calls)
        return sum(all(c.params.get(k) == v for k, v in params.items()) for c in calls)

    def polling_clients(self) -> list[int | None]:
        """Return the clients (TCP ports) that called getUpdates, in order of first call."""
        calls = sorted(self._calls_by_method.get("getUpdates", ()), key=lambda c: c.t)
        return list(dict.fromkeys(c.client for c in calls))

    def sent(self, chat_id: int | None = None) -> list[SentMessage]:
        """Return the messages the bot sent (to chat_id), in order, in their current state."""
        if chat_id is None:
            return list(self._sent)
        return list(self._sent_by_chat.get(chat_id, ()))

    def sent_since(self, start: int) -> list[SentMessage]:
        """Return the messages sent after the first ``start`` ones (cheap to poll)."""
        return self._sent[start:]

    def sent_count(self, chat_id: int | None = None) -> int:
        """Return how many messages were sent (to chat_id) without copying lists."""
        if chat_id is None:
            return len(self._sent)
        return len(self._sent_by_chat.get(chat_id, ()))

    def _notify(self) -> None:
        """Wake ``wait_for`` callers so they re-check their predicates."""
        fut = self._changed
        if fut is not None:
            self._changed = None
            if not fut.done():
                fut.set_result(None)

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until predicate() is true, re-checking after every request and push."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                last = "\n".join(
                    f"  {c.method} {c.status} "
                    f"{json.dumps(c.params, ensure_ascii=False, default=repr)[:200]}"
                    for c in self.calls[-10:]
                )
                raise TimeoutError(
                    f"condition not met within {timeout}s; {len(self.calls)} calls, "
                    f"{len(self._sent)} sent; last calls:\n{last or '  (none)'}"
                )
            if self._changed is None or self._changed.done():
                self._changed = loop.create_future()
            # shield: a timeout must not cancel the future other waiters share.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._changed), remaining)

    async def wait_sent(
        self, n: int, chat_id: int | None = None, timeout: float = 10.0
    ) -> list[SentMessage]:
        """Wait until at least n messages were sent (to chat_id); return them."""
        await self.wait_for(lambda: self.sent_count(chat_id) >= n, timeout)
        return self.sent(chat_id)
