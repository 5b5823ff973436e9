"""The composition root: every way an update can enter the bot is registered here."""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from telegram import BotCommand, BotCommandScopeAllGroupChats, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot import callback_data as cb
from bot import texts
from bot.chats import ChatDefaults, ChatService
from bot.config import Settings
from bot.content import Library, load_library
from bot.delivery import Deliverer, DeliveryConfig
from bot.handlers import lookup, membership, reading, settings
from bot.handlers.buttons import button, stale, switch_script
from bot.handlers.common import BotApplication, BotContext
from bot.handlers.errors import on_error
from bot.ratelimit import PacedRateLimiter
from bot.scripts import Script
from bot.services import Services
from bot.store import Store
from bot.transport import AiohttpRequest

log = logging.getLogger(__name__)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def build_application(
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    library: Library | None = None,
    clock: Callable[[], datetime] = _utc_now,
    run_jobs: bool = True,
) -> BotApplication:
    """Build the bot: transport, rate limiter, store, handlers and the delivery job."""
    # Opt in to PTB's timedelta RetryAfter.retry_after now (delivery handles both forms);
    # without it every 429 also raises a deprecation warning.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    library = library or load_library(settings.article_path)
    store = Store(settings.database_url)
    builder = (
        ApplicationBuilder()
        .application_class(BotApplication)
        .context_types(ContextTypes(context=BotContext))
        .token(settings.token)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                do_quote=False,
            )
        )
        .request(request or AiohttpRequest(connection_pool_size=settings.concurrency + 8))
        .get_updates_request(
            get_updates_request or AiohttpRequest(connection_pool_size=2, read_timeout=40)
        )
        # Commands from different chats run concurrently; one slow chat never blocks others.
        .concurrent_updates(64)
    )
    if settings.base_url:
        builder = builder.base_url(settings.base_url)
    if settings.rate_limit > 0:
        limiter = PacedRateLimiter(
            settings.rate_limit, group_max_rate=20, group_time_period=60, max_retries=3
        )
        builder = builder.rate_limiter(limiter)  # type: ignore[arg-type]
    app: BotApplication = builder.build()  # type: ignore[assignment]
    chats = ChatService(store, ChatDefaults(settings.timezone, settings.delivery_time), clock)
    deliverer = Deliverer(
        chats,
        library,
        DeliveryConfig(
            concurrency=settings.concurrency,
            batch=claim_batch(settings),
            lease_seconds=settings.lease_seconds,
            retry_base_seconds=settings.retry_base_seconds,
            retry_max_seconds=settings.retry_max_seconds,
        ),
        bot_username=lambda: app.bot.username,
    )
    app.services = Services(settings, library, store, chats, deliverer, clock)
    app.bot_data["run_jobs"] = run_jobs
    _register(app)
    return app


def claim_batch(settings: Settings, largest: int = 500) -> int:
    """Return how many due chats one worker claims at a time.

    A claim must be sent well within its lease, or another worker may take it again: at
    ``rate_limit`` messages/s, half a lease's worth at most.
    """
    if settings.rate_limit <= 0:
        return largest
    fits = settings.rate_limit * settings.lease_seconds // 2
    return max(settings.concurrency, min(largest, fits))


def _register(app: BotApplication) -> None:
    # Order matters: group -1 sees every update first (membership and migrations must be
    # recorded before any command reads the chat); group 0 answers, first match wins.
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, membership.migrated), group=-1)
    app.add_handler(
        ChatMemberHandler(membership.my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER), group=-1
    )

    messages = filters.UpdateType.MESSAGE
    channel = filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST
    commands: list[tuple[str, object, filters.BaseFilter]] = [
        ("start", reading.start, messages),
        ("help", reading.help_command, messages),
        ("next", reading.next_section, messages),
        ("toc", reading.toc, messages),
        ("read", reading.read, messages),
        ("quote", lookup.quote, messages),
        ("date", lookup.date, messages),
        ("progress", reading.progress, channel),
        ("reset", reading.reset, messages),
        ("script", settings.script, channel),
        ("subscribe", settings.subscribe, channel),
        ("unsubscribe", settings.unsubscribe, channel),
        ("timezone", settings.timezone, channel),
    ]
    for name, callback, update_filter in commands:
        app.add_handler(CommandHandler(name, callback, filters=update_filter))  # type: ignore[arg-type]

    # Buttons: each kind of callback data (bot/callback_data.py) has its handler.
    buttons = [
        button(cb.Next, reading.next_button),
        button(cb.Toc, reading.toc_button),
        button(cb.OpenSection, reading.open_section),
        button(cb.RandomQuote, reading.random_quote),
        button(cb.ConfirmReset, reading.reset_answer, answers=True),
        button(cb.OpenQuote, lookup.open_quote),
        button(cb.OpenDate, lookup.open_date),
        button(cb.Timeline, lookup.timeline),
        button(cb.SwitchScript, switch_script, answers=True),
        button(cb.ChooseScript, settings.choose_script),
        button(cb.Subscribe, settings.subscribe_button),
        button(cb.Quiet, settings.toggle_quiet, answers=True),
    ]
    for handler in buttons:
        app.add_handler(handler)
    app.add_handler(CallbackQueryHandler(stale))  # old or forged data: answered, ignored
    app.add_handler(InlineQueryHandler(lookup.inline_query))

    # After every known command: unknown commands, free text, and everything else.
    app.add_handler(MessageHandler(messages & filters.COMMAND, membership.unknown_command))
    app.add_handler(
        MessageHandler(
            messages & filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND,
            lookup.free_text,
        )
    )
    app.add_handler(
        MessageHandler(
            messages & filters.ChatType.PRIVATE & ~filters.TEXT & ~filters.StatusUpdate.ALL,
            membership.not_text,
        )
    )
    app.add_error_handler(on_error)


@asynccontextmanager
async def running(
    app: BotApplication, *, poll: bool = True, poll_timeout: int = 30
) -> AsyncIterator[BotApplication]:
    """Run the bot (long polling unless ``poll`` is false) until the block ends.

    One lifecycle for production, the console and the tests.
    """
    svc = app.services
    async with app:
        await _startup(app)
        await app.start()
        # Objects made at start-up (the article, handlers, caches) live as long as the bot:
        # moving them out of the collector's sight keeps full collections short.
        gc.freeze()
        try:
            if poll and app.updater is not None:
                await app.updater.start_polling(
                    allowed_updates=Update.ALL_TYPES, timeout=poll_timeout, poll_interval=0
                )
            yield app
        finally:
            # Finish the messages in hand, not the whole digest run: the rest stays due.
            svc.deliverer.stopping = True
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
            await svc.store.close()


async def _startup(app: BotApplication) -> None:
    svc = app.services
    await svc.store.init()
    await _publish_commands(app, svc.library)
    if app.bot_data.get("run_jobs") and app.job_queue is not None:
        # The schedule lives in the store; this job only wakes the deliverer up.
        app.job_queue.run_repeating(
            _delivery_job,
            interval=svc.settings.tick_seconds,
            first=0.5,
            name="deliver-due",
            job_kwargs={"max_instances": 2, "coalesce": True, "misfire_grace_time": None},
        )


async def _publish_commands(app: BotApplication, library: Library) -> None:
    """Register the command menu and description, both generated from texts.py."""
    bot = app.bot
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


async def _delivery_job(context: BotContext) -> None:
    svc = context.services
    report = await svc.deliverer.run_due(context.bot, svc.clock())
    if report.delivered or report.ended or report.deactivated or report.retried:
        log.info(
            "digest: %d sections, %d end messages, %d deactivated, %d to retry",
            report.delivered,
            report.ended,
            report.deactivated,
            report.retried,
        )
