"""Reading the article: /start, /help, /next, /toc, /read, /progress, /reset, and buttons."""

from __future__ import annotations

import random

from telegram import Update

from bot import render
from bot.content.scripts import Script
from bot.handlers import activity
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
from bot.handlers.settings import schedule_lines
from bot.render import callback_data as cb
from bot.render import keyboards, texts
from bot.render.texts import t
from bot.rules.arguments import parse_item_number
from bot.rules.chats import ChatState
from bot.rules.reading import reading_minutes, recap
from bot.rules.streaks import current_on


async def start(update: Update, context: BotContext) -> None:
    """Welcome the reader (back, if they have read before), or open what a deep link names."""
    svc = context.services
    state = await chat_state(context, update)
    script = await reader_script(context, update, state)
    link = cb.parse_link(context.args[0]) if context.args else None
    if isinstance(link, cb.SectionLink) and svc.library.section(link.number, script):
        await show_section(update, context, link.number, script)
        return
    if isinstance(link, cb.QuoteLink) and svc.library.quote(link.number, script):
        await send(context, update, render.quote(svc.library, svc.search, link.number, script))
        return
    if isinstance(link, cb.DateLink) and svc.library.date(link.day, script):
        await send(context, update, render.day(svc.library, link.day, script))
        return
    if is_private(update) and state.progress > 0:
        await send(context, update, await _welcome_back(context, update, state, script))
        return
    if not is_private(update):
        await send(context, update, render.group_welcome(svc.library, script))
        return
    article = svc.library.article(script)
    times = sorted(reading_minutes(s) for s in article.sections)
    span = f"{times[0]}–{times[-1]}" if times[0] != times[-1] else str(times[0])
    text = t(
        texts.WELCOME,
        script,
        count=svc.library.section_count,
        title=render.esc(article.title),
        byline=render.esc(article.byline),
        minutes=span,
        subscription=_subscription_line(context, state, script),
        quotes=svc.library.quote_count,
        script_name=t(texts.SCRIPT_NAME[script], script),
    )
    await send(context, update, render.Rendered(text, keyboards.welcome_buttons(script)))


def _subscription_line(context: BotContext, state: ChatState, script: Script) -> str:
    """Say when sections arrive: the reader's own time if subscribed (a reset keeps it)."""
    if state.subscribed and state.active:
        at = state.delivery_time or context.services.settings.delivery_time
        return t(texts.WELCOME_SUBSCRIBED, script, time=f"{at:%H:%M}")
    at = context.services.settings.delivery_time
    return t(texts.WELCOME_SUBSCRIBE, script, time=f"{at:%H:%M}")


async def _welcome_back(
    context: BotContext, update: Update, state: ChatState, script: Script
) -> render.Rendered:
    """Greet a reader back: how long they were away, where they are, the story so far."""
    library = context.services.library
    total = library.section_count
    if state.progress >= total:
        text = t(texts.WELCOME_BACK_DONE, script, total=total)
        return render.Rendered(text, keyboards.continue_buttons(script, finished=True))
    before = recap(library.article(script), state.progress)
    assert before is not None
    text = t(
        texts.WELCOME_BACK,
        script,
        gap=await _gap(context, update, state, script),
        n=state.progress,
        total=total,
        next=state.progress + 1,
        recap=render.recap_block(before, script),
    )
    return render.Rendered(text, keyboards.continue_buttons(script, finished=False))


async def _gap(context: BotContext, update: Update, state: ChatState, script: Script) -> str:
    """Return how long ago the reader last read (「上次来是 3 天前。」), or "" for today."""
    svc = context.services
    user = update.effective_user
    if user is None:
        return ""
    last = (await svc.reading.streak(user.id)).last_day
    today = svc.clock().astimezone(svc.chats.zone(state)).date()
    if last is None or last >= today:
        return ""
    days = (today - last).days
    if days == 1:
        return t(texts.WELCOME_GAP_YESTERDAY, script)
    return t(texts.WELCOME_GAP, script, days=days)


async def help_command(update: Update, context: BotContext) -> None:
    script = await reader_script(context, update)
    await say(context, update, render.esc(texts.help_text(script, context.bot.username)))


async def next_section(update: Update, context: BotContext, script: Script | None = None) -> None:
    """Send the chat's next unread section and move its progress forward."""
    svc = context.services
    chat = update.effective_chat
    assert chat is not None
    total = svc.library.section_count
    reading = await svc.reading.read_next(chat.id, chat.type, chat.title or chat.full_name or "")
    if reading is None:
        state = await chat_state(context, update)
        script = script or await reader_script(context, update, state)
        text = t(texts.ALL_READ, script, total=total)
        await send(context, update, render.Rendered(text, keyboards.restart_buttons(script)))
        return
    state, number = reading.state, reading.section
    script = script or await reader_script(context, update, state)
    try:
        await _send_section(update, context, number, script, finishing=reading.finished)
    except Exception:
        await svc.reading.give_back(chat.id, number)  # the reader never saw it
        raise
    await activity.count_reading(update, context)
    if reading.finished:
        # Reached the end just now (by any path, once): celebrate.
        summary = await finish_line(context, update, state, script)
        effect = render.CELEBRATION if is_private(update) else None
        await send(context, update, summary, effect=effect)


async def finish_line(
    context: BotContext, update: Update, state: ChatState, script: Script
) -> render.Rendered:
    """Return the summary a chat gets when it reaches the end of the article."""
    user = update.effective_user
    now = context.services.clock()
    summary = await context.services.reading.finish_summary(state, user.id if user else None, now)
    return render.finish_summary(summary, script)


async def next_button(update: Update, context: BotContext, button: cb.Next) -> None:
    """The next button: the chat's next unread, or the section after the one it sits under.

    Under the chat's latest section it moves progress on like /next; under a section opened
    again with /read, the table of contents or a link, it shows the one after that section
    and leaves progress alone, so re-reading never skips or repeats the chat's place. It
    follows the script of the message it sits under.
    """
    if button.after is None:
        await next_section(update, context)
        return
    state = await chat_state(context, update)
    if not 1 <= button.after < context.services.library.section_count:
        return  # a stale button: there is no section after it
    if button.after == state.progress:
        await next_section(update, context, button.script)
        return
    script = button.script or await reader_script(context, update, state)
    await show_section(update, context, button.after + 1, script)


async def show_section(
    update: Update,
    context: BotContext,
    number: int,
    script: Script,
    *,
    in_place: bool = False,
    highlight: str = "",
) -> None:
    """Send section ``number`` (or show it ``in_place`` of the pressed message) and note it.

    Every path but /next comes here: the contents, /read, a link, a search hit, a typed
    number, the next button under an earlier section. The chat's next unread section counts
    like /next (ReadingService.opened); the streak counts the day.
    """
    svc = context.services
    chat = update.effective_chat
    assert chat is not None
    title = chat.title or chat.full_name or ""
    reading = await svc.reading.opened(chat.id, chat.type, title, number)
    await _send_section(
        update,
        context,
        number,
        script,
        finishing=reading.finished,
        in_place=in_place,
        highlight=highlight,
    )
    await activity.count_reading(update, context)
    if reading.finished:
        summary = await finish_line(context, update, reading.state, script)
        effect = render.CELEBRATION if is_private(update) else None
        await send(context, update, summary, effect=effect)


async def _send_section(
    update: Update,
    context: BotContext,
    number: int,
    script: Script,
    *,
    finishing: bool = False,
    in_place: bool = False,
    highlight: str = "",
) -> None:
    message = render.section(
        context.services.library,
        number,
        script,
        bot_username=context.bot.username,
        share_link=not is_private(update),
        finishing=finishing,
        back=in_place,
        highlight=highlight,
    )
    if in_place:
        await edit(context, update, message)
    else:
        await send(context, update, message)


async def open_section(update: Update, context: BotContext, button: cb.OpenSection) -> None:
    script = await reader_script(context, update)
    if context.services.library.section(button.number, script):
        await show_section(update, context, button.number, script, in_place=button.edit)


async def read(update: Update, context: BotContext) -> None:
    """Show section N; the chat's next unread one counts as read (see ChatService.opened)."""
    script = await reader_script(context, update)
    total = context.services.library.section_count
    if not context.args:
        reply = t(texts.READ_USAGE, script, total=total)
        await send(context, update, _with_numbers(reply, total, script))
        return
    arg = context.args[0]
    number = parse_item_number(arg)
    if number is None:
        # Echo only what the reader typed, never the same words twice ("没有第 第三节 节").
        reply = t(texts.READ_UNREADABLE, script, arg=render.esc(arg[:20]), total=total)
        await send(context, update, _with_numbers(reply, total, script))
        return
    if not 1 <= number <= total:
        reply = t(texts.READ_RANGE, script, n=number, total=total)
        await send(context, update, _with_numbers(reply, total, script))
        return
    await show_section(update, context, number, script)


def _with_numbers(text: str, total: int, script: Script) -> render.Rendered:
    """A reply to a /read that named no section: every section one tap away."""
    return render.Rendered(text, keyboards.section_numbers(total, script))


async def toc(update: Update, context: BotContext, *, in_place: bool = False) -> None:
    state = await chat_state(context, update)
    script = await reader_script(context, update, state)
    page = render.toc(context.services.library, script, state.read_mask, state.progress)
    if in_place:
        await edit(context, update, page)
    else:
        await send(context, update, page)


async def toc_button(update: Update, context: BotContext, button: cb.Toc) -> None:
    await toc(update, context, in_place=button.edit)


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
    user = update.effective_user
    if user is not None and is_private(update):
        streak = await context.services.reading.streak(user.id)
        # A private chat's zone is its reader's: the streak's day is theirs.
        today = context.services.clock().astimezone(context.services.chats.zone(state)).date()
        days = current_on(streak, today)
        lines.append(
            t(texts.STREAK, script, days=days, best=streak.best)
            if days
            else t(texts.STREAK_START, script)
        )
    markup = None
    if done >= total:
        lines.append(t(texts.PROGRESS_FINISHED, script))
        markup = keyboards.restart_buttons(script)
    elif state.subscribed:
        lines += schedule_lines(context, state, script)
    else:
        lines.append(t(texts.PROGRESS_NOT_SUBSCRIBED, script))
    await send(context, update, render.Rendered("\n".join(lines), markup))


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
        done = render.Rendered(t(texts.RESET_DONE, script), keyboards.begin_button(script))
        await edit(context, update, done)
    else:
        await edit(context, update, render.Rendered(t(texts.RESET_CANCELLED, script)))


async def restart(update: Update, context: BotContext, button: cb.Restart) -> None:
    """ "Read again" under the end of the article: start over and send section 1 at once."""
    state = await chat_state(context, update)
    script = await reader_script(context, update, state)
    if not await admin_gate(context, update, script):
        return
    await context.services.chats.restart(state)
    await next_section(update, context)


async def random_quote(update: Update, context: BotContext, button: cb.RandomQuote) -> None:
    svc = context.services
    script = await reader_script(context, update)
    number = random.randint(1, svc.library.quote_count)
    await send(context, update, render.quote(svc.library, svc.search, number, script))
