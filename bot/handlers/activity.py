"""Reading streaks: a day counts when the reader did something with the bot.

Telegram does not tell a bot that a message was read, so a day counts when the reader
interacted: sent a command or a plain message, or pressed a button. The day is the chat's
local date. The first interaction of a day is written; the rest of that day are not. The
write comes after the answer (a handler group after the commands), so no reply waits for
it; /progress counts first, since it shows the streak.
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
        await context.services.chats.resume(chat.id)


async def interacted(update: Update, context: BotContext) -> None:
    """Count today in the streak of whoever sent this message or pressed this button."""
    if update.message is None and update.callback_query is None:
        return  # channel posts, inline queries, poll answers and membership do not count
    user, chat = update.effective_user, update.effective_chat
    if user is None or user.is_bot or chat is None:
        return
    svc = context.services
    now = svc.clock()
    last = svc.touched.get(user.id)
    if last is not None and last == now.astimezone(svc.chats.defaults.timezone).date():
        return  # counted already today (by this replica; another one writes the same)
    zone = svc.zones.get(chat.id)
    if zone is None:
        state = await svc.chats.get(chat.id)
        zone = svc.chats.zone(state) if state is not None else svc.chats.defaults.timezone
        svc.zones.put(chat.id, zone)
    today = now.astimezone(cast(tzinfo, zone)).date()
    if last == today:
        return
    await svc.reading.touch(user.id, today)
    svc.touched.put(user.id, today)
