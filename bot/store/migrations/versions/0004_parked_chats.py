"""Parked chats: a chat whose digests Telegram keeps refusing stops being retried, with the
reason kept, until it talks to the bot again.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


# The previous release (head 0003) runs on this schema: the columns are nullable and it
# never names them. Said in meta, so that it starts and stays ready on it (bot.store.migrate).
COMPATIBLE_FROM = "0003"

_meta = sa.table("meta", sa.column("key", sa.String), sa.column("value", sa.String))


def upgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        batch.add_column(sa.Column("parked_reason", sa.String(200)))
        batch.add_column(sa.Column("parked_at", sa.BigInteger))
    op.execute(_meta.delete().where(_meta.c.key == "schema_compatible_from"))
    op.execute(_meta.insert().values(key="schema_compatible_from", value=COMPATIBLE_FROM))


def downgrade() -> None:
    op.execute(_meta.delete().where(_meta.c.key == "schema_compatible_from"))
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("parked_at")
        batch.drop_column("parked_reason")
