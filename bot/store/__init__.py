"""The database (SQLAlchemy Core, async): SQLite by default, PostgreSQL by URL.

``Store`` opens the engine and owns three repositories: ``chats``, ``users`` and the
delivery ``queue``. Dialect details stay inside this package.
"""

from __future__ import annotations

from sqlalchemy import insert, select

from bot.store.chats import Chats
from bot.store.engine import open_engine
from bot.store.queue import Delivered, DeliveryQueue
from bot.store.schema import chats, meta, metadata, users
from bot.store.users import Users

SCHEMA_VERSION = 1

__all__ = ["Delivered", "Store", "chats", "metadata", "users"]


class Store:
    """The database: chats, users and the delivery queue."""

    def __init__(self, url: str) -> None:
        self.engine = open_engine(url)
        self.chats = Chats(self.engine)
        self.users = Users(self.engine)
        self.queue = DeliveryQueue(self.engine)

    async def init(self) -> None:
        """Create the schema, or check that an existing one is a version this code knows."""
        async with self.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
            version = (
                await conn.execute(select(meta.c.value).where(meta.c.key == "schema_version"))
            ).scalar()
            if version is None:
                await conn.execute(
                    insert(meta).values(key="schema_version", value=str(SCHEMA_VERSION))
                )
            elif int(version) > SCHEMA_VERSION:
                raise RuntimeError(
                    f"database schema version {version} is newer than this bot ({SCHEMA_VERSION})"
                )

    async def close(self) -> None:
        await self.engine.dispose()
