"""Quote cards already uploaded: Telegram's file_id, per quote and script."""

from __future__ import annotations

from sqlalchemy import and_, delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content.scripts import Script
from bot.store.engine import insert_or_ignore
from bot.store.schema import card_files


class Cards:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def file_id(self, quote: int, script: Script) -> str | None:
        key = and_(card_files.c.quote == quote, card_files.c.script == script.value)
        async with self.engine.connect() as conn:
            return (await conn.execute(select(card_files.c.file_id).where(key))).scalar()

    async def remember(self, quote: int, script: Script, file_id: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                insert_or_ignore(conn, card_files).values(
                    quote=quote, script=script.value, file_id=file_id
                )
            )
            key = and_(card_files.c.quote == quote, card_files.c.script == script.value)
            await conn.execute(update(card_files).where(key).values(file_id=file_id))

    async def forget(self, quote: int, script: Script) -> None:
        """Drop a file_id Telegram no longer accepts (the card is drawn and uploaded anew)."""
        key = and_(card_files.c.quote == quote, card_files.c.script == script.value)
        async with self.engine.begin() as conn:
            await conn.execute(delete(card_files).where(key))
