"""What every handler needs: the typed context, the reader's script, replies, admin checks."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, cast

from telegram import CallbackQuery, ChatMember, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, ChatMigrated, Forbidden
from telegram.ext import Application, CallbackContext, ExtBot

from bot import render
from bot.botapi.errors import is_not_editable, is_not_modified
from bot.botapi.text import split_message
from bot.content.scripts import Script
from bot.render import texts
from bot.rules import chats
from bot.rules.chats import ChatState
from bot.services.chat_service import Arrival
from bot.services.context import Services
from bot.telegram_io import sender

log = logging.getLogger(__name__)


class BotApplication(Application):
    """PTB's Application, holding the bot's services for every handler and job."""

    services: Services
    run_jobs: bool  # schedule the delivery job on start (tests deliver by calling it)
    menus_published: asyncio.Event  # the command menus and descriptions are with Telegram


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """The context every handler gets: PTB's, plus the services."""

    @property
    def services(self) -> Services:
        return cast(BotApplication, self.application).services


def is_private(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type == ChatType.PRIVATE


async def user_script(context: BotContext, update: Update) -> Script | None:
    """Return the script the user chose, if any (cached briefly)."""
    svc = context.services
    user = update.effective_user
    if user is None:
        return None
    cached = svc.user_scripts.get(user.id)
    if cached is None:
        cached = await svc.reading.user_script(user.id) or ""
        svc.user_scripts.put(user.id, cached)
    return Script(str(cached)) if cached else None


async def reader_script(
    context: BotContext, update: Update, state: ChatState | None = None
) -> Script:
    """Return the script to answer in (see chats.reader_script)."""
    chat, user = update.effective_chat, update.effective_user
    chosen = await user_script(context, update)
    kind = chat.type if chat is not None else chats.PRIVATE
    if chosen is None and state is None and chat is not None and kind != chats.PRIVATE:
        state = await context.services.chats.get(chat.id)
    return chats.reader_script(chosen, state, kind, user.language_code if user else None)


async def chat_state(context: BotContext, update: Update) -> ChatState:
    """Return the state of the update's chat, creating it on first contact.

    A reader back after blocking the bot hears first that their delivery stopped then.
    """
    chat = update.effective_chat
    assert chat is not None
    arrival = await context.services.chats.arrive(
        chat.id, chat.type, chat.title or chat.full_name or ""
    )
    if arrival.stopped is not None:
        await tell_stopped(context, update, arrival)
    return arrival.state


async def tell_stopped(context: BotContext, update: Update, arrival: Arrival) -> None:
    """Say the daily delivery stopped when the bot was blocked; offer to resume it."""
    assert arrival.stopped is not None
    script = await reader_script(context, update, arrival.state)
    await send(context, update, render.blocked_return(arrival.stopped, script))


def reply_target(update: Update) -> sender.Target:
    """Return where a reply to this update goes: its chat, and its forum topic if any."""
    message = update.effective_message
    if message is not None:
        thread = message.message_thread_id if message.is_topic_message else None
        return sender.Target(message.chat_id, thread)
    chat = update.effective_chat
    assert chat is not None
    return sender.Target(chat.id)


async def send(
    context: BotContext, update: Update, message: render.Rendered, *, effect: str | None = None
) -> None:
    """Reply in the update's chat (and forum topic), split to Telegram's length limit; with
    a message ``effect`` (private chats only).

    A chat that no longer lets the bot post (blocked, kicked) is marked inactive: there is
    nobody to tell, and its subscription stops until the bot is back.
    """
    target = reply_target(update)
    try:
        await sender.send(
            context.bot, target, message, chats=context.services.chats, effect=effect
        )
    except Forbidden as exc:
        log.info("chat %s does not let the bot post (%s); deactivated", target.chat_id, exc)
        await context.services.chats.deactivate(target.chat_id)


async def say(context: BotContext, update: Update, text: str) -> None:
    await send(context, update, render.Rendered(text))


async def admins_press(
    context: BotContext, update: Update
) -> tuple[CallbackQuery, ChatState, Script] | None:
    """Read a settings button's press: its query, the chat and the presser's script.

    None when a non-admin pressed it in a group or channel: they are told so in an alert.
    """
    query = update.callback_query
    assert query is not None
    state = await chat_state(context, update)
    current = await reader_script(context, update, state)
    if not await is_admin(context, update):
        await query.answer(texts.t(texts.ADMINS_ONLY, current), show_alert=True)
        return None
    return query, state, current


async def is_admin(context: BotContext, update: Update) -> bool:
    """Tell whether the sender may change this chat's settings (or post into a channel).

    A private chat is its person's. A message a channel posts comes from its admins (only
    they can post); a button pressed under a channel post comes from a reader, who is
    checked like a group member. Anonymous group admins post as the group itself.
    """
    chat, message, user = update.effective_chat, update.effective_message, update.effective_user
    if chat is None or chat.type == ChatType.PRIVATE:
        return True
    if update.callback_query is None and message is not None and message.sender_chat is not None:
        return message.sender_chat.id == chat.id
    if user is None:
        return False
    svc = context.services
    key = (chat.id, user.id)
    cached = svc.admins.get(key)
    if cached is None:
        try:
            member = await context.bot.get_chat_member(chat.id, user.id)
        except ChatMigrated as exc:  # a command sent just before the group became a supergroup
            member = await context.bot.get_chat_member(exc.new_chat_id, user.id)
        except Forbidden:
            return False  # the bot is not in that chat any more: nothing to change there
        cached = member.status in (ChatMember.ADMINISTRATOR, ChatMember.OWNER)
        svc.admins.put(key, cached)
    return bool(cached)


async def admin_gate(context: BotContext, update: Update, script: Script) -> bool:
    """Tell whether the sender may change this chat's settings; refuse politely if not."""
    if await is_admin(context, update):
        return True
    await say(context, update, texts.t(texts.ADMINS_ONLY, script))
    return False


async def edit(context: BotContext, update: Update, message: render.Rendered) -> None:
    """Show ``message`` in place of the one whose button was pressed.

    A second tap on the same button asks for the same content; Telegram refuses that as
    "not modified", which here simply means the message already says it. A message that
    cannot show text (a photo, a poll) gets the new one below it instead.
    """
    query = update.callback_query
    assert query is not None
    try:
        await query.edit_message_text(split_message(message.text)[0], reply_markup=message.markup)
    except BadRequest as exc:
        if is_not_editable(exc):
            await send(context, update, message)
        elif not is_not_modified(exc):
            raise
    except (ChatMigrated, Forbidden) as exc:
        # The message is in a group that moved, or a chat the bot left: it stays as it is.
        log.info("could not edit a message in chat %s (%s)", update.effective_chat, exc)


async def edit_buttons(update: Update, markup: InlineKeyboardMarkup | None) -> None:
    """Replace the buttons under the pressed message (a double tap changes nothing)."""
    query = update.callback_query
    assert query is not None
    try:
        await query.edit_message_reply_markup(markup)
    except BadRequest as exc:
        if not is_not_modified(exc):
            raise
    except (ChatMigrated, Forbidden) as exc:
        log.info("could not edit buttons in chat %s (%s)", update.effective_chat, exc)


async def post(
    context: BotContext, update: Update, action: Callable[[sender.Target], Awaitable[object]]
) -> None:
    """Send something other than text (a poll, a photo) to the update's chat, following a
    group that became a supergroup and leaving a chat that no longer lets the bot post."""
    target = reply_target(update)
    try:
        await action(target)
    except ChatMigrated as exc:
        await context.services.chats.migrate(target.chat_id, exc.new_chat_id)
        await action(sender.Target(exc.new_chat_id))
    except Forbidden as exc:
        log.info("chat %s does not let the bot post (%s); deactivated", target.chat_id, exc)
        await context.services.chats.deactivate(target.chat_id)
