"""The bot's database as the benchmark sees it from outside: SQLite or PostgreSQL, and Redis.

Each run gets a database of its own: a SQLite file in the run's directory, or a PostgreSQL
database with a unique name that is dropped afterwards. The benchmark seeds it, makes chats
due (as time passing would) and watches the deliveries being recorded.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.seed import add_subscribers
from bot.store import Store

# The same servers (and variables) as the tests: PostgreSQL and Redis on this machine.
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SQLITE = "sqlite"
POSTGRES = "postgresql"


def _admin_dsn() -> str:
    return make_url(POSTGRES_ADMIN_URL).set(drivername="postgresql").render_as_string(False)


def _where(url: str) -> str:
    parsed = make_url(url)
    return f"{parsed.host}:{parsed.port or ''}"


async def postgres_missing() -> str | None:
    """Return why PostgreSQL cannot be used (None when it answers)."""
    import asyncpg

    try:
        conn = await asyncpg.connect(_admin_dsn(), timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        return f"no PostgreSQL at {_where(POSTGRES_ADMIN_URL)} ({exc})"
    await conn.close()
    return None


async def redis_missing() -> str | None:
    """Return why Redis cannot be used (None when it answers)."""
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    client = Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        return f"no Redis at {_where(REDIS_URL)} ({exc})"
    finally:
        await client.aclose()
    return None


@asynccontextmanager
async def fresh_postgres() -> AsyncIterator[str]:
    """Create a PostgreSQL database for one run; drop it (and its connections) afterwards."""
    import asyncpg

    conn = await asyncpg.connect(_admin_dsn(), timeout=5)
    name = f"bench_{uuid.uuid4().hex[:16]}"
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(False)
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


@asynccontextmanager
async def fresh(kind: str, workdir: Path) -> AsyncIterator[str]:
    """Yield the DATABASE_URL of a new, empty database of ``kind`` for one run."""
    if kind == POSTGRES:
        async with fresh_postgres() as url:
            yield url
    else:
        yield f"sqlite:///{workdir / 'bot.db'}"


class Database:
    """The bot's database, opened beside the bot to seed it and to watch its progress."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.store = Store(url)

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.store.close()

    async def seed(self, first_chat: int, count: int, due_at: int) -> None:
        """Create the schema and ``count`` subscribed private chats due at ``due_at``."""
        await self.store.init()
        await add_subscribers(
            self.store, range(first_chat, first_chat + count), next_due_at=due_at
        )

    async def make_due_now(self) -> int:
        """Make every chat due at this second, from outside the bot (as time passing would)."""
        now = int(time.time())
        async with self.store.engine.begin() as conn:
            await conn.execute(text("UPDATE chats SET next_due_at = :now"), {"now": now})
        return now

    async def unrecorded(self) -> int:
        """Return how many chats have no delivery recorded yet (progress still 0)."""
        async with self.store.engine.connect() as conn:
            found = await conn.execute(text("SELECT count(*) FROM chats WHERE progress = 0"))
            return int(found.scalar_one())
