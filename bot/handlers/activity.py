"""Reading streaks: a day counts when the reader read something.

Telegram does not tell a bot that a message was read, so a day counts when the reader
opened or paged through a section (by any path: /next, /read, the contents, a link, a
search hit, a typed number, the 下一节 button) or answered a quiz question. Looking at
/progress, the help or a setting does not count. The day is the reader's local date (the
zone of their private chat). The first reading of a day is written; the rest are not.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import cast

from telegram import Update

from bot.handlers.common import BotContext


async def resume_parked(update: Update, context: BotContext) -> None:
    """Resume the digests of a chat parked after refused sends: it talks to the bot again."""
    if update.message is None and update.callback_query is None:
        return
    chat = update.effective_chat
    if chat is not None:
        await context.services.chats.unpark(chat.id)


async def count_reading(update: Update, context: BotContext) -> None:
    """Count today in the streak of whoever read a section (or answered a quiz) just now."""
    user = update.effective_user
    if user is None or user.is_bot:
        return
    await count_user(context, user.id)


async def count_user(context: BotContext, user_id: int) -> None:
    """Count today, on the reader's own local date, in their streak."""
    svc = context.services
    # The reader's zone is their private chat's (same id as the user); a minute stale at most.
    zone = svc.zones.get(user_id)
    if zone is None:
        state = await svc.chats.get(user_id)
        zone = svc.chats.zone(state) if state is not None else svc.chats.defaults.timezone
        svc.zones.put(user_id, zone)
    today = svc.clock().astimezone(cast(tzinfo, zone)).date()
    if svc.touched.get(user_id) == today:
        return  # counted already today (by this replica; another one writes the same)
    await svc.reading.touch(user_id, today)
    svc.touched.put(user_id, today)
