"""Opening the database, and the few statements whose SQL differs between dialects."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from sqlalchemy import BigInteger, Table, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.functions import FunctionElement

from bot.ops.failures import StartupError
from bot.store import sqlite_inline

if TYPE_CHECKING:
    from sqlalchemy.dialects.postgresql import Insert as PGInsert
    from sqlalchemy.dialects.sqlite import Insert as SQLiteInsert


def now() -> int:
    return int(time.time())


class db_now(FunctionElement[int]):
    """The database's clock in epoch seconds, read by the statement that uses it.

    Leases are decided on it: replicas whose own clocks disagree still agree on who holds
    a claim, since only the database's clock is asked.
    """

    type = BigInteger()
    inherit_cache = True


@compiles(db_now, "postgresql")
def _db_now_postgresql(element: db_now, compiler: SQLCompiler, **kw: Any) -> str:
    return "CAST(FLOOR(EXTRACT(EPOCH FROM statement_timestamp())) AS BIGINT)"


@compiles(db_now, "sqlite")
def _db_now_sqlite(element: db_now, compiler: SQLCompiler, **kw: Any) -> str:
    return "CAST(strftime('%s', 'now') AS INTEGER)"


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
        folder = Path(parsed.database).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StartupError(
                f"cannot create the database folder {folder} ({exc.strerror}): "
                "check DATABASE_URL, or create the folder and let the bot write to it"
            ) from None
    if sqlite:
        # One connection: SQLite runs one writer at a time anyway, and queueing writers
        # on the pool (an asyncio wait) beats SQLite's busy handler, which sleeps.
        # No reset on return: every connection block ends its own transaction, and the
        # extra rollback is one more trip to the driver's thread on every call.
        options: dict[str, object] = {
            "pool_size": 1,
            "max_overflow": 0,
            "pool_timeout": 60,
            "pool_reset_on_return": None,
        }
        if not parsed.query:  # URL options are the driver's to read: leave those to it
            options["async_creator"] = sqlite_inline.creator(parsed.database or ":memory:")
    else:
        # A replica's handlers and deliverer share these.
        options = {
            "pool_size": 10,
            "max_overflow": 10,
            "pool_timeout": 10,
            "pool_recycle": 1800,
            "connect_args": {
                "timeout": 5,
                # Our transactions take milliseconds. One left open longer is a process that
                # froze mid-way (a paused VM, a swap storm): end it, so that the rows it
                # locked - leased chats among them - can be taken by the replicas still up.
                "server_settings": {"idle_in_transaction_session_timeout": "10000"},
            },
        }
    engine = create_async_engine(async_url(url), **options)
    if not sqlite:
        _ping_when_idle(engine)
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
            # The driver would commit before every DDL statement; we begin ourselves (below)
            # so that a migration is one transaction, as on PostgreSQL.
            dbapi_conn.isolation_level = None

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(conn: Any) -> None:
            # IMMEDIATE takes the write lock at once: a read-then-write transaction (a claim)
            # cannot be overtaken by another process's write between its two statements.
            immediate = conn.get_execution_options().get("sqlite_immediate")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


# A connection idle longer than this is pinged before use.
IDLE_PING_SECONDS = 1.0


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Replace a connection that died while idle (a database restart) before it is used.

    SQLAlchemy's pre-ping asks on every checkout: a round trip that cost a third of a short
    query's CPU. A connection that went back to the pool a moment ago was alive then; one
    that sat idle is asked first, and a dead one is swapped for a fresh one (the pool does
    that when a checkout listener raises DisconnectionError).
    """
    pool = engine.sync_engine.pool
    dialect = engine.sync_engine.dialect

    @event.listens_for(pool, "checkin")
    def _idle_from(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _ping(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_conn)
        except Exception as exc:
            raise DisconnectionError("connection lost while idle") from exc


def one_statement(engine: AsyncEngine) -> AsyncEngine:
    """Return the engine to run a lone statement on, committed as it runs.

    On PostgreSQL one statement is atomic by itself, and BEGIN and COMMIT around it are two
    more round trips to the server (of three). SQLite's transactions are calls into the
    library, not round trips: it keeps them.
    """
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return engine


def dialect_insert(conn: AsyncConnection, table: Table) -> SQLiteInsert | PGInsert:
    """Return the dialect's INSERT, which knows ON CONFLICT (both spell it alike)."""
    # Imported here: the PostgreSQL dialect costs every SQLite start 20 ms otherwise.
    if conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    raise NotImplementedError(f"no upsert for {conn.dialect.name}")


def insert_or_ignore(conn: AsyncConnection, table: Table) -> Insert:
    """Return an INSERT that does nothing when the primary key already exists."""
    return dialect_insert(conn, table).on_conflict_do_nothing()


def lock_sqlite_file(url: URL) -> IO[str] | None:
    """Take an exclusive lock beside a SQLite file for this process's life; None elsewhere."""
    if not url.drivername.startswith("sqlite") or url.database in (None, "", ":memory:"):
        return None
    handle = open(f"{url.database}.lock", "a+")  # noqa: SIM115 - held until the process ends
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise StartupError(
            f"another bot ({holder}) is already running on {url.database}: stop it first, "
            "or give this one its own DATABASE_URL (two would handle every update twice)"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}")
    handle.flush()
    return handle
