"""What /readyz reports: does the database answer, is its schema current, do updates flow.

Checked in the background, so the endpoints answer from memory in microseconds and never
touch Telegram (or wait on a database that hangs) on the request path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from sqlalchemy.exc import DBAPIError

from bot.ops.failures import describe_db_error
from bot.store import SchemaError, Store
from bot.store.migrate import check_current

log = logging.getLogger(__name__)


@dataclass
class Health:
    database: str | None = "not checked yet"  # None: fine; else what is wrong
    schema: str | None = "not checked yet"
    updates: str | None = "not started"
    fatal: str | None = None  # set: the bot cannot go on and must exit (e.g. token revoked)
    stopped: asyncio.Event = field(default_factory=asyncio.Event)

    def fail(self, reason: str) -> None:
        """Record a failure the bot cannot recover from; the lifecycle exits on it."""
        if self.fatal is None:
            self.fatal = reason
            self.updates = reason
        self.stopped.set()

    def problems(self) -> dict[str, str]:
        checks = {"database": self.database, "schema": self.schema, "updates": self.updates}
        return {name: reason for name, reason in checks.items() if reason is not None}

    async def check_store(self, store: Store, timeout: float = 2.0) -> None:
        """Ask the database a trivial question and its schema revision."""
        try:
            async with asyncio.timeout(timeout):
                await store.ping()
                self.database = None
                await check_current(store.engine)
                self.schema = None
        except SchemaError as exc:
            self.schema = str(exc)
        except (DBAPIError, OSError, TimeoutError) as exc:
            reason = (
                "no answer in time" if isinstance(exc, TimeoutError) else describe_db_error(exc)
            )
            if self.database != reason:
                log.warning("database check failed: %s", reason)
            self.database = reason

    async def watch(self, store: Store, interval: float = 2.0) -> None:
        """Re-check the store every ``interval`` seconds until cancelled."""
        while True:
            with contextlib.suppress(Exception):  # a check never takes the bot down
                await self.check_store(store)
            await asyncio.sleep(interval)
