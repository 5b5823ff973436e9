"""Schema migrations on SQLite and PostgreSQL: adoption of a first-release database, agreement
of the models with the migrated schema, refusal of a newer schema, and one migration when
several processes start at once."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, closing
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection

from bot.store import SchemaError, Store, metadata
from bot.store.migrate import (
    BASELINE,
    COMPATIBLE_KEY,
    HEAD,
    MIGRATIONS,
    check_current,
    current,
    head,
    upgrade,
)
from tests.conftest import fresh_postgres

DATA = Path(__file__).with_name("data")
ROOT = Path(__file__).resolve().parents[1]

CHATS: list[dict[str, Any]] = [
    # Every column of the first release, with values a real database holds.
    {"chat_id": 1001, "kind": "private", "title": "Ann", "script": "simplified", "progress": 2,
     "read_mask": 3, "active": True, "subscribed": True, "delivery_time": "07:30",
     "timezone": "America/New_York", "quiet": True, "thread_id": None,
     "next_due_at": 1_800_000_000, "claimed_until": None, "claim_token": None, "failures": 0,
     "finished": False, "updated_at": 1_700_000_001},
    {"chat_id": -1001234567890, "kind": "supergroup", "title": "讀書會", "script": "traditional",
     "progress": 5, "read_mask": 31, "active": True, "subscribed": True,
     "delivery_time": "21:00", "timezone": "Asia/Taipei", "quiet": False, "thread_id": 42,
     "next_due_at": None, "claimed_until": None, "claim_token": None, "failures": 0,
     "finished": True, "updated_at": 1_700_000_002},
    {"chat_id": -4001, "kind": "group", "title": "Old group", "script": None, "progress": 1,
     "read_mask": 1, "active": False, "subscribed": True, "delivery_time": "08:00",
     "timezone": None, "quiet": False, "thread_id": None, "next_due_at": None,
     "claimed_until": 1_700_000_100, "claim_token": "00000000-0000-0000-0000-000000000001",
     "failures": 3, "finished": False, "updated_at": 1_700_000_003},
]  # fmt: skip
USERS: list[dict[str, Any]] = [
    {"user_id": 1001, "script": "simplified", "updated_at": 1_700_000_010},
    {"user_id": 1002, "script": None, "updated_at": 1_700_000_011},
]


@pytest.fixture(params=["sqlite", "postgresql"])
async def url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with AsyncExitStack() as stack:
        if request.param == "sqlite":
            yield f"sqlite:///{tmp_path / 'bot.db'}"
        else:
            yield await stack.enter_async_context(fresh_postgres())


async def _first_release_database(url: str) -> None:
    """Create the schema and rows the first release would have left behind."""
    store = Store(url)
    dialect = store.engine.dialect.name
    lines = (DATA / f"schema_v1_{dialect}.sql").read_text().splitlines()
    ddl = "\n".join(line for line in lines if not line.startswith("--"))
    async with store.engine.begin() as conn:
        for statement in filter(str.strip, ddl.split(";")):
            await conn.execute(text(statement))
        await conn.execute(
            text(
                "INSERT INTO chats VALUES (:chat_id, :kind, :title, :script, :progress, "
                ":read_mask, :active, :subscribed, :delivery_time, :timezone, :quiet, "
                ":thread_id, :next_due_at, :claimed_until, :claim_token, :failures, "
                ":finished, :updated_at)"
            ),
            CHATS,
        )
        await conn.execute(
            text("INSERT INTO users VALUES (:user_id, :script, :updated_at)"), USERS
        )
    await store.close()


async def _rows(store: Store, table: str, key: str) -> list[dict[str, Any]]:
    async with store.engine.connect() as conn:
        result = await conn.execute(text(f"SELECT * FROM {table} ORDER BY {key}"))
        return [dict(row._mapping) for row in result]


def _differences(connection: Connection) -> list[Any]:
    return list(compare_metadata(MigrationContext.configure(connection), metadata))


async def test_a_new_database_is_created_at_head_and_matches_the_models(url: str) -> None:
    store = Store(url)
    try:
        done = await store.init()
        assert (done.before, done.after, done.adopted) == (None, head(), False)
        async with store.engine.connect() as conn:
            assert await conn.run_sync(_differences) == []
        again = await store.init()
        assert not again.changed
    finally:
        await store.close()


async def test_a_first_release_database_is_adopted_with_every_row_kept(url: str) -> None:
    await _first_release_database(url)
    store = Store(url)
    try:
        done = await store.init()
        assert done.adopted and done.before is None and done.after == head()
        # Every row and every value the first release held is there; newer columns are
        # added beside them with their defaults.
        kept = await _rows(store, "chats", "chat_id")
        assert [{k: row[k] for k in CHATS[0]} for row in kept] == sorted(
            CHATS, key=lambda c: c["chat_id"]
        )
        assert all(bool(row["onthisday"]) and row["started_at"] is None for row in kept)
        users = await _rows(store, "users", "user_id")
        assert [{k: row[k] for k in USERS[0]} for row in users] == USERS
        assert all(row["streak"] == 0 for row in users)
        async with store.engine.connect() as conn:
            assert await conn.run_sync(_differences) == []
            version = await conn.execute(
                text("SELECT value FROM meta WHERE key = 'schema_version'")
            )
            assert version.scalar() == "2"  # the first release now refuses to run on it
        # The typed model reads the adopted rows.
        ann = await store.chats.get(1001)
        assert ann is not None and ann.timezone is not None
        assert (ann.timezone.key, str(ann.delivery_time), ann.quiet) == (
            "America/New_York",
            "07:30:00",
            True,
        )
    finally:
        await store.close()


async def test_a_schema_newer_than_the_code_is_refused_with_one_clear_line(url: str) -> None:
    store = Store(url)
    try:
        await store.init()
        async with store.engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
            # ... by a release whose schema needs code newer than this one
            await conn.execute(
                text("UPDATE meta SET value = '9998' WHERE key = :k"), {"k": COMPATIBLE_KEY}
            )
        with pytest.raises(SchemaError, match="9999, newer than this bot"):
            await store.init()
    finally:
        await store.close()


async def test_a_newer_schema_marked_compatible_runs_without_migrating(url: str) -> None:
    store = Store(url)
    try:
        await store.init()
        async with store.engine.connect() as conn:
            marked = await conn.execute(
                text("SELECT value FROM meta WHERE key = :k"), {"k": COMPATIBLE_KEY}
            )
            assert marked.scalar() == "0003"  # this release's migration keeps 0003 running
        # A later release migrated the database and says this code may still run on it.
        async with store.engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
            await conn.execute(
                text("UPDATE meta SET value = :v WHERE key = :k"),
                {"v": head(), "k": COMPATIBLE_KEY},
            )
        done = await store.init()
        assert (done.before, done.after, done.changed) == ("9999", "9999", False)
        await check_current(store.engine)  # ready: /readyz does not fail on it
        async with store.engine.connect() as conn:
            assert await conn.run_sync(current) == "9999"  # not touched
        # One that needs code newer than this is refused, at start and in readiness.
        async with store.engine.begin() as conn:
            await conn.execute(
                text("UPDATE meta SET value = '9998' WHERE key = :k"), {"k": COMPATIBLE_KEY}
            )
        with pytest.raises(SchemaError, match="not marked compatible"):
            await store.init()
        with pytest.raises(SchemaError):
            await check_current(store.engine)
    finally:
        await store.close()


async def test_a_database_with_foreign_tables_is_not_adopted(url: str) -> None:
    store = Store(url)
    try:
        async with store.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE chats (id INTEGER PRIMARY KEY)"))
            await conn.execute(text("CREATE TABLE meta (key VARCHAR(64), value VARCHAR(256))"))
        with pytest.raises(SchemaError, match="not made by this bot"):
            await store.init()
    finally:
        await store.close()


_MIGRATE_ONCE = """
import asyncio, json, sys
from bot.store import Store

async def main():
    store = Store(sys.argv[1])
    done = await store.init()
    await store.close()
    print(json.dumps({"changed": done.changed, "adopted": done.adopted}))

asyncio.run(main())
"""


async def test_processes_starting_together_migrate_once(url: str) -> None:
    await _first_release_database(url)

    async def start() -> dict[str, bool]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _MIGRATE_ONCE,
            url,
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()[-2000:]
        result: dict[str, bool] = json.loads(out)
        return result

    results = await asyncio.gather(*(start() for _ in range(3)))
    assert sorted(r["changed"] for r in results) == [False, False, True]
    assert sum(r["adopted"] for r in results) == 1
    store = Store(url)
    try:
        assert len(await _rows(store, "chats", "chat_id")) == len(CHATS)
    finally:
        await store.close()


async def test_a_retry_time_kept_in_the_lease_column_moves_to_its_own(url: str) -> None:
    """Before 0004 a failed delivery's retry time sat in claimed_until, on a replica's clock."""
    await _first_release_database(url)
    old = Store(url)
    async with old.engine.begin() as conn:
        await conn.execute(
            text("UPDATE chats SET claimed_until = 1700000200 WHERE chat_id = 1001")
        )
    await old.close()
    store = Store(url)
    try:
        await store.init()
        rows = {row["chat_id"]: row for row in await _rows(store, "chats", "chat_id")}
    finally:
        await store.close()
    retrying, leased = rows[1001], rows[-4001]
    assert (retrying["claimed_until"], retrying["retry_at"]) == (None, 1_700_000_200)
    assert (leased["claimed_until"], leased["retry_at"]) == (1_700_000_100, None)
    assert not retrying["sending"] and not leased["sending"]


def test_the_baseline_is_the_first_revision() -> None:
    assert BASELINE == "0001" and head() != BASELINE


async def test_migrate_down_to_the_previous_release_and_up_again(tmp_path: Path) -> None:
    import subprocess

    url = f"sqlite:///{tmp_path / 'bot.db'}"

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", "migrate", *args],
            cwd=tmp_path,
            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "DATABASE_URL": url},
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert cli().returncode == 0
    store = Store(url)
    try:
        await store.chats.change(1, lambda c: c, create=("private", "Ann"))
        down = cli("--down-to", "0003")
        assert down.returncode == 0, down.stderr
        assert f"back from {head()} to 0003" in down.stdout
        async with store.engine.connect() as conn:
            assert await conn.run_sync(current) == "0003"
            columns = (await conn.execute(text("PRAGMA table_info(chats)"))).all()
            assert "parked_reason" not in {c[1] for c in columns}
            kept = await conn.execute(text("SELECT count(*) FROM chats"))
            assert kept.scalar() == 1  # rows stay
        unknown = cli("--down-to", "0999")
        assert unknown.returncode == 2 and "not one this bot knows" in unknown.stderr
        assert cli().returncode == 0
        async with store.engine.connect() as conn:
            assert await conn.run_sync(current) == head()
    finally:
        await store.close()


def test_the_head_the_code_names_is_alembics() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD


async def test_a_database_at_head_starts_without_loading_alembic(tmp_path: Path) -> None:
    # Alembic costs a start 11 MB and a tenth of a second; it is needed only to migrate.
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    store = Store(url)
    assert (await upgrade(store.engine)).after == HEAD
    await store.engine.dispose()
    program = f"""
import asyncio, sys
from bot.store import Store
from bot.store.migrate import check_current, upgrade
async def main():
    store = Store("{url}")
    again = await upgrade(store.engine)
    await check_current(store.engine)
    await store.engine.dispose()
    print(again.after, again.changed, "alembic" in sys.modules)
asyncio.run(main())
"""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", program, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    assert process.returncode == 0
    assert out.decode().split() == [HEAD, "False", "False"]


def _sqlite_schema(path: Path) -> dict[str, Any]:
    """Every table's columns, indexes and foreign keys, and the rows a new database holds."""
    with closing(sqlite3.connect(path)) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        found: dict[str, Any] = {}
        for table in tables:
            columns = {r[1]: r[2:] for r in db.execute(f"PRAGMA table_info('{table}')")}
            indexes = {
                tuple(c[2] for c in db.execute(f"PRAGMA index_info('{name}')")): unique
                for _, name, unique, *_ in db.execute(f"PRAGMA index_list('{table}')")
            }
            keys = sorted(r[2:5] for r in db.execute(f"PRAGMA foreign_key_list('{table}')"))
            rows = sorted(map(tuple, db.execute(f"SELECT * FROM '{table}'")))
            found[table] = (columns, indexes, keys, rows)
        return found


async def test_a_new_sqlite_database_made_from_the_models_is_what_the_migrations_make(
    tmp_path: Path,
) -> None:
    made = {}
    for name, from_models in (("models", True), ("migrations", False)):
        path = tmp_path / f"{name}.db"
        store = Store(f"sqlite:///{path}")
        assert (await upgrade(store.engine, from_models=from_models)).after == HEAD
        await store.close()
        made[name] = _sqlite_schema(path)
    assert made["models"] == made["migrations"]
