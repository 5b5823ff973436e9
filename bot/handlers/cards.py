"""Quote cards: /card N and the button under every quote send the quote as an image.

Each card is drawn once per quote and script; Telegram's file_id of the first upload serves
every later request (and every replica: it is kept in the database).
"""

from __future__ import annotations

import asyncio
import logging
import random

from telegram import InputFile, Update
from telegram.error import BadRequest

from bot import render
from bot.content.scripts import Script
from bot.handlers.common import BotContext, post, reader_script, say
from bot.render import callback_data as cb
from bot.render import card_image as cards
from bot.render import texts
from bot.render.texts import t
from bot.rules.arguments import parse_item_number
from bot.telegram_io.sender import Target

log = logging.getLogger(__name__)


async def card(update: Update, context: BotContext) -> None:
    """/card N: quote N as an image; /card alone: one at random."""
    library = context.services.library
    script = await reader_script(context, update)
    total = library.quote_count
    number = parse_item_number(context.args[0]) if context.args else random.randint(1, total)
    if number is None or not 1 <= number <= total:
        await say(context, update, t(texts.CARD_RANGE, script, total=total))
        return
    await send_card(update, context, number, script)


async def card_button(update: Update, context: BotContext, button: cb.Card) -> None:
    library = context.services.library
    script = await reader_script(context, update)
    number = button.number or random.randint(1, library.quote_count)
    if library.quote(number, script):
        await send_card(update, context, number, script)


async def send_card(update: Update, context: BotContext, number: int, script: Script) -> None:
    svc = context.services
    if not cards.available():
        await say(context, update, t(texts.CARD_UNAVAILABLE, script, n=number))
        return
    quote = svc.library.quote(number, script)
    assert quote is not None
    # A shared card brings its readers back: the link opens this quote in the bot.
    link = render.deep_link(context.bot.username, cb.QuoteLink(number))
    caption = t(texts.CARD_CAPTION, script, n=number, label=quote.date.label, link=link)

    async def send_known(target: Target) -> bool:
        """Send the card by the file_id of an earlier upload; False if there is none."""
        known = await svc.reading.card_file(number, script)
        if known is None:
            return False
        try:
            await context.bot.send_photo(
                target.chat_id, known, caption=caption, message_thread_id=target.thread_id
            )
            return True
        except BadRequest as exc:  # a file_id another bot token issued: upload anew
            log.info("a stored card could not be reused (%s); drawing it again", exc.message)
            await svc.reading.forget_card(number, script)
            return False

    async def send_photo(target: Target) -> None:
        if await send_known(target):
            return
        # One drawing and upload per card at a time: a burst of requests for one card waits
        # for the first and sends its file_id (per replica; another may draw it too, once).
        async with svc.card_uploads.hold((number, script)):
            if not await send_known(target):
                await upload(target)

    async def upload(target: Target) -> None:
        article = svc.library.article(script)
        drawing = cards.QuoteCard(
            number,
            quote.text,
            quote.date.label,
            quote.occasion,
            article.title,
            article.byline,
            script,
        )
        async with svc.card_drawers:  # ~0.2 s of CPU each: off the loop, a core at a time
            png = await asyncio.to_thread(cards.render, drawing)
        sent = await context.bot.send_photo(
            target.chat_id,
            InputFile(png, filename=f"quote-{number}.png"),
            caption=caption,
            message_thread_id=target.thread_id,
        )
        if sent.photo:
            await svc.reading.remember_card(number, script, sent.photo[-1].file_id)

    await post(context, update, send_photo)
