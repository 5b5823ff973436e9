"""Reading features, round two: pauses and reading days, saved quotes, sections and passages,
and the day each section first reached a chat (for /history).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        batch.add_column(sa.Column("paused_until", sa.BigInteger))
        batch.add_column(
            sa.Column("reading_days", sa.Integer, nullable=False, server_default="127")
        )
    op.create_table(
        "passages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("section", sa.Integer, nullable=False),
        sa.Column("script", sa.String(16), nullable=False),
        sa.Column("text", sa.String(1024), nullable=False),
        sa.UniqueConstraint("section", "script", "text", name="uq_passages_text"),
    )
    op.create_table(
        "saved_items",
        sa.Column("user_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(1), primary_key=True),
        sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("saved_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_saved_items_newest", "saved_items", ["user_id", "saved_at"])
    op.create_table(
        "section_reads",
        sa.Column("chat_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("section", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("first_at", sa.BigInteger, nullable=False),
        sa.Column("how", sa.String(16), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("section_reads")
    op.drop_index("ix_saved_items_newest", "saved_items")
    op.drop_table("saved_items")
    op.drop_table("passages")
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("reading_days")
        batch.drop_column("paused_until")
