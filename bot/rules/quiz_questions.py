"""The "which day was this said?" quiz: questions drawn from the quotes and the date index."""

from __future__ import annotations

import random
from collections.abc import Collection
from dataclasses import dataclass

from bot.content.library import Library
from bot.content.model import MonthDay
from bot.content.scripts import Script

# Options shown per question, when the article has that many distinct dates.
OPTIONS = 4
# Fewer than two options would make a question with its answer given away.
MIN_OPTIONS = 2


@dataclass(frozen=True)
class Question:
    """One quote and the days offered for it, in date order."""

    quote: int
    options: tuple[MonthDay, ...]
    answer: int  # index of the quote's date in options

    @property
    def correct(self) -> MonthDay:
        """Return the day the quote was said."""
        return self.options[self.answer]

    def is_right(self, choice: int) -> bool:
        """Return whether the option at index choice is the quote's date."""
        return choice == self.answer


@dataclass(frozen=True)
class Score:
    """A reader's running quiz tally."""

    answered: int = 0
    right: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.right <= self.answered:
            raise ValueError(f"a score needs 0 <= right <= answered, got {self}")

    def record(self, right: bool) -> Score:
        """Return the score after one more answer."""
        return Score(self.answered + 1, self.right + int(right))


@dataclass(frozen=True)
class Asked:
    """A question as asked: in which chat, about which quote, and the right option."""

    poll_id: str
    chat_id: int
    quote: int
    answer: int


@dataclass(frozen=True)
class Answered:
    """An answer to a question this bot asked, and where it leaves the person."""

    asked: Asked
    right: bool
    counted: bool  # False: the same answer came again (Telegram repeats updates)
    score: Score  # the person's score in that chat, after this answer


@dataclass(frozen=True)
class Standing:
    """One person's line on a chat's quiz board."""

    name: str
    right: int
    answered: int


def _dates(library: Library) -> list[MonthDay]:
    # Dates and quote numbers are the same in both scripts; either edition will do.
    article = library.article(Script.TRADITIONAL)
    return sorted({entry.date for entry in article.dates} | {q.date for q in article.quotes})


def quiz_available(library: Library) -> bool:
    """Return whether the article has quotes and enough distinct dates for a question."""
    return library.quote_count > 0 and len(_dates(library)) >= MIN_OPTIONS


def make_question(
    library: Library, rng: random.Random, *, avoid: Collection[int] = ()
) -> Question:
    """Return a question on a random quote not in avoid, with up to OPTIONS distinct days.

    The quote is drawn uniformly from the quotes not in avoid, or from all of them when avoid
    covers every quote. The other options are drawn uniformly from the article's other dates;
    an article with fewer than OPTIONS distinct dates gets as many options as it has dates, and
    one with fewer than MIN_OPTIONS raises ValueError (see quiz_available).
    """
    if not quiz_available(library):
        raise ValueError(f"a quiz needs quotes and at least {MIN_OPTIONS} distinct dates")
    quotes = library.article(Script.TRADITIONAL).quotes
    quote = rng.choice([q for q in quotes if q.number not in avoid] or quotes)
    others = [day for day in _dates(library) if day != quote.date]
    options = sorted([quote.date, *rng.sample(others, min(OPTIONS - 1, len(others)))])
    return Question(quote.number, tuple(options), options.index(quote.date))
