"""Rules about reading a section: how long it takes, what day it is about, the recap before it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from bot.content.model import Article, MonthDay, Section

# Characters per minute. A typical adult silent-reading speed for Chinese text is commonly given
# as about 300 to 500 characters a minute; 400 is the middle of that range.
READING_SPEED = 400


def readable_chars(text: str) -> int:
    """Return how many characters of text a reader reads: ideographs, letters and digits."""
    # str.isalnum is true for CJK ideographs (category Lo) and false for punctuation and spaces.
    return sum(1 for char in text if char.isalnum())


def reading_minutes(section: Section, chars_per_minute: int = READING_SPEED) -> int:
    """Return the whole minutes a section takes to read, rounded up, at least 1."""
    if chars_per_minute <= 0:
        raise ValueError(f"chars_per_minute must be positive, got {chars_per_minute}")
    chars = readable_chars(section.title) + readable_chars(section.text)
    return max(1, -(-chars // chars_per_minute))


def main_date(article: Article, section_number: int) -> MonthDay | None:
    """Return the date with most of the section's events (ties: the earliest), or None."""
    # Events only: a quote's date is already counted through the event that tells its story.
    counts = Counter(
        entry.date
        for entry in article.dates
        for event in entry.events
        if event.section == section_number
    )
    if not counts:
        return None
    return min(counts, key=lambda day: (-counts[day], day))


@dataclass(frozen=True)
class Recap:
    """What to remind a reader of before the next section: the one they read last."""

    section: int
    title: str
    main_date: MonthDay | None


def recap(article: Article, progress: int) -> Recap | None:
    """Return the recap of section progress for a reader who has read progress sections.

    None when nothing has been read yet (progress 0) or progress is beyond the article.
    """
    if progress < 0:
        raise ValueError(f"progress cannot be negative, got {progress}")
    section = article.section(progress)
    if section is None:
        return None
    return Recap(section.number, section.title, main_date(article, section.number))
