"""The story's days against today's calendar: anniversaries and the nearest story day."""

from __future__ import annotations

from datetime import date

from bot.content.dates import ANY_LEAP_YEAR
from bot.content.library import Library
from bot.content.model import MonthDay

_DIGITS = "一二三四五六七八九"
_TEN = "十"
# Days in the calendar the distances are counted on (a leap year, so 2月29日 exists).
_YEAR_DAYS = (date(ANY_LEAP_YEAR + 1, 1, 1) - date(ANY_LEAP_YEAR, 1, 1)).days


def years_ago(story_year: int, today: date) -> int:
    """Return how many years ago the story's year was (0 in that year itself)."""
    return today.year - story_year


def years_ago_words(n: int) -> str:
    """Return n (1 to 99) in Chinese numerals, simplified script: 7 → 七, 21 → 二十一."""
    if not 1 <= n <= 99:
        raise ValueError(f"only 1 to 99 can be written, got {n}")
    tens, ones = divmod(n, 10)
    # Ten to nineteen are read 十, 十一 …, never 一十.
    head = "" if tens == 0 else _TEN if tens == 1 else _DIGITS[tens - 1] + _TEN
    return head + (_DIGITS[ones - 1] if ones else "")


def on_this_day(library: Library, today: date) -> MonthDay | None:
    """Return the story's day with today's month and day, or None."""
    day = MonthDay(today.month, today.day)
    return day if day in library.days else None


def _day_of_year(day: MonthDay) -> int:
    return date(ANY_LEAP_YEAR, day.month, day.day).timetuple().tm_yday


def nearest_day(library: Library, today: date) -> MonthDay:
    """Return the story's day nearest today's month and day, going around the year if shorter.

    Distances are counted on a leap-year calendar, so a common year's step across the end of
    February counts one day more; ties go to the earlier day in the calendar.
    """
    if not library.days:
        raise ValueError("the article has no dates")
    here = _day_of_year(MonthDay(today.month, today.day))

    def distance(day: MonthDay) -> int:
        apart = abs(_day_of_year(day) - here)
        return min(apart, _YEAR_DAYS - apart)

    return min(library.days, key=lambda day: (distance(day), day))
