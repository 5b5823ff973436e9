"""copy-db: a mistyped or empty source never wipes a target, and every table is moved."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import BigInteger, Boolean, Column, Integer, MetaData, String, Table, insert, text

from bench.seed import add_subscribers
from bot.ops.failures import StartupError
from bot.store import Store, migrate
from bot.store.copy import NOT_COPIED, copied_tables, copy_database
from bot.store.schema import metadata
from tests.replicas import ROOT


def _value(column: Column[Any], n: int) -> Any:
    """Return a plausible value of the column's type (the n-th row's)."""
    kind = column.type
    if isinstance(kind, Boolean):
        return n % 2 == 0
    if isinstance(kind, Integer | BigInteger):
        return 1000 + n
    if isinstance(kind, String):
        return f"v{n}"[: kind.length or 16]
    raise AssertionError(f"no sample value for {column} ({kind}): teach this test its type")


async def _fill_every_table(store: Store, rows: int) -> None:
    """Put rows in every table the schema defines, whatever tables it has by now."""
    async with store.engine.begin() as conn:
        for table in metadata.sorted_tables:
            await conn.execute(
                insert(table),
                [{c.name: _value(c, n) for c in table.columns} for n in range(rows)],
            )


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "copy-db", *args],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )


async def _counts(url: str) -> dict[str, int]:
    store = Store(url)
    try:
        async with store.engine.connect() as conn:
            return {
                t.name: (await conn.execute(text(f"SELECT count(*) FROM {t.name}"))).scalar_one()
                for t in metadata.sorted_tables
            }
    finally:
        await store.close()


@pytest.fixture
async def full_target(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'target.db'}"
    store = Store(url)
    await store.init()
    await add_subscribers(store, range(1, 2043), next_due_at=1_800_000_000)
    await store.close()
    return url


def test_copied_tables_follow_the_schema_so_a_new_table_cannot_be_forgotten() -> None:
    names = {t.name for t in copied_tables()}
    assert names == set(metadata.tables) - NOT_COPIED
    assert {"quiz_polls", "quiz_answers", "quiz_scores", "card_files"} <= names
    grown = MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(grown)
    Table("bookmarks", grown, Column("chat_id", BigInteger, primary_key=True))
    assert "bookmarks" in {t.name for t in copied_tables(grown)}


async def test_a_mistyped_source_is_refused_and_never_created(
    tmp_path: Path, full_target: str
) -> None:
    typo = tmp_path / "typo.db"
    result = _cli(tmp_path, "--from", f"sqlite:///{typo}", "--to", full_target, "--force")
    assert result.returncode == 2
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr
    assert list(tmp_path.glob("typo*")) == []
    assert (await _counts(full_target))["chats"] == 2042


async def test_a_source_without_the_schema_is_refused_and_left_untouched(
    tmp_path: Path, full_target: str
) -> None:
    stray = tmp_path / "stray.db"
    import sqlite3

    with sqlite3.connect(stray) as conn:
        conn.execute("CREATE TABLE notes (x INTEGER)")
    before = stray.read_bytes()
    result = _cli(tmp_path, "--from", f"sqlite:///{stray}", "--to", full_target, "--force")
    assert result.returncode == 2 and "holds no bot schema" in result.stderr
    assert stray.read_bytes() == before  # not migrated
    assert (await _counts(full_target))["chats"] == 2042


async def test_an_older_source_is_refused_not_migrated(tmp_path: Path, full_target: str) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    store = Store(url)
    await store.init()
    async with store.engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '0002'"))
    await store.close()
    with pytest.raises(StartupError, match="run python -m bot migrate on it first"):
        await copy_database(url, full_target, force=True)
    store = Store(url)
    try:
        async with store.engine.connect() as conn:
            assert await conn.run_sync(migrate.current) == "0002"
    finally:
        await store.close()


async def test_an_empty_source_never_overwrites_a_target_even_forced(
    tmp_path: Path, full_target: str
) -> None:
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    store = Store(empty)
    await store.init()
    await store.close()
    result = _cli(tmp_path, "--from", empty, "--to", full_target, "--force")
    assert result.returncode == 2 and "is empty" in result.stderr
    assert (await _counts(full_target))["chats"] == 2042


async def test_every_table_is_copied_and_counted(tmp_path: Path) -> None:
    source_url = f"sqlite:///{tmp_path / 'source.db'}"
    source = Store(source_url)
    await source.init()
    async with source.engine.begin() as conn:  # the row migrations leave in meta
        await conn.execute(text("DELETE FROM meta"))
    await _fill_every_table(source, rows=3)
    await source.close()
    target_url = f"sqlite:///{tmp_path / 'target.db'}"
    result = _cli(tmp_path, "--from", source_url, "--to", target_url)
    assert result.returncode == 0, result.stderr
    for table in copied_tables():
        assert f"3 {table.name}" in result.stdout
    counts = await _counts(target_url)
    assert {name: n for name, n in counts.items() if name not in NOT_COPIED} == {
        t.name: 3 for t in copied_tables()
    }
    again = _cli(tmp_path, "--from", source_url, "--to", target_url)
    assert again.returncode == 0 and "nothing to do" in again.stdout
