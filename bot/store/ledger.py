"""Updates seen, and the inbox of polled updates.

Telegram may deliver an update twice, to any replica; it is applied once. A row per update:
claimed while a replica handles it, marked done after. A polled update's row also holds its
body until it is handled (the inbox): the poller stores a batch here before it tells
Telegram to drop it, so an update the process dies holding is still here, and the next
poller finishes it once the claim has run out.

Claims are set and compared on the database's clock, so a replica whose own clock is off
cannot take over an update another replica is still handling.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    and_,
    bindparam,
    cast,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.dml import ReturningInsert

from bot.store.engine import insert_or_ignore
from bot.store.schema import processed_updates as seen

_INSERTS: dict[str, ReturningInsert[Any]] = {}


class Seen(enum.Enum):
    NEW = "new"  # this replica handles it now
    DONE = "done"  # handled already: answer and forget
    BUSY = "busy"  # another replica is handling it right now


class UpdateLedger:
    """A row per update: claimed while a replica handles it, marked done after."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def begin(self, update_id: int, lease: int) -> Seen:
        """Claim the update for ``lease`` seconds, unless it is done or claimed already.

        A claim whose replica died (its lease ran out) or that was handed back is taken over.
        """
        async with self.engine.begin() as conn:
            at = _clock(conn)
            created = await conn.execute(
                insert_or_ignore(conn, seen)
                .values(update_id=update_id, claimed_until=at + lease)
                .returning(seen.c.update_id)
            )
            if created.first() is not None:
                return Seen.NEW
            taken = await conn.execute(
                update(seen)
                .where(and_(seen.c.update_id == update_id, _unclaimed(at)))
                .values(claimed_until=at + lease)
                .returning(seen.c.update_id)
            )
            if taken.first() is not None:
                return Seen.NEW
            done = await conn.execute(select(seen.c.done_at).where(seen.c.update_id == update_id))
            return Seen.DONE if done.scalar() is not None else Seen.BUSY

    async def renew(self, update_id: int, lease: int) -> None:
        await self.renew_many([update_id], lease)

    async def finish(self, update_id: int) -> None:
        await self.finish_many([update_id])

    async def receive(self, batch: Sequence[tuple[int, str]], lease: int) -> set[int]:
        """Store polled updates (id, JSON body) in one transaction; return those to handle now.

        New ones are claimed for ``lease`` seconds. One stored before (fetched again after
        its poller died) is returned only if it is not done and its claim ran out.
        """
        if not batch:
            return set()
        ids = [update_id for update_id, _ in batch]
        async with self.engine.begin() as conn:
            at = _clock(conn)
            statement = _INSERTS.get(conn.dialect.name)
            if statement is None:
                # Built once and given its rows as parameters: a statement shaped by its batch
                # was compiled anew for every poll.
                statement = (
                    insert_or_ignore(conn, seen)
                    .values(claimed_until=at + bindparam("lease", type_=BigInteger()))
                    .returning(seen.c.update_id)
                )
                _INSERTS[conn.dialect.name] = statement
            rows = [
                {"update_id": update_id, "body": body, "lease": lease} for update_id, body in batch
            ]
            created = await conn.execute(statement, rows[0] if len(rows) == 1 else rows)
            mine = {row[0] for row in created}
            known = [update_id for update_id in ids if update_id not in mine]
            if known:
                taken = await conn.execute(
                    update(seen)
                    .where(and_(seen.c.update_id.in_(known), _unclaimed(at)))
                    .values(claimed_until=at + lease)
                    .returning(seen.c.update_id)
                )
                mine.update(row[0] for row in taken)
        return mine

    async def claim_stale(self, limit: int, lease: int) -> list[tuple[int, str]]:
        """Claim up to ``limit`` stored updates nobody is handling, oldest first."""
        async with self.engine.begin() as conn:
            at = _clock(conn)
            found = await conn.execute(
                select(seen.c.update_id)
                .where(and_(seen.c.body.is_not(None), _unclaimed(at)))
                .order_by(seen.c.update_id)
                .limit(limit)
            )
            ids = [row[0] for row in found]
            if not ids:
                return []
            # The claim re-checks the condition: a rival sweeping at once takes each only once.
            taken = await conn.execute(
                update(seen)
                .where(and_(seen.c.update_id.in_(ids), _unclaimed(at)))
                .values(claimed_until=at + lease)
                .returning(seen.c.update_id, seen.c.body)
            )
            return sorted((row[0], row[1]) for row in taken)

    async def renew_many(self, update_ids: Collection[int], lease: int) -> None:
        """Extend the claims this replica holds on updates it is still handling."""
        if not update_ids:
            return
        async with self.engine.begin() as conn:
            await conn.execute(
                update(seen)
                .where(and_(seen.c.update_id.in_(list(update_ids)), seen.c.done_at.is_(None)))
                .values(claimed_until=_clock(conn) + lease)
            )

    async def finish_many(self, update_ids: Collection[int]) -> None:
        """Mark updates handled; a polled one's body is not needed any more."""
        if not update_ids:
            return
        async with self.engine.begin() as conn:
            await conn.execute(
                update(seen)
                .where(seen.c.update_id.in_(list(update_ids)))
                .values(done_at=_clock(conn), claimed_until=None, body=None)
            )

    async def release(self, update_ids: Collection[int]) -> None:
        """Hand back claims on updates this replica will not handle (it is stopping)."""
        if not update_ids:
            return
        async with self.engine.begin() as conn:
            await conn.execute(
                update(seen)
                .where(and_(seen.c.update_id.in_(list(update_ids)), seen.c.done_at.is_(None)))
                .values(claimed_until=None)
            )

    async def release_all(self) -> int:
        """Hand back every claim; only for a process that knows it is the only one (SQLite)."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(seen)
                .where(and_(seen.c.done_at.is_(None), seen.c.claimed_until.is_not(None)))
                .values(claimed_until=None)
            )
        return int(result.rowcount or 0)

    async def newest(self) -> int:
        """Return the highest update id ever recorded (0 when none)."""
        async with self.engine.connect() as conn:
            found = await conn.execute(select(func.max(seen.c.update_id)))
            return int(found.scalar() or 0)

    async def pending(self) -> int:
        """Return how many stored updates wait to be handled."""
        async with self.engine.connect() as conn:
            found = await conn.execute(
                select(func.count())
                .select_from(seen)
                .where(and_(seen.c.done_at.is_(None), seen.c.body.is_not(None)))
            )
            return int(found.scalar_one())

    async def prune(self, older_than: int = 86_400) -> int:
        """Forget updates handled long ago (Telegram redelivers within hours, not days)."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                delete(seen).where(seen.c.done_at < _clock(conn) - older_than)
            )
        return int(result.rowcount or 0)


def _clock(conn: AsyncConnection) -> ColumnElement[int]:
    """Return the database's time in epoch seconds, as SQL: one clock for every replica."""
    if conn.dialect.name == "postgresql":
        return cast(func.floor(func.extract("epoch", func.now())), BigInteger)
    return cast(func.strftime("%s", "now"), BigInteger)


def _unclaimed(at: ColumnElement[int]) -> ColumnElement[bool]:
    """Not done, and nobody's claim on it is running."""
    return and_(
        seen.c.done_at.is_(None), or_(seen.c.claimed_until.is_(None), seen.c.claimed_until < at)
    )
