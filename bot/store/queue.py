"""The delivery queue: due chats claimed under a lease, then recorded or handed back."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

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
from sqlalchemy.sql.elements import ColumnElement

from bot.rules.chats import ChatState
from bot.store.chat_records import to_state
from bot.store.engine import now
from bot.store.schema import chats, deliveries


@dataclass(frozen=True)
class Claim:
    """A due chat leased to this worker."""

    state: ChatState
    lapsed: bool  # an earlier lease on it ran out unrecorded: this may repeat a message


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


def _due(now_epoch: int) -> ColumnElement[bool]:
    """Select the chats whose digest is due at ``now_epoch``: subscribed, active, time come.

    The one statement of "due": the claim, the backlog and the backlog's age all use it.
    """
    return and_(
        chats.c.subscribed.is_(True),
        chats.c.active.is_(True),
        chats.c.next_due_at <= now_epoch,  # NULL (nothing scheduled) is never due
    )


class DeliveryQueue:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._immediate = engine.execution_options(sqlite_immediate=True)

    async def claim(self, now_epoch: int, *, limit: int, lease: int) -> list[Claim]:
        """Take a lease on up to ``limit`` due chats; no other worker can take them meanwhile.

        One statement: the due rows are picked (skipping rows another replica is claiming
        right now) and leased. The pick is a materialized CTE so that the planner runs it
        once, whatever its statistics say; a subquery inside ``IN`` can be re-run per row
        and ignore its LIMIT. A row still carrying another worker's token had a lease that
        ran out unrecorded: its message may already have been sent (``lapsed``).
        """
        token = str(uuid.uuid4())
        due = and_(
            _due(now_epoch),
            or_(chats.c.claimed_until.is_(None), chats.c.claimed_until < now_epoch),
        )
        picked = (
            select(chats.c.chat_id, chats.c.claim_token.label("lapsed"))
            .where(due)
            .order_by(chats.c.next_due_at)
            .limit(limit)
        )
        lease_values = {"claimed_until": now_epoch + lease, "claim_token": token}
        if self.engine.dialect.name == "postgresql":
            async with self.engine.begin() as conn:
                cte = picked.with_for_update(skip_locked=True).cte("picked")
                rows = await conn.execute(
                    update(chats)
                    .where(chats.c.chat_id == cte.prefix_with("MATERIALIZED").c.chat_id)
                    .values(**lease_values)
                    .returning(*chats.c, cte.c.lapsed)
                )
                claims = [Claim(to_state(row), row.lapsed is not None) for row in rows]
        else:
            # SQLite's RETURNING sees only the updated table: read the pick first, in one
            # write-locked transaction so that no other writer comes between.
            async with self._immediate.begin() as conn:
                lapsed = {r.chat_id: r.lapsed is not None for r in await conn.execute(picked)}
                rows = await conn.execute(
                    update(chats)
                    .where(and_(chats.c.chat_id.in_(list(lapsed)), due))
                    .values(**lease_values)
                    .returning(*chats.c)
                )
                claims = [Claim(to_state(row), lapsed[row.chat_id]) for row in rows]
        return sorted(claims, key=lambda c: (c.state.next_due_at or 0, c.state.chat_id))

    async def renew(self, token: str, until: int) -> None:
        """Extend a claim's lease while its batch is still being sent."""
        async with self.engine.begin() as conn:
            await conn.execute(
                update(chats).where(chats.c.claim_token == token).values(claimed_until=until)
            )

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
                updated_at=now(),
                started_at=func.coalesce(chats.c.started_at, now()),
                finished_at=case(
                    (
                        bindparam("b_finished", type_=Boolean),
                        func.coalesce(chats.c.finished_at, now()),
                    ),
                    else_=chats.c.finished_at,
                ),
                onthisday_last=func.coalesce(
                    bindparam("b_onthisday", type_=String), chats.c.onthisday_last
                ),
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
                "b_onthisday": d.onthisday,
            }
            for d in done
        ]
        at = now()
        log = [
            {
                "at": at,
                "chat_id": d.chat_id,
                "section": d.section,
                "result": "repeated" if d.repeated else "delivered",
            }
            for d in done
        ]
        async with self.engine.begin() as conn:
            await conn.execute(statement, rows)
            await conn.execute(insert(deliveries), log)

    async def release(
        self,
        chat_id: int,
        token: str,
        *,
        retry_at: int,
        failures: int,
        failed_section: int | None = None,
    ) -> None:
        """Give a claimed delivery back, to be tried again at ``retry_at``.

        ``failed_section``: the send failed (it is logged); None: handed back unsent.
        """
        async with self.engine.begin() as conn:
            if failed_section is not None:
                await conn.execute(
                    insert(deliveries).values(
                        at=now(), chat_id=chat_id, section=failed_section, result="failed"
                    )
                )
            await conn.execute(
                update(chats)
                .where(and_(chats.c.chat_id == chat_id, chats.c.claim_token == token))
                .values(claimed_until=retry_at, claim_token=None, failures=failures)
            )

    async def backlog(self, now_epoch: int) -> int:
        """Return how many chats are due and not yet delivered."""
        query = select(func.count()).select_from(chats).where(_due(now_epoch))
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
        query = select(func.min(chats.c.next_due_at)).where(_due(now_epoch))
        async with self.engine.connect() as conn:
            value = (await conn.execute(query)).scalar()
        return int(value) if value is not None else None

    async def prune_log(self, older_than: int = 7 * 86_400) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(delete(deliveries).where(deliveries.c.at < now() - older_than))
