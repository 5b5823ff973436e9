"""Chats: progress, subscription and settings, one row each."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import fields
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import BigInteger, and_, bindparam, case, func, insert, literal, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.content.scripts import Script
from bot.rules.chats import ChatState, is_basic_group
from bot.rules.schedule import format_hhmm
from bot.store import history_log as history
from bot.store.engine import insert_or_ignore, now
from bot.store.schema import chat_moves, chats, deliveries

log = logging.getLogger(__name__)

_FIELDS = tuple(f.name for f in fields(ChatState))


def _zone(key: str | None) -> ZoneInfo | None:
    if not key:
        return None
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        # Only validated names are stored; a zone dropped from tzdata falls back to the default.
        log.warning("stored time zone %r is unknown; using the default", key)
        return None


def to_state(row: Row[Any]) -> ChatState:
    """Read a chats row into its typed state."""
    m = row._mapping
    hhmm: str | None = m["delivery_time"]
    return ChatState(
        chat_id=m["chat_id"],
        kind=m["kind"],
        title=m["title"],
        script=Script(m["script"]) if m["script"] else None,
        progress=m["progress"],
        read_mask=m["read_mask"],
        active=m["active"],
        subscribed=m["subscribed"],
        delivery_time=time(int(hhmm[:2]), int(hhmm[3:])) if hhmm else None,
        timezone=_zone(m["timezone"]),
        quiet=m["quiet"],
        thread_id=m["thread_id"],
        next_due_at=m["next_due_at"],
        finished=m["finished"],
        failures=m["failures"],
        claim_token=m["claim_token"],
        started_at=m["started_at"],
        finished_at=m["finished_at"],
        onthisday=m["onthisday"],
        onthisday_last=m["onthisday_last"],
        parked_reason=m["parked_reason"],
        parked_at=m["parked_at"],
        paused_until=m["paused_until"],
        reading_days=m["reading_days"],
    )


def to_values(state: ChatState) -> dict[str, Any]:
    """Return the column values of a state (the inverse of to_state)."""
    values = {name: getattr(state, name) for name in _FIELDS}
    values["script"] = state.script.value if state.script else None
    values["delivery_time"] = format_hhmm(state.delivery_time) if state.delivery_time else None
    values["timezone"] = state.timezone.key if state.timezone else None
    return values


class Chats:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def get(self, chat_id: int) -> ChatState | None:
        """Return the chat's state (a group's that moved: its supergroup's), or None."""
        async with self.engine.connect() as conn:
            chat_id = await _current_id(conn, chat_id)
            row = (await conn.execute(_BY_ID, {"p_chat": chat_id})).first()
        return to_state(row) if row else None

    async def change(
        self,
        chat_id: int,
        edit: Callable[[ChatState], ChatState],
        *,
        create: tuple[str, str] | None = None,
    ) -> tuple[ChatState | None, ChatState]:
        """Apply ``edit`` to the chat in one transaction; return its state before and after.

        With ``create`` (kind, title) a chat seen for the first time is created first, and
        "before" is None. The row is locked while ``edit`` decides (PostgreSQL), and SQLite
        has one connection, so concurrent changes to one chat apply one after the other.
        """
        async with self.engine.begin() as conn:
            chat_id = await _current_id(conn, chat_id)
            created = False
            if create is not None:
                created = await _create(conn, chat_id, *create)
            query = select(chats).where(chats.c.chat_id == chat_id)
            if conn.dialect.name == "postgresql":
                query = query.with_for_update()
            row = (await conn.execute(query)).first()
            if row is None:
                raise LookupError(f"chat {chat_id} is not stored")
            before = to_state(row)
            after = edit(before)
            old, new = to_values(before), to_values(after)
            changed = {k: v for k, v in new.items() if old[k] != v and k != "chat_id"}
            if changed:
                await conn.execute(
                    update(chats)
                    .where(chats.c.chat_id == chat_id)
                    .values(updated_at=now(), **changed)
                )
        return (None if created else before), after

    async def take_next(
        self,
        chat_id: int,
        total: int,
        *,
        kind: str = "private",
        title: str = "",
        at: int | None = None,
    ) -> ChatState | None:
        """Move the chat to its next section; return its state after that, or None at the end.

        One conditional UPDATE … RETURNING does it, so two readers pressing "next" at once
        in a group get two consecutive sections, never the same one twice. A chat seen for
        the first time is created in the same transaction.
        """
        async with self.engine.begin() as conn:
            chat_id = await _current_id(conn, chat_id)
            row = await _advance(conn, chat_id, total, at)
            if row is None:  # a new chat, or one that has read everything
                await _create(conn, chat_id, kind, title)
                # Again even if another transaction created the row meanwhile: it exists now.
                row = await _advance(conn, chat_id, total, at)
            if row is not None:
                log = [(chat_id, row.progress, at or now(), history.READ)]
                await history.record(conn, log)
        return to_state(row) if row is not None else None

    async def give_back(self, chat_id: int, number: int) -> None:
        """Undo take_next when the section could not be shown."""
        async with self.engine.begin() as conn:
            chat_id = await _current_id(conn, chat_id)
            await conn.execute(
                update(chats)
                .where(and_(chats.c.chat_id == chat_id, chats.c.progress == number))
                .values(progress=number - 1)
            )

    async def migrate(
        self, old_id: int, new_id: int, merge: Callable[[ChatState, ChatState], ChatState]
    ) -> None:
        """Move a group to its supergroup id, merging with a row the supergroup already has.

        Recorded once and for good: later updates naming the group reach the supergroup,
        whichever order the migration and they arrive in (Telegram reports the move from
        both sides, and a reply to the old id fails with the new one).
        """
        async with self.engine.begin() as conn:
            await conn.execute(
                insert_or_ignore(conn, chat_moves).values(old_id=old_id, new_id=new_id)
            )
            lock = conn.dialect.name == "postgresql"
            rows = {}
            for chat_id in (old_id, new_id):
                query = select(chats).where(chats.c.chat_id == chat_id)
                rows[chat_id] = (
                    await conn.execute(query.with_for_update() if lock else query)
                ).first()
            group, supergroup = rows[old_id], rows[new_id]
            if group is None:
                return  # moved already, or never known
            if supergroup is None:
                await conn.execute(
                    update(chats)
                    .where(chats.c.chat_id == old_id)
                    .values(chat_id=new_id, kind="supergroup", updated_at=now())
                )
                await history.move(conn, old_id, new_id)
                return
            values = to_values(merge(to_state(group), to_state(supergroup)))
            # A delivery claimed for the group finishes under the new id with its lease.
            values["claimed_until"] = group.claimed_until or supergroup.claimed_until
            await conn.execute(chats.delete().where(chats.c.chat_id == old_id))
            await conn.execute(
                update(chats).where(chats.c.chat_id == new_id).values(updated_at=now(), **values)
            )
            await history.move(conn, old_id, new_id)

    async def subscribers(self) -> dict[tuple[str, str], int]:
        """Return subscribed, active chats counted by kind and script."""
        script = func.coalesce(chats.c.script, "default")
        query = (
            select(chats.c.kind, script, func.count())
            .where(and_(chats.c.subscribed.is_(True), chats.c.active.is_(True)))
            .group_by(chats.c.kind, script)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return {(kind, str(name)): int(n) for kind, name, n in rows}

    async def park(
        self, chat_id: int, token: str, *, reason: str, failures: int, section: int | None
    ) -> bool:
        """Stop retrying a claimed delivery (its failure logged), keeping why; return whether
        the claim was still this worker's (the token fences a lease that ran out)."""
        async with self.engine.begin() as conn:
            parked = await conn.execute(
                update(chats)
                .where(and_(chats.c.chat_id == chat_id, chats.c.claim_token == token))
                .values(
                    claimed_until=None,
                    claim_token=None,
                    sending=False,  # its send failed: nothing is in flight to repeat
                    retry_at=None,
                    next_due_at=None,
                    failures=failures,
                    parked_reason=reason[:200],
                    parked_at=now(),
                )
            )
            if parked.rowcount and section:
                await conn.execute(
                    insert(deliveries).values(
                        at=now(), chat_id=chat_id, section=section, result="failed"
                    )
                )
        return bool(parked.rowcount)

    async def unpark(self, chat_id: int) -> bool:
        """Clear a chat's parking (its failures too); return whether it was parked."""
        async with self.engine.begin() as conn:
            done = await conn.execute(
                update(chats)
                .where(and_(chats.c.chat_id == chat_id, chats.c.parked_at.is_not(None)))
                .values(parked_reason=None, parked_at=None, failures=0, updated_at=now())
            )
        return bool(done.rowcount)

    async def parked(self) -> tuple[int, str | None]:
        """Return how many chats are parked, and the latest one's reason."""
        async with self.engine.connect() as conn:
            count = (
                await conn.execute(
                    select(func.count()).select_from(chats).where(chats.c.parked_at.is_not(None))
                )
            ).scalar_one()
            latest = (
                await conn.execute(
                    select(chats.c.parked_reason)
                    .where(chats.c.parked_at.is_not(None))
                    .order_by(chats.c.parked_at.desc())
                    .limit(1)
                )
            ).scalar()
        return int(count), latest

    async def count_by_kind(self) -> dict[str, int]:
        query = select(chats.c.kind, func.count()).group_by(chats.c.kind)
        async with self.engine.connect() as conn:
            return {kind: int(n) for kind, n in (await conn.execute(query)).all()}

    async def count(self, *, subscribed: bool | None = None) -> int:
        query = select(func.count()).select_from(chats)
        if subscribed is not None:
            query = query.where(chats.c.subscribed == subscribed)
        async with self.engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())


async def _create(conn: AsyncConnection, chat_id: int, kind: str, title: str) -> bool:
    """Create the chat's row unless it exists; return whether this call created it."""
    created = await conn.execute(
        insert_or_ignore(conn, chats)
        .values(chat_id=chat_id, kind=kind, title=title[:256], updated_at=now())
        .returning(chats.c.chat_id)
    )
    return created.first() is not None


# The hottest statements are built once: building an expression costs more than running it.
_BY_ID = select(chats).where(chats.c.chat_id == bindparam("p_chat"))
# Moves a chat to its next section, if it has one.
_ADVANCE = (
    update(chats)
    .where(and_(chats.c.chat_id == bindparam("p_chat"), chats.c.progress < bindparam("p_total")))
    .values(
        progress=chats.c.progress + 1,
        # SET sees the old progress: bit (old progress) is the new section.
        read_mask=chats.c.read_mask.op("|")(literal(1, BigInteger).op("<<")(chats.c.progress)),
        # Reading the last section ends the schedule: a delivery would only say so. This is
        # bot.rules.schedule.read_to_end(progress after, total) in SQL, for a one-statement /next;
        # tests/test_store.py holds the two together over chat states.
        next_due_at=case(
            (chats.c.progress + 1 >= bindparam("p_total"), None), else_=chats.c.next_due_at
        ),
        # The finish line counts the days from the first section read to the last.
        started_at=func.coalesce(chats.c.started_at, bindparam("p_now")),
        finished_at=case(
            (
                chats.c.progress + 1 >= bindparam("p_total"),
                func.coalesce(chats.c.finished_at, bindparam("p_now")),
            ),
            else_=chats.c.finished_at,
        ),
        updated_at=bindparam("p_now"),
    )
    .returning(*chats.c)
)


async def _advance(
    conn: AsyncConnection, chat_id: int, total: int, at: int | None = None
) -> Row[Any] | None:
    """Move the chat to its next section; return its row after, or None (absent, or done)."""
    params = {"p_chat": chat_id, "p_total": total, "p_now": now() if at is None else at}
    return (await conn.execute(_ADVANCE, params)).first()


async def _current_id(conn: AsyncConnection, chat_id: int) -> int:
    """Return the id a chat has now: a basic group that moved lives on as a supergroup."""
    if not is_basic_group(chat_id):
        return chat_id  # only basic groups migrate; every other chat skips the lookup
    moved = await conn.execute(select(chat_moves.c.new_id).where(chat_moves.c.old_id == chat_id))
    return int(moved.scalar() or chat_id)
