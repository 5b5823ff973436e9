"""Cards: /card N and the button under every quote send the quote as an image; /card as a
reply to a section, quoting part of it, sends that passage as an image.

Each quote card is drawn once per quote and script; Telegram's file_id of the first upload
serves every later request (and every replica: it is kept in the database). A passage is kept
in the database too, so that its card, its ☆ and /saved can name it by a short id.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re

from telegram import InlineKeyboardMarkup, InputFile, Message, ReplyParameters, Update
from telegram.error import BadRequest

from bot import render
from bot.content import Library
from bot.content.scripts import Script, echo
from bot.handlers.common import BotContext, post, reader_script, say
from bot.render import callback_data as cb
from bot.render import card_image as cards
from bot.render import keyboards, texts
from bot.render.texts import t
from bot.rules.arguments import parse_item_number
from bot.rules.reading import cut_passage, find_in, opening_sentence, same_words
from bot.services.reading import Passage
from bot.telegram_io.sender import Target

log = logging.getLogger(__name__)


async def card(update: Update, context: BotContext) -> None:
    """/card N: quote N as an image; /card alone: one at random; as a reply: a passage."""
    library = context.services.library
    script = await reader_script(context, update)
    message = update.effective_message
    if message is not None and message.reply_to_message is not None:
        await _reply_card(update, context, message, script)
        return
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


def _link(context: BotContext, to: cb.Link, script: Script) -> str:
    """Return the caption's line that links back to the bot (at what the card shows)."""
    username = context.bot.username
    link = render.deep_link(username, to)
    return "\n" + t(texts.CARD_LINK, script, link=link, bot=username)


# --- passage cards ------------------------------------------------------------------------------

# A section message's header, in either script (texts.SECTION_HEADER).
_HEADER = re.compile(r"第 (\d{1,4})/\d{1,4} [节節] · ")


async def _reply_card(
    update: Update, context: BotContext, message: Message, script: Script
) -> None:
    """/card as a reply: the quoted passage of a section, or its opening sentence."""
    library = context.services.library
    replied = message.reply_to_message
    assert replied is not None
    text = replied.text or replied.caption or ""
    quoted = message.quote.text if message.quote is not None else None
    found = _section_of(library, text, quoted)
    if found is None:
        await say(context, update, t(texts.PASSAGE_NOT_A_SECTION, script))
        return
    number, words, written = found
    section = library.section(number, script)
    assert section is not None
    if words is None:  # a reply without a quoted part: the section's opening sentence
        words = opening_sentence(section)
    elif written is not script:  # quoted from the section in the other script
        words = _in_script(library, Passage(0, number, written, words), script)
    passage_id = await context.services.reading.keep_passage(number, script, cut_passage(words))
    passage = await context.services.reading.passage(passage_id)
    assert passage is not None
    quote = message.quote
    reply = ReplyParameters(
        replied.message_id,
        quote=quote.text if quote is not None else None,
        quote_position=quote.position if quote is not None else None,
        allow_sending_without_reply=True,  # the section message may be deleted meanwhile
    )
    await send_passage(update, context, passage, script, reply)


def _section_of(
    library: Library, text: str, quoted: str | None
) -> tuple[int, str | None, Script] | None:
    """Return the section a replied-to message shows, the quoted words and their script, or
    None when the message is not a section.

    The header names the section; without it (a later part of a long section) the quoted
    words find it.
    """
    header = _HEADER.search(text)
    numbers = [int(header.group(1))] if header else list(range(1, library.section_count + 1))
    words = quoted.strip() if quoted else None
    for number in numbers:
        for script in Script:
            section = library.section(number, script)
            if section is None:
                continue
            if words is None:
                if header is not None:
                    return number, None, script
                continue
            if find_in(section, words) is not None:
                return number, words, script
    if header is not None and words:
        # Words of the header or the dates line: as quoted, in the script they were written.
        written = Script.SIMPLIFIED if "节" in header.group(0) else Script.TRADITIONAL
        return int(header.group(1)), words, written
    return None


async def passage_card_button(update: Update, context: BotContext, button: cb.PassageCard) -> None:
    script = await reader_script(context, update)
    passage = await context.services.reading.passage(button.number)
    if passage is not None:
        await send_passage(update, context, passage, script)


async def section_card_button(update: Update, context: BotContext, button: cb.SectionCard) -> None:
    """The card button of a saved section: its opening sentence."""
    svc = context.services
    script = await reader_script(context, update)
    section = svc.library.section(button.number, script)
    if section is None:
        return
    words = cut_passage(opening_sentence(section))
    passage = await svc.reading.passage(
        await svc.reading.keep_passage(button.number, script, words)
    )
    assert passage is not None
    await send_passage(update, context, passage, script)


def _in_script(library: Library, passage: Passage, script: Script) -> str:
    """Return a passage's words in ``script``: the section's own words at that place when the
    scripts line up character for character, else converted character by character."""
    if passage.script is script:
        return passage.text
    source = library.section(passage.section, passage.script)
    target = library.section(passage.section, script)
    mapped = same_words(source, target, passage.text) if source and target else None
    return mapped if mapped is not None else echo(passage.text, script)


async def send_passage(
    update: Update,
    context: BotContext,
    passage: Passage,
    script: Script,
    reply: ReplyParameters | None = None,
) -> None:
    """Send a passage as a card headed by its section, with ☆ and a way to the section;
    ``reply``: as a reply to the section message, quoting the words (Telegram shows them)."""
    svc = context.services
    section = svc.library.section(passage.section, script)
    assert section is not None
    if not cards.available():
        await say(context, update, t(texts.CARD_UNAVAILABLE_PASSAGE, script, n=passage.section))
        return
    heading = t(texts.PASSAGE_CAPTION, script, n=passage.section, title=section.title)
    article = svc.library.article(script)
    days = article.dates_in_section(passage.section)
    drawing = cards.QuoteCard(
        passage.section,
        _in_script(svc.library, passage, script),
        "、".join(d.label for d in days),
        "",
        article.title,
        article.byline,
        script,
        heading=heading,
    )
    caption = render.esc(heading) + _link(context, cb.SectionLink(passage.section), script)
    markup = InlineKeyboardMarkup(
        [
            [
                keyboards.save_button(script, "p", passage.id),
                keyboards.button(
                    t(texts.BTN_OPEN_SECTION, script, n=passage.section),
                    cb.OpenSection(passage.section),
                ),
            ]
        ]
    )
    png = await asyncio.to_thread(cards.render, drawing)

    async def send_photo(target: Target) -> None:
        await context.bot.send_photo(
            target.chat_id,
            InputFile(png, filename=f"passage-{passage.id}.png"),
            caption=caption,
            reply_markup=markup,
            message_thread_id=target.thread_id,
            # Only where it was asked for: a group that moved has the message under a new id.
            reply_parameters=reply if target.chat_id == _chat_id(update) else None,
        )

    await post(context, update, send_photo)


def _chat_id(update: Update) -> int | None:
    return update.effective_chat.id if update.effective_chat is not None else None
