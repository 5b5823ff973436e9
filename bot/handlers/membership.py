"""The bot's place in chats: added, removed, migrated; and updates it has no command for."""

from __future__ import annotations

import logging

from telegram import ChatMember, ChatMemberUpdated, Update

from bot import render
from bot.handlers.common import (
    BotContext,
    is_private,
    reader_script,
    say,
    send,
    tell_stopped,
)
from bot.handlers.settings import next_delivery
from bot.render import texts
from bot.render.texts import t

log = logging.getLogger(__name__)

_PRESENT = {ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER, ChatMember.RESTRICTED}


def _was_and_is(change: ChatMemberUpdated) -> tuple[bool, bool]:
    old, new = change.old_chat_member, change.new_chat_member
    was = old.status in _PRESENT and getattr(old, "is_member", True) is not False
    now = new.status in _PRESENT and getattr(new, "is_member", True) is not False
    return was, now


async def my_chat_member(update: Update, context: BotContext) -> None:
    """Greet a group once when added; deactivate a chat when the bot leaves or is blocked."""
    svc = context.services
    change = update.my_chat_member
    assert change is not None
    chat = change.chat
    was, now = _was_and_is(change)
    if was == now:
        return
    title = chat.title or chat.full_name or ""
    if not now:
        log.info("removed from chat %s; deactivating it", chat.id)
        await svc.chats.removed(chat.id, chat.type, title)
        return
    # Telegram repeats membership updates (retries, several admins adding the bot at once):
    # only the one that found the bot absent greets.
    arrival = await svc.chats.joined(chat.id, chat.type, title)
    if arrival is None:
        return
    if is_private(update):
        if arrival.stopped is not None:  # unblocked: their delivery ended with the block
            await tell_stopped(context, update, arrival)
        return  # otherwise a private chat starts with /start
    if chat.type == "channel":
        return  # channels are set up with /subscribe
    script = await reader_script(context, update, arrival.state)
    welcome = render.group_welcome(svc.library, script)
    if arrival.resumed:
        # Re-added: the subscription it kept goes on, and the group should know it does.
        line = t(texts.GROUP_RESUMED, script, **next_delivery(context, arrival.state, script))
        welcome = render.Rendered(f"{welcome.text}\n\n{line}", welcome.markup)
    await send(context, update, welcome)


async def member_changed(update: Update, context: BotContext) -> None:
    """Forget what we knew of someone's admin rights when Telegram says they changed."""
    change = update.chat_member
    assert change is not None
    context.services.admins.drop((change.chat.id, change.new_chat_member.user.id))


async def migrated(update: Update, context: BotContext) -> None:
    """Keep a group's settings and progress when it becomes a supergroup."""
    message = update.effective_message
    assert message is not None
    if message.migrate_to_chat_id:
        old, new = message.chat.id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id:
        old, new = message.migrate_from_chat_id, message.chat.id
    else:
        return
    log.info("chat %s migrated to %s", old, new)
    await context.services.chats.migrate(old, new)


async def unknown_command(update: Update, context: BotContext) -> None:
    """Hint at /help for a command the bot does not know, if it was meant for this bot."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    command = message.text.split()[0]
    if "@" in command:
        addressed = command.split("@", 1)[1].lower()
        if addressed != (context.bot.username or "").lower():
            return  # another bot's command
    elif not is_private(update):
        return  # in groups, stay quiet about commands that may be other bots'
    await say(context, update, t(texts.UNKNOWN_COMMAND, await reader_script(context, update)))


async def not_text(update: Update, context: BotContext) -> None:
    """Stickers, photos and the like in a private chat get a short hint."""
    await say(context, update, t(texts.NOT_TEXT, await reader_script(context, update)))
