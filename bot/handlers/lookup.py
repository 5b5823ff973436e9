"""Looking things up: /quote, /date, inline mode and free-text search in private chats."""

from __future__ import annotations

import random

from telegram import (
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Update,
)
from telegram.constants import ParseMode

from bot import callback_data as cb
from bot import render, texts
from bot.arguments import parse_number
from bot.handlers.common import BotContext, reader_script, say, send
from bot.scripts import Script
from bot.texts import t

INLINE_CACHE_SECONDS = 300


async def quote(update: Update, context: BotContext) -> None:
    """Answer /quote, /quote N and /quote WORD."""
    svc = context.services
    script = await reader_script(context, update)
    total = svc.library.quote_count
    arg = " ".join(context.args or []).strip()
    if not arg:
        await send(context, update, render.quote(svc.library, random.randint(1, total), script))
        return
    digits = arg.lstrip("#№")
    if digits.lstrip("-").isdigit():  # any digits (², ① too) get the range hint, not a search
        number = parse_number(digits, max_digits=9) or 0
        if 1 <= number <= total:
            await send(context, update, render.quote(svc.library, number, script))
        else:
            await say(context, update, t(texts.QUOTE_RANGE, script, total=total))
        return
    await search(update, context, arg, script)


async def search(update: Update, context: BotContext, word: str, script: Script) -> None:
    svc = context.services
    numbers = svc.library.search_quotes(word)
    if not numbers:
        await say(
            context,
            update,
            t(
                texts.QUOTE_NONE,
                script,
                word=render.esc(word[:50]),
                total=svc.library.quote_count,
            ),
        )
    elif len(numbers) == 1:
        await send(context, update, render.quote(svc.library, numbers[0], script))
    else:
        await send(context, update, render.quote_matches(svc.library, numbers, script, word[:50]))


async def date(update: Update, context: BotContext) -> None:
    """Answer /date (the timeline) and /date D (what happened that day)."""
    svc = context.services
    script = await reader_script(context, update)
    arg = " ".join(context.args or []).strip()
    if not arg:
        await send(context, update, render.timeline(svc.library, script))
        return
    day = svc.library.parse_day(arg)
    known = render.known_days(svc.library)
    if day is None:
        await say(
            context,
            update,
            t(texts.DATE_NOT_A_DATE, script, arg=render.esc(arg[:30]), known=known),
        )
    elif svc.library.date(day, script) is None:
        await say(context, update, t(texts.DATE_UNKNOWN, script, arg=day.label, known=known))
    else:
        await send(context, update, render.day(svc.library, day, script))


async def free_text(update: Update, context: BotContext) -> None:
    """In a private chat, a plain message is a search over quotes, then dates."""
    svc = context.services
    script = await reader_script(context, update)
    message = update.effective_message
    assert message is not None and message.text is not None
    word = message.text.strip()[:50]
    day = svc.library.parse_day(word)
    if day is not None and svc.library.date(day, script):
        await send(context, update, render.day(svc.library, day, script))
        return
    if svc.library.search_quotes(word):
        await search(update, context, word, script)
        return
    days = svc.library.search_dates(word)
    if days:
        await send(context, update, render.day(svc.library, days[0], script))
        return
    await say(
        context,
        update,
        t(texts.QUOTE_NONE, script, word=render.esc(word), total=svc.library.quote_count),
    )


async def inline_query(update: Update, context: BotContext) -> None:
    """List the quotes matching the query (all of them for an empty one)."""
    svc = context.services
    query = update.inline_query
    assert query is not None
    script = await reader_script(context, update)
    word = query.query.strip()
    numbers = (
        svc.library.search_quotes(word) if word else list(range(1, svc.library.quote_count + 1))
    )
    results = []
    for n in numbers[:50]:
        q = svc.library.quote(n, script)
        assert q is not None
        results.append(
            InlineQueryResultArticle(
                id=f"q{n}{script.short}",
                title=t(texts.INLINE_TITLE, script, n=n, label=q.date.label),
                description=q.text,
                input_message_content=InputTextMessageContent(
                    render.quote_text(svc.library, n, script), parse_mode=ParseMode.HTML
                ),
            )
        )
    await query.answer(
        results,
        cache_time=INLINE_CACHE_SECONDS,
        # The same query gives different text in each script, so answers are per user.
        is_personal=True,
        button=InlineQueryResultsButton(
            t(texts.INLINE_SWITCH_PM, script), start_parameter="inline"
        ),
    )


async def open_quote(update: Update, context: BotContext, button: cb.OpenQuote) -> None:
    svc = context.services
    script = await reader_script(context, update)
    if svc.library.quote(button.number, script):
        await send(context, update, render.quote(svc.library, button.number, script))


async def open_date(update: Update, context: BotContext, button: cb.OpenDate) -> None:
    svc = context.services
    script = await reader_script(context, update)
    if svc.library.date(button.day, script):
        await send(context, update, render.day(svc.library, button.day, script))


async def timeline(update: Update, context: BotContext, button: cb.Timeline) -> None:
    script = await reader_script(context, update)
    await send(context, update, render.timeline(context.services.library, script))
