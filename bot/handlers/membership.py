"""The bot's place in chats: added, removed, migrated; and updates it has no command for."""

from __future__ import annotations

import html
import logging

from telegram import ChatMember, ChatMemberUpdated, Update
from telegram.ext import ContextTypes

from bot import render, texts
from bot.handlers.common import (
    Services,
    is_private,
    reader_script,
    say,
    services,
)
from bot.handlers.settings import due_after_now
from bot.store import ChatState
from bot.texts import t

log = logging.getLogger(__name__)

_PRESENT = {ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER, ChatMember.RESTRICTED}


def _was_and_is(change: ChatMemberUpdated) -> tuple[bool, bool]:
    old, new = change.old_chat_member, change.new_chat_member
    was = old.status in _PRESENT and getattr(old, "is_member", True) is not False
    now = new.status in _PRESENT and getattr(new, "is_member", True) is not False
    return was, now


async def my_chat_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet a group once when added; deactivate a chat when the bot leaves or is blocked."""
    svc = services(context)
    change = update.my_chat_member
    assert change is not None
    chat = change.chat
    was, now = _was_and_is(change)
    if was == now:
        return
    async with svc.chat_lock(chat.id):
        if not now:
            log.info("removed from chat %s; deactivating it", chat.id)
            await svc.store.ensure_chat(chat.id, chat.type, chat.title or chat.full_name or "")
            await svc.store.deactivate(chat.id)
            return
        known = await svc.store.get_chat(chat.id)
        if known is not None and known.active:
            # Telegram repeats membership updates (retries, several admins adding the bot at
            # once); the chat already counts the bot as present, so it was greeted already.
            return
        state = await svc.store.ensure_chat(chat.id, chat.type, chat.title or chat.full_name or "")
        await _resume_schedule(svc, state)
    if is_private(chat) or chat.type == "channel":
        return  # a private chat starts with /start; channels are set up with /subscribe
    script = await reader_script(svc, update, state)
    article = svc.library.article(script)
    await context.bot.send_message(
        chat.id,
        t(
            texts.WELCOME_GROUP,
            script,
            title=html.escape(article.title, quote=False),
            count=svc.library.section_count,
        ),
        reply_markup=render.welcome_buttons(script),
    )


async def _resume_schedule(svc: Services, state: ChatState) -> None:
    """Put a kept subscription back on the schedule when the bot is back in the chat.

    Deactivating clears next_due_at so nothing is sent to a chat the bot left; without this
    a re-added group would stay subscribed on paper but never get another section.
    """
    if state.subscribed and not state.finished and state.next_due_at is None:
        await svc.store.set_next_due(state.chat_id, due_after_now(svc, state))


async def migrated(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Keep a group's settings and progress when it becomes a supergroup."""
    svc = services(context)
    message = update.effective_message
    assert message is not None
    if message.migrate_to_chat_id:
        old, new = message.chat.id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id:
        old, new = message.migrate_from_chat_id, message.chat.id
    else:
        return
    log.info("chat %s migrated to %s", old, new)
    await svc.store.migrate(old, new)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Hint at /help for a command the bot does not know, if it was meant for this bot."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    command = message.text.split()[0]
    if "@" in command:
        addressed = command.split("@", 1)[1].lower()
        if addressed != (context.bot.username or "").lower():
            return  # another bot's command
    elif not is_private(update.effective_chat):
        return  # in groups, stay quiet about commands that may be other bots'
    svc = services(context)
    await say(update, t(texts.UNKNOWN_COMMAND, await reader_script(svc, update)))


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos and the like in a private chat get a short hint."""
    svc = services(context)
    await say(update, t(texts.NOT_TEXT, await reader_script(svc, update)))
