"""Bulk data for tests and benchmarks: many subscribed chats in one go."""

from __future__ import annotations

import time
from collections.abc import Iterable

from sqlalchemy import insert

from bot.store import Store, chats


async def add_subscribers(
    store: Store,
    chat_ids: Iterable[int],
    *,
    next_due_at: int,
    delivery_time: str = "08:00",
    timezone: str = "Asia/Shanghai",
) -> None:
    """Insert many subscribed private chats at once, as a bulk import would."""
    now = int(time.time())
    rows = [
        {
            "chat_id": chat_id,
            "kind": "private",
            "title": "",
            "subscribed": True,
            "active": True,
            "delivery_time": delivery_time,
            "timezone": timezone,
            "next_due_at": next_due_at,
            "progress": 0,
            "read_mask": 0,
            "quiet": False,
            "failures": 0,
            "finished": False,
            "updated_at": now,
        }
        for chat_id in chat_ids
    ]
    async with store.engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            await conn.execute(insert(chats), rows[start : start + 5000])
