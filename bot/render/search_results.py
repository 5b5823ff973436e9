"""Search results: where a word stands in the article, and the quotes it was found in."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.botapi.text import esc
from bot.content import Library
from bot.content.scripts import Script
from bot.content.search import Found, Search, locate
from bot.render import callback_data as cb
from bot.render import keyboards, texts
from bot.render.article import section_title
from bot.render.keyboards import button
from bot.render.rendered import Rendered, mark
from bot.render.texts import t


def search_results(library: Library, search: Search, found: Found, script: Script) -> Rendered:
    """Render where a word stands: the title, sections (sentence, word in bold), quotes."""
    word = found.word
    article = library.article(script)
    lines = [t(texts.SEARCH_HEADER, script, word=esc(word))]
    if found.in_title:
        lines.append(t(texts.SEARCH_TITLE, script, title=_highlight(article.title, word)))
    buttons: list[InlineKeyboardButton] = []
    for place in found.places:
        sec = library.section(place.section, script)
        assert sec is not None
        sentence = _highlight(search.sentence(place, script), word)
        lines.append(
            t(
                texts.SEARCH_SECTION,
                script,
                n=place.section,
                title=section_title(sec.title, script),
                sentence=sentence,
            )
        )
        buttons.append(
            button(
                t(texts.BTN_OPEN_SECTION, script, n=place.section), cb.OpenSection(place.section)
            )
        )
    if found.quotes:
        numbers = "、".join(str(n) for n in found.quotes)
        lines.append(t(texts.SEARCH_QUOTES, script, numbers=numbers))
    if found.occasions:
        numbers = "、".join(str(n) for n in found.occasions)
        lines.append(t(texts.SEARCH_OCCASIONS, script, numbers=numbers))
    quote_buttons = [
        button(t(texts.BTN_QUOTE, script, n=n), cb.OpenQuote(n))
        for n in (*found.quotes, *found.occasions)
    ]
    rows = keyboards.rows(buttons, 3) + keyboards.rows(quote_buttons, 4)
    return Rendered("\n".join(lines), InlineKeyboardMarkup(rows) if rows else None)


def quote_matches(library: Library, found: Found, script: Script) -> Rendered:
    """Render the quotes a word was found in: their own words first, then occasions apart."""
    lines = []
    for template, numbers in (
        (texts.QUOTE_FOUND, found.quotes),
        (texts.QUOTE_FOUND_OCCASION, found.occasions),
    ):
        if not numbers:
            continue
        lines.append(t(template, script, word=esc(found.word), count=len(numbers)))
        for n in numbers:
            q = library.quote(n, script)
            assert q is not None
            lines.append(f"<b>{n}.</b> {_highlight(q.text, found.word)}（{q.date.label}）")
        lines.append("")
    buttons = [
        button(t(texts.BTN_QUOTE, script, n=n), cb.OpenQuote(n))
        for n in (*found.quotes, *found.occasions)
    ]
    return Rendered("\n".join(lines).strip(), InlineKeyboardMarkup(keyboards.rows(buttons, 4)))


def _highlight(text: str, word: str) -> str:
    found = locate(text, word)
    return mark(text, *found) if found else esc(text)
