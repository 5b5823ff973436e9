"""Readers: the script each person chose, and their streak of days in a row."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import and_, bindparam, case, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.expression import BindParameter, Executable

from bot.content.scripts import Script
from bot.rules.streaks import Streak
from bot.store.engine import dialect_insert, insert_or_ignore, now, one_statement
from bot.store.schema import users

_SCRIPT = select(users.c.script).where(users.c.user_id == bindparam("p_user"))


class Users:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._once = one_statement(engine)

    async def script(self, user_id: int) -> Script | None:
        """Return the script the person chose, or None."""
        async with self._once.connect() as conn:
            value = (await conn.execute(_SCRIPT, {"p_user": user_id})).scalar()
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

    async def touch(self, user_id: int, today: date) -> None:
        """Count an interaction on ``today`` (the reader's local date) in their streak.

        One statement (an upsert), so the first visit of a day costs one round trip. It
        says in SQL what ``bot.rules.streaks.touch`` says in Python; a test holds them together.
        """
        params = {
            "p_user": user_id,
            "p_day": today.isoformat(),
            "p_yesterday": (today - timedelta(days=1)).isoformat(),
            "p_now": now(),
        }
        async with self._once.begin() as conn:
            await conn.execute(_touch(conn), params)

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


_TOUCH: dict[str, Executable] = {}  # per dialect: built once, like a prepared statement


def _touch(conn: AsyncConnection) -> Executable:
    """Return the streak's upsert for this connection's dialect."""
    found = _TOUCH.get(conn.dialect.name)
    if found is not None:
        return found
    day: BindParameter[str] = bindparam("p_day")
    counted = and_(users.c.last_day.is_not(None), users.c.last_day >= day)
    current = case(
        (counted, users.c.streak),
        (users.c.last_day == bindparam("p_yesterday"), users.c.streak + 1),
        else_=1,
    )
    insert = dialect_insert(conn, users).values(
        user_id=bindparam("p_user"),
        updated_at=bindparam("p_now"),
        streak=1,
        best_streak=1,
        last_day=day,
    )
    statement = insert.on_conflict_do_update(
        index_elements=[users.c.user_id],
        set_={
            "streak": current,
            "best_streak": case(
                (current > users.c.best_streak, current), else_=users.c.best_streak
            ),
            "last_day": case((counted, users.c.last_day), else_=day),
        },
    )
    _TOUCH[conn.dialect.name] = statement
    return statement


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None
