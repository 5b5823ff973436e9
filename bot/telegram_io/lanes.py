"""How updates are processed: one lane per chat, many chats at once, everything bounded.

PTB hands every update to an update processor. Here each chat has a lane: its updates run
one after another (so a chat's commands apply in order and never race each other), while
different chats run concurrently. A lane holds one running update and at most
``per_chat`` waiting; a chat that sends more than that (a flood) has the excess dropped,
counted and logged once a minute, so it never queues for minutes or delays anyone else.
At most ``concurrency`` updates run at once, and all lanes together hold at most
``capacity`` (twice that); past that, taking new updates waits (backpressure): the poller
(bot/runtime/polling.py) fetches no more than there is room for, and Telegram keeps the rest.

An update the lanes never finish (the bot stops) has its future cancelled, not resolved:
the poller hands it back to the inbox and the webhook answers 503, so it is handled later.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.botapi.update_kind import describe
from bot.ops import logs

log = logging.getLogger(__name__)

# Resolves True when handled, False when dropped; cancelled when left unhandled (stopping).
Done = asyncio.Future[bool]


@dataclass
class _Lane:
    waiting: deque[tuple[object, Awaitable[Any], Done]] = field(default_factory=deque)
    last_drop_log: float = 0.0


def lane_key(update: object) -> int | None:
    """Return whose lane an update runs in: its chat, else its user (inline mode, polls)."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None


def raw_lane_key(data: object) -> int | None:
    """Return lane_key of an update still in its JSON form (read before PTB parses it)."""
    if not isinstance(data, dict):
        return None
    for kind, value in data.items():
        if kind == "update_id" or not isinstance(value, dict):
            continue
        chat = value.get("chat") or (value.get("message") or {}).get("chat")
        who = chat if isinstance(chat, dict) else value.get("from") or value.get("user")
        found = who.get("id") if isinstance(who, dict) else None
        return found if type(found) is int else None
    return None


def _bare(update: Update) -> bool:
    return all(getattr(update, kind, None) is None for kind in Update.ALL_TYPES)


class ChatLanes(BaseUpdateProcessor):
    """The update processor described above."""

    def __init__(
        self,
        *,
        concurrency: int = 128,
        per_chat: int = 8,
        on_handled: Callable[[object, float], None] | None = None,
        on_dropped: Callable[[object], None] | None = None,
    ) -> None:
        # PTB awaits a processor whose limit is 1 instead of starting a task per update:
        # that await is where backpressure reaches a producer. Concurrency is ours.
        super().__init__(max_concurrent_updates=1)
        self.concurrency = concurrency
        self.capacity = 2 * concurrency  # running plus waiting: what may sit in memory
        self.per_chat = per_chat
        self._room = asyncio.Semaphore(self.capacity)
        self._held = 0  # updates accepted (a slot of _room taken) and not yet finished
        self._turns = asyncio.Semaphore(concurrency)
        self._lanes: dict[int | None, _Lane] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._on_handled = on_handled
        self._on_dropped = on_dropped
        self.dropped = 0

    @property
    def held(self) -> int:
        """Return how many updates are running or waiting."""
        return self._held

    async def initialize(self) -> None:
        return None

    def admit(self, keys: list[int | None]) -> list[bool]:
        """Say which of a fetched batch's updates (by lane) their lanes will take.

        Read before the batch is parsed: a flooding chat's excess is dropped here, for the
        price of reading its chat id, instead of being parsed first (most of its cost) and
        dropped after; the rest of the batch, and every other chat, waits less.
        """
        taken: dict[int, int] = {}
        verdicts = []
        for key in keys:
            if key is None:
                verdicts.append(True)
                continue
            taken[key] = taken.get(key, 0) + 1
            lane = self._lanes.get(key)
            room = self.per_chat + 1 - (len(lane.waiting) if lane is not None else 0)
            verdicts.append(taken[key] <= room)
            if taken[key] > room:
                self._count_drop(None, key)
        return verdicts

    async def shutdown(self) -> None:
        """Leave nothing running: the lifecycle drained the lanes before the transport closed."""
        await self.cancel_all()

    async def drain(self, timeout: float | None = None) -> None:
        """Wait until every update in hand is done, or ``timeout`` seconds."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def cancel_all(self) -> None:
        """Stop every lane: what did not finish stays unhandled (its future is cancelled)."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=1.0)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Take an update from PTB's own queue (the bot polls without it: runtime/polling.py)."""
        await self.submit(update, coroutine)

    async def submit(self, update: object, coroutine: Awaitable[Any]) -> Done:
        """Queue an update in its chat's lane; return a future that says when it is done.

        Returns once the update is accepted (or dropped): it waits only while every lane
        together is full.
        """
        key = lane_key(update)
        done: Done = asyncio.get_running_loop().create_future()
        if isinstance(update, Update) and update.effective_chat is None and _bare(update):
            # Only its id (unreadable, or a flooding chat's excess cut by ``admit``):
            # nothing to handle, and nothing left to do for it.
            if hasattr(coroutine, "close"):
                coroutine.close()
            done.set_result(True)
            return done
        if self._flooding(key):
            self._drop(update, key, coroutine, done)
            return done
        await self._room.acquire()
        if self._flooding(key):  # filled while we waited for room
            self._room.release()
            self._drop(update, key, coroutine, done)
            return done
        self._held += 1
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = _Lane()
            lane.waiting.append((update, coroutine, done))
            task = asyncio.create_task(self._run(key, lane), name=f"lane:{key}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            lane.waiting.append((update, coroutine, done))
        return done

    def _flooding(self, key: int | None) -> bool:
        lane = self._lanes.get(key)
        # Updates without a chat or user have no lane to protect: only capacity bounds them.
        return key is not None and lane is not None and len(lane.waiting) > self.per_chat

    def _drop(
        self, update: object, key: int | None, coroutine: Awaitable[Any], done: Done
    ) -> None:
        if hasattr(coroutine, "close"):
            coroutine.close()  # never awaited: closing it avoids a "never awaited" warning
        done.set_result(False)
        self._count_drop(update, key)

    def _count_drop(self, update: object, key: int | None) -> None:
        self.dropped += 1
        if self._on_dropped is not None:
            self._on_dropped(update)
        lane = self._lanes.get(key)
        now = time.monotonic()
        if lane is not None and now - lane.last_drop_log > 60:
            lane.last_drop_log = now
            log.info("chat %s is flooding the bot: dropping what it sends beyond its queue", key)

    async def _run(self, key: int | None, lane: _Lane) -> None:
        try:
            while lane.waiting:
                update, coroutine, done = lane.waiting[0]
                try:
                    async with self._turns:
                        await self._handle(update, coroutine)
                except Exception:  # PTB hands errors to the error handlers; this is a bug
                    log.exception("an update escaped its error handling")
                except asyncio.CancelledError:  # stopping: this one and the rest stay unhandled
                    self._abandon(lane)
                    raise
                lane.waiting.popleft()
                self._held -= 1
                self._room.release()
                if not done.done():
                    done.set_result(True)
        finally:
            if self._lanes.get(key) is lane:
                del self._lanes[key]

    def _abandon(self, lane: _Lane) -> None:
        while lane.waiting:
            _, coroutine, done = lane.waiting.popleft()
            if hasattr(coroutine, "close"):
                coroutine.close()  # one never started must not warn "never awaited"
            done.cancel()
            self._held -= 1
            self._room.release()

    async def _handle(self, update: object, coroutine: Awaitable[Any]) -> None:
        _, command = describe(update)
        tokens = (
            logs.update_id.set(update.update_id if isinstance(update, Update) else None),
            logs.chat_id.set(lane_key(update)),
            logs.command.set(command or None),
        )
        started = time.perf_counter()
        try:
            await coroutine  # PTB's process_update: its errors go to the error handlers
        finally:
            elapsed = time.perf_counter() - started
            # Commands at INFO (what operators read); every other update at DEBUG.
            log.log(
                logging.INFO if command else logging.DEBUG,
                "handled %s in %.1f ms",
                f"/{command}" if command else "an update",
                elapsed * 1000,
            )
            if self._on_handled is not None:
                self._on_handled(update, elapsed)
            logs.command.reset(tokens[2])
            logs.chat_id.reset(tokens[1])
            logs.update_id.reset(tokens[0])
