"""Fixtures: a strict fake Bot API on 127.0.0.1 and the real Application polling it."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.ext import ContextTypes, TypeHandler

from bot.app import build_application
from bot.config import Settings, load_settings
from bot.content import Library, load_library
from bot.handlers.common import BotApplication
from bot.ops.failures import Stopping
from bot.runtime.lifecycle import running
from bot.services.context import Services
from fake_telegram import FakeTelegram, SentMessage
from fake_telegram import factories as u

# What ``python -m bot`` does first (bot/__main__.py). The tests build the application in
# process; PTB reads the variable whenever it builds a RetryAfter, so setting it here is early
# enough.
os.environ.setdefault("PTB_TIMEDELTA", "true")

ARTICLE = Path(__file__).resolve().parents[1] / "content" / "article.txt"
# The PostgreSQL server tests use (each test gets a database of its own on it).
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
# The Redis server replica tests share (each test gets a key prefix of its own on it).
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def fresh_postgres() -> AsyncIterator[str]:
    """Create a PostgreSQL database of its own for one test; drop it afterwards.

    Skips the test, saying why, when no PostgreSQL server answers.
    """
    import asyncpg
    from sqlalchemy.engine import make_url

    admin = make_url(POSTGRES_ADMIN_URL)
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        conn = await asyncpg.connect(dsn, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.skip(f"no PostgreSQL at {admin.host}:{admin.port} ({exc})")
    name = f"bot_test_{uuid.uuid4().hex[:16]}"
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


async def require_redis() -> str:
    """Return the Redis URL for tests; skip the test, saying why, when no Redis answers."""
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    client = Redis.from_url(REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        pytest.skip(f"no Redis at {REDIS_URL} ({exc})")
    finally:
        await client.aclose()
    return REDIS_URL


@pytest.fixture
async def redis_url() -> str:
    return await require_redis()


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    async with fresh_postgres() as url:
        yield url


@pytest.fixture(scope="session")
def library() -> Library:
    return load_library(ARTICLE)


class Clock:
    """An injectable clock: tests move time instead of waiting for it."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
def make_settings(tmp_path: Path, fake: FakeTelegram) -> Callable[..., Settings]:
    """Settings pointing at the fake server and a fresh SQLite file; overrides by env name."""

    def make(**env: str) -> Settings:
        values = {
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_BASE_URL": fake.base_url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
            "DELIVERY_TICK_SECONDS": "1",
            # Telegram's pace (1 reply/s per private chat) would only slow conversations
            # down here; flood control has tests of its own that turn it on.
            "BOT_RATE_LIMIT": "0",
            "HTTP_PORT": "0",  # no HTTP server unless a test asks for one (free_port())
            "DELIVERY_RETRY_BASE_SECONDS": "1",
            "DELIVERY_RETRY_MAX_SECONDS": "2",
            "LOG_LEVEL": "DEBUG",
        }
        values.update(env)
        return load_settings(values, env_file=tmp_path / "no.env")

    return make


@dataclass
class Harness:
    """The running bot, the fake server it talks to, and what went wrong in handlers."""

    app: BotApplication
    fake: FakeTelegram
    errors: list[BaseException] = field(default_factory=list)

    @property
    def services(self) -> Services:
        return self.app.services

    async def ask(
        self, update: dict[str, Any], *, chat_id: int | None = None, timeout: float = 10.0
    ) -> list[SentMessage]:
        """Push an update, wait until the bot is done with it, return what it sent the chat.

        Waiting for the whole update (not for N replies) also catches unwanted extra
        messages. ``chat_id``: look in another chat (a group that just moved, say).
        """
        target = chat_id if chat_id is not None else _chat_of(update)
        before = self.fake.sent_count(target)
        await self.processed(update, timeout)
        return self.fake.sent(target)[before:]

    async def command(
        self, text: str, user_id: int = u.DEFAULT_USER_ID, **kw: Any
    ) -> list[SentMessage]:
        """Send a command (in the user's private chat unless ``chat`` is given); see ask."""
        return await self.ask(u.command(text, user_id, **kw))

    done: set[int] = field(default_factory=set)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def processed(self, update: dict[str, Any], timeout: float = 10.0) -> None:
        """Push an update and wait until every handler group has finished with it."""
        update_id = self.fake.push(update)
        async with asyncio.timeout(timeout):
            while update_id not in self.done:
                self._changed.clear()
                await self._changed.wait()

    async def _mark_done(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        self.done.add(update.update_id)
        self._changed.set()


def _chat_of(update: dict[str, Any]) -> int:
    for key in ("message", "edited_message", "channel_post"):
        if key in update:
            return int(update[key]["chat"]["id"])
    if "callback_query" in update:
        message = update["callback_query"].get("message", {})
        if "chat" in message:
            return int(message["chat"]["id"])
        return int(message[u.MESSAGE_REF_KEY][0])
    if "my_chat_member" in update:
        return int(update["my_chat_member"]["chat"]["id"])
    raise ValueError("update has no chat")


@pytest.fixture
def clock() -> Clock:
    return Clock()


BotRunner = Callable[..., AbstractAsyncContextManager["Harness"]]


@pytest.fixture
def run_bot(
    fake: FakeTelegram, make_settings: Callable[..., Settings], library: Library, clock: Clock
) -> BotRunner:
    """Return a context manager that runs the real Application against the fake.

    Every end-to-end test builds its bot here. Each run is a fresh Application on the same
    database, so leaving the block and entering another is a restart; on leaving, no
    handler or job may have raised.
    """

    @asynccontextmanager
    async def run(run_jobs: bool = False, **env: str) -> AsyncIterator[Harness]:
        settings = make_settings(**env)
        app = build_application(settings, library=library, clock=clock, run_jobs=run_jobs)
        harness = Harness(app, fake)

        async def collect(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
            assert context.error is not None
            if not isinstance(context.error, Stopping):  # cut short by the test's end: fine
                harness.errors.append(context.error)

        app.add_error_handler(collect)
        # Runs after every other handler group: marks the update as fully handled.
        app.add_handler(TypeHandler(Update, harness._mark_done), group=1000)
        async with running(app, poll_timeout=1):
            yield harness
        assert not harness.errors, f"handlers or jobs raised: {harness.errors!r}"

    return run


@pytest.fixture
async def start_bot(run_bot: BotRunner) -> AsyncIterator[Callable[..., Awaitable[Harness]]]:
    """Start a bot that runs until the test ends (see run_bot)."""
    async with AsyncExitStack() as stack:

        async def start(run_jobs: bool = False, **env: str) -> Harness:
            return await stack.enter_async_context(run_bot(run_jobs, **env))

        yield start


@pytest.fixture
async def bot(start_bot: Callable[..., Awaitable[Harness]]) -> Harness:
    """The bot, running, with the delivery job off (tests that need it start their own)."""
    return await start_bot()
