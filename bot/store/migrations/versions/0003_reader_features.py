"""Reader features: reading streaks, quiz questions and scores, quote card files, on-this-day
cards, and when a chat started and finished the article.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        batch.add_column(sa.Column("started_at", sa.BigInteger))
        batch.add_column(sa.Column("finished_at", sa.BigInteger))
        batch.add_column(
            sa.Column("onthisday", sa.Boolean, nullable=False, server_default=sa.true())
        )
        batch.add_column(sa.Column("onthisday_last", sa.String(10)))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("streak", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("best_streak", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_day", sa.String(10)))
    op.create_table(
        "quiz_polls",
        sa.Column("poll_id", sa.String(64), primary_key=True),
        sa.Column("chat_id", sa.BigInteger, nullable=False),
        sa.Column("quote", sa.Integer, nullable=False),
        sa.Column("answer", sa.Integer, nullable=False),
        sa.Column("asked_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_quiz_polls_chat", "quiz_polls", ["chat_id", "asked_at"])
    op.create_table(
        "quiz_answers",
        sa.Column("poll_id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("right", sa.Boolean, nullable=False),
    )
    op.create_table(
        "quiz_scores",
        sa.Column("chat_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("user_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(128), nullable=False, server_default=""),
        sa.Column("answered", sa.Integer, nullable=False, server_default="0"),
        sa.Column("right", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "card_files",
        sa.Column("quote", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("script", sa.String(16), primary_key=True),
        sa.Column("file_id", sa.String(256), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("card_files")
    op.drop_table("quiz_scores")
    op.drop_table("quiz_answers")
    op.drop_index("ix_quiz_polls_chat", "quiz_polls")
    op.drop_table("quiz_polls")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("last_day")
        batch.drop_column("best_streak")
        batch.drop_column("streak")
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("onthisday_last")
        batch.drop_column("onthisday")
        batch.drop_column("finished_at")
        batch.drop_column("started_at")
