"""The update queue: pending updates, the bot's allowed_updates and the getUpdates long poll."""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Callable

from fake_telegram.factories import update_type
from fake_telegram.records import JSON, ApiError, unauthorized
from fake_telegram.validation import as_int

CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is "
    "running"
)
TERMINATED_BY_WEBHOOK = "Conflict: terminated by setWebhook request"
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete "
    "the webhook first"
)
# Telegram's default set: every update type except these.
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class UpdateQueue:
    """Hold updates until the bot confirms them, and serve getUpdates like Telegram."""

    def __init__(self, notify: Callable[[], None]) -> None:
        """Start empty; notify() is called whenever a waiting test should re-check."""
        self.pending: collections.deque[JSON] = collections.deque()
        # Telegram remembers the last allowed_updates list; None means the default set.
        self.allowed: frozenset[str] | None = None
        self.handed_out_at: dict[int, float] = {}
        self.open = False  # False while the server is stopped: long polls end at once
        # Update ids only grow, like Telegram's: getUpdates' offset confirms by them.
        self._last_id = 999
        self._poller: asyncio.Future[str] | None = None
        self.poller: int | None = None  # the client whose long poll is waiting
        self._notify = notify

    def add(self, update: JSON) -> int:
        """Queue an update under the next update_id, or its own if newer; return the id."""
        uid = update.setdefault("update_id", self._last_id + 1)
        if type(uid) is not int or uid <= self._last_id:
            raise ValueError(
                f"update_id {uid!r} must be an integer above {self._last_id}: Telegram numbers "
                "updates in increasing order and getUpdates' offset confirms them by it"
            )
        self._last_id = uid
        self.pending.append(update)
        self.wake_poller("update")
        return uid

    def is_allowed(self, update: JSON) -> bool:
        """Return whether the bot's allowed_updates let this update through."""
        kind = update_type(update)
        if kind is None:
            return True  # a raw update without a type: there is nothing to filter it by
        if self.allowed is None:
            return kind not in DEFAULT_EXCLUDED_UPDATES
        return kind in self.allowed

    def set_allowed(self, allowed: object) -> None:
        """Apply an allowed_updates parameter: a list replaces the setting, [] restores default."""
        if isinstance(allowed, list):
            self.allowed = frozenset(allowed) if allowed else None

    def reset_records(self) -> None:
        """Forget when updates were handed out."""
        self.handed_out_at = {}

    @property
    def polling(self) -> bool:
        """Return whether a getUpdates long poll is currently waiting."""
        return self._poller is not None and not self._poller.done()

    def wake_poller(self, reason: str) -> None:
        """Wake a waiting long poll: "update", "conflict", "set_webhook", "revoked", "shutdown"."""
        fut = self._poller
        if fut is not None and not fut.done():
            fut.set_result(reason)

    async def get_updates(self, params: JSON, client: int | None = None) -> list[JSON]:
        """Implement getUpdates with long polling for client (the caller's TCP port)."""
        offset = as_int(params.get("offset", 0) or 0, "offset")
        limit = min(max(as_int(params.get("limit", 100) or 100, "limit"), 1), 100)
        timeout = float(params.get("timeout", 0) or 0)
        self.set_allowed(params.get("allowed_updates"))
        # A newer getUpdates terminates the older one, like Telegram (409 to the old one).
        self.wake_poller("conflict")
        self._confirm(offset)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            batch = self._take(limit)
            remaining = deadline - loop.time()
            if batch or remaining <= 0 or not self.open:
                return batch
            fut: asyncio.Future[str] = loop.create_future()
            self._poller, self.poller = fut, client
            self._notify()  # lets tests wait until a long poll is parked
            try:
                reason = await asyncio.wait_for(fut, remaining)
            except TimeoutError:
                return self._take(limit)
            finally:
                if self._poller is fut:
                    self._poller = self.poller = None
            if reason == "conflict":
                raise ApiError(409, CONFLICT)
            if reason == "set_webhook":
                raise ApiError(409, TERMINATED_BY_WEBHOOK)
            if reason == "revoked":
                raise unauthorized()
            if reason == "shutdown":
                return []

    def _confirm(self, offset: int) -> None:
        """Forget updates confirmed by offset (a negative offset keeps only the newest)."""
        pending = self.pending
        if offset > 0:
            while pending and pending[0]["update_id"] < offset:
                pending.popleft()
        elif offset < 0:
            while len(pending) > -offset:
                pending.popleft()

    def _take(self, limit: int) -> list[JSON]:
        """Hand out up to limit allowed updates, stamping their first hand-out time."""
        batch: list[JSON] = []
        now = time.perf_counter()
        for upd in self.pending:
            if not self.is_allowed(upd):
                continue
            batch.append(upd)
            self.handed_out_at.setdefault(upd["update_id"], now)
            if len(batch) >= limit:
                break
        return batch
