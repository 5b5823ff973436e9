"""Settings: /script, /subscribe, /unsubscribe, /timezone."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot import render, texts
from bot.api_errors import is_not_modified
from bot.config import parse_hhmm
from bot.handlers.common import (
    Services,
    admin_gate,
    chat_state,
    is_admin,
    is_private,
    reader_script,
    say,
    send,
    services,
)
from bot.schedule import format_hhmm, next_due_epoch, parse_stored_time, resolve_zone
from bot.scripts import Script, parse_script
from bot.store import ChatState
from bot.texts import t

_QUIET_WORDS = {"quiet", "silent", "静音", "靜音", "q"}


def chat_zone(svc: Services, state: ChatState) -> ZoneInfo:
    return ZoneInfo(state.timezone) if state.timezone else svc.settings.timezone


def due_after_now(svc: Services, state: ChatState) -> int:
    at = parse_stored_time(state.delivery_time, svc.settings.delivery_time)
    return next_due_epoch(svc.clock(), at, chat_zone(svc, state))


def describe_next(svc: Services, state: ChatState) -> dict[str, str]:
    """Return the next delivery as local date and time, with the zone's name."""
    tz = chat_zone(svc, state)
    assert state.next_due_at is not None
    local = datetime.fromtimestamp(state.next_due_at, UTC).astimezone(tz)
    return {"when": f"{local.month}月{local.day}日 {local:%H:%M}", "tz": tz.key}


async def script(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Set the caller's script (and, for a group's admin, the group's digest script)."""
    svc = services(context)
    current = await reader_script(svc, update)
    if not context.args:
        await send(update, render.script_choice(current))
        return
    chosen = parse_script(context.args[0])
    if chosen is None:
        await say(update, t(texts.SCRIPT_UNKNOWN, current, arg=render.esc(context.args[0][:20])))
        return
    await apply_script(update, context, chosen)


async def apply_script(update: Update, context: ContextTypes.DEFAULT_TYPE, chosen: Script) -> None:
    svc = services(context)
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None
    name = t(texts.SCRIPT_NAME[chosen], chosen)
    lines = []
    if user is not None:
        await svc.store.set_user_script(user.id, chosen.value)
        svc.user_scripts.put(user.id, chosen.value)
        lines.append(t(texts.SCRIPT_SET, chosen, script_name=name))
    if is_private(chat) or await is_admin(svc, update, context):
        await chat_state(svc, update)
        await svc.store.set_chat_script(chat.id, chosen.value)
        if not is_private(chat):
            lines.append(t(texts.SCRIPT_SET_GROUP, chosen, script_name=name))
    await say(update, "\n".join(lines))


async def subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Start daily delivery at HH:MM (default DELIVERY_TIME) in the chat's time zone."""
    svc = services(context)
    state = await chat_state(svc, update)
    current = await reader_script(svc, update, state)
    if not await admin_gate(svc, update, context, current):
        return
    at = parse_stored_time(state.delivery_time, svc.settings.delivery_time)
    quiet = state.quiet
    for arg in context.args or []:
        if arg.lower() in _QUIET_WORDS:
            quiet = True
            continue
        if arg.lower() in {"loud", "sound", "有声", "有聲"}:
            quiet = False
            continue
        parsed = parse_hhmm(arg)
        if parsed is None:
            await say(update, t(texts.SUBSCRIBE_BAD_TIME, current, arg=render.esc(arg[:20])))
            return
        at = parsed
    await start_subscription(update, context, state, at, quiet, current)


async def start_subscription(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    state: ChatState,
    at: time,
    quiet: bool,
    current: Script,
) -> None:
    svc = services(context)
    message = update.effective_message
    thread_id = message.message_thread_id if message and message.is_topic_message else None
    tz = chat_zone(svc, state)
    # A chat that already got the end message has nothing left until /reset.
    next_due = None if state.finished else next_due_epoch(svc.clock(), at, tz)
    if not state.script:
        await svc.store.set_chat_script(state.chat_id, current.value)
    await svc.store.subscribe(
        state.chat_id,
        delivery_time=format_hhmm(at),
        timezone=tz.key,
        quiet=quiet,
        thread_id=thread_id,
        next_due_at=next_due,
    )
    fresh = await svc.store.get_chat(state.chat_id)
    assert fresh is not None
    if fresh.next_due_at is None:
        await say(update, t(texts.PROGRESS_FINISHED, current))
        return
    info = describe_next(svc, fresh)
    text = t(
        texts.SUBSCRIBED,
        current,
        time=format_hhmm(at),
        tz=info["tz"],
        quiet=t(texts.SUBSCRIBED_QUIET, current) if quiet else "",
        when=info["when"],
    )
    await send(update, render.Rendered(text, render.quiet_toggle(current, quiet)))


async def toggle_quiet(update: Update, context: ContextTypes.DEFAULT_TYPE, quiet: bool) -> None:
    """The button under a subscription reply: silent delivery on or off (admins only)."""
    svc = services(context)
    query = update.callback_query
    assert query is not None
    state = await chat_state(svc, update)
    current = await reader_script(svc, update, state)
    if not await is_admin(svc, update, context):
        await query.answer(t(texts.ADMINS_ONLY, current), show_alert=True)
        return
    await svc.store.set_quiet(state.chat_id, quiet)
    await query.answer(t(texts.QUIET_NOW_ON if quiet else texts.QUIET_NOW_OFF, current))
    try:
        await query.edit_message_reply_markup(render.quiet_toggle(current, quiet))
    except BadRequest as exc:
        if not is_not_modified(exc):  # a double tap leaves the button as it is
            raise


async def unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    state = await chat_state(svc, update)
    current = await reader_script(svc, update, state)
    if not await admin_gate(svc, update, context, current):
        return
    if not state.subscribed:
        await say(update, t(texts.NOT_SUBSCRIBED, current))
        return
    await svc.store.unsubscribe(state.chat_id)
    await say(update, t(texts.UNSUBSCRIBED, current))


async def timezone(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    state = await chat_state(svc, update)
    current = await reader_script(svc, update, state)
    now = svc.clock()
    if not context.args:
        tz = chat_zone(svc, state)
        local = now.astimezone(tz)
        await say(update, t(texts.TIMEZONE_CURRENT, current, tz=tz.key, local=f"{local:%H:%M}"))
        return
    if not await admin_gate(svc, update, context, current):
        return
    zone = resolve_zone(context.args[0])
    if zone is None:
        await say(update, t(texts.TIMEZONE_BAD, current, arg=render.esc(context.args[0][:40])))
        return
    next_due = None
    if state.subscribed and not state.finished:
        at = parse_stored_time(state.delivery_time, svc.settings.delivery_time)
        next_due = next_due_epoch(now, at, zone)
    await svc.store.set_timezone(state.chat_id, zone.key, next_due)
    fresh = await svc.store.get_chat(state.chat_id)
    assert fresh is not None
    follow = ""
    if fresh.next_due_at:
        follow = t(texts.NEXT_DELIVERY, current, when=describe_next(svc, fresh)["when"])
    local = now.astimezone(zone)
    await say(
        update, t(texts.TIMEZONE_SET, current, tz=zone.key, local=f"{local:%H:%M}", next=follow)
    )
