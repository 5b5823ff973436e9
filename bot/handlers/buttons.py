"""Inline buttons: a handler per button kind (routed in app.py), and the script switch."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, Self, TypeVar

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import CallbackQueryHandler

from bot import render
from bot.handlers.common import BotContext, edit, is_admin, is_private, reader_script
from bot.render import callback_data as cb
from bot.render import texts
from bot.render.texts import t


class _Parses(Protocol):
    @classmethod
    def parse(cls, data: str) -> Self | None: ...


B = TypeVar("B", bound=_Parses)


def button(
    kind: type[B],
    callback: Callable[[Update, BotContext, B], Awaitable[None]],
    *,
    answers: bool = False,
) -> CallbackQueryHandler[BotContext, None]:
    """Route presses of one kind of button to ``callback`` with the parsed button.

    The press is answered first (Telegram shows a spinner until then) unless the callback
    ``answers`` it itself, e.g. with an alert.
    """

    async def run(update: Update, context: BotContext) -> None:
        query = update.callback_query
        assert query is not None
        # PTB lets empty data past every pattern: such a press is nobody's button.
        parsed = kind.parse(query.data) if isinstance(query.data, str) else None
        chat = update.effective_chat
        if parsed is None or chat is None:
            # Under a message sent in inline mode: no chat to answer in. Our inline results
            # carry no buttons, so this is forged or stale; answered, ignored.
            await query.answer()
            return
        if chat.type == ChatType.CHANNEL and not await is_admin(context, update):
            # Every button under a channel post posts into the channel or changes it.
            script = await reader_script(context, update)
            await query.answer(t(texts.CHANNEL_ADMINS_ONLY, script), show_alert=True)
            return
        if not answers:
            await query.answer()
        await callback(update, context, parsed)

    return CallbackQueryHandler(run, pattern=lambda data: kind.parse(str(data)) is not None)


async def stale(update: Update, context: BotContext) -> None:
    """A button from an older version of the bot, or forged data: answered, ignored."""
    query = update.callback_query
    assert query is not None
    await query.answer()


async def switch_script(update: Update, context: BotContext, button: cb.SwitchScript) -> None:
    """Re-render a section, quote or date message in place in the other script."""
    query = update.callback_query
    assert query is not None
    library, target = context.services.library, button.target
    message: render.Rendered | None = None
    number, day = button.number, button.day
    if number is not None and button.kind == "s" and library.section(number, target):
        message = render.section(
            library,
            number,
            target,
            bot_username=context.bot.username,
            share_link=not is_private(update),
            back=_has(query.message, cb.Toc(True)),
        )
    elif number is not None and button.kind == "q" and library.quote(number, target):
        message = render.quote(library, context.services.search, number, target)
    elif day is not None and library.date(day, target):
        message = render.day(library, day, target, back=_has(query.message, cb.Timeline(True)))
    await query.answer()
    if message is not None:
        await edit(context, update, message)


def _has(message: object, button: cb.Button) -> bool:
    """Tell whether the pressed message carries ``button`` (a way back keeps its place)."""
    markup = getattr(message, "reply_markup", None)
    rows = markup.inline_keyboard if markup is not None else ()
    data = button.encode()
    return any(b.callback_data == data for row in rows for b in row)
