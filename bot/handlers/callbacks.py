"""Inline buttons: one router reads the callback data built in render.py."""

from __future__ import annotations

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot import render
from bot.api_errors import is_not_modified
from bot.content import MonthDay
from bot.handlers import reading, settings
from bot.handlers.common import reader_script, send, services
from bot.scripts import Script


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    data = query.data or ""
    svc = services(context)
    kind, _, rest = data.partition(":")

    if kind == "rst":
        await reading.reset_answer(update, context, confirmed=rest == "y")
        return
    if kind == "sw":
        await _switch(update, context, rest)
        return
    if kind == "qt" and rest in ("0", "1"):
        await settings.toggle_quiet(update, context, quiet=rest == "1")
        return
    await query.answer()
    script = await reader_script(svc, update)
    if data == render.CB_NEXT:
        await reading.next_section(update, context)
    elif data == render.CB_TOC:
        await reading.toc(update, context)
    elif data == render.CB_TIMELINE:
        await send(update, render.timeline(svc.library, script))
    elif data == render.CB_RANDOM_QUOTE:
        await reading.random_quote(update, context)
    elif data == render.CB_SUBSCRIBE:
        context.args = []
        await settings.subscribe(update, context)
    elif kind == render.CB_NEXT and rest.isdigit():  # "nx:N", the button under section N
        await reading.next_after(update, context, int(rest))
    elif kind == "rd" and rest.isdigit() and svc.library.section(int(rest), script):
        await reading.show_section(update, context, int(rest), script)
    elif kind == "q" and rest.isdigit() and svc.library.quote(int(rest), script):
        await send(update, render.quote(svc.library, int(rest), script))
    elif kind == "d" and rest.isdigit() and len(rest) == 4:
        day = MonthDay(int(rest[:2]), int(rest[2:]))
        if svc.library.date(day, script):
            await send(update, render.day(svc.library, day, script))
    elif kind == "scr" and Script.from_short(rest):
        chosen = Script.from_short(rest)
        assert chosen is not None
        await settings.apply_script(update, context, chosen)
    # Anything else is a button from an older version of the bot: answered, ignored.


async def _switch(update: Update, context: ContextTypes.DEFAULT_TYPE, rest: str) -> None:
    """Re-render a section, quote or date message in place in the other script."""
    query = update.callback_query
    assert query is not None
    svc = services(context)
    parts = rest.split(":")
    target = Script.from_short(parts[-1]) if len(parts) == 3 else None
    if target is None:
        await query.answer()
        return
    kind, ident = parts[0], parts[1]
    message: render.Rendered | None = None
    if kind == "s" and ident.isdigit() and svc.library.section(int(ident), target):
        private = update.effective_chat is not None and update.effective_chat.type == "private"
        message = render.section(
            svc.library,
            int(ident),
            target,
            bot_username=context.bot.username,
            share_link=not private,
        )
    elif kind == "q" and ident.isdigit() and svc.library.quote(int(ident), target):
        message = render.quote(svc.library, int(ident), target)
    elif kind == "d" and ident.isdigit() and len(ident) == 4:
        day = MonthDay(int(ident[:2]), int(ident[2:]))
        if svc.library.date(day, target):
            message = render.day(svc.library, day, target)
    await query.answer()
    if message is None:
        return
    chunks = render.split_message(message.text)
    try:
        await query.edit_message_text(chunks[0], reply_markup=message.markup)
    except BadRequest as exc:
        if not is_not_modified(exc):  # a double tap
            raise
