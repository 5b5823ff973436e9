"""``python -m bot copy-db``: move every row to another database (SQLite to PostgreSQL, say).

Both databases are brought to this code's schema first. The copy is one transaction on the
target and is checked row by row afterwards. It is safe to rerun: a target that already
holds exactly the source's rows is left alone, and a target holding anything else is
refused unless ``--force`` says to replace its rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.ops.failures import StartupError
from bot.store import Store
from bot.store.schema import chat_moves, chats, deliveries, meta, users

# What a bot's state is made of. Updates seen (processed_updates) are a few hours' guard
# against Telegram redelivering; they are not worth moving.
TABLES: tuple[Table, ...] = (chats, users, chat_moves, deliveries, meta)
_BATCH = 5000


@dataclass(frozen=True)
class CopyReport:
    counts: dict[str, int]
    copied: bool  # False: the target already had exactly these rows

    def __str__(self) -> str:
        rows = ", ".join(f"{n} {table}" for table, n in self.counts.items())
        if not self.copied:
            return f"nothing to do: the target already holds exactly the source's rows ({rows})"
        return f"copied and verified row by row: {rows}"


async def copy_database(source_url: str, target_url: str, *, force: bool = False) -> CopyReport:
    source, target = Store(source_url), Store(target_url)
    try:
        source.hold_exclusive()  # no bot may write to a SQLite source while it is copied
        await source.open()
        await target.open()
        async with source.engine.connect() as src:
            rows = {table.name: await _rows(src, table) for table in TABLES}
        async with target.engine.begin() as dst:
            existing = {table.name: await _rows(dst, table) for table in TABLES}
            counts = {name: len(found) for name, found in rows.items()}
            if existing == rows:
                return CopyReport(counts, copied=False)
            held = await _count(dst, chats) + await _count(dst, users)
            if held and not force:
                raise StartupError(
                    f"the target already holds {held} chats and users: rerun with --force to "
                    "replace them with the source's"
                )
            for table in reversed(TABLES):
                await dst.execute(delete(table))
            for table in TABLES:
                found = rows[table.name]
                for start in range(0, len(found), _BATCH):
                    await dst.execute(insert(table), found[start : start + _BATCH])
            await _reset_sequence(dst, deliveries)
        async with target.engine.connect() as dst:
            for table in TABLES:
                if await _rows(dst, table) != rows[table.name]:
                    raise StartupError(f"verification failed: table {table.name} differs")
        return CopyReport(counts, copied=True)
    finally:
        await source.close()
        await target.close()


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
    await conn.execute(
        text(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
            f"COALESCE((SELECT max(id) FROM {table.name}), 0) + 1, false)"
        )
    )
