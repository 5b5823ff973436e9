"""What kind of update this is and which command it carries: bounded labels for logs, metrics."""

from __future__ import annotations

from telegram import Update


def describe(update: object) -> tuple[str, str]:
    """Return an update's kind and, for a command, its name (e.g. ("message", "next"))."""
    if not isinstance(update, Update):
        return "other", ""
    kind = next(
        (name for name in Update.ALL_TYPES if getattr(update, name, None) is not None), "other"
    )
    message = update.effective_message
    text = message.text if message is not None and kind in ("message", "channel_post") else None
    if text and text.startswith("/"):
        return kind, text.split(maxsplit=1)[0][1:].split("@", 1)[0].lower()[:32]
    return kind, ""
