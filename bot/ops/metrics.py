"""Prometheus metrics: one registry per running bot, served at /metrics.

Every label has a bounded set of values: update kinds and command names come from fixed
lists (anything else is "other"), Bot API methods likewise; no user or chat ids, no text.
"""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from telegram import Update

from bot.botapi.update_kind import describe

_METHODS = frozenset(
    {
        "getMe",
        "getUpdates",
        "setWebhook",
        "deleteWebhook",
        "getWebhookInfo",
        "setMyCommands",
        "setMyDescription",
        "setMyShortDescription",
        "sendMessage",
        "sendPhoto",
        "sendPoll",
        "editMessageText",
        "editMessageReplyMarkup",
        "answerCallbackQuery",
        "answerInlineQuery",
        "getChatMember",
        "getChatAdministrators",
    }
)
_KINDS = frozenset(Update.ALL_TYPES)
# Seconds: replies take milliseconds; a flood-limited one may wait a second or more.
_HANDLING = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
# Seconds a Bot API call takes: tens of milliseconds; getUpdates long polls for up to 30 s.
_API = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 45)
# Seconds behind the due minute: a fan-out of ten thousand at 30/s takes about 330 s.
_LAG = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600)


class Metrics:
    """The bot's counters, gauges and histograms (see the README's table)."""

    def __init__(self, commands: frozenset[str]) -> None:
        self.registry = CollectorRegistry()
        self._commands = commands
        r = self.registry
        # process_cpu_seconds_total, process_resident_memory_bytes, process_start_time_seconds,
        # process_open_fds ...; python_info.
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        self.build = Info("bot_build", "The bot's version and its Python", registry=r)
        self.build.info({"version": bot_version(), "python": platform.python_version()})
        self.polling = Gauge(
            "bot_polling",
            "1 while this replica polls Telegram for updates (at most one replica does)",
            registry=r,
        )
        self.ready = Gauge(
            "bot_ready",
            "1 while /readyz answers ready: database and schema usable, updates arriving",
            registry=r,
        )
        self.unhandled = Gauge(
            "bot_updates_unhandled",
            "Updates fetched from Telegram but not yet handled (running or waiting)",
            registry=r,
        )
        self.api_seconds = Histogram(
            "bot_api_request_seconds",
            "Bot API request latency by method (getUpdates: its long poll)",
            ["method"],
            buckets=_API,
            registry=r,
        )
        self.updates = Counter(
            "bot_updates", "Updates handled, by kind and command", ["kind", "command"], registry=r
        )
        self.update_seconds = Histogram(
            "bot_update_handling_seconds",
            "Time to handle an update",
            buckets=_HANDLING,
            registry=r,
        )
        self.updates_dropped = Counter(
            "bot_updates_dropped", "Updates dropped because their chat was flooding", registry=r
        )
        self.api_requests = Counter(
            "bot_api_requests",
            "Bot API requests by method and outcome (ok, 429, 403, 4xx, 5xx, timeout, network)",
            ["method", "outcome"],
            registry=r,
        )
        self.digests = Counter(
            "bot_digests",
            "Daily digests by result (delivered, failed, repeated)",
            ["result"],
            registry=r,
        )
        self.delivery_lag = Histogram(
            "bot_delivery_lag_seconds",
            "How long after its due minute a digest reached Telegram",
            buckets=_LAG,
            registry=r,
        )
        self.due_backlog = Gauge(
            "bot_due_backlog", "Chats whose digest is due but not yet sent", registry=r
        )
        self.subscribers = Gauge(
            "bot_subscribers",
            "Subscribed chats by kind and script",
            ["kind", "script"],
            registry=r,
        )
        self.flood_wait = Counter(
            "bot_flood_wait_seconds",
            "Time messages waited for the flood budget, by lane (reply, digest)",
            ["lane"],
            registry=r,
        )
        self.parked = Gauge(
            "bot_parked_chats",
            "Chats whose digests stopped after repeated refusals, until they talk again",
            registry=r,
        )
        self.duplicates = Counter(
            "bot_updates_duplicate",
            "Updates Telegram delivered again, not applied twice",
            registry=r,
        )

    def handled(self, update: object, seconds: float) -> None:
        kind, command = describe(update)
        if command and command not in self._commands:
            command = "other"
        self.updates.labels(kind if kind in _KINDS else "other", command or "none").inc()
        self.update_seconds.observe(seconds)

    def dropped(self, update: object) -> None:
        self.updates_dropped.inc()

    def api_call(self, method: str, outcome: str, seconds: float | None = None) -> None:
        name = method if method in _METHODS else "other"
        self.api_requests.labels(name, outcome).inc()
        if seconds is not None:
            self.api_seconds.labels(name).observe(seconds)

    def waited(self, lane: str, seconds: float) -> None:
        self.flood_wait.labels(lane).inc(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def bot_version() -> str:
    """Return the installed package's version ("unknown" from a bare checkout)."""
    try:
        return version("article-serial-bot")
    except PackageNotFoundError:
        return "unknown"


def outcome(status: int) -> str:
    """Return the outcome label of an HTTP status from the Bot API."""
    if 200 <= status < 300:
        return "ok"
    if status in (403, 429):
        return str(status)
    return "4xx" if 400 <= status < 500 else "5xx"
