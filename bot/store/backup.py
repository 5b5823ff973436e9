"""``python -m bot backup --to FILE``: a consistent copy of the SQLite database, bot running.

SQLite's online backup API copies the pages of a live database (WAL mode lets the bot keep
writing meanwhile) into a new file. The copy is written beside its destination under a
temporary name, checked (``PRAGMA integrity_check`` and its schema revision), then renamed
into place, so FILE is either a whole backup or absent. PostgreSQL has its own tool:
``pg_dump`` (see the operators' documentation).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.ops.failures import StartupError

_PAGES_PER_STEP = 1024  # the bot's writes get the lock between steps


@dataclass(frozen=True)
class BackupReport:
    path: Path
    size: int
    chats: int
    revision: str | None

    def __str__(self) -> str:
        return (
            f"backed up {self.chats} chats (schema revision {self.revision}) to {self.path} "
            f"({self.size / 2**20:.1f} MiB), integrity checked"
        )


async def backup(database_url: str, to: Path, *, force: bool = False) -> BackupReport:
    """Copy the SQLite database at ``database_url`` into ``to``; raise StartupError if not."""
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite"):
        raise StartupError(
            f"backup copies SQLite databases; for {url.drivername} use its own tool "
            "(PostgreSQL: pg_dump --format=custom)"
        )
    source = Path(url.database or "")
    if not source.is_file():
        raise StartupError(f"the database {source} does not exist: check DATABASE_URL")
    if to.exists() and not force:
        raise StartupError(f"{to} exists already: choose another name, or pass --force")
    if to.resolve() == source.resolve():
        raise StartupError("the backup cannot replace the database itself")
    return await asyncio.to_thread(_backup, source, to)


def _backup(source: Path, to: Path) -> BackupReport:
    to.parent.mkdir(parents=True, exist_ok=True)
    partial = to.with_name(f".{to.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        src = sqlite3.connect(f"file:{source.resolve()}?mode=ro", uri=True, timeout=30)
        try:
            dst = sqlite3.connect(partial)
            try:
                src.backup(dst, pages=_PAGES_PER_STEP)
                dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
                verdict = dst.execute("PRAGMA integrity_check").fetchone()[0]
                if verdict != "ok":
                    raise StartupError(f"the backup failed its integrity check: {verdict}")
                chats = dst.execute("SELECT count(*) FROM chats").fetchone()[0]
                revision = dst.execute("SELECT version_num FROM alembic_version").fetchone()
            finally:
                dst.close()
        finally:
            src.close()
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise StartupError(f"the backup of {source} failed: {exc}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, to)
    return BackupReport(to, to.stat().st_size, int(chats), revision[0] if revision else None)
