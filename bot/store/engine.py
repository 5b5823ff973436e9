"""Opening the database, and the few statements whose SQL differs between dialects."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import Table, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql.dml import Insert


def now() -> int:
    return int(time.time())


def async_url(url: str) -> str:
    """Return the URL with the async driver of its dialect (aiosqlite, asyncpg)."""
    parsed = make_url(url)
    driver = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
    if parsed.drivername in driver:
        parsed = parsed.set(drivername=driver[parsed.drivername])
    return parsed.render_as_string(hide_password=False)


def open_engine(url: str) -> AsyncEngine:
    """Create the engine: one connection for SQLite, a pool for PostgreSQL."""
    parsed = make_url(url)
    sqlite = parsed.drivername.startswith("sqlite")
    if sqlite and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    options: dict[str, object] = {}
    if sqlite:
        # One connection: SQLite runs one writer at a time anyway, and queueing writers
        # on the pool (an asyncio wait) beats SQLite's busy handler, which sleeps.
        options = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 60}
    engine = create_async_engine(async_url(url), **options)
    if sqlite:

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # WAL lets readers run beside the delivery writer; NORMAL is durable per commit
            # in WAL mode against process crashes, which is what the guarantee needs.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=10000")
            cur.close()

    return engine


def insert_or_ignore(conn: AsyncConnection, table: Table) -> Insert:
    """Return an INSERT that does nothing when the primary key already exists."""
    if conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table).on_conflict_do_nothing()
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    raise NotImplementedError(f"no insert-or-ignore for {conn.dialect.name}")
