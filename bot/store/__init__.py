"""The database (SQLAlchemy Core, async): SQLite by default, PostgreSQL by URL.

``Store`` opens the engine and owns the repositories: ``chats``, ``users``, the delivery
``queue``, the ``updates`` seen, the ``quiz`` and the quote ``cards``. Dialect details stay
inside this package.
"""

from __future__ import annotations

from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from bot.ops.failures import DependencyUnavailable, StartupError, describe_db_error
from bot.store import migrate
from bot.store.card_files import Cards
from bot.store.chat_records import Chats
from bot.store.engine import insert_or_ignore, lock_sqlite_file, open_engine
from bot.store.history_log import History
from bot.store.ledger import Seen, UpdateLedger
from bot.store.migrate import Migration, SchemaError
from bot.store.queue import Claim, Delivered, DeliveryQueue
from bot.store.quiz_records import Quiz
from bot.store.saved_items import Saved
from bot.store.schema import chats, meta, metadata, users
from bot.store.users import Users

__all__ = [
    "Claim",
    "Delivered",
    "Migration",
    "SchemaError",
    "Seen",
    "Store",
    "UpdateLedger",
    "chats",
    "metadata",
    "users",
]


def _unreachable(error: BaseException) -> bool:
    """Tell a server that is down or starting (try later) from a wrong setting (fix it)."""
    if isinstance(error, OSError):  # refused, unreachable, timed out: the network said so
        return True
    cause = error.orig.__cause__ if isinstance(error, DBAPIError) and error.orig else None
    # PostgreSQL starting up or shutting down, or out of connections for the moment.
    return type(cause).__name__ in ("CannotConnectNowError", "TooManyConnectionsError")


class Store:
    """The database: chats, users and the delivery queue."""

    def __init__(self, url: str) -> None:
        self.engine = open_engine(url)
        self.chats = Chats(self.engine)
        self.users = Users(self.engine)
        self.queue = DeliveryQueue(self.engine)
        self.updates = UpdateLedger(self.engine)
        self.quiz = Quiz(self.engine)
        self.cards = Cards(self.engine)
        self.saved = Saved(self.engine)
        self.history = History(self.engine)
        self._lock: object = None

    async def init(self) -> Migration:
        """Bring the schema to this code's (migrating once, under a lock); say what was done."""
        return await migrate.upgrade(self.engine)

    async def open(self) -> Migration:
        """Check the database is usable and migrate it; raise StartupError in one line if not.

        Unreachable, read-only, corrupt or newer than this code: each is said plainly here,
        before anything else starts.
        """
        where = self.engine.url.render_as_string(hide_password=True)
        try:
            return await self.init()
        except SchemaError as exc:
            raise StartupError(f"database {where}: {exc}") from None
        except (DBAPIError, OSError) as exc:
            if self.kind != "sqlite" and _unreachable(exc):
                raise DependencyUnavailable(
                    f"database {where} does not answer: {describe_db_error(exc)}"
                ) from None
            raise StartupError(
                f"database {where} cannot be used: {describe_db_error(exc)}"
            ) from None

    def hold_exclusive(self) -> None:
        """Refuse a second bot process on this SQLite file (both would take every update).

        The lock is the operating system's, on a file beside the database, and goes away
        with the process however it ends.
        """
        self._lock = lock_sqlite_file(self.engine.url)

    async def get_meta(self, key: str) -> str | None:
        async with self.engine.connect() as conn:
            found = await conn.execute(select(meta.c.value).where(meta.c.key == key))
            return found.scalar()

    async def set_meta(self, key: str, value: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(insert_or_ignore(conn, meta).values(key=key, value=value))
            await conn.execute(update(meta).where(meta.c.key == key).values(value=value))

    async def revision(self) -> str | None:
        """Return the schema revision the database is at (None before the first migration)."""
        return await migrate.revision(self.engine)

    @property
    def kind(self) -> str:
        """Return the database's kind: sqlite or postgresql."""
        return self.engine.dialect.name

    async def ping(self) -> None:
        """Ask the database a trivial question (raises if it does not answer)."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()
