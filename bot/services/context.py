"""What handlers and jobs share: settings, the article, the store and short-lived caches."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime

from bot.config import Settings
from bot.content import Library
from bot.content.search import Search
from bot.ops.metrics import Metrics
from bot.services.chat_service import ChatService
from bot.services.delivery import Deliverer
from bot.services.health import Health
from bot.services.reading import ReadingService
from bot.store import Store
from bot.telegram_io.lanes import ChatLanes

ADMIN_SECONDS = 10.0
SCRIPT_SECONDS = 3.0
ZONE_SECONDS = 60.0


class TTLCache:
    """A small bounded cache with expiry, for facts we may keep briefly."""

    def __init__(self, ttl: float, size: int = 10_000) -> None:
        self.ttl, self.size = ttl, size
        self._data: OrderedDict[object, tuple[float, object]] = OrderedDict()

    def get(self, key: object) -> object | None:
        item = self._data.get(key)
        if item is None or item[0] < time.monotonic():
            self._data.pop(key, None)
            return None
        return item[1]

    def put(self, key: object, value: object) -> None:
        self._data[key] = (time.monotonic() + self.ttl, value)
        self._data.move_to_end(key)
        while len(self._data) > self.size:
            self._data.popitem(last=False)

    def drop(self, key: object) -> None:
        self._data.pop(key, None)


class KeyedLocks:
    """One holder per key at a time (a card drawn once while others wait for it); a key's
    lock lives only while someone holds or awaits it, so the table stays small."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


# Cards drawn at once: drawing is CPU work (about 0.2 s each), and more threads than cores
# would only keep more images in memory at a time.
CARD_DRAWERS = 2


@dataclass
class Services:
    settings: Settings
    library: Library
    search: Search
    store: Store
    chats: ChatService
    reading: ReadingService
    deliverer: Deliverer
    clock: Callable[[], datetime]
    metrics: Metrics
    health: Health
    lanes: ChatLanes
    # Who administers a group or channel, as Telegram said a moment ago: stale for at most
    # ADMIN_SECONDS, and dropped at once when a chat_member update reports a change.
    admins: TTLCache = field(default_factory=lambda: TTLCache(ttl=ADMIN_SECONDS))
    # Read-through cache of users' scripts; writes go to the store first. Another replica
    # sees a change within SCRIPT_SECONDS (on SQLite there is no other: see exact_caches).
    user_scripts: TTLCache = field(
        default_factory=lambda: TTLCache(ttl=SCRIPT_SECONDS, size=50_000)
    )
    # The local day each reader's streak was last counted: one write a reader a day.
    touched: TTLCache = field(default_factory=lambda: TTLCache(ttl=86_400, size=100_000))
    # Each chat's zone, for the streak's day: a minute late after a change of zone at most.
    zones: TTLCache = field(default_factory=lambda: TTLCache(ttl=ZONE_SECONDS, size=100_000))
    # A card being drawn and uploaded: later requests for it wait, then send its file_id.
    card_uploads: KeyedLocks = field(default_factory=KeyedLocks)
    card_drawers: asyncio.Semaphore = field(
        default_factory=lambda: asyncio.Semaphore(CARD_DRAWERS)
    )

    def exact_caches(self) -> None:
        """Keep users' scripts for a day: this process is the database's only writer.

        On SQLite one process holds the file (Store.hold_exclusive), and every change of
        script goes through it and into the cache, so the cache cannot be stale.
        """
        self.user_scripts = TTLCache(ttl=86_400, size=self.user_scripts.size)
