"""The tables, as the newest migration leaves them. Every time is integer UTC epoch seconds.

Alembic owns the schema (bot/store/migrations); a test checks that these definitions and the
migrated database agree.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, MetaData, String, Table

metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", String(256), nullable=False),
)

chats = Table(
    "chats",
    metadata,
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(16), nullable=False),  # private, group, supergroup, channel
    Column("title", String(256), nullable=False, default=""),
    Column("script", String(16)),  # the chat's script: digests in groups and channels
    Column("progress", Integer, nullable=False, default=0),  # highest section read
    Column("read_mask", BigInteger, nullable=False, default=0),  # bit n-1: section n read
    Column("active", Boolean, nullable=False, default=True),  # bot can still post there
    Column("subscribed", Boolean, nullable=False, default=False),
    Column("delivery_time", String(5)),  # HH:MM local
    Column("timezone", String(64)),
    Column("quiet", Boolean, nullable=False, default=False),
    Column("thread_id", BigInteger),  # forum topic the subscription was made in
    Column("next_due_at", BigInteger),  # NULL when nothing is scheduled
    Column("claimed_until", BigInteger),  # a worker's lease on the due delivery
    Column("claim_token", String(36)),
    Column("failures", Integer, nullable=False, default=0),
    Column("finished", Boolean, nullable=False, default=False),  # end message sent
    Column("updated_at", BigInteger, nullable=False, default=0),
)
Index("ix_chats_due", chats.c.next_due_at)
Index("ix_chats_claim_token", chats.c.claim_token)

users = Table(
    "users",
    metadata,
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("script", String(16)),
    Column("updated_at", BigInteger, nullable=False, default=0),
)

# A basic group that became a supergroup: updates sent before the move still name the old
# id, and must reach the supergroup's row rather than create an empty one.
chat_moves = Table(
    "chat_moves",
    metadata,
    Column("old_id", BigInteger, primary_key=True, autoincrement=False),
    Column("new_id", BigInteger, nullable=False),
)

# Updates handled (webhook mode): Telegram may deliver one twice, to any replica.
processed_updates = Table(
    "processed_updates",
    metadata,
    Column("update_id", BigInteger, primary_key=True, autoincrement=False),
    Column("claimed_until", BigInteger),  # a replica is handling it until then
    Column("done_at", BigInteger),  # handled; kept a day, then pruned
    Index("ix_processed_updates_done", "done_at"),
)

# Every digest sent or failed, for /stats (the last day) and for operators; kept a week.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", BigInteger, nullable=False),
    Column("chat_id", BigInteger, nullable=False),
    Column("section", Integer, nullable=False),
    Column("result", String(16), nullable=False),  # delivered, repeated, failed
    Index("ix_deliveries_at", "at"),
)
