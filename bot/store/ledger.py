"""Updates seen: Telegram may deliver an update twice, to any replica; it is applied once."""

from __future__ import annotations

import enum

from sqlalchemy import and_, delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.engine import insert_or_ignore, now
from bot.store.schema import processed_updates as seen


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

        A claim whose replica died (its lease ran out) is taken over.
        """
        at = now()
        async with self.engine.begin() as conn:
            created = await conn.execute(
                insert_or_ignore(conn, seen)
                .values(update_id=update_id, claimed_until=at + lease)
                .returning(seen.c.update_id)
            )
            if created.first() is not None:
                return Seen.NEW
            taken = await conn.execute(
                update(seen)
                .where(
                    and_(
                        seen.c.update_id == update_id,
                        seen.c.done_at.is_(None),
                        seen.c.claimed_until < at,
                    )
                )
                .values(claimed_until=at + lease)
                .returning(seen.c.update_id)
            )
            if taken.first() is not None:
                return Seen.NEW
            done = await conn.execute(select(seen.c.done_at).where(seen.c.update_id == update_id))
            return Seen.DONE if done.scalar() is not None else Seen.BUSY

    async def renew(self, update_id: int, lease: int) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(seen)
                .where(and_(seen.c.update_id == update_id, seen.c.done_at.is_(None)))
                .values(claimed_until=now() + lease)
            )

    async def finish(self, update_id: int) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(seen)
                .where(seen.c.update_id == update_id)
                .values(done_at=now(), claimed_until=None)
            )

    async def prune(self, older_than: int = 86_400) -> int:
        """Forget updates handled long ago (Telegram redelivers within hours, not days)."""
        async with self.engine.begin() as conn:
            result = await conn.execute(delete(seen).where(seen.c.done_at < now() - older_than))
        return int(result.rowcount or 0)
