"""The database: SQLAlchemy Core async tables and a small repository API.

SQLite (aiosqlite) is the default; a ``postgresql://`` URL selects asyncpg. Dialect details
stay in this module. Every time is an integer of UTC epoch seconds.
"""

from __future__ import annotations

import time as _time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    bindparam,
    case,
    event,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql.dml import Insert

SCHEMA_VERSION = 1

metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", String(256), nullable=False),
)

chats = Table(
    "chats",
    metadata,
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(16), nullable=False),  # private, group, supergroup, channel
    Column("title", String(256), nullable=False, default=""),
    Column("script", String(16)),  # the chat's script: digests in groups and channels
    Column("progress", Integer, nullable=False, default=0),  # highest section read
    Column("read_mask", BigInteger, nullable=False, default=0),  # bit n-1: section n read
    Column("active", Boolean, nullable=False, default=True),  # bot can still post there
    Column("subscribed", Boolean, nullable=False, default=False),
    Column("delivery_time", String(5)),  # HH:MM local
    Column("timezone", String(64)),
    Column("quiet", Boolean, nullable=False, default=False),
    Column("thread_id", BigInteger),  # forum topic the subscription was made in
    Column("next_due_at", BigInteger),  # NULL when nothing is scheduled
    Column("claimed_until", BigInteger),  # a worker's lease on the due delivery
    Column("claim_token", String(36)),
    Column("failures", Integer, nullable=False, default=0),
    Column("finished", Boolean, nullable=False, default=False),  # end message sent
    Column("updated_at", BigInteger, nullable=False, default=0),
)
Index("ix_chats_due", chats.c.next_due_at)

users = Table(
    "users",
    metadata,
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("script", String(16)),
    Column("updated_at", BigInteger, nullable=False, default=0),
)


@dataclass(frozen=True)
class ChatState:
    chat_id: int
    kind: str
    title: str
    script: str | None
    progress: int
    read_mask: int
    active: bool
    subscribed: bool
    delivery_time: str | None
    timezone: str | None
    quiet: bool
    thread_id: int | None
    next_due_at: int | None
    finished: bool
    failures: int = 0
    claim_token: str | None = None

    def has_read(self, section: int) -> bool:
        return bool(self.read_mask >> (section - 1) & 1)


@dataclass(frozen=True)
class Delivered:
    """A delivery that reached Telegram, to be recorded for its chat."""

    chat_id: int
    token: str
    section: int  # 0 when only the end message was sent
    next_due_at: int | None
    finished: bool


def _async_url(url: str) -> str:
    parsed = make_url(url)
    driver = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
    if parsed.drivername in driver:
        parsed = parsed.set(drivername=driver[parsed.drivername])
    return parsed.render_as_string(hide_password=False)


def _row(row: object) -> ChatState:
    m = row._mapping  # type: ignore[attr-defined]
    return ChatState(
        chat_id=m["chat_id"],
        kind=m["kind"],
        title=m["title"],
        script=m["script"],
        progress=m["progress"],
        read_mask=m["read_mask"],
        active=m["active"],
        subscribed=m["subscribed"],
        delivery_time=m["delivery_time"],
        timezone=m["timezone"],
        quiet=m["quiet"],
        thread_id=m["thread_id"],
        next_due_at=m["next_due_at"],
        finished=m["finished"],
        failures=m["failures"],
        claim_token=m["claim_token"],
    )


def _insert_or_ignore(conn: AsyncConnection, table: Table) -> Insert:
    """Return an INSERT that does nothing when the primary key already exists."""
    if conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table).on_conflict_do_nothing()
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    raise NotImplementedError(f"no insert-or-ignore for {conn.dialect.name}")


def _now() -> int:
    return int(_time.time())


class Store:
    """Chats, users and the delivery schedule."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: str) -> Store:
        parsed = make_url(url)
        if parsed.drivername.startswith("sqlite") and parsed.database not in (
            None,
            "",
            ":memory:",
        ):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        options: dict[str, object] = {}
        if parsed.drivername.startswith("sqlite"):
            # One connection: SQLite runs one writer at a time anyway, and queueing writers
            # on the pool (an asyncio wait) beats SQLite's busy handler, which sleeps.
            options = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 60}
        engine = create_async_engine(_async_url(url), **options)
        if engine.dialect.name == "sqlite":

            @event.listens_for(engine.sync_engine, "connect")
            def _pragmas(dbapi_conn: Any, _record: Any) -> None:
                # WAL lets readers run beside the delivery writer; NORMAL is durable per commit
                # in WAL mode against process crashes, which is what the guarantee needs.
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.execute("PRAGMA busy_timeout=10000")
                cur.close()

        return cls(engine)

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

    # --- chats -------------------------------------------------------------------------

    async def get_chat(self, chat_id: int) -> ChatState | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(chats).where(chats.c.chat_id == chat_id))).first()
        return _row(row) if row else None

    async def ensure_chat(self, chat_id: int, kind: str, title: str = "") -> ChatState:
        """Return the chat's state, creating it on first contact and reactivating it."""
        found = await self.get_chat(chat_id)
        if found is not None and found.active:
            return found  # the common case: no write at all
        async with self.engine.begin() as conn:
            # Updates from one chat are handled concurrently, so two handlers can meet a new
            # chat at once: a plain SELECT-then-INSERT would fail the second with a duplicate.
            await conn.execute(
                _insert_or_ignore(conn, chats).values(
                    chat_id=chat_id, kind=kind, title=title[:256], updated_at=_now()
                )
            )
            await conn.execute(
                update(chats)
                .where(and_(chats.c.chat_id == chat_id, chats.c.active.is_(False)))
                .values(active=True, failures=0, updated_at=_now())
            )
            row = (await conn.execute(select(chats).where(chats.c.chat_id == chat_id))).one()
        return _row(row)

    async def _set(self, chat_id: int, **values: object) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(chats).where(chats.c.chat_id == chat_id).values(updated_at=_now(), **values)
            )

    async def set_chat_script(self, chat_id: int, script: str) -> None:
        await self._set(chat_id, script=script)

    async def mark_read(self, chat_id: int, section: int, *, advance: bool) -> None:
        """Record that a section was shown; ``advance`` moves progress forward to it."""
        values: dict[str, object] = {"read_mask": chats.c.read_mask.op("|")(1 << (section - 1))}
        if advance:
            values["progress"] = case(
                (chats.c.progress < section, section), else_=chats.c.progress
            )
        await self._set(chat_id, **values)

    async def take_next(
        self, chat_id: int, total: int, *, kind: str = "private", title: str = ""
    ) -> ChatState | None:
        """Move the chat to its next section; return its state after that, or None at the end.

        One conditional UPDATE … RETURNING does it, so two readers pressing "next" at once
        in a group get two consecutive sections, never the same one twice. A chat seen for
        the first time is created in the same transaction.
        """
        advance = (
            update(chats)
            .where(and_(chats.c.chat_id == chat_id, chats.c.progress < total))
            .values(
                progress=chats.c.progress + 1,
                # SET sees the old progress: bit (old progress) is the new section.
                read_mask=chats.c.read_mask.op("|")(
                    literal(1, BigInteger).op("<<")(chats.c.progress)
                ),
                updated_at=_now(),
            )
            .returning(*chats.c)
        )
        async with self.engine.begin() as conn:
            row = (await conn.execute(advance)).first()
            if row is None:  # a new chat, or one that has read everything
                await conn.execute(
                    _insert_or_ignore(conn, chats).values(
                        chat_id=chat_id, kind=kind, title=title[:256], updated_at=_now()
                    )
                )
                # Again even if another transaction created the row meanwhile: it exists now.
                row = (await conn.execute(advance)).first()
        return _row(row) if row is not None else None

    async def give_back(self, chat_id: int, number: int) -> None:
        """Undo take_next when the section could not be shown."""
        async with self.engine.begin() as conn:
            await conn.execute(
                update(chats)
                .where(and_(chats.c.chat_id == chat_id, chats.c.progress == number))
                .values(progress=number - 1)
            )

    async def reset(self, chat_id: int, next_due_at: int | None) -> None:
        await self._set(
            chat_id, progress=0, read_mask=0, finished=False, next_due_at=next_due_at, failures=0
        )

    async def subscribe(
        self,
        chat_id: int,
        *,
        delivery_time: str,
        timezone: str,
        quiet: bool,
        thread_id: int | None,
        next_due_at: int | None,
    ) -> None:
        await self._set(
            chat_id,
            subscribed=True,
            active=True,
            delivery_time=delivery_time,
            timezone=timezone,
            quiet=quiet,
            thread_id=thread_id,
            next_due_at=next_due_at,
            failures=0,
        )

    async def unsubscribe(self, chat_id: int) -> None:
        await self._set(chat_id, subscribed=False, next_due_at=None)

    async def set_timezone(self, chat_id: int, timezone: str, next_due_at: int | None) -> None:
        await self._set(chat_id, timezone=timezone, next_due_at=next_due_at)

    async def set_quiet(self, chat_id: int, quiet: bool) -> None:
        await self._set(chat_id, quiet=quiet)

    async def set_thread(self, chat_id: int, thread_id: int | None) -> None:
        await self._set(chat_id, thread_id=thread_id)

    async def set_next_due(self, chat_id: int, next_due_at: int | None) -> None:
        await self._set(chat_id, next_due_at=next_due_at)

    async def deactivate(self, chat_id: int) -> None:
        """Stop posting to a chat the bot lost access to; its settings are kept."""
        await self._set(chat_id, active=False, next_due_at=None, claimed_until=None)

    async def migrate(self, old_id: int, new_id: int) -> None:
        """Move a group's row to its supergroup id (keeping settings and progress)."""
        async with self.engine.begin() as conn:
            old = (
                await conn.execute(select(chats.c.chat_id).where(chats.c.chat_id == old_id))
            ).first()
            if old is None:
                return  # already moved (Telegram reports a migration from both sides)
            exists = (
                await conn.execute(select(chats.c.chat_id).where(chats.c.chat_id == new_id))
            ).first()
            if exists:
                # The supergroup already wrote to us; the old group's state is the real one.
                await conn.execute(chats.delete().where(chats.c.chat_id == new_id))
            await conn.execute(
                update(chats)
                .where(chats.c.chat_id == old_id)
                .values(chat_id=new_id, kind="supergroup", updated_at=_now())
            )

    async def count(self, *, subscribed: bool | None = None) -> int:
        from sqlalchemy import func

        query = select(func.count()).select_from(chats)
        if subscribed is not None:
            query = query.where(chats.c.subscribed == subscribed)
        async with self.engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    # --- users -------------------------------------------------------------------------

    async def get_user_script(self, user_id: int) -> str | None:
        async with self.engine.connect() as conn:
            return (
                await conn.execute(select(users.c.script).where(users.c.user_id == user_id))
            ).scalar()

    async def set_user_script(self, user_id: int, script: str) -> None:
        async with self.engine.begin() as conn:
            # Insert first so two concurrent first choices cannot both try to create the row.
            await conn.execute(
                _insert_or_ignore(conn, users).values(
                    user_id=user_id, script=script, updated_at=_now()
                )
            )
            await conn.execute(
                update(users)
                .where(users.c.user_id == user_id)
                .values(script=script, updated_at=_now())
            )

    # --- the delivery schedule ---------------------------------------------------------

    async def claim_due(self, now: int, *, limit: int, lease: int) -> list[ChatState]:
        """Take a lease on up to ``limit`` due chats; no other worker can take them meanwhile.

        The conditional UPDATE is the claim: a row is taken only if it is still due and
        unclaimed at the moment of the write, so two workers never hold the same delivery.
        """
        token = str(uuid.uuid4())
        due = and_(
            chats.c.subscribed.is_(True),
            chats.c.active.is_(True),
            chats.c.next_due_at.is_not(None),
            chats.c.next_due_at <= now,
            or_(chats.c.claimed_until.is_(None), chats.c.claimed_until < now),
        )
        candidates = select(chats.c.chat_id).where(due).order_by(chats.c.next_due_at).limit(limit)
        async with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Skip rows another replica is claiming right now instead of waiting on them.
                candidates = candidates.with_for_update(skip_locked=True)
            await conn.execute(
                update(chats)
                .where(and_(chats.c.chat_id.in_(candidates.scalar_subquery()), due))
                .values(claimed_until=now + lease, claim_token=token)
                .execution_options(synchronize_session=False)
            )
            rows = (await conn.execute(select(chats).where(chats.c.claim_token == token))).all()
        return [_row(r) for r in rows]

    async def complete(self, done: Sequence[Delivered]) -> None:
        """Record delivered sections in one transaction; only the lease holder may write.

        One executemany statement, not one round trip per chat: recording must keep pace
        with sending, since sends wait for their records (see Deliverer._deliver_batch).
        """
        if not done:
            return
        section = bindparam("b_section", type_=Integer)
        statement = (
            update(chats)
            .where(
                and_(
                    chats.c.chat_id == bindparam("b_chat_id"),
                    chats.c.claim_token == bindparam("b_token"),
                )
            )
            .values(
                next_due_at=bindparam("b_next_due_at"),
                claimed_until=None,
                claim_token=None,
                failures=0,
                finished=bindparam("b_finished"),
                updated_at=_now(),
                # Section 0 (only the end message) leaves progress and read_mask as they are.
                progress=case((chats.c.progress < section, section), else_=chats.c.progress),
                read_mask=chats.c.read_mask.op("|")(bindparam("b_bit", type_=BigInteger)),
            )
        )
        rows = [
            {
                "b_chat_id": d.chat_id,
                "b_token": d.token,
                "b_section": d.section,
                "b_next_due_at": d.next_due_at,
                "b_finished": d.finished,
                "b_bit": 1 << (d.section - 1) if d.section else 0,
            }
            for d in done
        ]
        async with self.engine.begin() as conn:
            await conn.execute(statement, rows)

    async def release(self, chat_id: int, token: str, *, retry_at: int, failures: int) -> None:
        """Give a claimed delivery back, to be tried again at ``retry_at``."""
        async with self.engine.begin() as conn:
            await conn.execute(
                update(chats)
                .where(and_(chats.c.chat_id == chat_id, chats.c.claim_token == token))
                .values(claimed_until=retry_at, claim_token=None, failures=failures)
            )

    async def add_subscribers(
        self,
        chat_ids: Iterable[int],
        *,
        next_due_at: int,
        delivery_time: str = "08:00",
        timezone: str = "Asia/Shanghai",
    ) -> None:
        """Insert many subscribed private chats at once (bulk imports, load tests)."""
        now = _now()
        rows = [
            {
                "chat_id": chat_id,
                "kind": "private",
                "title": "",
                "subscribed": True,
                "active": True,
                "delivery_time": delivery_time,
                "timezone": timezone,
                "next_due_at": next_due_at,
                "progress": 0,
                "read_mask": 0,
                "quiet": False,
                "failures": 0,
                "finished": False,
                "updated_at": now,
            }
            for chat_id in chat_ids
        ]
        async with self.engine.begin() as conn:
            for start in range(0, len(rows), 5000):
                await conn.execute(insert(chats), rows[start : start + 5000])
