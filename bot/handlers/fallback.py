"""The one global error handler: log with context, answer the person, never a traceback storm.

Expected failures (the database away, Telegram unreachable, a chat that blocked the bot, a
shutdown cutting a wait short) are logged in one line; only the unexpected ones get a
traceback. Whoever sent the update gets a short apology in their script when it can reach
them.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import DBAPIError
from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.botapi.errors import is_not_modified
from bot.content.scripts import Script, script_for_language
from bot.handlers.common import BotContext, reader_script
from bot.ops import logs
from bot.ops.failures import Stopping, describe_db_error
from bot.render import texts
from bot.rules import chats
from bot.telegram_io.transport import last_call

log = logging.getLogger(__name__)

_store_trouble = logs.Throttle(10)  # one database complaint per 10 s, not one per update


async def on_error(update: object, context: BotContext) -> None:
    """Log the failure with its context and tell the user, in their script, if we can."""
    error = context.error
    if isinstance(error, Stopping):
        log.info("an update was cut short by shutdown")
        return
    if not isinstance(update, Update):
        if isinstance(error, NetworkError):
            log.warning("network trouble while polling: %s", error)  # PTB retries
        else:
            log.error("error outside an update", exc_info=error)
        return
    if isinstance(error, DBAPIError | OSError):
        _complain_about_store(error)
        await _apologize(update, context, texts.STORE_UNAVAILABLE)
        return
    if isinstance(error, Forbidden):
        log.info("the chat does not let the bot answer (%s)", error.message)
        return
    if isinstance(error, RetryAfter):
        log.warning("Telegram asked to slow down (%s); the reply was dropped", error)
        return
    if isinstance(error, BadRequest) and is_not_modified(error):
        return  # a double tap on a button: the message already shows it
    if isinstance(error, NetworkError):  # BadRequest is one too, in PTB
        log.warning(describe_api_error(error))
        return
    log.error("error while handling an update", exc_info=error)
    await _apologize(update, context, texts.ERROR)


def describe_api_error(error: NetworkError) -> str:
    """Say in one line which Bot API call failed, and how (PTB's errors name no method)."""
    method, status = last_call.get()
    call = method or "a Bot API call"
    if isinstance(error, TimedOut):
        return f"Telegram did not answer {call} in time"
    if status is None:
        return f"could not reach Telegram for {call} ({error.message})"
    return f"Telegram refused {call}: {status} {error.message}"


def _complain_about_store(error: BaseException) -> None:
    if _store_trouble.ready():
        log.error("the database failed while handling an update: %s", describe_db_error(error))


async def _apologize(update: Update, context: BotContext, template: str) -> None:
    try:
        script = await _script(update, context)
        if update.callback_query is not None:
            await update.callback_query.answer(texts.t(template, script), show_alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(texts.t(template, script))
    except Exception as exc:  # the apology itself failed: the log above has the cause
        log.warning("could not tell the user about the error (%s)", type(exc).__name__)


async def _script(update: Update, context: BotContext) -> Script:
    """Return the person's script, without the database if it is the thing that failed."""
    try:
        return await reader_script(context, update)
    except (DBAPIError, OSError):
        user = update.effective_user
        chat = update.effective_chat
        if chat is not None and chat.type != chats.PRIVATE:
            return Script.TRADITIONAL
        return script_for_language(user.language_code if user else None, Script.TRADITIONAL)
