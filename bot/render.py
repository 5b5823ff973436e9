"""Turn article items and chat state into Telegram messages: HTML text and keyboards.

Every piece of article text is HTML-escaped here; buttons carry data built by
callback_data. The article is fixed, so rendered items are cached: serving one again is a
lookup (PTB's keyboard objects are immutable, so sharing them is safe).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import callback_data as cb
from bot import texts
from bot.content import Library, MonthDay
from bot.scripts import Script
from bot.telegram_text import esc
from bot.texts import t


@dataclass(frozen=True)
class Rendered:
    text: str
    markup: InlineKeyboardMarkup | None = None


def _switch_button(kind: str, ident: str, script: Script) -> InlineKeyboardButton:
    target = script.other
    return InlineKeyboardButton(
        texts.BTN_SWITCH[target], callback_data=cb.SwitchScript(kind, ident, target).encode()
    )


def deep_link(bot_username: str, payload: str) -> str:
    return f"https://t.me/{bot_username}?start={payload}"


@lru_cache(maxsize=512)
def section(
    library: Library,
    number: int,
    script: Script,
    *,
    bot_username: str = "",
    share_link: bool = False,
    end_note: bool = False,
) -> Rendered:
    """Render section ``number`` with its header, the dates it mentions and its buttons."""
    sec = library.section(number, script)
    assert sec is not None
    total = library.section_count
    header = t(texts.SECTION_HEADER, script, n=number, total=total, title=esc(sec.title))
    body = "\n\n".join(esc(p) for p in sec.paragraphs)
    parts = [f"<b>{header}</b>", body]
    days = library.article(script).dates_in_section(number)
    if days:
        parts.append(t(texts.SECTION_DATES, script) + "、".join(d.label for d in days))
    if end_note and number == total:
        parts.append(f"<i>{t(texts.END_APPENDED, script)}</i>")
    rows: list[list[InlineKeyboardButton]] = []
    top = [_switch_button("s", str(number), script)]
    if number < total:
        # Names the section it sits under, so a re-read section leads to the one after it.
        top.insert(
            0,
            InlineKeyboardButton(
                t(texts.BTN_NEXT, script), callback_data=cb.Next(number).encode()
            ),
        )
    rows.append(top)
    rows += _rows(
        [InlineKeyboardButton(d.label, callback_data=cb.OpenDate(d).encode()) for d in days], 4
    )
    if share_link and bot_username:
        rows.append(
            [
                InlineKeyboardButton(
                    t(texts.BTN_READ_PRIVATE, script),
                    url=deep_link(bot_username, f"section_{number}"),
                )
            ]
        )
    return Rendered("\n\n".join(parts), InlineKeyboardMarkup(rows))


def _rows(buttons: list[InlineKeyboardButton], width: int) -> list[list[InlineKeyboardButton]]:
    return [buttons[i : i + width] for i in range(0, len(buttons), width)]


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
def quote(library: Library, number: int, script: Script) -> Rendered:
    q = library.quote(number, script)
    assert q is not None
    buttons = [
        InlineKeyboardButton(
            t(texts.BTN_QUOTE_DATE, script, label=q.date.label),
            callback_data=cb.OpenDate(q.date).encode(),
        ),
        InlineKeyboardButton(
            t(texts.BTN_QUOTE_SECTION, script, n=q.section),
            callback_data=cb.OpenSection(q.section).encode(),
        ),
    ]
    rows = [buttons, [_switch_button("q", str(number), script)]]
    return Rendered(quote_text(library, number, script), InlineKeyboardMarkup(rows))


def quote_matches(library: Library, numbers: list[int], script: Script, word: str) -> Rendered:
    lines = [t(texts.QUOTE_FOUND, script, word=esc(word), count=len(numbers))]
    for n in numbers:
        q = library.quote(n, script)
        assert q is not None
        lines.append(f"<b>{n}.</b> {esc(q.text)}（{q.date.label}）")
    buttons = [
        InlineKeyboardButton(
            t(texts.BTN_QUOTE, script, n=n), callback_data=cb.OpenQuote(n).encode()
        )
        for n in numbers
    ]
    return Rendered("\n\n".join(lines), InlineKeyboardMarkup(_rows(buttons, 4)))


@lru_cache(maxsize=512)
def day(library: Library, when: MonthDay, script: Script) -> Rendered:
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
    buttons = [
        InlineKeyboardButton(
            t(texts.BTN_QUOTE, script, n=n), callback_data=cb.OpenQuote(n).encode()
        )
        for n in entry.quotes
    ]
    sections = sorted({e.section for e in entry.events})
    section_buttons = [
        InlineKeyboardButton(
            t(texts.BTN_QUOTE_SECTION, script, n=n), callback_data=cb.OpenSection(n).encode()
        )
        for n in sections
    ]
    rows = _rows(buttons, 4) + _rows(section_buttons, 3)
    rows.append([_switch_button("d", when.compact, script)])
    return Rendered("\n\n".join(parts), InlineKeyboardMarkup(rows))


def _summary(text: str, width: int = 36) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


@lru_cache(maxsize=512)
def timeline(library: Library, script: Script) -> Rendered:
    article = library.article(script)
    lines = [t(texts.TIMELINE_HEADER, script)]
    for entry in article.dates:
        first = (
            entry.events[0].text
            if entry.events
            else (article.quotes[entry.quotes[0] - 1].text if entry.quotes else "")
        )
        lines.append(f"<b>{entry.date.label}</b> {esc(_summary(first))}")
    buttons = [
        InlineKeyboardButton(e.date.label, callback_data=cb.OpenDate(e.date).encode())
        for e in article.dates
    ]
    return Rendered("\n".join(lines), InlineKeyboardMarkup(_rows(buttons, 4)))


@lru_cache(maxsize=512)
def known_days(library: Library) -> str:
    return "、".join(d.label for d in library.days)


@lru_cache(maxsize=512)
def toc(library: Library, script: Script, read_mask: int) -> Rendered:
    article = library.article(script)
    lines = [t(texts.TOC_HEADER, script)]
    buttons = []
    for s in article.sections:
        mark = "✓" if read_mask >> (s.number - 1) & 1 else "·"
        lines.append(f"{mark} {s.number}. {esc(s.title)}")
        buttons.append(
            [
                InlineKeyboardButton(
                    f"{mark} " + t(texts.BTN_SECTION, script, n=s.number, title=s.title),
                    callback_data=cb.OpenSection(s.number).encode(),
                )
            ]
        )
    return Rendered("\n".join(lines), InlineKeyboardMarkup(buttons))


def progress_bar(done: int, total: int, width: int = 10) -> str:
    filled = round(width * done / total) if total else 0
    return "█" * filled + "░" * (width - filled)


def script_choice(script: Script) -> Rendered:
    name = texts.SCRIPT_NAME[script]
    buttons = [
        InlineKeyboardButton(texts.BTN_SWITCH[s], callback_data=cb.ChooseScript(s).encode())
        for s in Script
    ]
    return Rendered(
        t(texts.SCRIPT_CHOOSE, script, script_name=t(name, script)),
        InlineKeyboardMarkup([buttons]),
    )


@lru_cache(maxsize=512)
def welcome_buttons(script: Script) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(t(texts.BTN_BEGIN, script), callback_data=cb.Next().encode()),
                InlineKeyboardButton(t(texts.BTN_TOC, script), callback_data=cb.Toc().encode()),
            ],
            [
                InlineKeyboardButton(
                    t(texts.BTN_SUBSCRIBE, script), callback_data=cb.Subscribe().encode()
                ),
                InlineKeyboardButton(
                    t(texts.BTN_QUOTES, script), callback_data=cb.RandomQuote().encode()
                ),
                InlineKeyboardButton(
                    t(texts.BTN_TIMELINE, script), callback_data=cb.Timeline().encode()
                ),
            ],
            [
                InlineKeyboardButton(
                    texts.BTN_SWITCH[s], callback_data=cb.ChooseScript(s).encode()
                )
                for s in Script
            ],
        ]
    )


def quiet_toggle(script: Script, quiet: bool) -> InlineKeyboardMarkup:
    """Return the button under a subscription reply that flips silent delivery."""
    label = texts.BTN_QUIET_OFF if quiet else texts.BTN_QUIET_ON
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(t(label, script), callback_data=cb.Quiet(not quiet).encode())]]
    )


def reset_confirm(script: Script) -> Rendered:
    return Rendered(
        t(texts.RESET_CONFIRM, script),
        InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        t(texts.BTN_RESET_YES, script),
                        callback_data=cb.ConfirmReset(True).encode(),
                    ),
                    InlineKeyboardButton(
                        t(texts.BTN_RESET_NO, script),
                        callback_data=cb.ConfirmReset(False).encode(),
                    ),
                ]
            ]
        ),
    )
