"""Running the bot: start-up checks, serving updates (polling or webhook), drain and stop.

Start-up checks the database (migrating it, once), the token and the HTTP port, and says
plainly what is wrong in one line. Updates come from polling (bot/runtime/polling.py; with
PostgreSQL, only the replica holding the poller lock polls) or from Telegram's POSTs to
the webhook. On SIGTERM the bot stops taking updates, lets those in hand finish, hands
unsent digest claims and unhandled updates back, and closes its connections (the bot's
HTTP transport last), well within a container's 10 s grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DBAPIError
from telegram import BotCommand, BotCommandScopeAllGroupChats
from telegram.error import InvalidToken, NetworkError, TelegramError

from bot.app import ALLOWED_UPDATES, build_application
from bot.config import Settings
from bot.content.scripts import Script
from bot.flood.control import FloodControl
from bot.handlers.common import BotApplication, BotContext
from bot.ops import logs
from bot.ops.failures import StartupError, describe_db_error
from bot.render import texts
from bot.runtime.leader import PollingLeadership
from bot.runtime.polling import Poller
from bot.runtime.webhook import register

if TYPE_CHECKING:
    from bot.runtime.web import WebServer

log = logging.getLogger("bot")

DRAIN_SECONDS = 5.0  # handlers in flight get this long; the whole stop stays under 10 s


async def serve(settings: Settings) -> int:
    """Run until SIGINT/SIGTERM (exit 0) or a failure the bot cannot go on with (exit 2)."""

    app = build_application(settings)
    if app.services.store.kind == "sqlite":
        app.services.store.hold_exclusive()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    health = app.services.health
    async with running(app):
        log.info("bot @%s is running", app.bot.username)
        waiters = {
            asyncio.ensure_future(stop.wait()),
            asyncio.ensure_future(health.stopped.wait()),
        }
        _, pending = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for waiter in pending:
            waiter.cancel()
    if health.fatal is not None:
        raise StartupError(health.fatal)
    return 0


@asynccontextmanager
async def running(
    app: BotApplication, *, poll: bool = True, poll_timeout: int = 30
) -> AsyncIterator[BotApplication]:
    """Run the bot until the block ends: one lifecycle for production, console and tests."""
    svc = app.services
    web: WebServer | None = None
    if svc.settings.http_port or svc.settings.webhook_mode:
        from bot.runtime.web import WebServer  # aiohttp's server only where it is used

        web = WebServer(app)
    background: list[asyncio.Task[None]] = []
    try:
        if web is not None:
            await web.start()  # first: a busy port is said before anything else happens
        done = await svc.store.open()
        if done.adopted:
            log.info("adopted the first release's database; schema at revision %s", done.after)
        elif done.changed:
            log.info(
                "upgraded the database schema from %s to %s", done.before or "empty", done.after
            )
        await svc.health.check_store(svc.store)
        await _connect(app)
        async with app:
            _schedule_jobs(app)
            await app.start()
            # The menus go out while the bot already answers: eight calls to Telegram that
            # a start no longer waits for.
            app.menus_published = asyncio.Event()
            background.append(asyncio.create_task(_publish_menus(app)))
            # Objects made at start-up (the article, handlers, caches) live as long as the
            # bot: moving them out of the collector's sight keeps full collections short.
            gc.freeze()
            poller: Poller | None = None
            try:
                background.append(asyncio.create_task(svc.health.watch(svc.store)))
                poller = await _take_updates(app, poll, poll_timeout, background)
                yield app
            finally:
                await _drain(app, web, background, poller)
    finally:
        if web is not None:
            await web.stop()
        await svc.store.close()


async def _connect(app: BotApplication) -> None:
    """Ask Telegram who we are; wait out an outage, but stop at a refused token."""
    delay = 1.0
    while True:
        try:
            await app.bot.initialize()
            return
        except InvalidToken:
            await app.bot.shutdown()  # close its connections before saying why we stop
            raise StartupError(
                "Telegram refused TELEGRAM_BOT_TOKEN (401 Unauthorized): copy the current "
                "token from @BotFather (/mybots → API Token) into .env"
            ) from None
        except NetworkError as exc:
            log.warning("cannot reach Telegram yet (%s); trying again in %.0f s", exc, delay)
            await asyncio.sleep(delay)
            delay = min(30.0, delay * 2)


async def _take_updates(
    app: BotApplication, poll: bool, timeout: int, background: list[asyncio.Task[None]]
) -> Poller | None:
    svc = app.services
    if svc.settings.webhook_mode:
        log.info("%s", await register(app.bot, svc.settings, svc.store, ALLOWED_UPDATES))
        svc.health.updates = None
        return None
    if not poll:
        svc.health.updates = None
        return None
    poller = Poller(
        app,
        svc.store.updates,
        svc.lanes,
        svc.health,
        allowed_updates=ALLOWED_UPDATES,
        timeout=timeout,
    )
    # Read when /metrics is scraped: 1 while this replica is the one fetching updates.
    svc.metrics.polling.set_function(lambda: float(poller.running))
    if svc.store.kind == "postgresql":

        async def gain() -> None:
            poller.start()

        def status(problem: str | None) -> None:
            svc.health.updates = problem

        leadership = PollingLeadership(
            svc.settings.database_url, gain, poller.stop, on_status=status
        )
        background.append(asyncio.create_task(leadership.run()))
    else:
        # The file lock makes this the only process: a claim in the inbox is a dead one's.
        await svc.store.updates.release_all()
        poller.start()
    return poller


async def _drain(
    app: BotApplication,
    web: WebServer | None,
    background: list[asyncio.Task[None]],
    poller: Poller | None,
) -> None:
    """Stop taking updates, let those in hand finish, hand the rest back, close.

    The lanes are empty before PTB's shutdown closes the bot's HTTP transport (which it
    does before stopping the update processor): no handler runs without it.
    """
    svc = app.services
    # Finish the messages in hand, not the whole digest run: the rest stays due.
    svc.deliverer.stopping = True
    if web is not None:
        web.draining = True  # webhook POSTs get 503 now: Telegram redelivers them
    for task in background:
        task.cancel()
    for task in background:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    if poller is not None:
        await _quietly("stopping the poller", poller.stop())
    # Updates in hand finish (their replies may wait on flood control meanwhile) ...
    await svc.lanes.drain(timeout=DRAIN_SECONDS)
    # ... then whatever still waits for a turn to send gives up: unsent digest claims go
    # back to the database for the next start (or another replica) to take.
    limiter = app.bot.rate_limiter
    if isinstance(limiter, FloodControl):
        limiter.scheduler.abort()
    await svc.lanes.drain(timeout=0.5)
    # What is still in the lanes stays unhandled: its claim goes back to the inbox (or
    # its webhook POST gets 503), so the next start handles it.
    await svc.lanes.cancel_all()
    if poller is not None:
        await _quietly("recording handled updates", poller.close())
    if app.running:
        await _quietly("stopping", app.stop())
    if web is not None:
        await _quietly("stopping the HTTP server", web.stop())


async def _quietly(step: str, action: Coroutine[Any, Any, None]) -> None:
    """Run one shutdown step; a failure (the token revoked, say) must not stop the rest."""
    try:
        await action
    except Exception as exc:
        log.info("%s: %s", step, type(exc).__name__)


def _schedule_jobs(app: BotApplication) -> None:
    svc = app.services
    if not app.run_jobs or app.job_queue is None:
        return
    # The schedule lives in the store; this job only wakes the deliverer up.
    app.job_queue.run_repeating(
        _delivery_job,
        interval=svc.settings.tick_seconds,
        first=0.5,
        name="deliver-due",
        job_kwargs={"max_instances": 2, "coalesce": True, "misfire_grace_time": None},
    )
    app.job_queue.run_repeating(_housekeeping_job, interval=60, first=1, name="housekeeping")


_store_trouble = logs.Throttle(60)


async def _delivery_job(context: BotContext) -> None:
    svc = context.services
    try:
        report = await svc.deliverer.run_due(context.bot, svc.clock())
    except (DBAPIError, OSError) as exc:
        # The database is away: every tick would fail the same way. Say so once a minute;
        # nothing is lost, the schedule is in the database and resumes when it is back.
        if _store_trouble.ready():
            log.warning("digest delivery waits for the database: %s", describe_db_error(exc))
        return
    if report.delivered or report.ended or report.deactivated or report.retried or report.parked:
        log.info(
            "digest: %d sections, %d end messages, %d deactivated, %d to retry, %d parked",
            report.delivered,
            report.ended,
            report.deactivated,
            report.retried,
            report.parked,
        )


async def _housekeeping_job(context: BotContext) -> None:
    """Refresh the gauges and forget old bookkeeping, once a minute."""
    with contextlib.suppress(DBAPIError, OSError):  # the delivery job says the database is away
        await _housekeeping(context)


async def _housekeeping(context: BotContext) -> None:
    svc = context.services
    now = int(svc.clock().timestamp())
    svc.metrics.due_backlog.set(await svc.store.queue.backlog(now))
    for (kind, script), count in (await svc.store.chats.subscribers()).items():
        svc.metrics.subscribers.labels(kind, script).set(count)
    svc.metrics.parked.set((await svc.store.chats.parked())[0])
    await svc.store.updates.prune()
    await svc.store.queue.prune_log()


async def _publish_menus(app: BotApplication) -> None:
    """Publish the menus; while Telegram refuses or cannot be reached, try again later."""
    delay = 5.0
    while True:
        try:
            await _publish_commands(app)
        except TelegramError as exc:
            log.warning(
                "could not publish the command menus (%s); trying again in %.0f s", exc, delay
            )
            await asyncio.sleep(delay)
            delay = min(300.0, delay * 2)
        else:
            app.menus_published.set()
            return


async def _publish_commands(app: BotApplication) -> None:
    """Register the command menu and description, both generated from texts.py."""
    bot, library = app.bot, app.services.library
    for script, language in ((Script.SIMPLIFIED, None), (Script.TRADITIONAL, "zh-hant")):
        private = [BotCommand(c, texts.t(d, script)[:256]) for c, d, _ in texts.COMMANDS]
        group = [BotCommand(c, texts.t(d, script)[:256]) for c, d, g in texts.COMMANDS if g]
        kwargs = {"language_code": language} if language else {}
        await bot.set_my_commands(private, **kwargs)
        await bot.set_my_commands(group, scope=BotCommandScopeAllGroupChats(), **kwargs)
        title = library.article(script).title
        await bot.set_my_description(
            texts.t(texts.BOT_DESCRIPTION, script, title=title)[:512], **kwargs
        )
        await bot.set_my_short_description(
            texts.t(texts.BOT_SHORT_DESCRIPTION, script)[:120], **kwargs
        )
