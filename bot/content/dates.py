"""Dates in the article's text: explicit (2月16日), bare days (16日) and relative words.

A day without a month takes the month in force; words such as 當天 or 一天後 point at the
date mentioned just before them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from bot.content.model import MonthDay

# A leap year, so that 2月29日 is a valid day when the article states no year.
ANY_LEAP_YEAR = 2000

EXPLICIT = re.compile(r"(\d{1,2})月(\d{1,2})日")
BARE_DAY = re.compile(r"(?<![\d月])(\d{1,2})日")
# Words that point at a date mentioned just before them, with the day offset they imply.
_RELATIVE: dict[str, int] = {
    "同一天": 0,
    "這一天": 0,
    "这一天": 0,
    "一天後": 1,
    "一天后": 1,
    "當天": 0,
    "当天": 0,
    "這天": 0,
    "这天": 0,
    "當晚": 0,
    "当晚": 0,
}
_RELATIVE_RE = re.compile("|".join(sorted(_RELATIVE, key=len, reverse=True)))


@dataclass(frozen=True)
class Mention:
    start: int
    day: MonthDay | None
    offset: int | None  # set for relative words: days after the date they point at


def find_mentions(paragraph: str, month: int | None) -> tuple[list[Mention], int | None]:
    """Return date mentions in a paragraph in order, and the month in force after it."""
    found: list[tuple[int, str, re.Match[str]]] = []
    found += [(m.start(), "explicit", m) for m in EXPLICIT.finditer(paragraph)]
    found += [(m.start(), "bare", m) for m in BARE_DAY.finditer(paragraph)]
    found += [(m.start(), "relative", m) for m in _RELATIVE_RE.finditer(paragraph)]
    found.sort(key=lambda f: f[0])
    found_mentions: list[Mention] = []
    for start, kind, m in found:
        if kind == "explicit":
            month = int(m.group(1))
            day = valid_day(month, int(m.group(2)))
            if day:
                found_mentions.append(Mention(start, day, None))
        elif kind == "bare":
            day = valid_day(month, int(m.group(1))) if month else None
            if day:
                found_mentions.append(Mention(start, day, None))
        else:
            found_mentions.append(Mention(start, None, _RELATIVE[m.group(0)]))
    return found_mentions, month


def valid_day(month: int, day: int) -> MonthDay | None:
    try:
        date(ANY_LEAP_YEAR, month, day)
    except ValueError:
        return None
    return MonthDay(month, day)


def shift(day: MonthDay, days: int) -> MonthDay:
    moved = date(ANY_LEAP_YEAR, day.month, day.day) + timedelta(days=days)
    return MonthDay(moved.month, moved.day)
