"""Several replicas and operations: group moves, claim lookups, updates seen once, a log of
deliveries; older releases are locked out.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_moves",
        sa.Column("old_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("new_id", sa.BigInteger, nullable=False),
    )
    # Every claim reads its rows back by token.
    op.create_index("ix_chats_claim_token", "chats", ["claim_token"])
    op.create_table(
        "processed_updates",
        sa.Column("update_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("claimed_until", sa.BigInteger),
        sa.Column("done_at", sa.BigInteger),
    )
    op.create_index("ix_processed_updates_done", "processed_updates", ["done_at"])
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("chat_id", sa.BigInteger, nullable=False),
        sa.Column("section", sa.Integer, nullable=False),
        sa.Column("result", sa.String(16), nullable=False),
    )
    op.create_index("ix_deliveries_at", "deliveries", ["at"])
    # The first release refuses a schema_version above its own: it must not run on this one.
    op.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")


def downgrade() -> None:
    op.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    op.drop_index("ix_deliveries_at", "deliveries")
    op.drop_table("deliveries")
    op.drop_index("ix_processed_updates_done", "processed_updates")
    op.drop_table("processed_updates")
    op.drop_index("ix_chats_claim_token", "chats")
    op.drop_table("chat_moves")
