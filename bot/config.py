"""One frozen Settings object, read from the environment (and .env) at start-up."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

from bot.content.library import DEFAULT_ARTICLE
from bot.rules.schedule import parse_hhmm

PROJECT_ROOT = Path(__file__).resolve().parents[1]
_TOKEN_SHAPE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")
# Tests and self-hosted servers may use short tokens; the shape check is the Bot API's.
_TEST_TOKEN_SHAPE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
_SECRET_SHAPE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # Telegram's rule for secret_token
# Telegram's paid broadcasts go up to this many messages per second.
PAID_RATE_MAX = 1000
FREE_RATE = 30

# Every variable the bot reads (the container and service files may set only these).
VARIABLES = (
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_BASE_URL",
    "TELEGRAM_WEBHOOK_URL",
    "TELEGRAM_WEBHOOK_SECRET",
    "WEBHOOK_MAX_CONNECTIONS",
    "HTTP_HOST",
    "HTTP_PORT",
    "DATABASE_URL",
    "REDIS_URL",
    "REDIS_KEY_PREFIX",
    "BOT_TIMEZONE",
    "DELIVERY_TIME",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "ARTICLE_PATH",
    "ARTICLE_YEAR",
    "BOT_ADMIN_IDS",
    "BOT_RATE_LIMIT",
    "BOT_PAID_BROADCAST",
    "DELIVERY_CONCURRENCY",
    "BOT_UPDATE_CONCURRENCY",
    "DELIVERY_TICK_SECONDS",
    "DELIVERY_LEASE_SECONDS",
    "DELIVERY_RETRY_BASE_SECONDS",
    "DELIVERY_RETRY_MAX_SECONDS",
)


class ConfigError(Exception):
    """A setting is missing or malformed; the message says how to fix it."""


@dataclass(frozen=True)
class Settings:
    token: str
    base_url: str | None
    database_url: str
    timezone: ZoneInfo
    delivery_time: time
    log_level: str
    article_path: Path
    # Tuning, with defaults fit for Telegram; tests and benchmarks change them.
    rate_limit: int = 30  # messages/s across all chats; 0 turns the limiter off
    concurrency: int = 32  # digest messages in flight at once
    update_concurrency: int = 128  # updates handled at once; twice this fetched at most
    tick_seconds: float = 5.0  # how often the store is asked what is due
    lease_seconds: int = 120  # how long a claimed delivery is reserved for one worker
    retry_base_seconds: int = 5
    retry_max_seconds: int = 300
    log_format: str = "text"  # or "json": one object per line
    webhook_url: str | None = None  # set: webhook mode, Telegram POSTs updates to it
    webhook_secret: str | None = None
    webhook_max_connections: int = 40
    http_host: str = "127.0.0.1"
    http_port: int = 8080  # 0: no HTTP server (polling mode only)
    redis_url: str | None = None  # set: the flood budget is shared through Redis
    redis_prefix: str = "serialbot:"
    admin_ids: frozenset[int] = field(default_factory=frozenset)  # may use /stats
    paid_broadcast: bool = False  # digests use allow_paid_broadcast, up to 1,000/s
    # The year the article's dates fall in: the article says month and day only.
    article_year: int | None = None

    def __repr__(self) -> str:  # keep secrets out of logs and tracebacks
        database = mask(self.database_url, self)
        return f"Settings(webhook={self.webhook_mode}, database={database!r}, ...)"

    @property
    def webhook_mode(self) -> bool:
        return self.webhook_url is not None

    @property
    def webhook_path(self) -> str:
        """Return the path of the webhook URL, which the bot's HTTP server serves."""
        assert self.webhook_url is not None
        return urlsplit(self.webhook_url).path or "/"

    @property
    def secrets(self) -> list[str]:
        """Return every secret a log line or error message must never show."""
        found = [self.token, self.token.partition(":")[2], self.webhook_secret or ""]
        for url in (self.database_url, self.redis_url or ""):
            found.append(_password(url))
        return [s for s in found if len(s) >= 4]


def mask(text: str, settings: Settings | None = None, *, extra: tuple[str, ...] = ()) -> str:
    """Return text with every secret of ``settings`` (and ``extra``) replaced by ``***``."""
    secrets = [*(settings.secrets if settings else []), *extra]
    for secret in sorted(filter(None, secrets), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def _password(url: str) -> str:
    try:
        return urlsplit(url).password or ""
    except ValueError:
        return ""


def _masked_url(url: str) -> str:
    """Return a URL for an error message: its password (if any) replaced."""
    password = _password(url)
    return url.replace(password, "***") if password else url


def load_settings(
    environ: Mapping[str, str] | None = None,
    env_file: Path | None = None,
    *,
    need_token: bool = True,
) -> Settings:
    """Read settings from an optional .env file overlaid by the environment.

    Commands that only touch the database (``migrate``) pass ``need_token=False``.
    """
    values: dict[str, str] = {}
    env_path = env_file if env_file is not None else Path.cwd() / ".env"
    if env_path.is_file():
        values.update({k: v for k, v in dotenv_values(env_path).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    try:
        return _read(values, need_token)
    except ConfigError as exc:
        # Whatever a message echoes, the token never shows (e.g. pasted into another URL).
        token = values.get("TELEGRAM_BOT_TOKEN", "").strip()
        raise ConfigError(mask(str(exc), extra=(token, token.partition(":")[2]))) from None


def _read(values: Mapping[str, str], need_token: bool = True) -> Settings:
    token = values.get("TELEGRAM_BOT_TOKEN", "").strip()
    if not token:
        if need_token:
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN is not set. Create a bot with @BotFather in Telegram "
                "(/newbot), then put its token in .env as TELEGRAM_BOT_TOKEN=... or export it."
            )
    elif not (_TOKEN_SHAPE.match(token) or _TEST_TOKEN_SHAPE.match(token)):
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN does not look like a bot token (expected 123456789:ABC...). "
            "Copy it again from @BotFather (/mybots → API Token) into .env."
        )

    base_url = values.get("TELEGRAM_BASE_URL", "").strip() or None
    if base_url and not base_url.startswith(("http://", "https://")):
        raise ConfigError(
            f"TELEGRAM_BASE_URL must start with http:// or https://, got {base_url!r}"
        )

    database_url = values.get("DATABASE_URL", "").strip() or "sqlite:///data/bot.db"
    _check_database_url(database_url)

    tz_name = values.get("BOT_TIMEZONE", "").strip() or "Asia/Shanghai"
    try:
        timezone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"BOT_TIMEZONE {tz_name!r} is not an IANA time zone (e.g. Asia/Shanghai)"
        ) from None

    hhmm = values.get("DELIVERY_TIME", "").strip() or "08:00"
    delivery_time = parse_hhmm(hhmm)
    if delivery_time is None:
        raise ConfigError(f"DELIVERY_TIME must be HH:MM (e.g. 08:00), got {hhmm!r}")

    log_level = _choice(values, "LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"))
    log_format = _choice(values, "LOG_FORMAT", "TEXT", ("TEXT", "JSON")).lower()
    article = Path(values.get("ARTICLE_PATH", "").strip() or DEFAULT_ARTICLE)
    paid = _flag(values, "BOT_PAID_BROADCAST")
    rate = _number(values, "BOT_RATE_LIMIT", FREE_RATE, minimum=0)
    if rate > (PAID_RATE_MAX if paid else FREE_RATE):
        raise ConfigError(
            f"BOT_RATE_LIMIT above {FREE_RATE} needs BOT_PAID_BROADCAST=1 (paid broadcasts, "
            f"up to {PAID_RATE_MAX}/s), got {rate}"
            if not paid
            else f"BOT_RATE_LIMIT can be at most {PAID_RATE_MAX} (Telegram's paid limit)"
        )
    webhook_url, webhook_secret = _webhook(values)
    http_port = _number(values, "HTTP_PORT", 8080, minimum=0, maximum=65535)
    if webhook_url and not http_port:
        raise ConfigError("webhook mode needs the HTTP server: HTTP_PORT must not be 0")
    redis_url = values.get("REDIS_URL", "").strip() or None
    if redis_url and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(
            f"REDIS_URL must start with redis:// or rediss://, got {_masked_url(redis_url)!r}"
        )
    return Settings(
        token,
        base_url,
        database_url,
        timezone,
        delivery_time,
        log_level,
        article,
        rate_limit=rate,
        concurrency=_number(values, "DELIVERY_CONCURRENCY", 32, minimum=1),
        update_concurrency=_number(values, "BOT_UPDATE_CONCURRENCY", 128, minimum=1),
        tick_seconds=float(_number(values, "DELIVERY_TICK_SECONDS", 5, minimum=1, real=True)),
        lease_seconds=_number(values, "DELIVERY_LEASE_SECONDS", 120, minimum=1),
        retry_base_seconds=_number(values, "DELIVERY_RETRY_BASE_SECONDS", 5, minimum=1),
        retry_max_seconds=_number(values, "DELIVERY_RETRY_MAX_SECONDS", 300, minimum=1),
        log_format=log_format,
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        webhook_max_connections=_number(
            values, "WEBHOOK_MAX_CONNECTIONS", 40, minimum=1, maximum=100
        ),
        http_host=values.get("HTTP_HOST", "").strip() or "127.0.0.1",
        http_port=http_port,
        redis_url=redis_url,
        redis_prefix=values.get("REDIS_KEY_PREFIX", "").strip() or "serialbot:",
        admin_ids=_ids(values, "BOT_ADMIN_IDS"),
        paid_broadcast=paid,
        article_year=_number(values, "ARTICLE_YEAR", 0, minimum=1900, maximum=2200) or None,
    )


def _webhook(values: Mapping[str, str]) -> tuple[str | None, str | None]:
    url = values.get("TELEGRAM_WEBHOOK_URL", "").strip() or None
    secret = values.get("TELEGRAM_WEBHOOK_SECRET", "").strip() or None
    if url is None:
        return None, secret
    if not url.startswith(("https://", "http://")):
        raise ConfigError(f"TELEGRAM_WEBHOOK_URL must be an https:// URL, got {url!r}")
    if secret is None:
        raise ConfigError(
            "webhook mode needs TELEGRAM_WEBHOOK_SECRET (1-256 of A-Z a-z 0-9 _ -): Telegram "
            "sends it with every update, and the bot refuses updates without it"
        )
    if not _SECRET_SHAPE.match(secret):
        raise ConfigError(
            "TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z a-z 0-9 _ - "
            "(e.g. from: python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    return url, secret


def _check_database_url(url: str) -> None:
    """Reject a DATABASE_URL the store cannot open, before anything starts."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        scheme = make_url(url).get_backend_name()
    except ArgumentError:
        raise ConfigError(
            f"DATABASE_URL {_masked_url(url)!r} is not a database URL "
            "(e.g. sqlite:///data/bot.db or postgresql://user:password@host/db)"
        ) from None
    if scheme not in ("sqlite", "postgresql"):
        raise ConfigError(f"DATABASE_URL must be sqlite:/// or postgresql://, got {scheme}://")


def _choice(values: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = (values.get(name, "").strip() or default).upper()
    if value not in allowed:
        raise ConfigError(f"{name} must be {', '.join(allowed)}, got {value!r}")
    return value


def _flag(values: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = values.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name} must be 1 or 0, got {raw!r}")


def _ids(values: Mapping[str, str], name: str) -> frozenset[int]:
    raw = values.get(name, "").strip()
    ids: set[int] = set()
    for part in filter(None, (p.strip() for p in raw.split(","))):
        if not part.isascii() or not part.isdigit():
            raise ConfigError(
                f"{name} must be Telegram user ids separated by commas, got {part!r}"
            )
        ids.add(int(part))
    return frozenset(ids)


def _number(
    values: Mapping[str, str],
    name: str,
    default: int,
    *,
    minimum: int,
    maximum: int | None = None,
    real: bool = False,
) -> int:
    raw = values.get(name, "").strip()
    if not raw:
        return default
    try:
        number = float(raw) if real else int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if number < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {raw!r}")
    if maximum is not None and number > maximum:
        raise ConfigError(f"{name} must be at most {maximum}, got {raw!r}")
    return number  # type: ignore[return-value]
