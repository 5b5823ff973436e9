"""Pausing the daily digest: /pause [N], /resume, and the pause buttons (admins in groups)."""

from __future__ import annotations

from telegram import Update

from bot import render
from bot.content.scripts import Script, echo
from bot.handlers.common import (
    BotContext,
    admin_gate,
    admins_press,
    chat_state,
    edit,
    reader_script,
    say,
    send,
)
from bot.handlers.settings import next_delivery
from bot.render import callback_data as cb
from bot.render import keyboards, texts
from bot.render.texts import t
from bot.rules.arguments import parse_pause_days
from bot.rules.chats import PAUSE_DAYS_DEFAULT, PAUSE_DAYS_MAX, ChatState


async def pause(update: Update, context: BotContext) -> None:
    """/pause [N]: no digest for N days (a week by default); progress stays."""
    state = await chat_state(context, update)
    current = await reader_script(context, update, state)
    if not await admin_gate(context, update, current):
        return
    days = PAUSE_DAYS_DEFAULT
    if context.args:
        typed = "".join(context.args)
        parsed = parse_pause_days(typed)
        if parsed is None or parsed > PAUSE_DAYS_MAX:
            arg = render.esc(echo(typed[:20], current))
            text = t(texts.PAUSE_BAD, current, arg=arg, max=PAUSE_DAYS_MAX)
            choice = keyboards.pause_choice(current, None)
            await send(context, update, render.Rendered(text, choice))
            return
        days = parsed
    # 0 days: until the reader comes back (as the button carries it).
    await send(context, update, await _paused(context, state, days or None, current))


async def pause_button(update: Update, context: BotContext, button: cb.Pause) -> None:
    """A pause length chosen under a pause reply: the reply shows the new pause in place."""
    pressed = await admins_press(context, update)
    if pressed is None:
        return
    query, state, current = pressed
    await query.answer()
    if button.number > PAUSE_DAYS_MAX:
        return  # forged: no such button
    await edit(context, update, await _paused(context, state, button.number or None, current))


async def _paused(
    context: BotContext, state: ChatState, days: int | None, current: Script
) -> render.Rendered:
    chats = context.services.chats
    if not state.subscribed:
        return render.Rendered(t(texts.PAUSE_NOT_SUBSCRIBED, current))
    fresh = await chats.pause(state, days)
    resume = chats.resume_day(fresh)
    if resume is None:
        lines = [t(texts.PAUSED_OPEN, current)]
    else:
        lines = [t(texts.PAUSED, current, day=render.day_label(resume, current))]
        if fresh.next_due_at is not None:
            lines.append(t(texts.PAUSE_NEXT, current, **next_delivery(context, fresh, current)))
    chosen = 0 if days is None else days
    return render.Rendered("\n".join(lines), keyboards.pause_choice(current, chosen))


async def resume(update: Update, context: BotContext) -> None:
    """/resume: end a pause now; the next digest comes at the chat's time."""
    state = await chat_state(context, update)
    current = await reader_script(context, update, state)
    if not await admin_gate(context, update, current):
        return
    await say(context, update, await _resumed(context, state, current))


async def resume_button(update: Update, context: BotContext, button: cb.Resume) -> None:
    pressed = await admins_press(context, update)
    if pressed is None:
        return
    query, state, current = pressed
    await query.answer()
    await edit(context, update, render.Rendered(await _resumed(context, state, current)))


async def _resumed(context: BotContext, state: ChatState, current: Script) -> str:
    svc = context.services
    if not state.paused_at(int(svc.clock().timestamp())):
        return t(texts.RESUME_NOT_PAUSED, current)
    fresh = await svc.chats.resume(state)
    if fresh.next_due_at is None:
        return t(texts.RESUME_NOT_PAUSED, current)
    return t(texts.RESUMED, current, **next_delivery(context, fresh, current))
