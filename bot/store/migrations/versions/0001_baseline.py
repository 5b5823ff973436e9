"""The schema of the first release (its meta table said schema_version 1).

A database that release created is adopted by stamping it at this revision; a new one is
created by it.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(256), nullable=False),
    )
    op.execute("INSERT INTO meta (key, value) VALUES ('schema_version', '1')")
    op.create_table(
        "chats",
        sa.Column("chat_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.String(256), nullable=False),
        sa.Column("script", sa.String(16)),
        sa.Column("progress", sa.Integer, nullable=False),
        sa.Column("read_mask", sa.BigInteger, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("subscribed", sa.Boolean, nullable=False),
        sa.Column("delivery_time", sa.String(5)),
        sa.Column("timezone", sa.String(64)),
        sa.Column("quiet", sa.Boolean, nullable=False),
        sa.Column("thread_id", sa.BigInteger),
        sa.Column("next_due_at", sa.BigInteger),
        sa.Column("claimed_until", sa.BigInteger),
        sa.Column("claim_token", sa.String(36)),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("finished", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_chats_due", "chats", ["next_due_at"])
    op.create_table(
        "users",
        sa.Column("user_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("script", sa.String(16)),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("users")
    op.drop_index("ix_chats_due", "chats")
    op.drop_table("chats")
    op.drop_table("meta")
