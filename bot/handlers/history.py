"""/history: the day each section first reached the chat, read or delivered, in its zone."""

from __future__ import annotations

from datetime import UTC, datetime

from telegram import Update

from bot import render
from bot.handlers.common import BotContext, chat_state, reader_script, say
from bot.render import texts
from bot.render.texts import t
from bot.services.reading import DELIVERED


async def history(update: Update, context: BotContext) -> None:
    svc = context.services
    state = await chat_state(context, update)
    script = await reader_script(context, update, state)
    log = {entry.section: entry for entry in await svc.reading.history(state.chat_id)}
    if not log:
        await say(context, update, t(texts.HISTORY_EMPTY, script))
        return
    zone = svc.chats.zone(state)
    lines = [t(texts.HISTORY_HEADER, script, tz=render.zone_label(zone, script))]
    for number in range(1, svc.library.section_count + 1):
        section = svc.library.section(number, script)
        assert section is not None
        title = render.esc(section.title)
        entry = log.get(number)
        if entry is None:
            lines.append(t(texts.HISTORY_UNREAD, script, n=number, title=title))
            continue
        local = datetime.fromtimestamp(entry.at, UTC).astimezone(zone)
        day = f"{render.day_label(local.date(), script)} {local:%H:%M}"
        how = texts.HISTORY_DELIVERED if entry.how == DELIVERED else texts.HISTORY_READ
        lines.append(
            t(texts.HISTORY_LINE, script, n=number, title=title, day=day, how=t(how, script))
        )
    await say(context, update, "\n".join(lines))
