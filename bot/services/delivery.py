"""The daily digest: claim due chats from the store, send each its next section, record it.

The store is the source of truth; JobQueue only wakes this up. A claim is a lease on the
database's clock with a fencing token (``bot.store.queue``). Before a message goes out its
chat is marked as being sent, in a statement that matches only while the lease holds; the
delivery is recorded right after Telegram accepted it, in a statement that matches only while
no one else has claimed the chat. At most ``concurrency`` messages are between their mark and
their record at any moment, so whatever happens to this process or its database - a kill, a
freeze longer than the lease, a restart of PostgreSQL - at most that many are repeated.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from bot import render
from bot.botapi.errors import is_chat_gone, retry_seconds
from bot.content import Library
from bot.flood.control import digest_lane
from bot.ops.failures import Stopping
from bot.ops.failures import describe_db_error as describe
from bot.ops.logs import Throttle
from bot.ops.metrics import Metrics
from bot.rules.chats import ChatState, digest_script
from bot.rules.reading import recap
from bot.rules.schedule import plan_delivery
from bot.services.chat_service import ChatService
from bot.services.companions import Companions
from bot.services.reading import ReadingService
from bot.store import Claim, Delivered, DeliveryQueue
from bot.telegram_io import sender

log = logging.getLogger(__name__)

# What the database being away looks like: a restart, cut connections, a full pool.
DATABASE_AWAY = (SQLAlchemyError, OSError)
# A delivery Telegram accepted is recorded even if the database is away this long (or a
# lease, if longer): recording it later beats repeating it.
RECORD_PATIENCE_SECONDS = 60.0
# How long a mark or a record waits for others to share its statement (see _Grouped).
GROUP_LINGER = 0.010
T = TypeVar("T")
R = TypeVar("R")


@dataclass
class Report:
    delivered: int = 0
    ended: int = 0
    deactivated: int = 0
    retried: int = 0
    parked: int = 0
    migrated: int = 0
    chats: list[int] = field(default_factory=list)


# A digest Telegram refuses (a 400 that does not mean the chat is gone, or an error of
# ours) this many times in a row is parked: no more retries, the reason kept, until the
# chat talks to the bot again. Timeouts and 5xx are Telegram's trouble, never a reason.
PARK_AFTER_FAILURES = 8


@dataclass(frozen=True)
class DeliveryConfig:
    concurrency: int = 32
    batch: int = 500
    lease_seconds: int = 120
    retry_base_seconds: int = 5
    retry_max_seconds: int = 300
    paid: bool = False  # send as paid broadcasts (allow_paid_broadcast)
    story_year: int | None = None  # the article's year, for "N years ago today"


class Deliverer:
    """Send what is due at ``now`` and move each chat's schedule forward."""

    def __init__(
        self,
        chats: ChatService,
        reading: ReadingService,
        queue: DeliveryQueue,
        library: Library,
        config: DeliveryConfig,
        *,
        bot_username: Callable[[], str] = lambda: "",
        metrics: Metrics | None = None,
    ) -> None:
        self.chats = chats
        self.queue = queue
        self.library = library
        self.config = config
        self._bot_username = bot_username
        self._metrics = metrics
        self._companions = Companions(
            chats, reading, library, paid=config.paid, story_year=config.story_year
        )
        self._lock = asyncio.Lock()
        self._rendered: dict[tuple[object, ...], render.Rendered] = {}
        self.stopping = False

    async def run_due(self, bot: Bot, now: datetime) -> Report:
        """Deliver to every chat due at ``now``; a run already under way makes this a no-op.

        A long run (ten thousand chats at 30/s take minutes) moves ``now`` on with it, so
        that chats falling due meanwhile are taken too. A batch that lost its lease ends the
        run: the next tick starts afresh. The database being away raises (after the
        deliveries already made are recorded, or given up on).
        """
        report = Report()
        if self._lock.locked():
            return report
        async with self._lock:
            started = time.monotonic()
            # One set of slots for the whole run: the next batch is claimed and starts while
            # the last chats of the one before are sent and recorded (no gap in the pace),
            # and the bound on chats between their mark and their record stays one.
            slots = asyncio.Semaphore(max(1, self.config.concurrency))
            batches: list[asyncio.Task[bool]] = []
            try:
                while not self.stopping:
                    if any(b.done() and not b.result() for b in batches):
                        break  # a batch lost its lease: the next tick starts afresh
                    at = now + timedelta(seconds=time.monotonic() - started)
                    claimed = await self.queue.claim(
                        int(at.timestamp()),
                        limit=self.config.batch,
                        lease=self.config.lease_seconds,
                    )
                    if not claimed:
                        break
                    nearly_sent = asyncio.Event()
                    batch = asyncio.create_task(
                        self._deliver_batch(bot, claimed, at, report, slots, nearly_sent)
                    )
                    batches = [b for b in batches if not b.done() or not b.result()] + [batch]
                    await _first(batch, nearly_sent)
            except asyncio.CancelledError:
                for batch in batches:
                    batch.cancel()
                raise
            finally:
                await _settle(batches)
        return report

    async def _deliver_batch(
        self,
        bot: Bot,
        claimed: list[Claim],
        now: datetime,
        report: Report,
        slots: asyncio.Semaphore,
        nearly_sent: asyncio.Event,
    ) -> bool:
        """Send to the claimed chats and record each; return False if the lease was lost.

        One bound makes the guarantee: a chat takes one of ``concurrency`` slots before it
        is marked as being sent and gives it back only once its delivery is recorded (or
        failed, or handed back). Marks and records are grouped: each statement takes what
        queued while the previous one ran.
        """
        token = claimed[0].state.claim_token
        assert token is not None
        batch = _Batch(token, {c.state.chat_id for c in claimed}, open=len(claimed))
        # Once this few are left to mark, the run claims its next batch.
        soon = max(1, self.config.concurrency)
        fill = self.config.concurrency // 2
        marking: _Grouped[int, set[int]] = _Grouped(
            lambda ids: self.queue.start_sending(token, ids),
            linger=GROUP_LINGER,
            fill=fill,
            coming=lambda queued: len(batch.waiting) > queued,
        )
        recording = _Grouped(
            self._record,
            linger=GROUP_LINGER,
            fill=fill,
            coming=lambda queued: batch.open > queued,
        )
        started = time.monotonic()

        async def one(claim: Claim) -> None:
            try:
                await deliver(claim)
            finally:
                batch.open -= 1

        async def deliver(claim: Claim) -> None:
            state = claim.state
            async with slots:
                if batch.halted:
                    return
                if self.stopping:
                    # Shutting down: hand the claim back so a restart takes it at once.
                    batch.waiting.discard(state.chat_id)
                    with contextlib.suppress(*DATABASE_AWAY):
                        await self.queue.release(
                            state.chat_id, token, retry_at=None, failures=state.failures
                        )
                    return
                try:
                    mine = state.chat_id in await marking(state.chat_id)
                except DATABASE_AWAY as exc:
                    batch.halt(exc)
                    return
                batch.waiting.discard(state.chat_id)
                if len(batch.waiting) <= soon:
                    nearly_sent.set()
                if not mine:
                    batch.halt(None)  # the lease ran out: stop before sending anything more
                    return
                done = await self._deliver_safely(bot, state, now, report)
                if done is None:
                    return
                self._count_sent(claim, now.timestamp() + time.monotonic() - started)
                try:
                    recorded = done.chat_id in await recording(
                        replace(done, repeated=claim.lapsed)
                    )
                except DATABASE_AWAY as exc:
                    log.error(
                        "the delivery to chat %s could not be recorded (%s): it will be sent "
                        "again when its lease runs out",
                        done.chat_id,
                        describe(exc),
                    )
                    batch.halt(exc)
                    return
                if not recorded:
                    log.warning(
                        "chat %s was claimed by another worker before its delivery was "
                        "recorded: it may get this section twice",
                        done.chat_id,
                    )
                    batch.halt(None)

        renewing = asyncio.create_task(self._renew(batch))
        try:
            await asyncio.gather(*(one(c) for c in claimed))
        finally:
            nearly_sent.set()
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing
        if batch.halted:
            log.warning(
                "a digest batch stopped before its end (%s): the rest is left to the next claim",
                "the database is away" if batch.error is not None else "its lease was lost",
            )
        if batch.error is not None:
            raise batch.error
        return not batch.halted

    async def _renew(self, batch: _Batch) -> None:
        """Keep a batch's lease alive while it is being sent; halt it once a chat is lost."""
        lease = self.config.lease_seconds
        while True:
            await asyncio.sleep(lease / 3)
            try:
                held = await self.queue.renew(batch.token, lease)
            except DATABASE_AWAY as exc:
                # The lease runs down; marks stop matching once it is over.
                if _renew_trouble.ready():
                    log.warning("could not renew a digest lease: %s", describe(exc))
                continue
            if batch.waiting - held:
                batch.halt(None)
                return

    async def _record(self, done: list[Delivered]) -> set[int]:
        """Record deliveries; while the database is away, try again for a bounded time.

        A delivery Telegram accepted and this process could not record is sent again once
        its lease runs out: recording it when the database is back is better.
        """
        patience = max(float(self.config.lease_seconds), RECORD_PATIENCE_SECONDS)
        give_up = time.monotonic() + patience
        pause = 0.2
        while True:
            try:
                return await self.queue.complete(done)
            except DATABASE_AWAY as exc:
                # Stopping: the drain cannot wait; the lease hands the chats on instead.
                if self.stopping or time.monotonic() + pause > give_up:
                    raise
                if _record_trouble.ready():
                    log.warning(
                        "recording %d digests waits for the database: %s", len(done), describe(exc)
                    )
            await asyncio.sleep(pause)
            pause = min(pause * 2, 5.0)

    def _count_sent(self, claim: Claim, sent_at: float) -> None:
        """Count a digest sent: once as repeated if an earlier holder may have sent it."""
        if self._metrics is None:
            return
        self._metrics.digests.labels("repeated" if claim.lapsed else "delivered").inc()
        if claim.state.next_due_at is not None:
            self._metrics.delivery_lag.observe(max(0.0, sent_at - claim.state.next_due_at))

    async def _deliver_safely(
        self, bot: Bot, state: ChatState, now: datetime, report: Report
    ) -> Delivered | None:
        """Deliver to one chat; an unexpected error retries that chat later, not the batch."""
        try:
            return await self._deliver_one(bot, state, now, report)
        except Exception:
            # One bad chat must not abort the batch: the others' records would be lost
            # and their messages repeated when their leases expire.
            log.exception("delivery to chat %s failed unexpectedly; will retry", state.chat_id)
            try:
                await self._retry_later(state.chat_id, state, now, report, refused="bot error")
            except Exception:
                log.exception("could not reschedule chat %s; its lease will", state.chat_id)
            return None

    async def _deliver_one(
        self, bot: Bot, state: ChatState, now: datetime, report: Report
    ) -> Delivered | None:
        assert state.claim_token is not None
        plan = plan_delivery(state.progress, self.library.section_count, state.read_mask)
        if not plan.section:
            # Read to the end already (a schedule from an older release): nothing to send.
            report.ended += 1
            return Delivered(state.chat_id, state.claim_token, 0, None, True)
        target = sender.Target(state.chat_id, state.thread_id)
        try:
            with digest_lane():  # replies to people go first
                target = await sender.send(
                    bot,
                    target,
                    self._message(state, plan.section, plan.finished),
                    quiet=state.quiet,
                    paid=self.config.paid,
                    chats=self.chats,
                )
        except Stopping:
            # The bot is stopping and this message never got its turn: hand it back now.
            await self.queue.release(
                state.chat_id, state.claim_token, retry_at=None, failures=state.failures
            )
            return None
        except Forbidden as exc:
            await self._deactivate(target.chat_id, state, exc, report)
            return None
        except BadRequest as exc:
            if is_chat_gone(exc):
                await self._deactivate(target.chat_id, state, exc, report)
                return None
            log.error("delivery to chat %s rejected: %s", target.chat_id, exc.message)
            await self._retry_later(
                target.chat_id, state, now, report, refused=f"400 {exc.message}"
            )
            return None
        except RetryAfter as exc:
            # The rate limiter already waited and retried; try again after the wait.
            wait = int(retry_seconds(exc)) + 1
            await self._retry_later(target.chat_id, state, now, report, at_least=wait)
            return None
        except NetworkError as exc:  # timeouts, 5xx, refused connections
            log.warning("delivery to chat %s failed (%s); will retry", target.chat_id, exc)
            await self._retry_later(target.chat_id, state, now, report)
            return None
        if target.chat_id != state.chat_id:
            report.migrated += 1
        report.delivered += 1
        report.chats.append(target.chat_id)
        card_day = await self._companions.send(
            bot, target, state, plan.section, plan.finished, now
        )
        after = replace(state, finished=plan.finished)
        return Delivered(
            target.chat_id,
            state.claim_token,
            plan.section,
            self.chats.next_due(after, now),
            plan.finished,
            onthisday=card_day,
            progress=plan.progress,
            at=int(now.timestamp()),
        )

    def _message(self, state: ChatState, section: int, finished: bool) -> render.Rendered:
        # A digest depends on these alone: a broadcast renders each variant once, not per chat.
        key = (digest_script(state), section, finished, not state.private, self._bot_username())
        known = self._rendered.get(key)
        if known is None:
            script = key[0]
            # From the second delivery on, a line recalls where the reader left off.
            before = recap(self.library.article(script), section - 1) if section > 1 else None
            known = render.section(
                self.library,
                section,
                script,
                bot_username=key[4],
                share_link=key[3],
                finishing=finished,
                digest=True,
                recap=before,
            )
            self._rendered[key] = known
        return known

    async def _park(
        self, chat_id: int, state: ChatState, failures: int, reason: str, report: Report
    ) -> None:
        assert state.claim_token is not None
        section = plan_delivery(state.progress, self.library.section_count).section
        parked = await self.chats.park(
            chat_id, state.claim_token, reason=reason, failures=failures, section=section
        )
        if not parked:
            return  # the lease ran out meanwhile: another worker has the chat
        log.warning(
            "chat %s parked after %d failed digests (%s): no more retries until it talks "
            "to the bot again",
            chat_id,
            failures,
            reason,
        )
        report.parked += 1
        if self._metrics is not None:
            self._metrics.digests.labels("failed").inc()
            self._metrics.parked.inc()

    async def _deactivate(
        self, chat_id: int, state: ChatState, exc: Exception, report: Report
    ) -> None:
        log.info("chat %s is no longer reachable (%s); subscription deactivated", chat_id, exc)
        # Hand the claim back first (it is fenced by the token, which leaving clears): the
        # lease runs on the database's clock, and a chat that comes back must not wait for it.
        assert state.claim_token is not None
        await self.queue.release(
            state.chat_id, state.claim_token, retry_at=None, failures=state.failures
        )
        await self.chats.deactivate(chat_id)
        report.deactivated += 1
        if self._metrics is not None:
            self._metrics.digests.labels("failed").inc()

    async def _retry_later(
        self,
        chat_id: int,
        state: ChatState,
        now: datetime,
        report: Report,
        at_least: int = 0,
        refused: str | None = None,
    ) -> None:
        failures = state.failures + 1
        if refused is not None and failures >= PARK_AFTER_FAILURES:
            await self._park(chat_id, state, failures, refused, report)
            return
        delay = min(
            self.config.retry_base_seconds * 2 ** (failures - 1), self.config.retry_max_seconds
        )
        retry_at = int(now.timestamp()) + max(delay, at_least)
        assert state.claim_token is not None
        section = plan_delivery(state.progress, self.library.section_count).section
        await self.queue.release(
            chat_id,
            state.claim_token,
            retry_at=retry_at,
            failures=failures,
            failed_section=section,
        )
        report.retried += 1
        if self._metrics is not None:
            self._metrics.digests.labels("failed").inc()


async def _first(task: asyncio.Task[bool], event: asyncio.Event) -> None:
    """Wait until ``task`` is done or ``event`` is set."""
    waiter = asyncio.create_task(event.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()


async def _settle(batches: list[asyncio.Task[bool]]) -> None:
    """Wait for every batch to end; then raise the first error one of them met."""
    results = await asyncio.gather(*batches, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


_renew_trouble = Throttle(60)
_record_trouble = Throttle(60)


@dataclass
class _Batch:
    """One claim's chats as they are sent: which are not yet marked, and whether to stop."""

    token: str
    waiting: set[int]  # claimed, not yet marked as being sent
    open: int = 0  # claimed, neither recorded nor given up yet
    halted: bool = False  # the lease was lost or the database is away: send nothing more
    error: Exception | None = None  # the database error that halted it

    def halt(self, error: Exception | None) -> None:
        self.halted = True
        if error is not None and self.error is None:
            self.error = error


class _Grouped(Generic[T, R]):
    """Run a statement for many callers at once: each run takes whatever queued meanwhile.

    Every caller of one run gets that run's result (or its exception). While ``coming``
    says more callers are on their way, a run waits up to ``linger`` seconds for ``fill``
    of them: a pace of one send a millisecond otherwise makes a transaction of every one
    or two chats, which cost more CPU than the sends.
    """

    def __init__(
        self,
        action: Callable[[list[T]], Awaitable[R]],
        *,
        linger: float = 0.0,
        fill: int = 1,
        coming: Callable[[int], bool] = lambda queued: False,
    ) -> None:
        self._action = action
        self._linger = linger
        self._fill = max(1, fill)
        self._coming = coming
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._full = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None

    async def __call__(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if len(self._queue) >= self._fill:
            self._full.set()
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run())
        return await future

    async def _run(self) -> None:
        while self._queue:
            if (
                self._linger > 0
                and len(self._queue) < self._fill
                and self._coming(len(self._queue))
            ):
                self._full.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._linger):
                        await self._full.wait()
            group, self._queue = self._queue, []
            try:
                result = await self._action([item for item, _ in group])
            except Exception as exc:
                for _, future in group:
                    if not future.done():
                        future.set_exception(exc)
            else:
                for _, future in group:
                    if not future.done():
                        future.set_result(result)
