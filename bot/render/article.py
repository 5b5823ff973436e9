"""The article's pages: a section, a quote, a day of the story, the timeline, the contents.

The article is fixed, so pages are cached: serving one again is a lookup (PTB's keyboard
objects are immutable, so sharing them is safe).
"""

from __future__ import annotations

from functools import lru_cache

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.botapi.text import esc
from bot.content import Library, MonthDay, SectionKind
from bot.content.scripts import Script
from bot.content.search import Search
from bot.render import callback_data as cb
from bot.render import card_image as cards
from bot.render import keyboards, texts
from bot.render.keyboards import Rows, button, copy_button, save_button
from bot.render.rendered import Rendered, mark
from bot.render.texts import t
from bot.rules.reading import Recap, reading_minutes


def _switch(kind: str, ident: str, script: Script) -> InlineKeyboardButton:
    target = script.other
    return button(texts.BTN_SWITCH[target], cb.SwitchScript(kind, ident, target))


def deep_link(bot_username: str, link: cb.Link) -> str:
    return f"https://t.me/{bot_username}?start={link.encode()}"


@lru_cache(maxsize=1024)
def section(
    library: Library,
    number: int,
    script: Script,
    *,
    bot_username: str = "",
    share_link: bool = False,
    finishing: bool = False,
    digest: bool = False,
    back: bool = False,
    highlight: str = "",
    recap: Recap | None = None,
) -> Rendered:
    """Render section ``number``: credit, header, reading time, text, dates and buttons.

    ``digest`` adds the line that says a daily delivery arrived, and ``recap`` the story so
    far; ``finishing``: the finish summary comes next, with the buttons the end needs;
    ``back`` a button back to the table of contents; ``highlight`` one sentence in bold.
    """
    article = library.article(script)
    sec = library.section(number, script)
    assert sec is not None
    total = library.section_count
    parts = []
    if digest:
        # The first line is what the notification shows: make it say what today brings.
        preview = t(
            texts.PUSH_PREVIEW,
            script,
            n=number,
            title=esc(sec.title),
            minutes=reading_minutes(sec),
        )
        parts.append(f"{preview}\n{t(texts.DIGEST_LINE, script, title=esc(article.title))}")
    if recap is not None:
        parts.append(recap_block(recap, script))
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
            mark(paragraph, where, where + len(highlight)) if where >= 0 else esc(paragraph)
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
                save_button(script, "s", number),
                _switch("s", str(number), script),
            ]
        )
    elif finishing:
        # The finish summary follows with 全文完 and the ways on: one message, not two
        # with the same buttons.
        rows.append([_switch("s", str(number), script)])
    else:
        rows += keyboards.end_buttons(script)
        rows[-1].append(_switch("s", str(number), script))
        rows.append([save_button(script, "s", number)])
    rows += keyboards.rows([button(d.label, cb.OpenDate(d)) for d in days], 4)
    if sec.kind is SectionKind.QUOTES and number < total:
        rows.append([button(t(texts.BTN_QUIZ, script), cb.Quiz())])
    if back:
        rows.append([button(t(texts.BTN_BACK_TOC, script), cb.Toc(edit=True))])
    if share_link and bot_username:
        link = deep_link(bot_username, cb.SectionLink(number))
        rows.append([InlineKeyboardButton(t(texts.BTN_READ_PRIVATE, script), url=link)])
    return Rendered("\n\n".join(parts), InlineKeyboardMarkup(rows))


def section_title(title: str, script: Script) -> str:
    """Return a section's title marked as one in running text (HTML-escaped).

    Book-title marks 《》 are for the article itself; a section takes 〈〉 in Taiwan usage and
    quotation marks in simplified. A title that is already marked (“狠话”), or carries
    quotation marks inside, is left as it is rather than nested in another pair.
    """
    if title[:1] in "“「‘『《〈":
        return esc(title)
    if script is Script.TRADITIONAL:
        return esc(f"〈{title}〉")
    return esc(title if "“" in title else f"“{title}”")


def recap_block(recap: Recap, script: Script) -> str:
    """Return the story so far: the last section read, and its opening sentence verbatim.

    The sentence sits in an expandable quote (Bot API 7.4), folded to a line or two until
    the reader opens it.
    """
    when = t(texts.RECAP_WHEN, script, label=recap.date.label) if recap.date else ""
    title = section_title(recap.title, script)
    head = t(texts.RECAP, script, n=recap.section, title=title, when=when)
    return f"{head}\n<blockquote expandable>{esc(recap.opening)}</blockquote>"


def group_welcome(library: Library, script: Script) -> Rendered:
    """Greet a group: what the bot serializes there and how to begin."""
    text = t(
        texts.WELCOME_GROUP,
        script,
        title=esc(library.article(script).title),
        count=library.section_count,
    )
    return Rendered(text, keyboards.welcome_buttons(script))


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
    keep = [
        save_button(script, "q", number),
        copy_button(script, copy_text(library, number, script)),
    ]
    rows = [buttons, last, keep]
    return Rendered(quote_text(library, number, script), InlineKeyboardMarkup(rows))


COPY_LIMIT = 256  # Telegram's limit on what a copy-text button carries


@lru_cache(maxsize=512)
def copy_text(library: Library, number: int, script: Script) -> str:
    """Return quote ``number`` as the copy button copies it: the words, its day and occasion,
    and the article's credit, within Telegram's 256 characters (the words cut if need be)."""
    q = library.quote(number, script)
    assert q is not None
    article = library.article(script)

    def made(words: str, occasion: str) -> str:
        return t(
            texts.COPY_TEXT,
            script,
            text=words,
            label=q.date.label,
            occasion=occasion,
            title=article.title,
            byline=article.byline,
        )

    full = made(q.text, q.occasion)
    if len(full) <= COPY_LIMIT:
        return full
    occasion = q.occasion
    if len(made(q.text, "")) <= COPY_LIMIT:  # the occasion gives way first, then the words
        room = COPY_LIMIT - len(made(q.text, "")) - 1
        return made(q.text, occasion[: max(room, 0)] + "…")
    room = COPY_LIMIT - len(made("", "")) - 1
    return made(q.text[:room] + "…", "")


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
