"""Digest leases on the database's clock: a mark that a claimed digest is being sent (a
repeat is counted only when one may really happen), and the retry time apart from the lease.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        batch.add_column(
            sa.Column("sending", sa.Boolean, nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("retry_at", sa.BigInteger))
    # A failed delivery's retry time was kept in the lease column, on the replica's clock:
    # move it to its own column; leases from here on are taken on the database's clock.
    op.execute(
        "UPDATE chats SET retry_at = claimed_until, claimed_until = NULL "
        "WHERE claim_token IS NULL AND claimed_until IS NOT NULL"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE chats SET claimed_until = retry_at "
        "WHERE claim_token IS NULL AND retry_at IS NOT NULL"
    )
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("retry_at")
        batch.drop_column("sending")
