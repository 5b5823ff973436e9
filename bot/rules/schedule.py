"""Times of day and what is due when: pure functions of (settings, now), no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Reading days: bit d set means weekday d (Monday 0 ... Sunday 6) is a reading day.
EVERY_DAY = 0b1111111
WEEKDAYS = 0b0011111
WEEKEND = 0b1100000


def is_reading_day(day: date, days: int) -> bool:
    return bool(days >> day.weekday() & 1)


def next_occurrence(after: datetime, at: time, tz: ZoneInfo, days: int = EVERY_DAY) -> datetime:
    """Return the first instant strictly after ``after`` whose wall time in ``tz`` is ``at``,
    on one of the reading ``days`` (weekdays of the local calendar).

    Days are stepped on the local calendar, so a DST change never shifts the wall time. A
    wall time skipped by a spring-forward gap is delivered as the same offset past the gap
    (02:30 becomes 03:30); a repeated one is delivered at its first occurrence.
    """
    if after.tzinfo is None:
        raise ValueError("after must be timezone-aware")
    if not 0 < days <= EVERY_DAY:
        raise ValueError(f"reading days must name at least one weekday, not {days:#b}")
    local_day: date = after.astimezone(tz).date()
    # A week and two days: the reading day may be a week on, and "after" a day behind.
    for offset in range(0, 9):
        day = local_day + timedelta(days=offset)
        if not is_reading_day(day, days):
            continue
        candidate = datetime.combine(day, at, tzinfo=tz)
        # Round-trip through UTC to settle times that fall in a DST gap.
        instant = candidate.astimezone(UTC)
        if instant > after:
            return instant
    raise AssertionError("unreachable: each weekday comes twice in nine consecutive days")


def next_due_epoch(now: datetime, at: time, tz: ZoneInfo, days: int = EVERY_DAY) -> int:
    return int(next_occurrence(now, at, tz, days).timestamp())


def local_midnight(day: date, tz: ZoneInfo) -> int:
    """Return the epoch second a local day begins in ``tz`` (after a gap, if one starts it)."""
    return int(datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC).timestamp())


def format_hhmm(at: time) -> str:
    return f"{at.hour:02d}:{at.minute:02d}"


def parse_hhmm(text: str) -> time | None:
    """Return the time of a ``HH:MM`` string (also ``H:MM``, ``HHMM``, ``H点``), or None."""
    m = re.fullmatch(r"\s*(\d{1,2})(?:[:：.点點时時](\d{2})?)?\s*(?:分)?\s*", text)
    if not m:
        m = re.fullmatch(r"\s*(\d{2})(\d{2})\s*", text)
    if not m:
        return None
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    if 0 <= hour <= 23 and 0 <= minute <= 59:
        return time(hour, minute)
    return None


def read_to_end(progress: int, total: int) -> bool:
    """Tell whether a chat at ``progress`` has read the last of ``total`` sections.

    The one home of "the last section ends the schedule": a chat read to the end gets no
    delivery (``plan_delivery``, ``chats.next_due``), and the one-statement /next clears its
    schedule when it hands out the last section (``_ADVANCE`` in bot/store/chat_records.py says
    this in SQL; tests/test_store.py holds the two together).
    """
    return progress >= total


@dataclass(frozen=True)
class Plan:
    """What one delivery to a chat sends, decided from what it has read."""

    section: int  # the section to send; 0 when only the end message is due
    finished: bool  # the chat has nothing left after this delivery
    progress: int = 0  # the chat's place after it (past sections it read ahead)


def plan_delivery(progress: int, total: int, read_mask: int = 0) -> Plan:
    """Return the next section due for a chat that has read ``progress`` sections.

    Sections read ahead of the place (``read_mask``) are not sent again: once this one
    fills the gap before them, the place moves past them too.
    """
    if read_to_end(progress, total):
        return Plan(section=0, finished=True, progress=progress)
    section = progress + 1
    after = caught_up(section, read_mask)
    return Plan(section=section, finished=read_to_end(after, total), progress=after)


def caught_up(progress: int, read_mask: int) -> int:
    """Return progress moved past every section already read right after it.

    Progress is a chat's place: every section up to it is read. A section read ahead (out
    of order) counts once the gap before it is filled.
    """
    while read_mask >> progress & 1:
        progress += 1
    return progress
