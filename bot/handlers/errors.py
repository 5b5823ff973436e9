"""The one global error handler."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, NetworkError, RetryAfter

from bot import texts
from bot.handlers.common import BotContext, reader_script

log = logging.getLogger(__name__)


async def on_error(update: object, context: BotContext) -> None:
    """Log the failure with its context and tell the user, in their script, if we can."""
    error = context.error
    if isinstance(error, NetworkError) and not isinstance(update, Update):
        log.warning("network trouble while polling: %s", error)  # PTB retries getUpdates
        return
    where = ""
    if isinstance(update, Update):
        chat = update.effective_chat
        user = update.effective_user
        where = (
            f" (update {update.update_id}, chat {chat.id if chat else '-'}, "
            f"user {user.id if user else '-'})"
        )
    log.error("error while handling an update%s", where, exc_info=error)
    if not isinstance(update, Update) or isinstance(error, Forbidden | RetryAfter):
        return
    try:
        script = await reader_script(context, update)
        if update.callback_query is not None:
            await update.callback_query.answer(texts.t(texts.ERROR, script), show_alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(texts.t(texts.ERROR, script))
    except Exception:  # the apology itself failed: the log above has the cause
        log.warning("could not tell the user about the error", exc_info=True)
