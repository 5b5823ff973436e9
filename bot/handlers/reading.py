"""Reading the article: /start, /help, /next, /toc, /read, /progress, /reset."""

from __future__ import annotations

import random
import re

from telegram import Update

from bot import callback_data as cb
from bot import render, texts
from bot.arguments import parse_item_number
from bot.content import MonthDay
from bot.handlers.common import (
    BotContext,
    admin_gate,
    chat_state,
    edit,
    is_admin,
    is_private,
    reader_script,
    say,
    send,
)
from bot.handlers.settings import next_delivery
from bot.scripts import Script
from bot.texts import t

_PAYLOAD = re.compile(r"^(quote|section|date)_([0-9]{1,4})$")


async def start(update: Update, context: BotContext) -> None:
    """Welcome the reader, or open the item a deep link names."""
    svc = context.services
    state = await chat_state(context, update)
    script = await reader_script(context, update, state)
    payload = context.args[0] if context.args else ""
    m = _PAYLOAD.match(payload)
    if m:
        kind, value = m.group(1), int(m.group(2))
        if kind == "section" and svc.library.section(value, script):
            await show_section(update, context, value, script)
            return
        if kind == "quote" and svc.library.quote(value, script):
            await send(context, update, render.quote(svc.library, value, script))
            return
        if kind == "date":
            day = MonthDay(value // 100, value % 100)
            if svc.library.date(day, script):
                await send(context, update, render.day(svc.library, day, script))
                return
    article = svc.library.article(script)
    if is_private(update):
        text = t(
            texts.WELCOME,
            script,
            count=svc.library.section_count,
            title=render.esc(article.title),
            time=svc.settings.delivery_time.strftime("%H:%M"),
            quotes=svc.library.quote_count,
            script_name=t(texts.SCRIPT_NAME[script], script),
        )
    else:
        text = t(
            texts.WELCOME_GROUP,
            script,
            title=render.esc(article.title),
            count=svc.library.section_count,
        )
    await send(context, update, render.Rendered(text, render.welcome_buttons(script)))


async def help_command(update: Update, context: BotContext) -> None:
    script = await reader_script(context, update)
    await say(context, update, render.esc(texts.help_text(script, context.bot.username)))


async def next_section(update: Update, context: BotContext) -> None:
    """Send the chat's next unread section and move its progress forward."""
    svc = context.services
    chat = update.effective_chat
    assert chat is not None
    total = svc.library.section_count
    # One round trip to the store on the common path: create-if-new and advance together.
    state = await svc.store.chats.take_next(
        chat.id, total, kind=chat.type, title=chat.title or chat.full_name or ""
    )
    if state is None:
        state = await chat_state(context, update)
        script = await reader_script(context, update, state)
        await say(context, update, t(texts.ALL_READ, script, total=total))
        return
    script = await reader_script(context, update, state)
    number = state.progress
    try:
        # The last section says the article is over, as the daily delivery does.
        await show_section(update, context, number, script, mark=False, end_note=True)
    except Exception:
        await svc.store.chats.give_back(chat.id, number)  # the reader never saw it
        raise


async def next_button(update: Update, context: BotContext, button: cb.Next) -> None:
    """The next button: the chat's next unread, or the section after the one it sits under.

    Under the chat's latest section it moves progress on like /next; under a section opened
    again with /read, the table of contents or a link, it shows the one after that section
    and leaves progress alone, so re-reading never skips or repeats the chat's place.
    """
    if button.after is None:
        await next_section(update, context)
        return
    state = await chat_state(context, update)
    if not 1 <= button.after < context.services.library.section_count:
        return  # a stale button: there is no section after it
    if button.after == state.progress:
        await next_section(update, context)
        return
    script = await reader_script(context, update, state)
    await show_section(update, context, button.after + 1, script)


async def show_section(
    update: Update,
    context: BotContext,
    number: int,
    script: Script,
    *,
    mark: bool = True,
    end_note: bool = False,
) -> None:
    svc = context.services
    message = render.section(
        svc.library,
        number,
        script,
        bot_username=context.bot.username,
        share_link=not is_private(update),
        end_note=end_note,
    )
    await send(context, update, message)
    chat = update.effective_chat
    if mark and chat is not None:
        await svc.store.chats.show(chat.id, chat.type, chat.title or "", number)


async def open_section(update: Update, context: BotContext, button: cb.OpenSection) -> None:
    script = await reader_script(context, update)
    if context.services.library.section(button.number, script):
        await show_section(update, context, button.number, script)


async def read(update: Update, context: BotContext) -> None:
    """Show section N without moving progress."""
    script = await reader_script(context, update)
    total = context.services.library.section_count
    if not context.args:
        await say(context, update, t(texts.READ_USAGE, script, total=total))
        return
    arg = context.args[0]
    number = parse_item_number(arg)
    if number is None:
        reply = t(texts.READ_UNREADABLE, script, arg=render.esc(arg[:20]), total=total)
        await say(context, update, reply)
        return
    if not 1 <= number <= total:
        await say(context, update, t(texts.READ_RANGE, script, n=number, total=total))
        return
    await show_section(update, context, number, script)


async def toc(update: Update, context: BotContext) -> None:
    state = await chat_state(context, update)
    script = await reader_script(context, update, state)
    await send(context, update, render.toc(context.services.library, script, state.read_mask))


async def toc_button(update: Update, context: BotContext, button: cb.Toc) -> None:
    await toc(update, context)


async def progress(update: Update, context: BotContext) -> None:
    state = await chat_state(context, update)
    script = await reader_script(context, update, state)
    total = context.services.library.section_count
    done = min(state.progress, total)
    lines = [
        t(
            texts.PROGRESS,
            script,
            done=done,
            total=total,
            bar=render.progress_bar(done, total),
            percent=round(100 * done / total),
        )
    ]
    if state.subscribed and state.next_due_at:
        lines.append(t(texts.PROGRESS_NEXT, script, **next_delivery(context, state)))
    elif state.subscribed and state.finished:
        lines.append(t(texts.PROGRESS_FINISHED, script))
    else:
        lines.append(t(texts.PROGRESS_NOT_SUBSCRIBED, script))
    await say(context, update, "\n".join(lines))


async def reset(update: Update, context: BotContext) -> None:
    script = await reader_script(context, update)
    if not await admin_gate(context, update, script):
        return
    await send(context, update, render.reset_confirm(script))


async def reset_answer(update: Update, context: BotContext, button: cb.ConfirmReset) -> None:
    state = await chat_state(context, update)
    script = await reader_script(context, update, state)
    query = update.callback_query
    assert query is not None
    if not await is_admin(context, update):
        await query.answer(t(texts.ADMINS_ONLY, script), show_alert=True)
        return
    await query.answer()
    if button.yes:
        await context.services.chats.restart(state)
        await edit(update, render.Rendered(t(texts.RESET_DONE, script)))
    else:
        await edit(update, render.Rendered(t(texts.RESET_CANCELLED, script)))


async def random_quote(update: Update, context: BotContext, button: cb.RandomQuote) -> None:
    svc = context.services
    script = await reader_script(context, update)
    number = random.randint(1, svc.library.quote_count)
    await send(context, update, render.quote(svc.library, number, script))
