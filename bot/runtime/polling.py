"""Polling Telegram ourselves: no update is confirmed before it is stored, none fetched
beyond the room to handle it.

Why not PTB's Updater: its loop (telegram/ext/_updater.py, ``_start_polling``) puts each
batch on an unbounded ``asyncio.Queue`` and moves its offset past the batch at once, so
the next getUpdates confirms to Telegram updates nobody has handled yet; on stop it calls
getUpdates once more only to confirm everything it fetched. A SIGKILL loses what sat in
the queue, SIGTERM confirms what it will never handle, and a backlog is fetched whole into
memory. This loop keeps PTB's Application for handling and replaces the Updater:

1. **Bounded.** It asks for at most as many updates as it has free slots (``limit``), and
   a slot is freed only when its update is done: at most ``ChatLanes.capacity`` updates
   (twice the handling concurrency) are fetched and unhandled in memory at any time.
2. **Stored before confirmed.** Each batch is written to the inbox (the update ledger,
   bot/store/ledger.py) in one transaction; only then does the offset move past it, and
   only the next getUpdates tells Telegram to drop it. Updates newer than anything in the
   inbox (the usual case) are handled while the write runs, since no replica can have
   them; older ones (fetched again after a poller died) are checked against the inbox
   first, so one handled already is not handled again. If the write fails three times (the
   database is away), the batch is handled without it (what needs no database is answered,
   the rest gets the friendly "try later") and confirmed only once handled; /readyz says
   why.
3. **Finished by whoever comes next.** An update is marked done in the inbox once handled.
   One stored but not done whose claim ran out (its process died) is taken by the poller's
   sweep, here or on the replica that polls next: a SIGKILL loses nothing. What may repeat
   is an update handled whose done mark had not reached the database: at most those in
   hand (``capacity``), in practice the few running at the kill plus one flush interval.
4. **Stopping.** It fetches no more; the lifecycle lets the lanes finish what they hold
   within the drain, and the claims of what did not finish are handed back, so the next
   start (or replica) handles those at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import Iterator, Sequence

from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from telegram.error import Conflict, InvalidToken, TelegramError

from bot.handlers.common import BotApplication
from bot.ops import logs
from bot.ops.failures import describe_db_error as describe
from bot.services.health import Health
from bot.store import UpdateLedger
from bot.telegram_io.lanes import ChatLanes, Done

log = logging.getLogger(__name__)

LEASE = 10  # seconds a claim on a stored update lasts; renewed while it is in hand
FLUSH_SECONDS = 0.1  # done marks are written in batches this often
SWEEP_SECONDS = 2.0  # how often the inbox is searched for updates a dead poller left
BATCH = 100  # Telegram's largest getUpdates limit
STORE_TRIES = 3  # writes of a batch to the inbox before it is handled without it

_trouble = logs.Throttle(30)
# What a database that went away raises (SQLAlchemy wraps the driver's errors; a full pool
# times out with its own TimeoutError, which is a SQLAlchemyError too).
_DB_ERRORS = (SQLAlchemyError, OSError, TimeoutError)


class Poller:
    """Fetch updates into the inbox and the lanes; keep the inbox's books on them."""

    def __init__(
        self,
        app: BotApplication,
        inbox: UpdateLedger,
        lanes: ChatLanes,
        health: Health,
        *,
        allowed_updates: Sequence[str],
        timeout: int = 30,
    ) -> None:
        self.app = app
        self.inbox = inbox
        self.lanes = lanes
        self.health = health
        self.allowed_updates = list(allowed_updates)
        self.timeout = timeout
        self.offset: int | None = None
        self._free = lanes.capacity  # slots: one per update fetched and not yet done
        self._freed = asyncio.Event()
        self.in_hand: set[int] = set()  # claimed by us, not yet done
        self._done: set[int] = set()  # handled; to be marked in the inbox
        self._handed_back: set[int] = set()  # left unhandled; claims to hand back
        self._tasks: list[asyncio.Task[None]] = []
        self._books: list[asyncio.Task[None]] = []
        self._stopping = False
        self._busy: set[asyncio.Task[object]] = set()  # storing or claiming: not cut short
        self._storing: set[int] = set()  # handled while their rows are being written
        # Updates above this id were never stored by anyone: they need no check first.
        self._fresh_above: int | None = None

    @property
    def running(self) -> bool:
        return bool(self._tasks)

    def start(self) -> None:
        """Start fetching and sweeping (the books are kept from the first start on)."""
        if self._tasks:
            return
        if not self._books:
            self._books = [
                asyncio.create_task(self._flush_loop(), name="inbox-flush"),
                asyncio.create_task(self._renew_loop(), name="inbox-renew"),
            ]
        self._fresh_above = None  # asked again: another poller may have stored more
        self._tasks = [
            asyncio.create_task(self._fetch_loop(), name="poll"),
            asyncio.create_task(self._sweep_loop(), name="inbox-sweep"),
        ]
        self.health.updates = None

    async def stop(self) -> None:
        """Fetch no more. A getUpdates cut short confirms nothing: Telegram keeps its batch.

        A loop that is storing a batch (or claiming from the inbox) finishes that first,
        so whatever it claimed reaches the lanes and is handled or handed back.
        """
        tasks, self._tasks = self._tasks, []
        self._stopping = True
        for task in tasks:
            if task not in self._busy:
                task.cancel()
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=1.5)
            for task in late:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._stopping = False

    async def close(self) -> None:
        """After the lanes stopped: write the last done marks, hand back what is left."""
        await self.stop()
        for task in self._books:
            task.cancel()
        for task in self._books:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._books = []
        self._handed_back |= self.in_hand - self._done
        self.in_hand.clear()
        try:
            async with asyncio.timeout(1.5):
                await self._flush()
        except _DB_ERRORS as exc:
            reason = "no answer in time" if isinstance(exc, TimeoutError) else describe(exc)
            log.warning("could not record the last handled updates (%s)", reason)

    # -- fetching ---------------------------------------------------------------------------

    async def _fetch_loop(self) -> None:
        while not self._stopping:
            try:
                await self._fetch()
            except Exception:  # a bug: say so, and keep polling rather than stop for good
                log.exception("polling failed")
                self.health.updates = "polling failed; retrying"
                await asyncio.sleep(1.0)

    async def _fetch(self) -> None:
        pause = 1.0
        while not self._stopping:
            slots = await self._take_slots(BATCH)
            try:
                updates = await self.app.bot.get_updates(
                    offset=self.offset,
                    limit=slots,
                    timeout=self.timeout,
                    allowed_updates=self.allowed_updates,
                )
            except TelegramError as exc:
                self._give_back(slots)
                _log_polling_error(exc)
                await asyncio.sleep(pause)
                pause = min(30.0, pause * 2)
                continue
            except BaseException:
                self._give_back(slots)
                raise
            pause = 1.0
            self._give_back(slots - len(updates))
            if updates:
                with self._critical():
                    await self._store(updates)

    @contextlib.contextmanager
    def _critical(self) -> Iterator[None]:
        task = asyncio.current_task()
        assert task is not None
        self._busy.add(task)
        try:
            yield
        finally:
            self._busy.discard(task)

    async def _store(self, updates: Sequence[Update]) -> None:
        """Store a batch in the inbox; only then may the next getUpdates confirm it."""
        if self._fresh_above is None:
            with contextlib.suppress(*_DB_ERRORS):
                self._fresh_above = await self.inbox.newest()
        if self._fresh_above is not None and updates[0].update_id > self._fresh_above:
            await self._take_fresh(updates)
        else:
            await self._take_known(updates)

    async def _take_fresh(self, updates: Sequence[Update]) -> None:
        """Handle updates no poller has seen at once, storing them meanwhile.

        Newer than anything in the inbox when this poller began (and only one polls), so
        no replica has them: handling need not wait for the write, only confirming does.
        Their done marks wait until their rows exist.
        """
        ids = {u.update_id for u in updates}
        self._storing |= ids
        try:
            dones = [await self._submit(update) for update in updates]
            stored = await self._receive(updates)
        finally:
            self._storing -= ids
        self._fresh_above = max(ids)
        if stored is not None:
            self.offset = updates[-1].update_id + 1
        else:  # confirmed once handled (shielded: a stop must not lose the offset)
            await asyncio.shield(self._confirm_when_handled(dones, updates[-1].update_id + 1))

    async def _take_known(self, updates: Sequence[Update]) -> None:
        """Store first: some may be handled already, or in hand on a replica that lives."""
        mine = await self._receive(updates)
        if mine is None:
            # Shielded: a stop must not cut the bookkeeping short (see _handle_unstored).
            await asyncio.shield(self._handle_unstored(updates))
            return
        self._fresh_above = max(self._fresh_above or 0, updates[-1].update_id)
        self.offset = updates[-1].update_id + 1  # the next getUpdates confirms the batch
        for update in updates:
            if update.update_id in mine:
                await self._submit(update)
            else:  # handled already, or being handled by a replica that still lives
                self._give_back(1)

    async def _receive(self, updates: Sequence[Update]) -> set[int] | None:
        """Write a batch to the inbox; return the ids this poller claimed, None if refused."""
        batch = [(u.update_id, json.dumps(u.to_dict(), ensure_ascii=False)) for u in updates]
        for attempt in range(STORE_TRIES):
            try:
                mine = await self.inbox.receive(batch, LEASE)
            except _DB_ERRORS as exc:
                # A connection cut a moment ago fails once; the pool replaces it for the next.
                problem = describe(exc)
                if attempt + 1 < STORE_TRIES:
                    await asyncio.sleep(0.25 * (attempt + 1))
            else:
                self.health.updates = None
                return mine
        self.health.updates = f"cannot store received updates: {problem}"
        if _trouble.ready():
            log.warning("cannot store received updates: %s", problem)
        return None

    async def _confirm_when_handled(self, dones: Sequence[Done], offset: int) -> None:
        await asyncio.wait(dones)
        if not any(done.cancelled() for done in dones):
            self.offset = max(self.offset or 0, offset)

    async def _handle_unstored(self, updates: Sequence[Update]) -> None:
        """Handle a batch the inbox could not take, and confirm it only once handled.

        Whatever needs no database (a quote, the contents) is answered; what does gets the
        friendly "try again later"; only then does the offset move past the batch. Its slots
        are freed here, not by the lanes. If the poller stops meanwhile, the offset still
        moves once they are handled, for when this replica polls again; another replica
        would fetch the batch again (at most these updates answered twice).
        """
        try:
            dones = [await self.lanes.submit(u, self.app.process_update(u)) for u in updates]
            await self._confirm_when_handled(dones, updates[-1].update_id + 1)
        finally:
            self._give_back(len(updates))

    async def _sweep_loop(self) -> None:
        while not self._stopping:
            slots = await self._take_slots(BATCH)
            with self._critical():
                found = await self._claim_stale(slots)
                for update_id, body in found:
                    await self._resume(update_id, body)
            if len(found) < slots:
                await asyncio.sleep(SWEEP_SECONDS)

    async def _resume(self, update_id: int, body: str) -> None:
        """Hand a stored update (its slot taken) to the lanes, unless it is ours already."""
        if update_id in self.in_hand:  # its claim ran out while the database was away
            self._give_back(1)
            return
        update = _revive(update_id, body, self.app)
        if update is None:
            self._done.add(update_id)
            self._give_back(1)
        else:
            await self._submit(update)

    async def _claim_stale(self, slots: int) -> list[tuple[int, str]]:
        try:
            found = await self.inbox.claim_stale(slots, LEASE)
        except _DB_ERRORS:
            found = []  # the fetch loop says the database is away
        except BaseException:
            self._give_back(slots)
            raise
        self._give_back(slots - len(found))
        if found:
            log.info("finishing %d stored updates a stopped poller left", len(found))
        return found

    async def _submit(self, update: Update) -> Done:
        """Hand one update (its slot taken) to the lanes; free the slot when it is done."""
        self.in_hand.add(update.update_id)
        done = await self.lanes.submit(update, self.app.process_update(update))
        done.add_done_callback(functools.partial(self._settled, update.update_id))
        return done

    def _settled(self, update_id: int, done: Done) -> None:
        self.in_hand.discard(update_id)
        (self._handed_back if done.cancelled() else self._done).add(update_id)
        self._give_back(1)

    # -- slots --------------------------------------------------------------------------------

    async def _take_slots(self, most: int) -> int:
        """Wait for at least one free slot; take up to ``most``."""
        while self._free <= 0:
            self._freed.clear()
            await self._freed.wait()
        taken = min(most, self._free)
        self._free -= taken
        return taken

    def _give_back(self, count: int) -> None:
        if count > 0:
            self._free += count
            self._freed.set()

    # -- the inbox's books ---------------------------------------------------------------------

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            # What fails to be written is kept and written on a later flush.
            with contextlib.suppress(*_DB_ERRORS):
                await self._flush()

    async def _flush(self) -> None:
        if self._done:
            done = self._done - self._storing  # a mark must not come before its row
            await self.inbox.finish_many(done)
            self._done -= done
        if self._handed_back:
            back = set(self._handed_back)
            await self.inbox.release(back)
            self._handed_back -= back

    async def _renew_loop(self) -> None:
        while True:
            await asyncio.sleep(LEASE / 3)
            with contextlib.suppress(*_DB_ERRORS):
                await self.inbox.renew_many(set(self.in_hand), LEASE)


def _revive(update_id: int, body: str, app: BotApplication) -> Update | None:
    try:
        return Update.de_json(json.loads(body), app.bot)
    except Exception as exc:  # stored by another version, say: it cannot be handled here
        log.warning("skipped stored update %s: it cannot be read (%s)", update_id, exc)
        return None


def _log_polling_error(error: TelegramError) -> None:
    """Log a polling failure in one line; polling goes on after a pause."""
    if isinstance(error, InvalidToken):
        log.warning("polling failed: Telegram refused the token")
    elif isinstance(error, Conflict):
        log.warning("another process is polling this bot (409 Conflict); retrying")
    else:
        log.warning("polling failed (%s); retrying", error)
