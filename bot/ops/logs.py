"""Logging: human-readable lines by default, one JSON object per line when asked; no secrets.

PTB logs its API URLs at DEBUG, and a URL holds the token; so may an exception's text.
Redacting the finished line covers messages, arguments and tracebacks alike. The update
being handled (its id, chat and command) is carried in context variables set by the update
processor, so every line logged while handling it names it.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from pythonjsonlogger.json import JsonFormatter
from telegram.error import Conflict, InvalidToken, NetworkError

update_id: ContextVar[int | None] = ContextVar("update_id", default=None)
chat_id: ContextVar[int | None] = ContextVar("chat_id", default=None)
command: ContextVar[str | None] = ContextVar("command", default=None)

_TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s%(where)s"
_QUIET = ("httpx", "httpcore", "aiohttp.access", "apscheduler", "alembic")


class _Context(logging.Filter):
    """Attach the update being handled (if any) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = {
            "update_id": update_id.get(),
            "chat_id": chat_id.get(),
            "command": command.get(),
        }
        record.__dict__.update(context)
        where = [
            f"{name}={value}"
            for name, value in (("update", context["update_id"]), ("chat", context["chat_id"]))
            if value is not None
        ]
        record.where = f" [{' '.join(where)}]" if where else ""
        return True


class _OneLine(logging.Filter):
    """Turn PTB's tracebacks for expected network trouble into one line.

    python-telegram-bot logs a lost connection, a 409 or a revoked token with a full
    traceback; each is an operating condition, said better in a line (and the revoked
    token makes the bot exit with its own line).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        expected = isinstance(error, InvalidToken | NetworkError | Conflict)
        if record.name.startswith("telegram") and expected:
            record.msg = f"{record.getMessage()} ({type(error).__name__}: {error})"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
        return True


def timestamp(created: float | None = None) -> str:
    """Return a moment as ISO 8601 local time with its UTC offset (2026-12-04T23:40:00.123+00:00).

    A time without its offset cannot be lined up with another host's logs.
    """
    moment = datetime.fromtimestamp(time.time() if created is None else created)
    return moment.astimezone().isoformat(timespec="milliseconds")


class _Redacting(logging.Formatter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__(_TEXT)
        self._secrets = sorted(secrets, key=len, reverse=True)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return timestamp(record.created)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self._secrets)


class _RedactingJson(JsonFormatter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            timestamp=False,
        )
        self._secrets = sorted(secrets, key=len, reverse=True)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return timestamp(record.created)

    def add_fields(
        self, log_record: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_record, record, message_dict)
        for key in ("update_id", "chat_id", "command"):
            value = getattr(record, key, None)
            if value is not None:
                log_record[key] = value
        log_record.pop("where", None)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self._secrets)


def startup_error(message: str, fmt: str) -> str:
    """Return the one line a start-up failure is, in the log format asked for."""
    if fmt == "json":
        entry = {"time": timestamp(), "level": "ERROR", "logger": "bot", "message": message}
        return json.dumps(entry, ensure_ascii=False)
    return f"error: {message}"


def redact(line: str, secrets: list[str]) -> str:
    for secret in secrets:
        line = line.replace(secret, "***")
    return line


def configure(level: str, fmt: str, secrets: list[str]) -> None:
    """Send every log line to stderr, in text or JSON, with secrets blanked out."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_Context())
    handler.addFilter(_OneLine())
    handler.setFormatter(_RedactingJson(secrets) if fmt == "json" else _Redacting(secrets))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    for noisy in _QUIET:
        logging.getLogger(noisy).setLevel(logging.WARNING)


class Throttle:
    """Let a recurring complaint through once per ``seconds`` (a tick must not flood logs)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._last = float("-inf")

    def ready(self) -> bool:
        now = time.monotonic()
        if now - self._last < self.seconds:
            return False
        self._last = now
        return True
