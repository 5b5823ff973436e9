"""One frozen Settings object, read from the environment (and .env) at start-up."""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

from bot.schedule import parse_hhmm

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ARTICLE = PROJECT_ROOT / "content" / "article.txt"
_TOKEN_SHAPE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")
# Tests and self-hosted servers may use short tokens; the shape check is the Bot API's.
_TEST_TOKEN_SHAPE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")


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
    tick_seconds: float = 5.0  # how often the store is asked what is due
    lease_seconds: int = 120  # how long a claimed delivery is reserved for one worker
    retry_base_seconds: int = 5
    retry_max_seconds: int = 300

    def __repr__(self) -> str:  # keep the token out of logs and tracebacks
        return f"Settings(base_url={self.base_url!r}, database_url={self.database_url!r}, ...)"


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: Path | None = None
) -> Settings:
    """Read settings from an optional .env file overlaid by the environment."""
    values: dict[str, str] = {}
    env_path = env_file if env_file is not None else Path.cwd() / ".env"
    if env_path.is_file():
        values.update({k: v for k, v in dotenv_values(env_path).items() if v is not None})
    values.update(os.environ if environ is None else environ)

    token = values.get("TELEGRAM_BOT_TOKEN", "").strip()
    if not token:
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN is not set. Create a bot with @BotFather in Telegram "
            "(/newbot), then put its token in .env as TELEGRAM_BOT_TOKEN=... or export it."
        )
    if not (_TOKEN_SHAPE.match(token) or _TEST_TOKEN_SHAPE.match(token)):
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

    log_level = (values.get("LOG_LEVEL", "").strip() or "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {log_level!r}")

    article = Path(values.get("ARTICLE_PATH", "").strip() or DEFAULT_ARTICLE)
    return Settings(
        token,
        base_url,
        database_url,
        timezone,
        delivery_time,
        log_level,
        article,
        rate_limit=_number(values, "BOT_RATE_LIMIT", 30, minimum=0),
        concurrency=_number(values, "DELIVERY_CONCURRENCY", 32, minimum=1),
        tick_seconds=float(_number(values, "DELIVERY_TICK_SECONDS", 5, minimum=1, real=True)),
        lease_seconds=_number(values, "DELIVERY_LEASE_SECONDS", 120, minimum=1),
        retry_base_seconds=_number(values, "DELIVERY_RETRY_BASE_SECONDS", 5, minimum=1),
        retry_max_seconds=_number(values, "DELIVERY_RETRY_MAX_SECONDS", 300, minimum=1),
    )


def _check_database_url(url: str) -> None:
    """Reject a DATABASE_URL the store cannot open, before anything starts."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        scheme = make_url(url).get_backend_name()
    except ArgumentError:
        raise ConfigError(
            f"DATABASE_URL {url!r} is not a database URL "
            "(e.g. sqlite:///data/bot.db or postgresql://user:password@host/db)"
        ) from None
    if scheme not in ("sqlite", "postgresql"):
        raise ConfigError(f"DATABASE_URL must be sqlite:/// or postgresql://, got {scheme}://")
    if scheme == "postgresql" and importlib.util.find_spec("asyncpg") is None:
        raise ConfigError(
            "DATABASE_URL is PostgreSQL but its driver is missing: pip install -e '.[postgres]'"
        )


def _number(
    values: Mapping[str, str], name: str, default: int, *, minimum: int, real: bool = False
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
    return number  # type: ignore[return-value]
