"""Reading Bot API errors.

The Bot API gives no error codes beyond the HTTP status, so telling one 400 from another
means matching its description text. This module is the one place that does; PTB rewrites
the case of descriptions, so every match is case-insensitive.
"""

from __future__ import annotations

from datetime import timedelta

from telegram.error import BadRequest, RetryAfter


def _text(error: BadRequest) -> str:
    return error.message.lower()


def is_chat_gone(error: BadRequest) -> bool:
    """Tell whether a 400 means the bot can no longer post in the chat."""
    message = _text(error)
    return (
        "chat not found" in message
        or "chat_write_forbidden" in message
        or "not enough rights" in message
    )


def is_topic_gone(error: BadRequest) -> bool:
    """Tell whether a 400 means the forum topic a subscription was made in was deleted."""
    message = _text(error)
    return "thread not found" in message or "topic_deleted" in message


def is_not_modified(error: BadRequest) -> bool:
    """Tell whether an edit was refused because nothing changed (a double tap)."""
    return "not modified" in _text(error)


def is_not_editable(error: BadRequest) -> bool:
    """Tell whether an edit was refused because that message cannot show new text
    (a photo or a poll, or one too old to edit)."""
    message = _text(error)
    return "no text in the message" in message or "can't be edited" in message


def retry_seconds(error: RetryAfter) -> float:
    """Return RetryAfter's wait in seconds (PTB 22 gives an int, or a timedelta)."""
    value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
