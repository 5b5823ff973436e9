"""Turn article items and chat state into Telegram messages: HTML text and keyboards.

Every piece of article text is HTML-escaped here; buttons carry data built by
callback_data. The article is fixed, so rendered items are cached: serving one again is a
lookup (PTB's keyboard objects are immutable, so sharing them is safe). Every message that
ends a path offers the next step as buttons.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import callback_data as cb
from bot import cards, keyboards, texts, zones
from bot.content import Library, MonthDay, SectionKind
from bot.content.search import Found, Search, locate
from bot.finish import FinishSummary
from bot.keyboards import Rows, button
from bot.reading_rules import Recap, reading_minutes
from bot.scripts import Script
from bot.store.quiz import Standing
from bot.telegram_text import esc
from bot.texts import t


@dataclass(frozen=True)
class Rendered:
    text: str
    markup: InlineKeyboardMarkup | None = None


def _switch(kind: str, ident: str, script: Script) -> InlineKeyboardButton:
    target = script.other
    return button(texts.BTN_SWITCH[target], cb.SwitchScript(kind, ident, target))


def deep_link(bot_username: str, payload: str) -> str:
    return f"https://t.me/{bot_username}?start={payload}"


def zone_label(zone: ZoneInfo, script: Script) -> str:
    """Return a zone as readers know it: 北京时间（Asia/Shanghai）, UTC+8, or its IANA name."""
    name = texts.ZONE_NAMES.get(zone.key)
    if name is not None:
        return t(texts.ZONE_LABEL, script, name=t(name, script), key=zone.key)
    return zones.offset_name(zone) or zone.key


def _mark(text: str, start: int, end: int) -> str:
    return f"{esc(text[:start])}<b>{esc(text[start:end])}</b>{esc(text[end:])}"


@lru_cache(maxsize=1024)
def section(
    library: Library,
    number: int,
    script: Script,
    *,
    bot_username: str = "",
    share_link: bool = False,
    end_note: bool = False,
    digest: bool = False,
    back: bool = False,
    highlight: str = "",
    recap: Recap | None = None,
) -> Rendered:
    """Render section ``number``: credit, header, reading time, text, dates and buttons.

    ``digest`` adds the line that says a daily delivery arrived, and ``recap`` the one that
    recalls where the reader left off; ``back`` a button back to the table of contents;
    ``highlight`` picks out one sentence in bold.
    """
    article = library.article(script)
    sec = library.section(number, script)
    assert sec is not None
    total = library.section_count
    parts = []
    if digest:
        parts.append(t(texts.DIGEST_LINE, script, title=esc(article.title)))
    if recap is not None:
        parts.append(f"<i>{recap_line(recap, script)}</i>")
    if number == 1:
        credit = t(
            texts.SECTION_CREDIT, script, title=esc(article.title), byline=esc(article.byline)
        )
        parts.append(credit)
    header = t(texts.SECTION_HEADER, script, n=number, total=total, title=esc(sec.title))
    minutes = t(texts.SECTION_TIME, script, minutes=reading_minutes(sec))
    parts.append(f"<b>{header}</b>\n<i>{minutes}</i>")
    for paragraph in sec.paragraphs:
        where = paragraph.find(highlight) if highlight else -1
        parts.append(
            _mark(paragraph, where, where + len(highlight)) if where >= 0 else esc(paragraph)
        )
    days = article.dates_in_section(number)
    if days:
        parts.append(t(texts.SECTION_DATES, script) + "、".join(d.label for d in days))
    rows: Rows = []
    if number < total:
        # Names the section it sits under (and its script), so a re-read section leads on
        # to the one after it, in the script the reader is looking at.
        rows.append(
            [
                button(t(texts.BTN_NEXT, script), cb.Next(number, script)),
                _switch("s", str(number), script),
            ]
        )
    else:
        if end_note:
            parts.append(f"<i>{t(texts.END_APPENDED, script)}</i>")
        rows += keyboards.end_buttons(script)
        rows[-1].append(_switch("s", str(number), script))
    rows += keyboards.rows([button(d.label, cb.OpenDate(d)) for d in days], 4)
    if sec.kind is SectionKind.QUOTES and number < total:
        rows.append([button(t(texts.BTN_QUIZ, script), cb.Quiz())])
    if back:
        rows.append([button(t(texts.BTN_BACK_TOC, script), cb.Toc(edit=True))])
    if share_link and bot_username:
        link = deep_link(bot_username, f"section_{number}")
        rows.append([InlineKeyboardButton(t(texts.BTN_READ_PRIVATE, script), url=link)])
    return Rendered("\n\n".join(parts), InlineKeyboardMarkup(rows))


def recap_line(recap: Recap, script: Script) -> str:
    """Return the line that recalls the section before this one (story so far)."""
    when = t(texts.RECAP_WHEN, script, label=recap.main_date.label) if recap.main_date else ""
    return t(texts.RECAP, script, n=recap.section, title=esc(recap.title), when=when)


def group_welcome(library: Library, script: Script) -> Rendered:
    """Greet a group: what the bot serializes there and how to begin."""
    text = t(
        texts.WELCOME_GROUP,
        script,
        title=esc(library.article(script).title),
        count=library.section_count,
    )
    return Rendered(text, keyboards.welcome_buttons(script))


def end_of_article(library: Library, script: Script) -> Rendered:
    total = library.section_count
    text = t(texts.END_OF_ARTICLE, script, total=total)
    return Rendered(text, InlineKeyboardMarkup(keyboards.end_buttons(script)))


@lru_cache(maxsize=512)
def quote_text(library: Library, number: int, script: Script) -> str:
    q = library.quote(number, script)
    assert q is not None
    return t(
        texts.QUOTE_LINE,
        script,
        n=q.number,
        label=q.date.label,
        text=esc(q.text),
        occasion=esc(q.occasion),
    )


@lru_cache(maxsize=512)
def quote(library: Library, search: Search, number: int, script: Script) -> Rendered:
    """Render quote ``number`` with its date, where it is narrated (if it is) and a switch."""
    q = library.quote(number, script)
    assert q is not None
    buttons = [button(t(texts.BTN_QUOTE_DATE, script, label=q.date.label), cb.OpenDate(q.date))]
    narrated = search.narrated(number)
    if narrated is not None:
        label = t(texts.BTN_QUOTE_SECTION, script, n=narrated.section)
        buttons.append(button(label, cb.QuoteSource(number)))
    last = [_switch("q", str(number), script)]
    if cards.available():  # an image card only where a CJK font was installed
        last.insert(0, button(t(texts.BTN_CARD, script), cb.Card(number)))
    rows = [buttons, last]
    return Rendered(quote_text(library, number, script), InlineKeyboardMarkup(rows))


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
                title=esc(sec.title),
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
    return _mark(text, *found) if found else esc(text)


@lru_cache(maxsize=512)
def day(library: Library, when: MonthDay, script: Script, *, back: bool = False) -> Rendered:
    entry = library.date(when, script)
    assert entry is not None
    parts = [t(texts.DATE_HEADER, script, label=when.label)]
    for event in entry.events:
        parts.append(f"• {esc(event.text)}{t(texts.DATE_EVENT_SOURCE, script, n=event.section)}")
    if entry.quotes:
        quote_lines = [t(texts.DATE_QUOTES, script)]
        for n in entry.quotes:
            q = library.quote(n, script)
            assert q is not None
            quote_lines.append(f"<b>{n}.</b> {esc(q.text)}")
        parts.append("\n".join(quote_lines))
    buttons = [button(t(texts.BTN_QUOTE, script, n=n), cb.OpenQuote(n)) for n in entry.quotes]
    sections = sorted({e.section for e in entry.events})
    section_buttons = [
        button(t(texts.BTN_OPEN_SECTION, script, n=n), cb.OpenSection(n)) for n in sections
    ]
    rows = keyboards.rows(buttons, 4) + keyboards.rows(section_buttons, 3)
    last = [_switch("d", when.compact, script)]
    if back:
        last.insert(0, button(t(texts.BTN_BACK_TIMELINE, script), cb.Timeline(edit=True)))
    rows.append(last)
    return Rendered("\n\n".join(parts), InlineKeyboardMarkup(rows))


def on_this_day(library: Library, when: MonthDay, script: Script, years: int | None) -> Rendered:
    """The "years ago today" card: what happened on this day of the story, and its quotes."""
    from bot.onthisday import years_ago_words

    card = day(library, when, script)
    if years:
        header = t(
            texts.ONTHISDAY_HEADER,
            script,
            years=t(years_ago_words(years), script),
            label=when.label,
        )
    else:
        header = t(texts.ONTHISDAY_HEADER_NO_YEAR, script, label=when.label)
    body = card.text.split("\n\n", 1)[1] if "\n\n" in card.text else ""
    return Rendered(f"{header}\n\n{body}".strip(), card.markup)


def finish_summary(summary: FinishSummary, script: Script) -> Rendered:
    """Celebrate the end of the article: days taken, sections read, the quiz, what next."""
    quiz = (
        t(texts.FINISH_QUIZ, script, right=summary.quiz_right, answered=summary.quiz_answered)
        if summary.quiz_answered
        else t(texts.FINISH_NO_QUIZ, script)
    )
    text = t(
        texts.FINISH,
        script,
        days=summary.days_taken,
        read=summary.sections_read,
        total=summary.total,
        quiz=quiz,
    )
    rows = [[button(t(texts.BTN_QUIZ, script), cb.Quiz())]]
    if cards.available():
        rows[0].insert(0, button(t(texts.BTN_SHARE_CARD, script), cb.Card(0)))
    rows.append([button(t(texts.BTN_RESTART, script), cb.Restart())])
    return Rendered(text, InlineKeyboardMarkup(rows))


def quiz_board(standings: list[Standing], script: Script) -> Rendered:
    if not standings:
        return Rendered(t(texts.QUIZ_BOARD_EMPTY, script), keyboards.quiz_again(script))
    lines = [t(texts.QUIZ_BOARD_HEADER, script)]
    for rank, s in enumerate(standings, start=1):
        name = esc(s.name) or t(texts.QUIZ_SOMEONE, script)
        lines.append(
            t(
                texts.QUIZ_BOARD_LINE,
                script,
                rank=rank,
                name=name,
                right=s.right,
                answered=s.answered,
            )
        )
    return Rendered("\n".join(lines), keyboards.quiz_again(script))


@lru_cache(maxsize=64)
def timeline(library: Library, script: Script) -> Rendered:
    count = len(library.days)
    text = t(texts.TIMELINE_HEADER, script, count=count)
    return Rendered(text, InlineKeyboardMarkup(keyboards.day_buttons(library, script, edit=True)))


def unknown_day(library: Library, script: Script, template: str, arg: str) -> Rendered:
    """Say a date is not the story's, with the story's dates as buttons."""
    return Rendered(
        t(template, script, arg=arg), InlineKeyboardMarkup(keyboards.day_buttons(library, script))
    )


@lru_cache(maxsize=512)
def toc(library: Library, script: Script, read_mask: int, progress: int) -> Rendered:
    """The table of contents: each section once, as a button with its reading time."""
    article = library.article(script)
    rows: Rows = []
    for s in article.sections:
        if s.number == progress + 1:
            mark = "▶"
        elif read_mask >> (s.number - 1) & 1:
            mark = "✓"
        else:
            mark = "·"
        label = t(
            texts.BTN_SECTION,
            script,
            mark=mark,
            n=s.number,
            title=s.title,
            minutes=reading_minutes(s),
        )
        rows.append([button(label, cb.OpenSection(s.number, edit=True))])
    return Rendered(t(texts.TOC_HEADER, script), InlineKeyboardMarkup(rows))


def progress_bar(done: int, total: int, width: int = 10) -> str:
    filled = round(width * done / total) if total else 0
    return "█" * filled + "░" * (width - filled)


def script_choice(script: Script) -> Rendered:
    name = texts.SCRIPT_NAME[script]
    buttons = [button(texts.BTN_SWITCH[s], cb.ChooseScript(s)) for s in Script]
    return Rendered(
        t(texts.SCRIPT_CHOOSE, script, script_name=t(name, script)),
        InlineKeyboardMarkup([buttons]),
    )


def reset_confirm(script: Script) -> Rendered:
    return Rendered(
        t(texts.RESET_CONFIRM, script),
        InlineKeyboardMarkup(
            [
                [
                    button(t(texts.BTN_RESET_YES, script), cb.ConfirmReset(True)),
                    button(t(texts.BTN_RESET_NO, script), cb.ConfirmReset(False)),
                ]
            ]
        ),
    )


__all__ = ["esc"]
