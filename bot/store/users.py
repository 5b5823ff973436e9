"""Readers: the script each person chose."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.scripts import Script
from bot.store.engine import insert_or_ignore, now
from bot.store.schema import users


class Users:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def script(self, user_id: int) -> Script | None:
        """Return the script the person chose, or None."""
        async with self.engine.connect() as conn:
            value = (
                await conn.execute(select(users.c.script).where(users.c.user_id == user_id))
            ).scalar()
        return Script(value) if value else None

    async def set_script(self, user_id: int, script: Script) -> None:
        async with self.engine.begin() as conn:
            # Insert first so two concurrent first choices cannot both try to create the row.
            await conn.execute(
                insert_or_ignore(conn, users).values(
                    user_id=user_id, script=script.value, updated_at=now()
                )
            )
            await conn.execute(
                update(users)
                .where(users.c.user_id == user_id)
                .values(script=script.value, updated_at=now())
            )
