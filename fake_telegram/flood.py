"""Telegram's flood limits on sending, and a record of every retry_after the bot ignored."""

from __future__ import annotations

import collections
import math
import time
from typing import Any

from fake_telegram.records import JSON, ApiError

GLOBAL = "global"  # key of the bot-wide window in the retry_after bookkeeping
PAID = "paid"  # key of the window for sends with allow_paid_broadcast
SENDING_METHODS = frozenset(
    {"sendMessage", "sendPhoto", "sendPoll", "editMessageText", "editMessageReplyMarkup"}
)


class FloodControl:
    """Apply the bot-wide, per-chat and per-group limits; note sends that came too early.

    Limits apply only when ``enabled``; the retry_after bookkeeping always runs, so
    injected 429s are checked too. Paid broadcasts (allow_paid_broadcast) count against
    their own bot-wide window of ``paid_rate`` per second instead of ``global_rate``.
    """

    def __init__(self, enabled: bool = False) -> None:
        """Start with Telegram's published limits and empty windows."""
        self.enabled = enabled
        self.global_rate = 30  # messages per sliding second, bot-wide
        self.paid_rate = 1000  # paid broadcasts per sliding second, bot-wide
        self.per_chat_interval = 1.0  # seconds between messages to one private chat
        self.group_per_minute = 20  # messages per sliding minute to one group
        self.methods = set(SENDING_METHODS)
        self.retry_after_violations: list[JSON] = []
        self.rejections: list[JSON] = []  # every 429 this answered: which limit, for whom
        # Windows hold time.monotonic() stamps of accepted sends.
        self._global: collections.deque[float] = collections.deque()
        self._paid: collections.deque[float] = collections.deque()
        self._chat_last: dict[int, float] = {}
        self._groups: dict[int, collections.deque[float]] = {}
        self._retry_until: dict[int | str, float] = {}

    def reset_records(self) -> None:
        """Forget violations and pending retry_after deadlines; keep the windows."""
        self.retry_after_violations = []
        self.rejections = []
        self._retry_until.clear()

    def asked_to_wait(self, chat: Any, seconds: int) -> None:
        """Remember a retry_after the fake answered (an int chat, or bot-wide otherwise)."""
        key = chat if isinstance(chat, int) else GLOBAL
        self._retry_until[key] = time.monotonic() + seconds

    def check(self, method: str, chat_id: int, *, paid: bool = False) -> None:
        """Record a retry_after violation, then raise a 429 if a limit is exceeded."""
        now = time.monotonic()
        bot_key = PAID if paid else GLOBAL
        if self._retry_until:
            self._note_violations(method, chat_id, bot_key, now)
        if not self.enabled or method not in self.methods:
            return
        retry_key: int | str = bot_key
        window, rate = (self._paid, self.paid_rate) if paid else (self._global, self.global_rate)
        while window and window[0] <= now - 1.0:
            window.popleft()
        wait = window[0] + 1.0 - now if len(window) >= rate else 0.0
        if chat_id < 0:
            group = self._groups.get(chat_id)
            if group is None:
                group = self._groups[chat_id] = collections.deque()
            while group and group[0] <= now - 60.0:
                group.popleft()
            if len(group) >= self.group_per_minute and group[0] + 60.0 - now > wait:
                wait, retry_key = group[0] + 60.0 - now, chat_id
        else:
            last = self._chat_last.get(chat_id)
            if last is not None and last + self.per_chat_interval - now > wait:
                wait, retry_key = last + self.per_chat_interval - now, chat_id
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            self._retry_until[retry_key] = now + retry_after
            self.rejections.append(
                {"chat_id": chat_id, "method": method, "limit": retry_key, "t": now}
            )
            raise ApiError(
                429,
                f"Too Many Requests: retry after {retry_after}",
                {"retry_after": retry_after},
            )
        window.append(now)
        if chat_id < 0:
            self._groups[chat_id].append(now)
        else:
            self._chat_last[chat_id] = now

    def _note_violations(self, method: str, chat_id: int, bot_key: str, now: float) -> None:
        """Record a send that came before a retry_after the fake asked for had passed."""
        for key in (chat_id, bot_key):
            until = self._retry_until.get(key)
            if until is None:
                continue
            if now < until:
                self.retry_after_violations.append(
                    {"chat_id": chat_id, "method": method, "early_by": until - now}
                )
            else:
                del self._retry_until[key]
