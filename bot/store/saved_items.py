"""What readers keep: saved quotes, sections and passages, and the passages made into cards."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content.scripts import Script
from bot.store.engine import insert_or_ignore
from bot.store.schema import passages, saved_items


@dataclass(frozen=True)
class SavedItem:
    kind: str  # q: quote, s: section, p: passage
    number: int  # the quote's or section's number, or the passage's id
    saved_at: int


@dataclass(frozen=True)
class Passage:
    id: int
    section: int
    script: Script
    text: str


class Saved:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def toggle(
        self, user_id: int, kind: str, number: int, at: int, want: bool | None = None
    ) -> bool:
        """Save the item for the user at ``at`` (epoch s), or unsave it if saved; with
        ``want``, save (True) or unsave (False) whatever it was. Return whether it is saved.

        One transaction: a double tap (or Telegram repeating the press) sees the first
        tap's result, never a half of it. Saves within one second still list newest first:
        each is stamped at least a second after the user's newest.
        """
        key = and_(
            saved_items.c.user_id == user_id,
            saved_items.c.kind == kind,
            saved_items.c.number == number,
        )
        async with self.engine.begin() as conn:
            if want is not True:
                removed = await conn.execute(delete(saved_items).where(key))
                if removed.rowcount or want is False:
                    return False
            newest = select(func.max(saved_items.c.saved_at)).where(
                saved_items.c.user_id == user_id
            )
            latest = (await conn.execute(newest)).scalar()
            stamp = max(at, int(latest) + 1) if latest is not None else at
            await conn.execute(
                insert_or_ignore(conn, saved_items).values(
                    user_id=user_id, kind=kind, number=number, saved_at=stamp
                )
            )
        return True

    async def remove(self, user_id: int, kind: str, number: int) -> bool:
        """Unsave an item; return whether it was saved."""
        async with self.engine.begin() as conn:
            removed = await conn.execute(
                delete(saved_items).where(
                    and_(
                        saved_items.c.user_id == user_id,
                        saved_items.c.kind == kind,
                        saved_items.c.number == number,
                    )
                )
            )
        return bool(removed.rowcount)

    async def is_saved(self, user_id: int, kind: str, number: int) -> bool:
        query = select(func.count()).where(
            and_(
                saved_items.c.user_id == user_id,
                saved_items.c.kind == kind,
                saved_items.c.number == number,
            )
        )
        async with self.engine.connect() as conn:
            return bool((await conn.execute(query)).scalar_one())

    async def newest(self, user_id: int, limit: int) -> tuple[list[SavedItem], int]:
        """Return the user's newest ``limit`` saved items, newest first, and how many in all."""
        query = (
            select(saved_items.c.kind, saved_items.c.number, saved_items.c.saved_at)
            .where(saved_items.c.user_id == user_id)
            .order_by(saved_items.c.saved_at.desc(), saved_items.c.kind, saved_items.c.number)
            .limit(limit)
        )
        count = select(func.count()).where(saved_items.c.user_id == user_id)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
            total = int((await conn.execute(count)).scalar_one())
        return [SavedItem(r.kind, r.number, r.saved_at) for r in rows], total

    async def keep_passage(self, section: int, script: Script, text: str) -> int:
        """Store a passage (once: the same words give the same id) and return its id."""
        key = and_(
            passages.c.section == section,
            passages.c.script == script.value,
            passages.c.text == text,
        )
        async with self.engine.begin() as conn:
            found = (await conn.execute(select(passages.c.id).where(key))).scalar()
            if found is not None:
                return int(found)
            await conn.execute(
                insert_or_ignore(conn, passages).values(
                    section=section, script=script.value, text=text
                )
            )
            return int((await conn.execute(select(passages.c.id).where(key))).scalar_one())

    async def passage(self, passage_id: int) -> Passage | None:
        query = select(passages).where(passages.c.id == passage_id)
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        return Passage(row.id, row.section, Script(row.script), row.text)

    async def passages(self, ids: list[int]) -> dict[int, Passage]:
        if not ids:
            return {}
        query = select(passages).where(passages.c.id.in_(ids))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return {r.id: Passage(r.id, r.section, Script(r.script), r.text) for r in rows}
