"""Reading the article: /start, /help, /next, /toc, /read, /progress, /reset."""

from __future__ import annotations

import random
import re

from telegram import Update
from telegram.ext import ContextTypes

from bot import render, texts
from bot.content import MonthDay
from bot.handlers.common import (
    admin_gate,
    chat_state,
    is_admin,
    is_private,
    reader_script,
    say,
    send,
    services,
)
from bot.scripts import Script
from bot.texts import t

_PAYLOAD = re.compile(r"^(quote|section|date)_(\d{1,4})$")


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Welcome the reader, or open the item a deep link names."""
    svc = services(context)
    state = await chat_state(svc, update)
    script = await reader_script(svc, update, state)
    payload = context.args[0] if context.args else ""
    m = _PAYLOAD.match(payload)
    if m:
        kind, value = m.group(1), int(m.group(2))
        if kind == "section" and svc.library.section(value, script):
            await show_section(update, context, value, script)
            return
        if kind == "quote" and svc.library.quote(value, script):
            await send(update, render.quote(svc.library, value, script))
            return
        if kind == "date":
            day = MonthDay(value // 100, value % 100)
            if svc.library.date(day, script):
                await send(update, render.day(svc.library, day, script))
                return
    article = svc.library.article(script)
    if is_private(update.effective_chat):
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
    await send(update, render.Rendered(text, render.welcome_buttons(script)))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    script = await reader_script(svc, update)
    await say(update, render.esc(texts.help_text(script, context.bot.username)))


async def next_section(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the chat's next unread section and move its progress forward."""
    svc = services(context)
    chat = update.effective_chat
    assert chat is not None
    total = svc.library.section_count
    # One round trip to the store on the common path: create-if-new and advance together.
    state = await svc.store.take_next(
        chat.id, total, kind=chat.type, title=chat.title or chat.full_name or ""
    )
    if state is None:
        state = await chat_state(svc, update)
        script = await reader_script(svc, update, state)
        await say(update, t(texts.ALL_READ, script, total=total))
        return
    script = await reader_script(svc, update, state)
    number = state.progress
    try:
        # The last section says the article is over, as the daily delivery does.
        await show_section(update, context, number, script, mark=False, end_note=True)
    except Exception:
        await svc.store.give_back(chat.id, number)  # the reader never saw it
        raise


async def next_after(update: Update, context: ContextTypes.DEFAULT_TYPE, number: int) -> None:
    """The next button under section ``number``.

    Under the chat's latest section it moves progress on like /next; under a section opened
    again with /read, the table of contents or a link, it shows the one after that section
    and leaves progress alone, so re-reading never skips or repeats the chat's place.
    """
    svc = services(context)
    state = await chat_state(svc, update)
    if not 1 <= number < svc.library.section_count:
        return  # a stale button: there is no section after it
    if number == state.progress:
        await next_section(update, context)
        return
    script = await reader_script(svc, update, state)
    await show_section(update, context, number + 1, script)


async def show_section(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    number: int,
    script: Script,
    *,
    mark: bool = True,
    end_note: bool = False,
) -> None:
    svc = services(context)
    private = is_private(update.effective_chat)
    await send(
        update,
        render.section(
            svc.library,
            number,
            script,
            bot_username=context.bot.username,
            share_link=not private,
            end_note=end_note,
        ),
    )
    if mark and update.effective_chat is not None:
        await svc.store.ensure_chat(update.effective_chat.id, update.effective_chat.type)
        await svc.store.mark_read(update.effective_chat.id, number, advance=False)


async def read(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show section N without moving progress."""
    svc = services(context)
    script = await reader_script(svc, update)
    total = svc.library.section_count
    if not context.args:
        await say(update, t(texts.READ_USAGE, script, total=total))
        return
    arg = context.args[0]
    number = _int(arg)
    if number is None or not 1 <= number <= total:
        await say(update, t(texts.READ_RANGE, script, arg=render.esc(arg[:20]), total=total))
        return
    await show_section(update, context, number, script)


def _int(text: str) -> int | None:
    text = text.strip().translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    text = text.lstrip("#№第").rstrip("节節")
    return int(text) if text.isdigit() and len(text) < 6 else None


async def toc(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    state = await chat_state(svc, update)
    script = await reader_script(svc, update, state)
    await send(update, render.toc(svc.library, script, state.read_mask))


async def progress(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    state = await chat_state(svc, update)
    script = await reader_script(svc, update, state)
    total = svc.library.section_count
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
    from bot.handlers.settings import describe_next  # shared wording for the schedule

    if state.subscribed and state.next_due_at:
        lines.append(t(texts.PROGRESS_NEXT, script, **describe_next(svc, state)))
    elif state.subscribed and state.finished:
        lines.append(t(texts.PROGRESS_FINISHED, script))
    else:
        lines.append(t(texts.PROGRESS_NOT_SUBSCRIBED, script))
    await say(update, "\n".join(lines))


async def reset(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    script = await reader_script(svc, update)
    if not await admin_gate(svc, update, context, script):
        return
    await send(update, render.reset_confirm(script))


async def reset_answer(
    update: Update, context: ContextTypes.DEFAULT_TYPE, confirmed: bool
) -> None:
    from bot.handlers.settings import due_after_now

    svc = services(context)
    state = await chat_state(svc, update)
    script = await reader_script(svc, update, state)
    query = update.callback_query
    assert query is not None
    if not await is_admin(svc, update, context):
        await query.answer(t(texts.ADMINS_ONLY, script), show_alert=True)
        return
    await query.answer()
    if confirmed:
        next_due = due_after_now(svc, state) if state.subscribed else None
        await svc.store.reset(state.chat_id, next_due)
        await query.edit_message_text(t(texts.RESET_DONE, script))
    else:
        await query.edit_message_text(t(texts.RESET_CANCELLED, script))


async def random_quote(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    script = await reader_script(svc, update)
    number = random.randint(1, svc.library.quote_count)
    await send(update, render.quote(svc.library, number, script))
