"""The delivery queue: due chats claimed under a lease, then recorded or handed back."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Integer,
    String,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.types import TypeEngine

from bot.rules.chats import ChatState
from bot.store import history_log as history
from bot.store.chat_records import to_state
from bot.store.engine import db_now, now
from bot.store.schema import chats, deliveries


@dataclass(frozen=True)
class Claim:
    """A due chat leased to this worker."""

    state: ChatState
    # An earlier holder began sending it and its lease ran out unrecorded: the message may
    # have reached the chat, so sending it now may repeat it.
    lapsed: bool


@dataclass(frozen=True)
class Delivered:
    """A delivery that reached Telegram, to be recorded for its chat."""

    chat_id: int
    token: str
    section: int  # 0 when only the end message was sent
    next_due_at: int | None
    finished: bool
    repeated: bool = False  # sent under a lapsed lease: perhaps a second time
    onthisday: str | None = None  # the local date an on-this-day card went out with it
    progress: int = 0  # the chat's place after it (0: the section's number)
    at: int | None = None  # when it was sent (epoch s; None: now), for the reading log


def due(now_epoch: int) -> ColumnElement[bool]:
    """Select the chats whose digest is due at ``now_epoch``: ``bot.rules.chats.is_due`` in SQL.

    A test holds the two to each other. The pause is checked here too, although the rule
    never schedules a digest inside one, so that a row written by hand stays paused. The
    one statement of "due": the claim, the backlog and the backlog's age all use it.
    """
    return and_(
        chats.c.subscribed.is_(True),
        chats.c.active.is_(True),
        chats.c.next_due_at.is_not(None),
        chats.c.next_due_at <= now_epoch,
        or_(chats.c.paused_until.is_(None), chats.c.paused_until <= now_epoch),
    )


class DeliveryQueue:
    """Leases on due chats, decided on the database's clock and fenced by a token.

    A claim gives a batch of chats one token and a lease that ends ``lease`` seconds after
    the database's ``now``. Every later step names the token in the statement that acts:
    ``start_sending`` and ``renew`` match only while the lease holds, ``complete`` and
    ``release`` only while no one else has claimed the chat. A worker whose lease ran out
    learns it from the rows matched, and stops.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._immediate = engine.execution_options(sqlite_immediate=True)

    async def claim(self, now_epoch: int, *, limit: int, lease: int) -> list[Claim]:
        """Take a lease on up to ``limit`` chats due at ``now_epoch``; no one else can meanwhile.

        Due and retry times are the schedule, on the bot's clock (``now_epoch``); whether a
        lease has run out is asked of the database's clock. One statement picks the due rows
        (skipping rows another replica is claiming right now) and leases them. The pick is a
        materialized CTE so that the planner runs it once, whatever its statistics say; a
        subquery inside ``IN`` can be re-run per row and ignore its LIMIT.
        """
        token = str(uuid.uuid4())
        picked = (
            select(chats.c.chat_id)
            .where(
                due(now_epoch),
                # A failed send waits for its retry time (the schedule's clock, like "due");
                # a lease is decided on the database's clock.
                or_(chats.c.retry_at.is_(None), chats.c.retry_at < now_epoch),
                or_(chats.c.claimed_until.is_(None), chats.c.claimed_until < db_now()),
            )
            .order_by(chats.c.next_due_at)
            .limit(limit)
        )
        lease_values = {"claimed_until": db_now() + lease, "claim_token": token}
        if self.engine.dialect.name == "postgresql":
            cte = picked.with_for_update(skip_locked=True).cte("picked")
            statement = update(chats).where(
                chats.c.chat_id == cte.prefix_with("MATERIALIZED").c.chat_id
            )
            engine = self.engine
        else:
            # SQLite runs one writer at a time; IMMEDIATE takes the lock before the pick.
            statement = update(chats).where(chats.c.chat_id.in_(picked.scalar_subquery()))
            engine = self._immediate
        async with engine.begin() as conn:
            rows = await conn.execute(statement.values(**lease_values).returning(*chats.c))
            claims = [Claim(to_state(row), row.sending) for row in rows]
        return sorted(claims, key=lambda c: (c.state.next_due_at or 0, c.state.chat_id))

    async def start_sending(self, token: str, chat_ids: Sequence[int]) -> set[int]:
        """Mark chats as being sent, only while this token's lease holds; return those marked.

        The ownership check and the mark are one statement: a chat missing from the answer
        was lost (its lease ran out, and perhaps another worker has it) and must not be sent.
        """
        if not chat_ids:
            return set()
        async with self.engine.begin() as conn:
            result = await conn.execute(_MARK, {"q_token": token, "q_ids": list(chat_ids)})
            return set(result.scalars())

    async def renew(self, token: str, lease: int) -> set[int]:
        """Extend a lease that still holds to ``lease`` seconds from the database's now.

        Return the chats still held: those recorded or handed back are not, nor any chat
        whose lease already ran out (another worker may hold it now, or soon will).
        """
        statement = (
            update(chats)
            .where(_locked(chats.c.claim_token == token, chats.c.claimed_until >= db_now()))
            .values(claimed_until=db_now() + lease)
            .returning(chats.c.chat_id)
        )
        async with self.engine.begin() as conn:
            return set((await conn.execute(statement)).scalars())

    async def complete(self, done: Sequence[Delivered]) -> set[int]:
        """Record delivered sections; return the chats recorded.

        Only the token's holder may record: a chat another worker claimed meanwhile is left
        to it (and missing from the answer). Recording needs no unexpired lease, only the
        token: no one else claimed the chat, so the record is the truth. The statements are
        built once and take their values as parameters (one UPDATE run for many rows): a
        statement shaped by its batch was compiled anew every time, a third of a paid
        broadcast's CPU.
        """
        if not done:
            return set()
        at = now()
        by_token: dict[str, list[int]] = {}
        for d in done:
            by_token.setdefault(d.token, []).append(d.chat_id)
        async with self.engine.begin() as conn:
            # Lock the rows first, in a statement of their own: an UPDATE that meets a row a
            # concurrent renewal just changed can skip it (PostgreSQL rechecks the row), and
            # the delivery would go unrecorded. Once locked, no one changes them until this
            # commits, so the rows locked are the rows the UPDATE records.
            recorded: set[int] = set()
            for token, ids in by_token.items():
                result = await conn.execute(_MINE, {"q_token": token, "q_ids": sorted(ids)})
                recorded.update(result.scalars())
            mine = [d for d in done if d.chat_id in recorded]
            if not mine:
                return recorded
            await conn.execute(
                _RECORD,
                [
                    {
                        "q_chat_id": d.chat_id,
                        "q_token": d.token,
                        # Sections read ahead may carry the place past this one (caught up).
                        "q_progress": max(d.progress, d.section),
                        "q_at": d.at if d.at is not None else at,
                        "q_now": at,
                        "q_next_due_at": d.next_due_at,
                        "q_finished": d.finished,
                        "q_bit": 1 << (d.section - 1) if d.section else 0,
                        "q_onthisday": d.onthisday,
                    }
                    for d in mine
                ],
            )
            log = [
                {
                    "at": at,
                    "chat_id": d.chat_id,
                    "section": d.section,
                    "result": "repeated" if d.repeated else "delivered",
                }
                for d in mine
            ]
            await conn.execute(insert(deliveries), log)
            reads = [
                (d.chat_id, d.section, d.at or at, history.DELIVERED) for d in mine if d.section
            ]
            await history.record(conn, reads)
        return recorded

    async def release(
        self,
        chat_id: int,
        token: str,
        *,
        retry_at: int | None,
        failures: int,
        failed_section: int | None = None,
    ) -> bool:
        """Give a claimed delivery back, to be tried again after ``retry_at`` (None: at once).

        ``failed_section``: the send failed (it is logged); None: handed back unsent.
        Return False when the claim was no longer this token's (nothing changed).
        """
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(chats)
                .where(and_(chats.c.chat_id == chat_id, chats.c.claim_token == token))
                .values(
                    claimed_until=None,
                    claim_token=None,
                    sending=False,
                    retry_at=retry_at,
                    failures=failures,
                )
                .returning(chats.c.chat_id)
            )
            held = result.first() is not None
            if held and failed_section is not None:
                await conn.execute(
                    insert(deliveries).values(
                        at=now(), chat_id=chat_id, section=failed_section, result="failed"
                    )
                )
        return held

    async def backlog(self, now_epoch: int) -> int:
        """Return how many chats are due and not yet delivered."""
        query = select(func.count()).select_from(chats).where(due(now_epoch))
        async with self.engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def results_since(self, since: int) -> dict[str, int]:
        """Return the digests logged since ``since``, counted by result."""
        query = (
            select(deliveries.c.result, func.count())
            .where(deliveries.c.at >= since)
            .group_by(deliveries.c.result)
        )
        async with self.engine.connect() as conn:
            return {result: int(n) for result, n in (await conn.execute(query)).all()}

    async def oldest_due(self, now_epoch: int) -> int | None:
        """Return the due time of the longest-waiting due chat, or None."""
        query = select(func.min(chats.c.next_due_at)).where(due(now_epoch))
        async with self.engine.connect() as conn:
            value = (await conn.execute(query)).scalar()
        return int(value) if value is not None else None

    async def prune_log(self, older_than: int = 7 * 86_400) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(delete(deliveries).where(deliveries.c.at < now() - older_than))


def _locked(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    """Match the rows meeting ``conditions``, locked in chat order (PostgreSQL).

    Every statement that locks several chats does so in one order, so that two of them -
    a renewal and a record, say - never wait for each other in a deadlock.
    """
    rows = select(chats.c.chat_id).where(*conditions).order_by(chats.c.chat_id)
    return chats.c.chat_id.in_(rows.with_for_update())


def _param(name: str, type_: TypeEngine[Any]) -> BindParameter[Any]:
    return bindparam(name, type_=type_)


_TOKEN = _param("q_token", String())
_IDS = bindparam("q_ids", expanding=True, type_=BigInteger())

# Mark the token's chats as being sent while its lease holds (``start_sending``).
_MARK = (
    update(chats)
    .where(
        _locked(
            chats.c.claim_token == _TOKEN,
            chats.c.chat_id.in_(_IDS),
            chats.c.claimed_until >= db_now(),
        )
    )
    .values(sending=True)
    .returning(chats.c.chat_id)
)

# The token's chats among some, locked in chat order (``complete``).
_MINE = (
    select(chats.c.chat_id)
    .where(chats.c.claim_token == _TOKEN, chats.c.chat_id.in_(_IDS))
    .order_by(chats.c.chat_id)
    .with_for_update()
)

# One delivery recorded, run once per row (``complete``).
_AT = _param("q_at", BigInteger())
_FINISHED = _param("q_finished", Boolean())
_PROGRESS = _param("q_progress", Integer())
_RECORD = (
    update(chats)
    .where(chats.c.chat_id == _param("q_chat_id", BigInteger()), chats.c.claim_token == _TOKEN)
    .values(
        next_due_at=_param("q_next_due_at", BigInteger()),
        claimed_until=None,
        claim_token=None,
        sending=False,
        retry_at=None,
        failures=0,
        finished=_FINISHED,
        updated_at=_param("q_now", BigInteger()),
        started_at=func.coalesce(chats.c.started_at, _AT),
        finished_at=case(
            (_FINISHED, func.coalesce(chats.c.finished_at, _AT)), else_=chats.c.finished_at
        ),
        onthisday_last=func.coalesce(_param("q_onthisday", String()), chats.c.onthisday_last),
        # Section 0 (only the end message) leaves progress and read_mask as they are.
        progress=case((chats.c.progress < _PROGRESS, _PROGRESS), else_=chats.c.progress),
        read_mask=chats.c.read_mask.op("|")(_param("q_bit", BigInteger())),
    )
)
