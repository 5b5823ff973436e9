"""The composition root: every way an update can enter the bot is registered here.

``build_application`` wires the transport, flood control, update lanes, store, services and
handlers; bot/runtime/lifecycle.py runs what is built here (start, serve, drain, stop).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from telegram import LinkPreviewOptions, Update
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
    PollAnswerHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.config import FREE_RATE, Settings
from bot.content import Library, load_library
from bot.content.search import Search
from bot.flood.budget import Budget, Limits, LocalBudget
from bot.flood.control import FloodControl
from bot.handlers import (
    activity,
    admin,
    cards,
    history,
    lookup,
    membership,
    pause,
    quiz,
    reading,
    saved,
    settings,
)
from bot.handlers.buttons import button, stale, switch_script
from bot.handlers.common import BotApplication, BotContext
from bot.handlers.fallback import on_error
from bot.ops.metrics import Metrics, outcome
from bot.render import callback_data as cb
from bot.render import texts
from bot.rules.chats import ChatDefaults
from bot.services.chat_service import ChatService
from bot.services.context import Services
from bot.services.delivery import Deliverer, DeliveryConfig
from bot.services.health import Health
from bot.services.reading import ReadingService
from bot.store import Store
from bot.telegram_io.lanes import ChatLanes
from bot.telegram_io.transport import AiohttpRequest, UpdatesRequest

# The update types the bot handles; Telegram is asked for these only (polling and webhook),
# so an update of another kind never reaches it.
ALLOWED_UPDATES = (
    "message",
    "channel_post",
    "callback_query",
    "inline_query",
    "my_chat_member",
    "chat_member",  # sent only where the bot is an admin: keeps the admin cache honest
    "poll_answer",  # quiz answers
)


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
    """Build the bot: transport, flood control, update lanes, store, handlers, delivery."""
    library = library or load_library(settings.article_path)
    store = Store(settings.database_url)
    metrics = Metrics(frozenset({*(name for name, _, _ in texts.COMMANDS), "stats"}))
    health = Health()

    def observe(method: str, status: int | None, failure: str, seconds: float) -> None:
        metrics.api_call(method, outcome(status) if status is not None else failure, seconds)
        if status == 401:  # nothing works until the token is replaced: exit, loudly
            health.fail(
                "Telegram refused TELEGRAM_BOT_TOKEN (401 Unauthorized): it was revoked or "
                "replaced; put the current one from @BotFather in .env"
            )

    lanes = ChatLanes(
        concurrency=settings.update_concurrency,
        on_handled=metrics.handled,
        on_dropped=metrics.dropped,
    )
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
        .request(
            request
            or AiohttpRequest(connection_pool_size=settings.concurrency + 8, observer=observe)
        )
        .get_updates_request(
            get_updates_request
            or UpdatesRequest(
                connection_pool_size=2, read_timeout=40, observer=observe, admit=lanes.admit
            )
        )
        .concurrent_updates(lanes)
        # Updates come from our own poller (bot/runtime/polling.py), which confirms nothing to
        # Telegram before it is stored, or from Telegram's POSTs to bot/runtime/web.py.
        .updater(None)
    )
    if settings.base_url:
        builder = builder.base_url(settings.base_url)
    if settings.rate_limit > 0:
        flood = FloodControl(
            _budget(settings),
            on_wait=lambda lane, s: metrics.waited(lane.name.lower(), s),
        )
        builder = builder.rate_limiter(flood)  # type: ignore[arg-type]
    app: BotApplication = builder.build()  # type: ignore[assignment]
    defaults = ChatDefaults(settings.timezone, settings.delivery_time, library.section_count)
    chats = ChatService(store, defaults, clock)
    reading = ReadingService(store, defaults, clock)
    deliverer = Deliverer(
        chats,
        reading,
        store.queue,
        library,
        DeliveryConfig(
            concurrency=settings.concurrency,
            batch=claim_batch(settings),
            lease_seconds=settings.lease_seconds,
            retry_base_seconds=settings.retry_base_seconds,
            retry_max_seconds=settings.retry_max_seconds,
            paid=settings.paid_broadcast,
            story_year=settings.article_year,
        ),
        bot_username=lambda: app.bot.username,
        metrics=metrics,
    )
    app.services = Services(
        settings,
        library,
        Search(library),
        store,
        chats,
        reading,
        deliverer,
        clock,
        metrics,
        health,
        lanes,
    )
    if store.kind == "sqlite":
        app.services.exact_caches()
    # Read when /metrics is scraped: always current, nothing to keep in step.
    metrics.unhandled.set_function(lambda: float(lanes.held + app.update_queue.qsize()))
    metrics.ready.set_function(lambda: 0.0 if health.problems() else 1.0)
    app.run_jobs = run_jobs
    _register(app)
    return app


def _budget(settings: Settings) -> Budget:
    """Return the flood budget: shared through Redis when configured, else this process's."""
    limits = Limits(
        rate=min(settings.rate_limit, FREE_RATE),
        paid_rate=settings.rate_limit if settings.paid_broadcast else None,
    )
    if settings.redis_url:
        from bot.flood.budget_redis import RedisBudget

        return RedisBudget(settings.redis_url, limits, prefix=settings.redis_prefix)
    return LocalBudget(limits)


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
    app.add_handler(
        ChatMemberHandler(membership.member_changed, ChatMemberHandler.CHAT_MEMBER), group=-1
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
        ("reset", reading.reset, channel),
        ("script", settings.script, channel),
        ("subscribe", settings.subscribe, channel),
        ("unsubscribe", settings.unsubscribe, channel),
        ("timezone", settings.timezone, channel),
        ("quiz", quiz.quiz, messages),
        ("card", cards.card, messages),
        ("onthisday", settings.onthisday, channel),
        ("pause", pause.pause, channel),
        ("resume", pause.resume, channel),
        ("saved", saved.saved, messages),
        ("history", history.history, channel),
        ("stats", admin.stats, messages),  # operators only; in no menu
    ]
    for name, callback, update_filter in commands:
        app.add_handler(CommandHandler(name, callback, filters=update_filter))  # type: ignore[arg-type]

    # Buttons: each kind of callback data (bot/render/callback_data.py) has its handler.
    buttons = [
        button(cb.Next, reading.next_button),
        button(cb.Toc, reading.toc_button),
        button(cb.OpenSection, reading.open_section),
        button(cb.RandomQuote, reading.random_quote),
        button(cb.Restart, reading.restart),
        button(cb.ConfirmReset, reading.reset_answer, answers=True),
        button(cb.OpenQuote, lookup.open_quote),
        button(cb.QuoteSource, lookup.quote_source),
        button(cb.OpenDate, lookup.open_date),
        button(cb.Timeline, lookup.timeline),
        button(cb.SwitchScript, switch_script, answers=True),
        button(cb.ChooseScript, settings.choose_script),
        button(cb.Subscribe, settings.subscribe_button),
        button(cb.SubscribeAt, settings.subscribe_at),
        button(cb.SetZone, settings.zone_button),
        button(cb.Quiet, settings.toggle_quiet, answers=True),
        button(cb.Quiz, quiz.quiz_button),
        button(cb.Card, cards.card_button),
        button(cb.Pause, pause.pause_button, answers=True),
        button(cb.Resume, pause.resume_button, answers=True),
        button(cb.SetDays, settings.days_button, answers=True),
        button(cb.Save, saved.save_button, answers=True),
        button(cb.Unsave, saved.unsave_button, answers=True),
        button(cb.PassageCard, cards.passage_card_button),
        button(cb.SectionCard, cards.section_card_button),
    ]
    for handler in buttons:
        app.add_handler(handler)
    app.add_handler(CallbackQueryHandler(stale))  # old or forged data: answered, ignored
    app.add_handler(InlineQueryHandler(lookup.inline_query))
    app.add_handler(PollAnswerHandler(quiz.answered))

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
    # A chat parked after refused digests gets them again once it talks to the bot.
    app.add_handler(TypeHandler(Update, activity.resume_parked), group=1)
    app.add_error_handler(on_error)
