"""``ChatService``: the rules about a chat (``bot.rules.chats``) applied to stored chats.

Handlers and the deliverer read and change a chat's settings and membership through it, never
through the store (a reader's progress goes through ``bot.services.reading``, the delivery
queue is the deliverer's own); each change is one store transaction, so a rule applies to
the row as stored (locked while it decides), not to a caller's copy.
"""

from __future__ import annotations

import time as time_module
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.content.scripts import Script
from bot.rules.chats import (
    ChatDefaults,
    ChatState,
    left,
    local_due,
    merged,
    moved_to_zone,
    next_due,
    paused,
    rejoined,
    restarted,
    resume_day,
    resumed,
    stopped_by_block,
    subscribed,
    time_of,
    unsubscribed,
    with_onthisday,
    with_quiet,
    with_reading_days,
    with_script,
    without_thread,
    zone_of,
)

if TYPE_CHECKING:
    from bot.store import Store


@dataclass(frozen=True)
class Stats:
    """What /stats tells an operator: chats, subscribers, the last day's digests, the backlog."""

    chats_by_kind: dict[str, int]
    subscribers: int
    digests: dict[str, int]  # the last 24 hours' digests by result: delivered, failed, repeated
    backlog: int  # chats due and not yet delivered
    oldest_due: int | None  # when the longest-waiting of them was due (epoch seconds)
    database: str  # sqlite or postgresql
    revision: str | None  # the schema's


@dataclass(frozen=True)
class Arrival:
    """A chat the bot met (again): its state, and what its coming back changed."""

    state: ChatState
    stopped: time | None = None  # a reader back after blocking: the delivery time that ended
    resumed: bool = False  # a chat back whose kept subscription goes on


UNPARKED_SECONDS = 60.0


class ChatService:
    """Apply the rules of ``bot.rules.chats`` to stored chats, one transaction per change."""

    def __init__(
        self, store: Store, defaults: ChatDefaults, clock: Callable[[], datetime]
    ) -> None:
        self.store = store
        self.defaults = defaults
        self.clock = clock
        # Chats seen not parked, and when (monotonic): each is asked at most once a minute.
        # This process's parkings drop their entry at once; another replica's are noticed
        # within UNPARKED_SECONDS.
        self._unparked: dict[int, float] = {}

    async def get(self, chat_id: int) -> ChatState | None:
        return await self.store.chats.get(chat_id)

    async def contact(self, chat_id: int, kind: str, title: str = "") -> ChatState:
        """Return the chat's state, creating it on first contact and reactivating it."""
        return (await self.arrive(chat_id, kind, title)).state

    async def arrive(self, chat_id: int, kind: str, title: str = "") -> Arrival:
        """Meet a chat: create it on first contact, reactivate it, say what that changed."""
        found = await self.store.chats.get(chat_id)
        if found is not None and found.active and found.parked_reason is None:
            return Arrival(found)  # the common case: no write at all
        # New, back after leaving, or parked after refused digests: talking resumes it.
        before, after = await self.store.chats.change(chat_id, self._rejoin, create=(kind, title))
        return self._arrival(before, after)

    async def joined(self, chat_id: int, kind: str, title: str) -> Arrival | None:
        """Record that the bot was added; return the arrival if it was absent until now.

        The check and the write are one transaction, so a repeated membership update
        (Telegram retries, or two replicas) greets a group once.
        """
        before, after = await self.store.chats.change(chat_id, self._rejoin, create=(kind, title))
        if before is not None and before.active:
            return None
        return self._arrival(before, after)

    def _arrival(self, before: ChatState | None, after: ChatState) -> Arrival:
        stopped = time_of(before, self.defaults) if before and stopped_by_block(before) else None
        resumed = before is not None and after.next_due_at is not None
        return Arrival(after, stopped, resumed)

    async def removed(self, chat_id: int, kind: str, title: str = "") -> None:
        await self.store.chats.change(chat_id, left, create=(kind, title))

    async def subscribe(
        self,
        chat: ChatState,
        *,
        at: time,
        quiet: bool,
        thread_id: int | None,
        script: Script,
        days: int | None = None,
    ) -> ChatState:
        def edit(current: ChatState) -> ChatState:
            return subscribed(
                current,
                at=at,
                quiet=quiet,
                thread_id=thread_id,
                script=script,
                now=self.clock(),
                defaults=self.defaults,
                days=days,
            )

        return await self._edit(chat, edit)

    async def pause(self, chat: ChatState, days: int | None) -> ChatState:
        """Hold the digests back ``days`` local days (None: until resumed)."""

        def edit(current: ChatState) -> ChatState:
            return paused(current, days, self.clock(), self.defaults)

        return await self._edit(chat, edit)

    async def resume(self, chat: ChatState) -> ChatState:
        def edit(current: ChatState) -> ChatState:
            return resumed(current, self.clock(), self.defaults)

        return await self._edit(chat, edit)

    async def set_reading_days(self, chat: ChatState, days: int) -> ChatState:
        def edit(current: ChatState) -> ChatState:
            return with_reading_days(current, days, self.clock(), self.defaults)

        return await self._edit(chat, edit)

    def resume_day(self, chat: ChatState) -> date | None:
        return resume_day(chat, self.defaults)

    async def unsubscribe(self, chat: ChatState) -> ChatState:
        return await self._edit(chat, unsubscribed)

    async def set_zone(self, chat: ChatState, zone: ZoneInfo) -> ChatState:
        def edit(current: ChatState) -> ChatState:
            return moved_to_zone(current, zone, self.clock(), self.defaults)

        return await self._edit(chat, edit)

    async def restart(self, chat: ChatState) -> ChatState:
        def edit(current: ChatState) -> ChatState:
            return restarted(current, self.clock(), self.defaults)

        return await self._edit(chat, edit)

    async def set_script(self, chat: ChatState, script: Script) -> ChatState:
        return await self._edit(chat, lambda current: with_script(current, script))

    async def set_onthisday(self, chat: ChatState, wanted: bool) -> ChatState:
        return await self._edit(chat, lambda current: with_onthisday(current, wanted))

    async def set_quiet(self, chat: ChatState, quiet: bool) -> ChatState:
        return await self._edit(chat, lambda current: with_quiet(current, quiet))

    async def drop_thread(self, chat_id: int) -> None:
        try:
            await self.store.chats.change(chat_id, without_thread)
        except LookupError:  # a chat not stored has no topic to forget
            return

    async def park(
        self, chat_id: int, token: str, *, reason: str, failures: int, section: int | None
    ) -> bool:
        """Stop retrying a chat's digest until the chat talks to the bot again."""
        self._unparked.pop(chat_id, None)
        return await self.store.chats.park(
            chat_id, token, reason=reason, failures=failures, section=section
        )

    async def unpark(self, chat_id: int) -> bool:
        """Resume a parked chat's digests (at its next delivery time); False if not parked.

        The common case, a chat that is not parked, costs one UPDATE that matches no row,
        once a minute at most.
        """
        now = time_module.monotonic()
        if now - self._unparked.get(chat_id, -UNPARKED_SECONDS) < UNPARKED_SECONDS:
            return False
        if len(self._unparked) > 100_000:  # bounded: forgetting only costs a query
            self._unparked.clear()
        self._unparked[chat_id] = now
        if not await self.store.chats.unpark(chat_id):
            return False
        try:
            await self.store.chats.change(chat_id, self._rejoin)
        except LookupError:
            return False
        return True

    async def deactivate(self, chat_id: int) -> None:
        """Stop posting to a chat that refused the bot (one never stored has nothing to stop)."""
        try:
            await self.store.chats.change(chat_id, left)
        except LookupError:
            return

    async def migrate(self, old_id: int, new_id: int) -> None:
        """Move a group to its supergroup, keeping (and merging) everything it had."""
        await self.store.chats.migrate(
            old_id, new_id, lambda group, supergroup: merged(group, supergroup, new_id)
        )

    async def parked(self) -> tuple[int, str | None]:
        """Return how many chats are parked and the reason of the latest parking."""
        return await self.store.chats.parked()

    async def stats(self, now: int) -> Stats:
        """Return the figures /stats shows at ``now`` (epoch seconds)."""
        store = self.store
        return Stats(
            chats_by_kind=await store.chats.count_by_kind(),
            subscribers=sum((await store.chats.subscribers()).values()),
            digests=await store.queue.results_since(now - 86_400),
            backlog=await store.queue.backlog(now),
            oldest_due=await store.queue.oldest_due(now),
            database=store.kind,
            revision=await store.revision(),
        )

    def next_due(self, chat: ChatState, now: datetime) -> int | None:
        return next_due(chat, now, self.defaults)

    def local_due(self, chat: ChatState) -> datetime | None:
        return local_due(chat, self.defaults)

    def zone(self, chat: ChatState) -> ZoneInfo:
        return zone_of(chat, self.defaults)

    def _rejoin(self, chat: ChatState) -> ChatState:
        return rejoined(chat, self.clock(), self.defaults)

    async def _edit(self, chat: ChatState, edit: Callable[[ChatState], ChatState]) -> ChatState:
        """Apply a rule to a chat the caller has met, in one transaction; return the result."""
        _, after = await self.store.chats.change(
            chat.chat_id, edit, create=(chat.kind, chat.title)
        )
        return after
