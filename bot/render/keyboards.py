"""Keyboards: the buttons under messages, each built from typed callback data.

Every message that ends a path offers the next step here. Keyboards that depend only on the
script (and the fixed article) are cached: PTB's keyboard objects are immutable.
"""

from __future__ import annotations

from datetime import time
from functools import lru_cache

from telegram import CopyTextButton, InlineKeyboardButton, InlineKeyboardMarkup

from bot.content import Library
from bot.content.scripts import Script
from bot.render import callback_data as cb
from bot.render import texts
from bot.render.texts import t
from bot.rules import zones
from bot.rules.schedule import EVERY_DAY, WEEKDAYS, WEEKEND

Rows = list[list[InlineKeyboardButton]]
# Delivery times offered when subscribing from a button.
TIMES = (time(7, 0), time(8, 0), time(12, 0), time(18, 0), time(21, 0))


def button(label: str, data: cb.Button) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=data.encode())


def rows(buttons: list[InlineKeyboardButton], width: int) -> Rows:
    return [buttons[i : i + width] for i in range(0, len(buttons), width)]


def end_buttons(script: Script) -> Rows:
    """Return the next steps at the end of the article: read again, contents, a quote, a quiz."""
    return [
        [
            button(t(texts.BTN_RESTART, script), cb.Restart()),
            button(t(texts.BTN_TOC, script), cb.Toc()),
        ],
        [
            button(t(texts.BTN_QUOTES, script), cb.RandomQuote()),
            button(t(texts.BTN_QUIZ, script), cb.Quiz()),
        ],
    ]


def quiz_again(script: Script) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[button(t(texts.BTN_QUIZ_AGAIN, script), cb.Quiz())]])


def _summary(text: str, width: int = 12) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


@lru_cache(maxsize=64)
def day_buttons(library: Library, script: Script, *, edit: bool = False) -> Rows:
    """Return a button per date of the story, each with what happened (briefly)."""
    article = library.article(script)
    buttons = []
    for entry in article.dates:
        first = entry.events[0].text if entry.events else ""
        label = f"{entry.date.label} · {_summary(first)}" if first else entry.date.label
        buttons.append(button(label, cb.OpenDate(entry.date, edit)))
    return rows(buttons, 1)


@lru_cache(maxsize=8)
def welcome_buttons(script: Script) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                button(t(texts.BTN_BEGIN, script), cb.Next()),
                button(t(texts.BTN_TOC, script), cb.Toc()),
            ],
            [
                button(t(texts.BTN_SUBSCRIBE, script), cb.Subscribe()),
                button(t(texts.BTN_QUOTES, script), cb.RandomQuote()),
                button(t(texts.BTN_TIMELINE, script), cb.Timeline()),
            ],
            [button(texts.BTN_SWITCH[s], cb.ChooseScript(s)) for s in Script],
        ]
    )


def continue_buttons(script: Script, finished: bool) -> InlineKeyboardMarkup:
    """Return what a returning reader may do: go on (or read again), or look around."""
    if finished:
        return InlineKeyboardMarkup(end_buttons(script))
    return InlineKeyboardMarkup(
        [
            [
                button(t(texts.BTN_CONTINUE, script), cb.Next()),
                button(t(texts.BTN_TOC, script), cb.Toc()),
            ]
        ]
    )


def begin_button(script: Script) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[button(t(texts.BTN_BEGIN, script), cb.Next())]])


def restart_buttons(script: Script) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(end_buttons(script))


def time_choice(script: Script) -> InlineKeyboardMarkup:
    """Return a few common delivery times as buttons, and one to type another."""
    buttons = [
        button(t(texts.BTN_TIME, script, time=f"{at:%H:%M}"), cb.SubscribeAt(at)) for at in TIMES
    ]
    buttons.append(button(t(texts.BTN_OTHER_TIME, script), cb.SubscribeAt(None)))
    return InlineKeyboardMarkup(rows(buttons, 3))


def zone_choice(script: Script) -> InlineKeyboardMarkup:
    """Return the common time zones as buttons, by the names readers know."""
    buttons = [button(t(texts.ZONE_NAMES[key], script), cb.SetZone(key)) for key in zones.COMMON]
    return InlineKeyboardMarkup(rows(buttons, 3))


# --- reading features, round two: pause, reading days, saving, copying ----------------------

# What /pause offers: days (0: until the reader comes back).
PAUSES = (3, 7, 0)
# The reading days offered as buttons; any other set is typed (/subscribe 08:00 一三五).
DAY_CHOICES = (
    (texts.BTN_DAYS_EVERY, EVERY_DAY),
    (texts.BTN_DAYS_WEEKDAYS, WEEKDAYS),
    (texts.BTN_DAYS_WEEKEND, WEEKEND),
)


def pause_choice(script: Script, chosen: int | None) -> InlineKeyboardMarkup:
    """Return the pause lengths (3 days, a week, until back) and resume-now, with a tick."""
    labels = {
        3: t(texts.BTN_PAUSE_DAYS, script, n=3),
        7: t(texts.BTN_PAUSE_WEEK, script),
        0: t(texts.BTN_PAUSE_OPEN, script),
    }
    buttons = []
    for days in PAUSES:
        label = labels[days]
        if days == chosen:
            label = t(texts.BTN_CHOSEN, script, label=label)
        buttons.append(button(label, cb.Pause(days)))
    return InlineKeyboardMarkup([buttons, [button(t(texts.BTN_RESUME, script), cb.Resume())]])


def days_row(script: Script, days: int) -> list[InlineKeyboardButton]:
    """Return the reading-days buttons, the chat's own set ticked."""
    row = []
    for template, mask in DAY_CHOICES:
        label = t(template, script)
        if mask == days:
            label = t(texts.BTN_CHOSEN, script, label=label)
        row.append(button(label, cb.SetDays(mask)))
    return row


def subscription(script: Script, quiet: bool, days: int) -> InlineKeyboardMarkup:
    """Return the buttons under a subscription reply: reading days, then silent or not."""
    label = texts.BTN_QUIET_OFF if quiet else texts.BTN_QUIET_ON
    return InlineKeyboardMarkup(
        [days_row(script, days), [button(t(label, script), cb.Quiet(not quiet))]]
    )


# --- ways on from a reply that would otherwise end the conversation ----------------------------


@lru_cache(maxsize=4)
def reading_ways(script: Script) -> InlineKeyboardMarkup:
    """Return the ways on after a section was not found: go on reading, or the contents."""
    return continue_buttons(script, finished=False)


@lru_cache(maxsize=4)
def quote_ways(script: Script) -> InlineKeyboardMarkup:
    """Return the ways on after a quote was not found: any quote, or the story's dates."""
    return InlineKeyboardMarkup(
        [
            [
                button(t(texts.BTN_QUOTES, script), cb.RandomQuote()),
                button(t(texts.BTN_TIMELINE, script), cb.Timeline()),
            ]
        ]
    )


@lru_cache(maxsize=16)
def section_numbers(count: int, script: Script) -> InlineKeyboardMarkup:
    """Return a button per section number, and the contents: for a /read that named none."""
    numbers = [button(str(n), cb.OpenSection(n)) for n in range(1, count + 1)]
    return InlineKeyboardMarkup([*rows(numbers, 5), [button(t(texts.BTN_TOC, script), cb.Toc())]])


@lru_cache(maxsize=4)
def search_ways(script: Script) -> InlineKeyboardMarkup:
    """Return the ways on after a search found nothing: the contents, the timeline, a quote."""
    return InlineKeyboardMarkup(
        [
            [
                button(t(texts.BTN_TOC, script), cb.Toc()),
                button(t(texts.BTN_TIMELINE, script), cb.Timeline()),
                button(t(texts.BTN_QUOTES, script), cb.RandomQuote()),
            ]
        ]
    )


@lru_cache(maxsize=4)
def subscribe_button(script: Script) -> InlineKeyboardMarkup:
    """Return the one button that starts a daily delivery."""
    return InlineKeyboardMarkup([[button(t(texts.BTN_SUBSCRIBE, script), cb.Subscribe())]])


def save_button(script: Script, kind: str, number: int) -> InlineKeyboardButton:
    return button(t(texts.BTN_SAVE, script), cb.Save(kind, number))


def copy_button(script: Script, text: str) -> InlineKeyboardButton:
    """Return a button that copies ``text`` (at most 256 characters, Telegram's limit)."""
    return InlineKeyboardButton(t(texts.BTN_COPY, script), copy_text=CopyTextButton(text))


def with_star(markup: InlineKeyboardMarkup | None, saved: bool, script: Script) -> Rows | None:
    """Return a message's buttons with its ☆ showing ``saved``, or None if it has no ☆."""
    if markup is None:
        return None
    found = False
    rows: Rows = []
    for row in markup.inline_keyboard:
        new_row = []
        for b in row:
            data = b.callback_data if isinstance(b.callback_data, str) else ""
            if cb.Save.parse(data) is not None:
                found = True
                b = InlineKeyboardButton(
                    t(texts.BTN_SAVED if saved else texts.BTN_SAVE, script), callback_data=data
                )
            new_row.append(b)
        rows.append(new_row)
    return rows if found else None
