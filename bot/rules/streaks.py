"""A reader's streak: days in a row, on the chat's local calendar, with an interaction each."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Streak:
    """The run of days ending on last_day, and the longest run ever."""

    current: int = 0
    best: int = 0
    last_day: date | None = None


def touch(streak: Streak, today: date) -> Streak:
    """Return the streak after an interaction on today (a local date)."""
    last = streak.last_day
    if last is not None and today <= last:
        # Same day; or an earlier one, when the chat's zone moved west: nothing new to count.
        return streak
    current = streak.current + 1 if last is not None and today - last == _ONE_DAY else 1
    return replace(streak, current=current, best=max(streak.best, current), last_day=today)


def current_on(streak: Streak, today: date) -> int:
    """Return the streak to show on today: 0 once a whole day has passed without a visit."""
    if streak.last_day is None or today - streak.last_day > _ONE_DAY:
        return 0
    return streak.current
