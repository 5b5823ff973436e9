"""Bring the database to this code's schema with Alembic: once, under a lock, never losing rows.

A database made by the first release (a ``meta`` row saying schema_version 1, no Alembic
table) is adopted: stamped at the baseline revision, then upgraded. A database at a
revision this code does not know is newer than the code: it runs on it (without migrating)
when the newer release's migrations said so, in the ``meta`` row COMPATIBLE_KEY naming the
oldest revision whose code still reads and writes that schema correctly, and this code
knows that revision. That is what lets a rolling upgrade migrate first while the previous
release keeps running, and a rollback run the previous release again. Otherwise the
database is refused with a clear message.
"""

from __future__ import annotations

import fcntl
import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
BASELINE = "0001"
# The newest revision in migrations/versions; tests/test_migrations.py holds it to Alembic's
# head. A database already there is recognised without importing Alembic (11 MB and a
# tenth of a second at every start): Alembic is loaded only to migrate or to judge a
# revision this code does not have at its head.
HEAD = "0007"
# Any constant: the PostgreSQL advisory lock that makes replicas starting together migrate once.
_LOCK_KEY = 0x5E12_1A1


# The meta row a migration writes: the oldest revision whose code can run on its schema.
COMPATIBLE_KEY = "schema_compatible_from"
# The rows the migrations leave in ``meta`` of a new database (held to them by a test).
NEW_DATABASE_META = {"schema_version": "2", COMPATIBLE_KEY: "0003"}


class SchemaError(Exception):
    """The database's schema cannot be used by this code; the message says why."""


@dataclass(frozen=True)
class Migration:
    before: str | None  # the revision found (None: an empty or first-release database)
    after: str
    adopted: bool  # a first-release database was taken over

    @property
    def changed(self) -> bool:
        return self.before != self.after


def _config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache
def _revisions() -> tuple[str, frozenset[str]]:
    """Return the newest revision this code knows, and every one it knows.

    Read once: the migrations are files shipped with the code, and reading them loads each
    one, which the health check every two seconds would otherwise repeat.
    """
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_config())
    found = script.get_current_head()
    assert found is not None
    return found, frozenset(r.revision for r in script.walk_revisions())


def head() -> str:
    """Return the newest revision this code knows."""
    return _revisions()[0]


def current(connection: Connection) -> str | None:
    """Return the database's revision: Alembic's one-row table (None before any)."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _known(revision: str) -> bool:
    return revision in _revisions()[1]


def _compatible(connection: Connection) -> bool:
    """Tell whether a newer release's schema says this code may run on it."""
    if not inspect(connection).has_table("meta"):
        return False
    oldest = connection.execute(
        text("SELECT value FROM meta WHERE key = :key"), {"key": COMPATIBLE_KEY}
    ).scalar()
    return oldest is not None and _known(oldest)


def _check_known(revision: str | None, connection: Connection | None = None) -> None:
    if revision is None or _known(revision):
        return
    if connection is not None and _compatible(connection):
        return
    raise SchemaError(
        f"the database schema is at revision {revision}, newer than this bot knows "
        f"(its newest is {head()}) and not marked compatible with it: run the newer "
        "release, or restore a backup"
    )


def _create(connection: Connection) -> Migration:
    """Create an empty SQLite database from the models and stamp it at head.

    Alembic's recipe for a new database ("create_all, then stamp"), done without loading
    Alembic: the embedded default's first start is a third faster and 11 MB lighter. A test
    holds the result to what the migrations make. PostgreSQL always migrates.
    """
    from bot.store.schema import meta, metadata

    metadata.create_all(connection)
    connection.execute(
        meta.insert(), [{"key": k, "value": v} for k, v in NEW_DATABASE_META.items()]
    )
    connection.execute(
        text(
            "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
            "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
        )
    )
    connection.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": HEAD})
    return Migration(None, HEAD, False)


def _empty(connection: Connection) -> bool:
    return not inspect(connection).get_table_names()


def _upgrade(connection: Connection, from_models: bool = True) -> Migration:
    if connection.dialect.name == "postgresql":
        # Held until this transaction ends: a replica starting at the same moment waits
        # here, then finds the schema current and does nothing.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    before = current(connection)
    if before == HEAD:
        return Migration(before, before, False)
    if from_models and connection.dialect.name == "sqlite" and _empty(connection):
        return _create(connection)
    from alembic import command

    _check_known(before, connection)
    if before is not None and not _known(before):
        return Migration(before, before, False)  # a newer release's, compatible: run as is
    adopted = False
    if before is None and inspect(connection).has_table("chats"):
        version = connection.execute(
            text("SELECT value FROM meta WHERE key = 'schema_version'")
        ).scalar()
        if version != "1":
            raise SchemaError(
                f"the database has tables but no migration history (schema_version "
                f"{version!r}); it was not made by this bot"
            )
        command.stamp(_config(connection), BASELINE)
        adopted = True
    target = head()
    if (BASELINE if adopted else before) != target:
        command.upgrade(_config(connection), "head")
    return Migration(before, target, adopted)


@contextmanager
def _file_lock(url: str) -> Iterator[None]:
    """Serialise migrations of one SQLite file across processes (PostgreSQL locks itself)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        yield
        return
    with open(f"{parsed.database}.migrate-lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


async def upgrade(engine: AsyncEngine, *, from_models: bool = True) -> Migration:
    """Upgrade the schema to head in one transaction; return what was done.

    ``from_models``: an empty SQLite database is created from the models (False: by running
    every migration, as tests compare).
    """
    with _file_lock(engine.url.render_as_string(hide_password=False)):
        async with engine.connect() as conn:
            result = await conn.run_sync(_upgrade, from_models)
            await conn.commit()
    return result


async def downgrade(engine: AsyncEngine, target: str) -> Migration:
    """Take the schema back to ``target`` (a revision this code knows), for a rollback to the
    release whose newest revision it is; return what was done."""
    if not _known(target):
        raise SchemaError(f"revision {target} is not one this bot knows")
    from alembic import command

    def run(connection: Connection) -> Migration:
        before = current(connection)
        if before is None or not _known(before):
            raise SchemaError(f"the database is at revision {before}: nothing this bot can undo")
        command.downgrade(_config(connection), target)
        return Migration(before, target, False)

    with _file_lock(engine.url.render_as_string(hide_password=False)):
        async with engine.connect() as conn:
            result = await conn.run_sync(run)
            await conn.commit()
    return result


async def revision(engine: AsyncEngine) -> str | None:
    """Return the database's revision (None before the first migration)."""
    async with engine.connect() as conn:
        return await conn.run_sync(current)


async def check_current(engine: AsyncEngine) -> None:
    """Raise SchemaError unless the database is at this code's head (or a newer release's
    that says this code may run on it)."""
    async with engine.connect() as conn:
        found = await conn.run_sync(current)
        if found == HEAD:
            return
        if found is not None and not _known(found) and await conn.run_sync(_compatible):
            return
    _check_known(found)
    if found != head():
        raise SchemaError(
            f"the database schema is at revision {found}, not {head()}: run python -m bot migrate"
        )
