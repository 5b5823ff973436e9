"""Readers: the script each person chose, and their streak of days in a row."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.scripts import Script
from bot.store.engine import insert_or_ignore, now
from bot.store.schema import users
from bot.streaks import Streak, touch


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

    async def touch(self, user_id: int, today: date) -> Streak:
        """Count an interaction on ``today`` (the reader's local date) in their streak."""
        async with self.engine.begin() as conn:
            await conn.execute(
                insert_or_ignore(conn, users).values(user_id=user_id, updated_at=now())
            )
            query = select(users.c.streak, users.c.best_streak, users.c.last_day).where(
                users.c.user_id == user_id
            )
            if conn.dialect.name == "postgresql":
                query = query.with_for_update()
            row = (await conn.execute(query)).one()
            before = Streak(row.streak, row.best_streak, _day(row.last_day))
            after = touch(before, today)
            if after != before:
                await conn.execute(
                    update(users)
                    .where(users.c.user_id == user_id)
                    .values(
                        streak=after.current,
                        best_streak=after.best,
                        last_day=after.last_day.isoformat() if after.last_day else None,
                    )
                )
        return after

    async def streak(self, user_id: int) -> Streak:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(users.c.streak, users.c.best_streak, users.c.last_day).where(
                        users.c.user_id == user_id
                    )
                )
            ).first()
        return Streak(row.streak, row.best_streak, _day(row.last_day)) if row else Streak()


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None
