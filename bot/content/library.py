"""The article in both scripts, built once at start-up, with lookups and search."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from pathlib import Path

from bot.content.dates import ANY_LEAP_YEAR
from bot.content.model import Article, DateEntry, Event, MonthDay, Quote, Section
from bot.content.numerals import chinese_numbers_to_digits
from bot.content.parser import ArticleError, parse
from bot.content.scripts import Script, fold, to_simplified

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_DAY_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"^(?:\d{4}[-/.年])?(?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})[日号號]?$"),
    re.compile(r"^(?P<m>\d{2})(?P<d>\d{2})$"),
    re.compile(r"^(?P<d>\d{1,2})[日号號]?$"),
    re.compile(r"^(?P<mn>[a-z]+)\.?\s*(?P<d>\d{1,2})(?:st|nd|rd|th)?(?:,?\s*\d{4})?$"),
    re.compile(r"^(?P<d>\d{1,2})(?:st|nd|rd|th)?\s*(?P<mn>[a-z]+)\.?(?:,?\s*\d{4})?$"),
)


# The project keeps its article beside the package; ARTICLE_PATH names another.
DEFAULT_ARTICLE = Path(__file__).resolve().parents[2] / "content" / "article.txt"


def load_article(path: Path) -> Article:
    """Read and parse an article file; raise ArticleError naming the file and the problem."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ArticleError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise ArticleError(f"{path}: is a directory, not a file") from None
    except OSError as exc:
        raise ArticleError(f"{path}: cannot be read ({exc.strerror})") from None
    if not raw.strip():
        raise ArticleError(f"{path}: the file is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ArticleError(
            f"{path}: not UTF-8 text (invalid byte at offset {exc.start})"
        ) from None
    try:
        return parse(text)
    except ArticleError as exc:
        raise ArticleError(f"{path}: {exc}") from None


def _simplified(article: Article) -> Article:
    t = to_simplified
    return Article(
        title=t(article.title),
        byline=t(article.byline),
        image_credit=t(article.image_credit),
        sections=tuple(
            replace(s, title=t(s.title), paragraphs=tuple(t(p) for p in s.paragraphs))
            for s in article.sections
        ),
        quotes=tuple(replace(q, text=t(q.text), occasion=t(q.occasion)) for q in article.quotes),
        dates=tuple(
            replace(d, events=tuple(Event(t(e.text), e.section) for e in d.events))
            for d in article.dates
        ),
    )


class Library:
    """The article in both scripts; every lookup is a dictionary or tuple access."""

    def __init__(self, article: Article) -> None:
        self._editions = {Script.TRADITIONAL: article, Script.SIMPLIFIED: _simplified(article)}
        simplified = self._editions[Script.SIMPLIFIED]
        # Search runs on case-folded simplified text, so either script finds the same item.
        self._quote_keys = [(q.number, fold(q.text + q.occasion)) for q in simplified.quotes]
        self._event_keys = [(d.date, fold(e.text)) for d in simplified.dates for e in d.events]

    def article(self, script: Script) -> Article:
        return self._editions[script]

    @property
    def section_count(self) -> int:
        return len(self._editions[Script.TRADITIONAL].sections)

    @property
    def quote_count(self) -> int:
        return len(self._editions[Script.TRADITIONAL].quotes)

    def section(self, number: int, script: Script) -> Section | None:
        return self._editions[script].section(number)

    def quote(self, number: int, script: Script) -> Quote | None:
        return self._editions[script].quote(number)

    def date(self, day: MonthDay, script: Script) -> DateEntry | None:
        return self._editions[script].date(day)

    @property
    def days(self) -> tuple[MonthDay, ...]:
        return tuple(d.date for d in self._editions[Script.TRADITIONAL].dates)

    def search_quotes(self, word: str) -> list[int]:
        """Return numbers of quotes whose text or occasion contains word, in either script."""
        key = fold(word.strip())
        if not key:
            return []
        return [number for number, text in self._quote_keys if key in text]

    def search_dates(self, word: str) -> list[MonthDay]:
        """Return the days with an event containing word, in either script."""
        key = fold(word.strip())
        found: list[MonthDay] = []
        for day, text in self._event_keys:
            if key and key in text and day not in found:
                found.append(day)
        return found

    def parse_day(self, text: str) -> MonthDay | None:
        """Read a day typed by a user (2月16日, 2/16, 02-16, 16日, Feb 16, 2020-02-16, 0216).

        A day without a month takes the month of the article's dates that has that day.
        Returns None when the text is not a day at all; the day may be unknown to the article.
        """
        cleaned = chinese_numbers_to_digits(text.strip().lower().replace("　", " "))
        cleaned = re.sub(r"\s+", " ", cleaned)
        for pattern in _DAY_PATTERNS:
            m = pattern.match(cleaned)
            if not m:
                continue
            groups = m.groupdict()
            day = int(groups["d"])
            if groups.get("m"):
                month = int(groups["m"])
            elif groups.get("mn"):
                month = _MONTHS.get(groups["mn"], 0)
                if not month:
                    continue
            else:
                month = next((d.month for d in self.days if d.day == day), 0)
                if not month:
                    months = {d.month for d in self.days}
                    month = months.pop() if len(months) == 1 else 0
            try:
                date(ANY_LEAP_YEAR, month, day)
            except ValueError:
                continue
            return MonthDay(month, day)
        return None


def load_library(path: Path) -> Library:
    """Parse the article file and build both scripts once."""
    return Library(load_article(path))
