"""SQLite for the async engine without a thread hop per driver call.

aiosqlite runs every driver call (cursor, execute, fetch, close, commit) on a thread of its
own and waits for the answer: a dozen hops for one short transaction, each costing the
event loop far more than the statement. SQLite on a local file in WAL mode answers in
microseconds, and one process holds the file (``Store.hold_exclusive``), so the bot's
connections answer on the caller's thread instead. They are aiosqlite connections whose
queue runs each call at once; SQLAlchemy's aiosqlite dialect drives them unchanged.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from typing import Any

import aiosqlite

# The aiosqlite release these internals (``_tx``, ``_execute``, ``_connect``, ``_running``) were
# read from; tests/test_store.py fails when another is installed, so an upgrade is a decision.
WRITTEN_AGAINST = "0.22.1"


class _Now:
    """Stands in for aiosqlite's queue to its thread: runs each call when it is queued."""

    @staticmethod
    def put_nowait(item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:  # handed to the waiter, as aiosqlite's thread does
            if future is not None and not future.done():
                future.set_exception(exc)
        else:
            if future is not None and not future.done():
                future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection that never starts its thread."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _Now()  # type: ignore[assignment]

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    async def _connect(self) -> InlineConnection:
        if self._connection is None:
            self._connection = self._connector()
        return self

    def __await__(self) -> Any:
        return self._connect().__await__()


def creator(path: str) -> Callable[[], Any]:
    """Return the engine's ``async_creator``: a new inline connection to ``path``."""

    async def connect() -> InlineConnection:
        # check_same_thread off: the pool may close a connection from a collector hook.
        return await InlineConnection(lambda: sqlite3.connect(path, check_same_thread=False))

    return connect
