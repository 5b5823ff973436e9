"""Exactly one replica polls Telegram: the one holding a PostgreSQL advisory lock.

Telegram allows one getUpdates consumer per bot (a second gets 409 Conflict). Each replica
tries the lock every few seconds on a connection of its own; the holder polls. If it dies,
its connection closes, PostgreSQL frees the lock, and another replica takes over polling
within one retry interval. The others only deliver digests meanwhile.

Nothing the database or its driver raises ends the loop: a connection cut (PostgreSQL
restarted, pg_terminate_backend) raises ``asyncpg.InterfaceError`` or a
``ConnectionDoesNotExistError`` rather than a ``PostgresError``; the poller stops, /readyz
says why, and the loop connects again and polls once it holds the lock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    import asyncpg  # imported where used: a bot on SQLite never loads it

log = logging.getLogger(__name__)

_POLLER_LOCK = 0x5E12_0001  # any constant; the same for every replica of this bot


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class PollingLeadership:
    """Run ``on_gain`` when this replica becomes the poller and ``on_lose`` when it stops."""

    def __init__(
        self,
        database_url: str,
        on_gain: Callable[[], Awaitable[None]],
        on_lose: Callable[[], Awaitable[None]],
        *,
        on_status: Callable[[str | None], None] = lambda problem: None,
        retry: float = 5.0,
    ) -> None:
        self._dsn = _dsn(database_url)
        self._on_gain = on_gain
        self._on_lose = on_lose
        self._on_status = on_status  # None: fine (this replica polls, or another does)
        self._retry = retry
        self.leading = False

    async def run(self) -> None:
        """Try for the lock forever (cancel to stop); poll while holding it."""
        import asyncpg

        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self._dsn, timeout=self._retry)
                self._on_status(None)
                while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", _POLLER_LOCK):
                    await asyncio.sleep(self._retry)
                await self._lead(conn)
            except Exception as exc:  # any of them: the loop must outlive every outage
                problem = f"not polling: the database connection failed ({_say(exc)})"
                self._on_status(problem)
                log.warning("polling leadership: %s; trying again", _say(exc))
            finally:
                if conn is not None:
                    conn.terminate()
            await asyncio.sleep(self._retry)

    async def _lead(self, conn: asyncpg.Connection) -> None:
        log.info("this replica polls Telegram now")
        self.leading = True
        try:
            await self._on_gain()
            while True:  # the lock lives as long as this connection answers
                await asyncio.sleep(self._retry / 2)
                async with asyncio.timeout(self._retry):
                    await conn.fetchval("SELECT 1")
        finally:
            self.leading = False
            try:
                await self._on_lose()
            except Exception as exc:
                log.warning("stopping the poller: %s", _say(exc))
            log.info("this replica stopped polling")


def _say(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
