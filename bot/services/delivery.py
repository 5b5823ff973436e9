"""The daily digest: claim due chats from the store, send each its next section, record it.

The store is the source of truth; JobQueue only wakes this up. A delivery is recorded right
after Telegram accepted it, in batches of ``concurrency``, and no new message is sent while
2 x ``concurrency`` are in flight or unrecorded, so a hard kill can repeat at most that many.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from bot import render
from bot.botapi.errors import is_chat_gone, retry_seconds
from bot.content import Library
from bot.flood.control import digest_lane
from bot.ops.failures import Stopping
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
        self.stopping = False

    async def run_due(self, bot: Bot, now: datetime) -> Report:
        """Deliver to every chat due at ``now``; a run already under way makes this a no-op.

        A long run (ten thousand chats at 30/s take minutes) reads the time afresh for each
        claim: a lease runs from when it was taken, and is renewed while its batch sends.
        """
        report = Report()
        if self._lock.locked():
            return report
        async with self._lock:
            started = time.monotonic()
            while not self.stopping:
                at = now + timedelta(seconds=time.monotonic() - started)
                claimed = await self.queue.claim(
                    int(at.timestamp()), limit=self.config.batch, lease=self.config.lease_seconds
                )
                if not claimed:
                    break
                renewing = asyncio.create_task(self._renew(claimed, at, started))
                try:
                    await self._deliver_batch(bot, claimed, at, report)
                finally:
                    renewing.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await renewing
        return report

    async def _renew(self, claimed: list[Claim], at: datetime, started: float) -> None:
        """Keep a batch's lease alive while it is being sent, so no one else takes it."""
        token = claimed[0].state.claim_token
        assert token is not None
        lease = self.config.lease_seconds
        while True:
            await asyncio.sleep(lease / 3)
            elapsed = time.monotonic() - started
            await self.queue.renew(token, int(at.timestamp() + elapsed) + lease)

    async def _deliver_batch(
        self, bot: Bot, claimed: list[Claim], now: datetime, report: Report
    ) -> None:
        """Send to the claimed chats and record what was sent, in batches of ``concurrency``.

        Two bounds make the crash guarantee: ``sending`` caps messages in flight, and
        ``unrecorded`` caps messages in flight plus those sent but not yet committed. A send
        waits for a free ``unrecorded`` slot, so recording can never fall behind sending by
        more than one batch, however slow the database is: a hard kill repeats at most
        2 x concurrency messages.
        """
        concurrency = max(1, self.config.concurrency)
        sending = asyncio.Semaphore(concurrency)
        unrecorded = asyncio.Semaphore(2 * concurrency)
        pending: list[Delivered] = []
        flushing = asyncio.Lock()
        started = time.monotonic()

        async def flush() -> None:
            async with flushing:
                batch = pending[:]
                del pending[: len(batch)]
                try:
                    await self.queue.complete(batch)
                finally:
                    for _ in batch:
                        unrecorded.release()

        async def one(claim: Claim) -> None:
            state = claim.state
            await unrecorded.acquire()
            awaiting_record = False
            try:
                if self.stopping:
                    # Shutting down: hand the claim back so a restart takes it at once.
                    assert state.claim_token is not None
                    await self.queue.release(
                        state.chat_id, state.claim_token, retry_at=0, failures=state.failures
                    )
                    return
                async with sending:
                    done = await self._deliver_safely(bot, state, now, report)
                if done is not None:
                    self._count_sent(claim, now.timestamp() + time.monotonic() - started)
                    pending.append(replace(done, repeated=claim.lapsed))
                    awaiting_record = True  # flush() frees this slot once it is committed
            finally:
                if not awaiting_record:
                    unrecorded.release()
            if len(pending) >= concurrency:
                await flush()

        await asyncio.gather(*(one(c) for c in claimed))
        if pending:
            await flush()

    def _count_sent(self, claim: Claim, sent_at: float) -> None:
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
        plan = plan_delivery(state.progress, self.library.section_count)
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
                state.chat_id, state.claim_token, retry_at=0, failures=state.failures
            )
            return None
        except Forbidden as exc:
            await self._deactivate(target.chat_id, exc, report)
            return None
        except BadRequest as exc:
            if is_chat_gone(exc):
                await self._deactivate(target.chat_id, exc, report)
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
        )

    def _message(self, state: ChatState, section: int, finished: bool) -> render.Rendered:
        script = digest_script(state)
        # From the second delivery on, a line recalls where the reader left off.
        before = recap(self.library.article(script), section - 1) if section > 1 else None
        return render.section(
            self.library,
            section,
            script,
            bot_username=self._bot_username(),
            share_link=not state.private,
            end_note=finished,
            digest=True,
            recap=before,
        )

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

    async def _deactivate(self, chat_id: int, exc: Exception, report: Report) -> None:
        log.info("chat %s is no longer reachable (%s); subscription deactivated", chat_id, exc)
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
