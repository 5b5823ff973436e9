"""The tables, as the newest migration leaves them. Every time is integer UTC epoch seconds.

Alembic owns the schema (bot/store/migrations); a test checks that these definitions and the
migrated database agree.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    true,
)

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
    Column("claimed_until", BigInteger),  # a worker's lease, on the database's clock
    Column("claim_token", String(36)),  # the lease holder's fencing token
    # The lease holder began sending: if its lease runs out unrecorded, the message may
    # have reached the chat, and whoever sends it again repeats it.
    Column("sending", Boolean, nullable=False, default=False, server_default=false()),
    Column("retry_at", BigInteger),  # a failed delivery is tried again from then on
    Column("failures", Integer, nullable=False, default=0),
    Column("finished", Boolean, nullable=False, default=False),  # end message sent
    Column("updated_at", BigInteger, nullable=False, default=0),
    Column("started_at", BigInteger),  # the first section reached the chat
    Column("finished_at", BigInteger),  # the last one did
    Column("onthisday", Boolean, nullable=False, default=True, server_default=true()),
    Column("onthisday_last", String(10)),  # local date of the last on-this-day card
    # Digests stopped after repeated refusals (why, and since when), until the chat talks.
    Column("parked_reason", String(200)),
    Column("parked_at", BigInteger),
    Column("paused_until", BigInteger),  # no digest before then (see chats.UNTIL_RESUMED)
    # Reading days: bit 0 Monday ... bit 6 Sunday (127: every day).
    Column("reading_days", Integer, nullable=False, default=127, server_default="127"),
)
Index("ix_chats_due", chats.c.next_due_at)
Index("ix_chats_claim_token", chats.c.claim_token)

users = Table(
    "users",
    metadata,
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("script", String(16)),
    Column("updated_at", BigInteger, nullable=False, default=0),
    Column("streak", Integer, nullable=False, default=0, server_default="0"),
    Column("best_streak", Integer, nullable=False, default=0, server_default="0"),
    Column("last_day", String(10)),  # the last local day the reader did something
)

# A basic group that became a supergroup: updates sent before the move still name the old
# id, and must reach the supergroup's row rather than create an empty one.
chat_moves = Table(
    "chat_moves",
    metadata,
    Column("old_id", BigInteger, primary_key=True, autoincrement=False),
    Column("new_id", BigInteger, nullable=False),
)

# Updates received: Telegram may deliver one twice, to any replica; it is handled once.
# Polled updates are the inbox: stored (with their body) before Telegram is told to drop
# them, and finished by whichever poller finds them not done after a crash.
processed_updates = Table(
    "processed_updates",
    metadata,
    Column("update_id", BigInteger, primary_key=True, autoincrement=False),
    Column("claimed_until", BigInteger),  # a replica is handling it until then
    Column("done_at", BigInteger),  # handled; kept a day, then pruned
    Column("body", Text),  # a polled update's JSON, until it is handled
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

# Quiz questions asked (one per poll), each answer counted once, and scores per chat.
quiz_polls = Table(
    "quiz_polls",
    metadata,
    Column("poll_id", String(64), primary_key=True),
    Column("chat_id", BigInteger, nullable=False),
    Column("quote", Integer, nullable=False),
    Column("answer", Integer, nullable=False),  # index of the right option
    Column("asked_at", BigInteger, nullable=False),
    Index("ix_quiz_polls_chat", "chat_id", "asked_at"),
)
quiz_answers = Table(
    "quiz_answers",
    metadata,
    Column("poll_id", String(64), primary_key=True),
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("right", Boolean, nullable=False),
)
quiz_scores = Table(
    "quiz_scores",
    metadata,
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("name", String(128), nullable=False, default="", server_default=""),
    Column("answered", Integer, nullable=False, default=0, server_default="0"),
    Column("right", Integer, nullable=False, default=0, server_default="0"),
)
# A quote card uploaded once per quote and script: Telegram's file_id serves it again.
card_files = Table(
    "card_files",
    metadata,
    Column("quote", Integer, primary_key=True, autoincrement=False),
    Column("script", String(16), primary_key=True),
    Column("file_id", String(256), nullable=False),
)

# Reading features, round two: passages made into cards, what readers saved, and the day each
# section first reached a chat.
passages = Table(
    "passages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("section", Integer, nullable=False),
    Column("script", String(16), nullable=False),  # the script the reader quoted it in
    Column("text", String(1024), nullable=False),
    UniqueConstraint("section", "script", "text", name="uq_passages_text"),
)
saved_items = Table(
    "saved_items",
    metadata,
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(1), primary_key=True),  # q: quote, s: section, p: passage
    Column("number", Integer, primary_key=True, autoincrement=False),  # its number or id
    Column("saved_at", BigInteger, nullable=False),
    Index("ix_saved_items_newest", "user_id", "saved_at"),
)
section_reads = Table(
    "section_reads",
    metadata,
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("section", Integer, primary_key=True, autoincrement=False),
    Column("first_at", BigInteger, nullable=False),
    Column("how", String(16), nullable=False),  # delivered (the digest) or read (asked for)
)
