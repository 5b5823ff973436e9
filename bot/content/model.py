"""The article model: frozen dataclasses, no Telegram and no OpenCC."""

from __future__ import annotations

import enum
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class MonthDay:
    """A calendar day without a year (the article states none)."""

    month: int
    day: int

    @property
    def key(self) -> str:
        """Return the ``MM-DD`` form used in JSON and deep links (as ``MMDD``)."""
        return f"{self.month:02d}-{self.day:02d}"

    @property
    def compact(self) -> str:
        return f"{self.month:02d}{self.day:02d}"

    @property
    def label(self) -> str:
        """Return the Chinese form, e.g. ``2月16日`` (same in both scripts)."""
        return f"{self.month}月{self.day}日"


class SectionKind(enum.StrEnum):
    OPENING = "opening"
    PART = "part"
    QUOTES = "quotes"


@dataclass(frozen=True)
class Section:
    number: int
    title: str
    kind: SectionKind
    paragraphs: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


@dataclass(frozen=True)
class Quote:
    number: int
    text: str
    date: MonthDay
    occasion: str
    # The body section that tells the story behind the quote, else the quote list's.
    section: int


@dataclass(frozen=True)
class Event:
    text: str
    section: int


@dataclass(frozen=True)
class DateEntry:
    date: MonthDay
    events: tuple[Event, ...]
    quotes: tuple[int, ...]


@dataclass(frozen=True)
class Article:
    title: str
    byline: str
    image_credit: str
    sections: tuple[Section, ...]
    quotes: tuple[Quote, ...]
    dates: tuple[DateEntry, ...]

    def section(self, number: int) -> Section | None:
        if 1 <= number <= len(self.sections):
            return self.sections[number - 1]
        return None

    def quote(self, number: int) -> Quote | None:
        if 1 <= number <= len(self.quotes):
            return self.quotes[number - 1]
        return None

    def date(self, day: MonthDay) -> DateEntry | None:
        for entry in self.dates:
            if entry.date == day:
                return entry
        return None

    def dates_in_section(self, number: int) -> tuple[MonthDay, ...]:
        """Return the dates whose events come from section ``number``, in date order."""
        return tuple(
            entry.date
            for entry in self.dates
            if any(event.section == number for event in entry.events)
            or any(self.quotes[q - 1].section == number for q in entry.quotes)
        )

    def to_json(self) -> dict[str, object]:
        """Return the outside JSON contract of ``python -m bot.content --json``."""
        return {
            "title": self.title,
            "sections": [
                {"number": s.number, "title": s.title, "text": s.text} for s in self.sections
            ],
            "quotes": [
                {"number": q.number, "text": q.text, "date": q.date.key, "occasion": q.occasion}
                for q in self.quotes
            ],
            "dates": [
                {"date": d.date.key, "events": [e.text for e in d.events]} for d in self.dates
            ],
        }
