"""Settings: /script, /subscribe, /unsubscribe, /timezone, and their buttons."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo

from telegram import Update

from bot import render
from bot.content.scripts import Script, echo, parse_script
from bot.handlers.common import (
    BotContext,
    admin_gate,
    admins_press,
    chat_state,
    edit,
    edit_buttons,
    is_admin,
    is_private,
    reader_script,
    say,
    send,
)
from bot.render import callback_data as cb
from bot.render import keyboards, texts
from bot.render.texts import t
from bot.rules import zones
from bot.rules.arguments import parse_subscribe
from bot.rules.chats import ChatState, read_all
from bot.rules.schedule import format_hhmm


def next_delivery(context: BotContext, state: ChatState, script: Script) -> dict[str, str]:
    """Return the chat's next delivery as ``when`` (local date and time) and ``tz``."""
    chats = context.services.chats
    local = chats.local_due(state)
    assert local is not None
    zone = render.zone_label(chats.zone(state), script)
    return {"when": f"{local.month}月{local.day}日 {local:%H:%M}", "tz": zone}


def schedule_lines(context: BotContext, state: ChatState, script: Script) -> list[str]:
    """Return a subscribed chat's schedule for /progress: the next digest, days, any pause."""
    chats = context.services.chats
    lines = []
    if state.next_due_at:
        lines.append(t(texts.PROGRESS_NEXT, script, **next_delivery(context, state, script)))
    at = format_hhmm(state.delivery_time or context.services.settings.delivery_time)
    lines.append(
        t(texts.PROGRESS_DAYS, script, days=render.days_label(state.reading_days, script), time=at)
    )
    if state.paused_at(int(context.services.clock().timestamp())):
        resume = chats.resume_day(state)
        if resume is None:
            lines.append(t(texts.PROGRESS_PAUSED_OPEN, script))
        else:
            lines.append(t(texts.PROGRESS_PAUSED, script, day=render.day_label(resume, script)))
    return lines


async def script(update: Update, context: BotContext) -> None:
    """Set the caller's script (and, for a group's admin, the group's digest script)."""
    current = await reader_script(context, update)
    if not context.args:
        await send(context, update, render.script_choice(current))
        return
    chosen = parse_script(context.args[0])
    if chosen is None:
        arg = render.esc(context.args[0][:20])
        await say(context, update, t(texts.SCRIPT_UNKNOWN, current, arg=arg))
        return
    await apply_script(update, context, chosen)


async def choose_script(update: Update, context: BotContext, button: cb.ChooseScript) -> None:
    await apply_script(update, context, button.script)


async def apply_script(update: Update, context: BotContext, chosen: Script) -> None:
    svc = context.services
    user = update.effective_user
    name = t(texts.SCRIPT_NAME[chosen], chosen)
    lines = []
    if user is not None:
        await svc.reading.set_user_script(user.id, chosen)
        svc.user_scripts.put(user.id, chosen.value)
        lines.append(t(texts.SCRIPT_SET, chosen, script_name=name))
    if is_private(update) or await is_admin(context, update):
        state = await chat_state(context, update)
        await svc.chats.set_script(state, chosen)
        if not is_private(update):
            lines.append(t(texts.SCRIPT_SET_GROUP, chosen, script_name=name))
    await say(context, update, "\n".join(lines))


async def subscribe(update: Update, context: BotContext) -> None:
    """Start daily delivery at HH:MM (default DELIVERY_TIME) in the chat's time zone."""
    state = await chat_state(context, update)
    current = await reader_script(context, update, state)
    if not await admin_gate(context, update, current):
        return
    args = parse_subscribe(context.args or [])
    if args.unreadable is not None:
        # Name the word that was not understood (not the time, if the time was fine).
        arg = render.esc(echo(args.unreadable[:20], current))
        reply = t(texts.SUBSCRIBE_BAD_ARG, current, arg=arg)
        await send(context, update, render.Rendered(reply, keyboards.time_choice(current)))
        return
    await _start(update, context, state, args.at, args.quiet, current, args.days)


async def subscribe_button(update: Update, context: BotContext, button: cb.Subscribe) -> None:
    """The subscribe button: a few common times to choose from, and "other"."""
    state = await chat_state(context, update)
    current = await reader_script(context, update, state)
    if not await admin_gate(context, update, current):
        return
    zone = render.zone_label(context.services.chats.zone(state), current)
    text = t(texts.SUBSCRIBE_CHOOSE, current, tz=zone)
    await send(context, update, render.Rendered(text, keyboards.time_choice(current)))


async def subscribe_at(update: Update, context: BotContext, button: cb.SubscribeAt) -> None:
    state = await chat_state(context, update)
    current = await reader_script(context, update, state)
    if not await admin_gate(context, update, current):
        return
    if button.at is None:
        await say(context, update, t(texts.SUBSCRIBE_OTHER, current))
        return
    await _start(update, context, state, button.at, None, current)


async def _start(
    update: Update,
    context: BotContext,
    state: ChatState,
    at: time | None,
    quiet: bool | None,
    current: Script,
    days: int | None = None,
) -> None:
    svc = context.services
    message = update.effective_message
    thread_id = message.message_thread_id if message and message.is_topic_message else None
    fresh = await svc.chats.subscribe(
        state,
        at=at or state.delivery_time or svc.settings.delivery_time,
        quiet=state.quiet if quiet is None else quiet,
        thread_id=thread_id,
        script=current,
        days=days,
    )
    if not read_all(fresh, svc.chats.defaults):
        await send(context, update, subscription_reply(context, fresh, current))
        return
    total = svc.library.section_count
    text = t(texts.SUBSCRIBE_FINISHED, current, total=total)
    await send(context, update, render.Rendered(text, keyboards.restart_buttons(current)))


def subscription_reply(context: BotContext, fresh: ChatState, current: Script) -> render.Rendered:
    """Return what a subscription says: days, time, zone, the next digest (or the pause)."""
    assert fresh.delivery_time is not None
    days = render.days_label(fresh.reading_days, current)
    lines = []
    if fresh.next_due_at is not None:
        lines.append(
            t(
                texts.SUBSCRIBED,
                current,
                days=days,
                time=format_hhmm(fresh.delivery_time),
                quiet=t(texts.SUBSCRIBED_QUIET, current) if fresh.quiet else "",
                **next_delivery(context, fresh, current),
            )
        )
    else:  # paused until the reader comes back: subscribed, nothing scheduled
        at = format_hhmm(fresh.delivery_time)
        lines.append(t(texts.PROGRESS_DAYS, current, days=days, time=at))
        lines.append(t(texts.PROGRESS_PAUSED_OPEN, current))
    markup = keyboards.subscription(current, fresh.quiet, fresh.reading_days)
    return render.Rendered("\n".join(lines), markup)


async def days_button(update: Update, context: BotContext, button: cb.SetDays) -> None:
    """A reading-days button under a subscription reply (admins only in groups)."""
    pressed = await admins_press(context, update)
    if pressed is None:
        return
    query, state, current = pressed
    fresh = await context.services.chats.set_reading_days(state, button.number)
    days = render.days_label(fresh.reading_days, current)
    await query.answer(t(texts.DAYS_SET, current, days=days))
    if fresh.subscribed and not read_all(fresh, context.services.chats.defaults):
        await edit(context, update, subscription_reply(context, fresh, current))


async def toggle_quiet(update: Update, context: BotContext, button: cb.Quiet) -> None:
    """The button under a subscription reply: silent delivery on or off (admins only)."""
    pressed = await admins_press(context, update)
    if pressed is None:
        return
    query, state, current = pressed
    fresh = await context.services.chats.set_quiet(state, button.yes)
    await query.answer(t(texts.QUIET_NOW_ON if button.yes else texts.QUIET_NOW_OFF, current))
    if fresh.subscribed and not read_all(fresh, context.services.chats.defaults):
        # The message it sits under says "silent" or not: it says the new setting now.
        await edit(context, update, subscription_reply(context, fresh, current))
    else:
        await edit_buttons(update, keyboards.subscription(current, button.yes, fresh.reading_days))


async def unsubscribe(update: Update, context: BotContext) -> None:
    state = await chat_state(context, update)
    current = await reader_script(context, update, state)
    if not await admin_gate(context, update, current):
        return
    if not state.subscribed:
        reply = t(texts.NOT_SUBSCRIBED, current)
        await send(context, update, render.Rendered(reply, keyboards.subscribe_button(current)))
        return
    await context.services.chats.unsubscribe(state)
    await say(context, update, t(texts.UNSUBSCRIBED, current))


async def timezone(update: Update, context: BotContext) -> None:
    svc = context.services
    state = await chat_state(context, update)
    current = await reader_script(context, update, state)
    if not context.args:
        tz = svc.chats.zone(state)
        local = svc.clock().astimezone(tz)
        label = render.zone_label(tz, current)
        text = t(texts.TIMEZONE_CURRENT, current, tz=label, local=f"{local:%H:%M}")
        await send(context, update, render.Rendered(text, keyboards.zone_choice(current)))
        return
    if not await admin_gate(context, update, current):
        return
    typed = " ".join(context.args)
    zone = zones.resolve(typed)
    if zone is None:
        arg = render.esc(echo(typed[:40], current))
        text = t(texts.TIMEZONE_BAD, current, arg=arg)
        await send(context, update, render.Rendered(text, keyboards.zone_choice(current)))
        return
    await _set_zone(update, context, state, zone, current)


async def zone_button(update: Update, context: BotContext, button: cb.SetZone) -> None:
    state = await chat_state(context, update)
    current = await reader_script(context, update, state)
    if await admin_gate(context, update, current):
        await _set_zone(update, context, state, ZoneInfo(button.key), current)


async def _set_zone(
    update: Update, context: BotContext, state: ChatState, zone: ZoneInfo, current: Script
) -> None:
    svc = context.services
    fresh = await svc.chats.set_zone(state, zone)
    svc.zones.drop(fresh.chat_id)
    follow = ""
    if fresh.next_due_at:
        follow = t(texts.NEXT_DELIVERY, current, **next_delivery(context, fresh, current))
    local = svc.clock().astimezone(zone)
    label = render.zone_label(zone, current)
    reply = t(texts.TIMEZONE_SET, current, tz=label, local=f"{local:%H:%M}", next=follow)
    await say(context, update, reply)


_ON = frozenset({"on", "开", "開", "开启", "開啟", "打开", "打開", "1"})
_OFF = frozenset({"off", "关", "關", "关闭", "關閉", "0"})


async def onthisday(update: Update, context: BotContext) -> None:
    """/onthisday 开|关: the "years ago today" cards on the story's dates, on or off."""
    state = await chat_state(context, update)
    current = await reader_script(context, update, state)
    word = (context.args[0].lower() if context.args else "").strip()
    if word not in _ON | _OFF:
        name = texts.ONTHISDAY_STATE_ON if state.onthisday else texts.ONTHISDAY_STATE_OFF
        reply = t(texts.ONTHISDAY_STATE, current, state=t(name, current))
        if not state.subscribed:
            # The cards come with the daily delivery: without one, none will come.
            reply += "\n" + t(texts.ONTHISDAY_NEEDS_SUBSCRIPTION, current)
            markup = keyboards.subscribe_button(current)
            await send(context, update, render.Rendered(reply, markup))
            return
        await say(context, update, reply)
        return
    if not await admin_gate(context, update, current):
        return
    wanted = word in _ON
    await context.services.chats.set_onthisday(state, wanted)
    await say(context, update, t(texts.ONTHISDAY_ON if wanted else texts.ONTHISDAY_OFF, current))
