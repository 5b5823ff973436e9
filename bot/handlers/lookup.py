"""Looking things up: /quote, /date, the timeline, inline mode, and plain messages in a
private chat (a number opens that section or quote, a word searches the whole article)."""

from __future__ import annotations

import random
from dataclasses import replace

from telegram import (
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Update,
)
from telegram.constants import ParseMode

from bot import render
from bot.content.scripts import Script, echo
from bot.handlers.common import BotContext, chat_state, edit, reader_script, say, send
from bot.handlers.reading import help_command, next_section, progress, show_section, toc
from bot.render import callback_data as cb
from bot.render import keyboards, texts
from bot.render.texts import t
from bot.rules.arguments import intent, parse_item, parse_item_number
from bot.rules.onthisday import nearest_day, on_this_day

INLINE_CACHE_SECONDS = 300


async def quote(update: Update, context: BotContext) -> None:
    """Answer /quote, /quote N and /quote WORD."""
    svc = context.services
    script = await reader_script(context, update)
    total = svc.library.quote_count
    arg = " ".join(context.args or []).strip()
    if not arg:
        await show_quote(update, context, random.randint(1, total), script)
        return
    number = parse_item_number(arg)
    digits = arg.lstrip("#№")
    if number is not None or digits.lstrip("-").isdigit():
        # A number (三, 第3条, ３ too) names a quote; any other digits (², ①, -1) get the
        # range hint, never a search that would answer with a quote the reader did not ask.
        if number is not None and 1 <= number <= total:
            await show_quote(update, context, number, script)
        else:
            reply = t(texts.QUOTE_RANGE, script, total=total)
            await send(context, update, render.Rendered(reply, keyboards.quote_ways(script)))
        return
    found = svc.search.find(arg[:50])
    found = replace(found, word=echo(found.word, script))  # the echo in the reader's script
    if not (found.quotes or found.occasions):
        word = render.esc(found.word)
        reply = t(texts.QUOTE_NONE, script, word=word, total=total)
        await send(context, update, render.Rendered(reply, keyboards.quote_ways(script)))
    elif found.quotes and len(found.quotes) + len(found.occasions) == 1:
        await show_quote(update, context, found.quotes[0], script)
    elif len(found.occasions) == 1 and not found.quotes:
        # Found only where the quote was said, not in its words: say so, as the list does.
        card = render.quote(svc.library, svc.search, found.occasions[0], script)
        label = t(texts.QUOTE_FOUND_OCCASION, script, word=render.esc(found.word), count=1)
        await send(context, update, render.Rendered(f"{label}\n{card.text}", card.markup))
    else:
        await send(context, update, render.quote_matches(svc.library, found, script))


async def show_quote(update: Update, context: BotContext, number: int, script: Script) -> None:
    svc = context.services
    await send(context, update, render.quote(svc.library, svc.search, number, script))


async def date(update: Update, context: BotContext) -> None:
    """Answer /date (the timeline) and /date D (what happened that day)."""
    svc = context.services
    script = await reader_script(context, update)
    arg = " ".join(context.args or []).strip()
    if not arg:
        await send(context, update, render.timeline(svc.library, script))
        return
    if arg.lower() in _TODAY:
        await _today(update, context, script)
        return
    day = svc.library.parse_day(arg)
    if day is None:
        shown = render.esc(echo(arg[:30], script))
        reply = render.unknown_day(svc.library, script, texts.DATE_NOT_A_DATE, shown)
    elif svc.library.date(day, script) is None:
        reply = render.unknown_day(svc.library, script, texts.DATE_UNKNOWN, day.label)
    else:
        reply = render.day(svc.library, day, script)
    await send(context, update, reply)


_TODAY = frozenset({"today", "今天", "今日"})


async def _today(update: Update, context: BotContext, script: Script) -> None:
    """/date today: today's date of the story, or the nearest one if today is not one."""
    svc = context.services
    state = await chat_state(context, update)
    today = svc.clock().astimezone(svc.chats.zone(state)).date()
    day = on_this_day(svc.library, today)
    if day is not None:
        await send(context, update, render.day(svc.library, day, script))
        return
    nearest = nearest_day(svc.library, today)
    card = render.day(svc.library, nearest, script)
    note = t(
        texts.DATE_TODAY_NEAREST,
        script,
        today=f"{today.month}月{today.day}日",
        label=nearest.label,
    )
    await send(context, update, render.Rendered(f"{note}\n\n{card.text}", card.markup))


async def free_text(update: Update, context: BotContext) -> None:
    """A plain message in a private chat: a number, a navigation word, a date, or a search."""
    svc = context.services
    message = update.effective_message
    assert message is not None and message.text is not None
    text = message.text.strip()[:50]
    wanted = intent(text)
    if wanted is not None:
        await _follow(update, context, wanted)
        return
    script = await reader_script(context, update)
    item = parse_item(text)
    if item is not None and await _open_item(update, context, item.kind, item.number, script):
        return
    day = svc.library.parse_day(text)
    if day is not None and svc.library.date(day, script):
        await send(context, update, render.day(svc.library, day, script))
        return
    found = replace(svc.search.find(text), word=echo(text, script))
    if found.empty:
        reply = t(texts.SEARCH_NONE, script, word=render.esc(found.word))
        await send(context, update, render.Rendered(reply, keyboards.search_ways(script)))
        return
    await send(context, update, render.search_results(svc.library, svc.search, found, script))


async def _follow(update: Update, context: BotContext, wanted: str) -> None:
    """Do what a navigation word asks (下一节, 目录, 语录 …), or greet."""
    if wanted == "next":
        await next_section(update, context)
    elif wanted == "toc":
        await toc(update, context)
    elif wanted == "timeline":
        script = await reader_script(context, update)
        await send(context, update, render.timeline(context.services.library, script))
    elif wanted == "quote":
        script = await reader_script(context, update)
        number = random.randint(1, context.services.library.quote_count)
        await show_quote(update, context, number, script)
    elif wanted == "progress":
        await progress(update, context)
    elif wanted == "help":
        await help_command(update, context)
    else:
        script = await reader_script(context, update)
        if wanted == "subscribe":
            choice = render.Rendered(
                t(texts.SUBSCRIBE_OTHER, script), keyboards.time_choice(script)
            )
            await send(context, update, choice)
        else:
            await say(context, update, t(texts.GREETING, script))


async def _open_item(
    update: Update, context: BotContext, kind: str, number: int, script: Script
) -> bool:
    """Open section or quote ``number`` (a bare number: a section if there is one)."""
    library = context.services.library
    if kind in ("section", "any") and library.section(number, script):
        await show_section(update, context, number, script)
        return True
    if kind in ("quote", "any") and library.quote(number, script):
        await show_quote(update, context, number, script)
        return True
    return False


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
    script = await reader_script(context, update)
    if context.services.library.quote(button.number, script):
        await show_quote(update, context, button.number, script)


async def quote_source(update: Update, context: BotContext, button: cb.QuoteSource) -> None:
    """The section that narrates a quote, with the quote's sentence in bold."""
    svc = context.services
    script = await reader_script(context, update)
    place = svc.search.narrated(button.number)
    if place is not None:
        sentence = svc.search.sentence(place, script)
        await show_section(update, context, place.section, script, highlight=sentence)


async def open_date(update: Update, context: BotContext, button: cb.OpenDate) -> None:
    svc = context.services
    script = await reader_script(context, update)
    if not svc.library.date(button.day, script):
        return
    if button.edit:  # from the timeline: shown in its place, with the way back
        await edit(context, update, render.day(svc.library, button.day, script, back=True))
    else:
        await send(context, update, render.day(svc.library, button.day, script))


async def timeline(update: Update, context: BotContext, button: cb.Timeline) -> None:
    script = await reader_script(context, update)
    page = render.timeline(context.services.library, script)
    if button.edit:
        await edit(context, update, page)
    else:
        await send(context, update, page)
