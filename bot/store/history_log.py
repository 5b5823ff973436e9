"""The reading log: the first time each section reached a chat, delivered or asked for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Insert, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.store.engine import insert_or_ignore
from bot.store.schema import section_reads

DELIVERED, READ = "delivered", "read"


@dataclass(frozen=True)
class FirstRead:
    section: int
    at: int  # epoch seconds
    how: str  # DELIVERED or READ


# Built once per dialect: it runs with every /next and every batch of deliveries.
_INSERTS: dict[str, Insert] = {}


async def record(conn: AsyncConnection, rows: Sequence[tuple[int, int, int, str]]) -> None:
    """Log (chat_id, section, at, how) in the caller's transaction; the first one stays."""
    if not rows:
        return
    statement = _INSERTS.get(conn.dialect.name)
    if statement is None:
        statement = _INSERTS[conn.dialect.name] = insert_or_ignore(conn, section_reads)
    values = [{"chat_id": c, "section": s, "first_at": at, "how": how} for c, s, at, how in rows]
    await conn.execute(statement, values[0] if len(values) == 1 else values)


async def move(conn: AsyncConnection, old_id: int, new_id: int) -> None:
    """Carry a group's log to the supergroup it became (the earlier entry of a section stays
    only if the supergroup has none)."""
    rows = (
        await conn.execute(select(section_reads).where(section_reads.c.chat_id == old_id))
    ).all()
    await record(conn, [(new_id, r.section, r.first_at, r.how) for r in rows])
    await conn.execute(delete(section_reads).where(section_reads.c.chat_id == old_id))


class History:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def of(self, chat_id: int) -> list[FirstRead]:
        """Return the chat's log, by section."""
        query = (
            select(section_reads.c.section, section_reads.c.first_at, section_reads.c.how)
            .where(section_reads.c.chat_id == chat_id)
            .order_by(section_reads.c.section)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [FirstRead(r.section, r.first_at, r.how) for r in rows]

    async def read(self, chat_id: int, section: int, at: int) -> None:
        """Log that a reader opened a section (the first time stays)."""
        async with self.engine.begin() as conn:
            await record(conn, [(chat_id, section, at, READ)])
