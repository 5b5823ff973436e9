"""Alembic's entry: run the migrations on the connection the bot hands over.

``python -m bot migrate`` (and start-up) pass a connection in ``config.attributes``; the
plain ``alembic`` command (with the project's alembic.ini) opens one from DATABASE_URL.
SQLite needs batch mode to alter tables.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection

from bot.store.schema import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = os.environ.get("DATABASE_URL", "sqlite:///data/bot.db")
    with create_engine(url).connect() as opened:
        _run(opened)
