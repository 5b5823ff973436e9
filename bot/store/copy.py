"""``python -m bot copy-db``: move every row to another database (SQLite to PostgreSQL, say).

The source must already exist at this code's schema: it is opened read-only and never
created or migrated, so a mistyped path is an error rather than an empty database copied
over a full one. The target is brought to the schema, filled in one transaction, and
checked table by table (counts, then rows) afterwards. It is safe to rerun: a target that
already holds exactly the source's rows is left alone, a target holding anything else is
refused unless ``--force`` says to replace its rows, and an empty source never replaces
anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, Table, delete, func, insert, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.ops.failures import StartupError
from bot.ops.failures import describe_db_error as describe
from bot.store import Store, migrate
from bot.store.engine import async_url, lock_sqlite_file
from bot.store.schema import metadata

# Updates seen (processed_updates) are a few hours' guard against Telegram redelivering;
# they are not worth moving. Every other table the schema defines is copied.
NOT_COPIED = frozenset({"processed_updates"})
_BATCH = 5000


def copied_tables(schema: MetaData = metadata) -> list[Table]:
    """Return the tables copy-db moves, parents before children (from the schema itself)."""
    return [table for table in schema.sorted_tables if table.name not in NOT_COPIED]


@dataclass(frozen=True)
class CopyReport:
    counts: dict[str, int]
    copied: bool  # False: the target already had exactly these rows

    def __str__(self) -> str:
        rows = ", ".join(f"{n} {table}" for table, n in self.counts.items())
        if not self.copied:
            return f"nothing to do: the target already holds exactly the source's rows ({rows})"
        return f"copied and verified table by table: {rows}"


def _open_source(url: str) -> AsyncEngine:
    """Open the source read-only; refuse a SQLite file that does not exist."""
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        name = parsed.database or ""
        if name in ("", ":memory:") or not Path(name).is_file():
            raise StartupError(
                f"the source database {name or '(none)'} does not exist: check --from "
                "(copy-db never creates its source)"
            )
        # SQLite's own read-only mode: no write, no journal created, no schema change.
        uri = f"file:{Path(name).resolve()}?mode=ro"
        return create_async_engine("sqlite+aiosqlite:///" + uri + "&uri=true")
    return create_async_engine(
        async_url(url),
        connect_args={"server_settings": {"default_transaction_read_only": "on"}, "timeout": 5},
    )


async def _check_source(source: AsyncEngine, where: str) -> None:
    """Raise StartupError unless the source holds this code's schema, at its head."""

    def has_chats(conn: Any) -> bool:
        return bool(inspect(conn).has_table("chats"))

    async with source.connect() as conn:
        found = await conn.run_sync(migrate.current)
        holds = await conn.run_sync(has_chats)
    if found is None or not holds:
        raise StartupError(
            f"the source database {where} holds no bot schema: check --from "
            "(copy-db copies from a bot's database; it never creates one)"
        )
    if found != migrate.head():
        raise StartupError(
            f"the source database {where} is at schema revision {found}, not {migrate.head()}:"
            " run python -m bot migrate on it first (with this release)"
        )


async def copy_database(source_url: str, target_url: str, *, force: bool = False) -> CopyReport:
    where = make_url(source_url).render_as_string(hide_password=True)
    source = _open_source(source_url)
    lock = lock_sqlite_file(make_url(source_url))  # no bot may write to a SQLite source now
    target = Store(target_url)
    tables = copied_tables()
    try:
        try:
            await _check_source(source, where)
            async with source.connect() as src:
                rows = {table.name: await _rows(src, table) for table in tables}
        except DBAPIError as exc:
            raise StartupError(
                f"the source database {where} cannot be read: {describe(exc)}"
            ) from None
        counts = {name: len(found) for name, found in rows.items()}
        await target.open()
        async with target.engine.begin() as dst:
            existing = {table.name: await _rows(dst, table) for table in tables}
            if existing == rows:
                return CopyReport(counts, copied=False)
            # meta holds a row or two the bot writes itself; anything else is a reader's.
            held = {n: len(found) for n, found in existing.items() if found and n != "meta"}
            if held and not any(n for name, n in counts.items() if name != "meta"):
                raise StartupError(
                    f"the source database {where} is empty and the target holds "
                    f"{_describe_counts(held)}: refusing to replace them with nothing"
                )
            if held and not force:
                raise StartupError(
                    f"the target already holds {_describe_counts(held)}: rerun with --force to "
                    "replace them with the source's"
                )
            for table in reversed(tables):
                await dst.execute(delete(table))
            for table in tables:
                found = rows[table.name]
                for start in range(0, len(found), _BATCH):
                    await dst.execute(insert(table), found[start : start + _BATCH])
                await _reset_sequence(dst, table)
        async with target.engine.connect() as dst:
            for table in tables:
                copied = await _count(dst, table)
                if copied != counts[table.name]:
                    raise StartupError(
                        f"verification failed: table {table.name} has {copied} rows, "
                        f"the source {counts[table.name]}"
                    )
                if await _rows(dst, table) != rows[table.name]:
                    raise StartupError(f"verification failed: table {table.name} differs")
        return CopyReport(counts, copied=True)
    finally:
        await source.dispose()
        await target.close()
        if lock is not None:
            lock.close()


def _describe_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} rows in {name}" for name, n in counts.items())


async def _rows(conn: AsyncConnection, table: Table) -> list[dict[str, Any]]:
    order = list(table.primary_key.columns)
    result = await conn.execute(select(table).order_by(*order))
    return [dict(row._mapping) for row in result]


async def _count(conn: AsyncConnection, table: Table) -> int:
    return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def _reset_sequence(conn: AsyncConnection, table: Table) -> None:
    """Let PostgreSQL number new rows after the copied ones (ids were copied as given)."""
    if conn.dialect.name != "postgresql":
        return
    serial = [c for c in table.primary_key.columns if c.autoincrement is True]
    for column in serial:
        await conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                f"COALESCE((SELECT max({column.name}) FROM {table.name}), 0) + 1, false)"
            )
        )
