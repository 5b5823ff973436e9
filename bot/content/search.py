"""Searching the article the way readers mean it: a quote's own words apart from its occasion,
every section sentence by sentence, the title, and where each quote is narrated.

Matching runs on the folded (simplified, case-folded) text, so either script finds the
same places; highlighting finds the word again in the reader's own script.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from bot.content.library import Library
from bot.content.model import MonthDay, SectionKind
from bot.content.parser import split_sentences
from bot.content.scripts import Script, fold

# A body sentence sharing this share of a quote's character pairs narrates the quote.
_NARRATES = 0.6


@dataclass(frozen=True)
class Place:
    """A sentence of a section: which section, and which sentence of its paragraphs."""

    section: int
    paragraph: int
    sentence: int


@dataclass(frozen=True)
class Found:
    word: str
    in_title: bool
    quotes: tuple[int, ...]  # the quote's own words contain it
    occasions: tuple[int, ...]  # only the quote's occasion does
    places: tuple[Place, ...]  # the first matching sentence of each section, in order
    days: tuple[MonthDay, ...]  # dates with an event that mentions it

    @property
    def empty(self) -> bool:
        return not (self.in_title or self.quotes or self.occasions or self.places)


def _pairs(text: str) -> set[str]:
    letters = "".join(ch for ch in fold(text) if ch.isalnum())
    return {letters[i : i + 2] for i in range(len(letters) - 1)}


class Search:
    """An index of the article, built once from the library."""

    def __init__(self, library: Library) -> None:
        self.library = library
        article = library.article(Script.SIMPLIFIED)
        self._title = fold(article.title)
        self._quotes = [(q.number, fold(q.text), fold(q.occasion)) for q in article.quotes]
        self._sentences: list[tuple[Place, str]] = [
            (Place(s.number, p, i), fold(sentence))
            for s in article.sections
            if s.kind is not SectionKind.QUOTES
            for p, paragraph in enumerate(s.paragraphs)
            for i, sentence in enumerate(split_sentences(paragraph))
        ]

    @functools.cached_property
    def _narrated(self) -> dict[int, Place | None]:
        # Matched on first use: comparing every quote with every sentence costs a start.
        article = self.library.article(Script.SIMPLIFIED)
        return {q.number: self._home(q.text, q.section) for q in article.quotes}

    def find(self, word: str) -> Found:
        key = fold(word.strip())
        if not key:
            return Found(word, False, (), (), (), ())
        quotes = tuple(n for n, text, _ in self._quotes if key in text)
        occasions = tuple(
            n for n, text, occasion in self._quotes if key in occasion and key not in text
        )
        places: list[Place] = []
        for place, sentence in self._sentences:
            if key in sentence and all(p.section != place.section for p in places):
                places.append(place)
        return Found(
            word,
            key in self._title,
            quotes,
            occasions,
            tuple(places),
            tuple(self.library.search_dates(word)),
        )

    def sentence(self, place: Place, script: Script) -> str:
        """Return the sentence at ``place`` in ``script``."""
        section = self.library.section(place.section, script)
        assert section is not None
        return split_sentences(section.paragraphs[place.paragraph])[place.sentence]

    def narrated(self, quote: int) -> Place | None:
        """Return the sentence of a body section that narrates the quote, if one does."""
        return self._narrated.get(quote)

    def _home(self, text: str, section: int) -> Place | None:
        pairs = _pairs(text)
        best: tuple[float, Place | None] = (_NARRATES, None)
        for place, sentence in self._sentences:
            if place.section != section or not pairs:
                continue
            score = len(pairs & _pairs(sentence)) / len(pairs)
            if score > best[0]:
                best = (score, place)
        return best[1]


def locate(text: str, word: str) -> tuple[int, int] | None:
    """Return where ``word`` stands in ``text`` (start, end), matching either script."""
    folded_word = fold(word.strip())
    if not folded_word:
        return None
    # Fold character by character so positions in the folded text are positions in text.
    folded = [fold(ch) or ch for ch in text]
    if any(len(ch) != 1 for ch in folded):
        joined = fold(text)
        start = joined.find(folded_word)
        return (
            (start, start + len(folded_word)) if start >= 0 and len(joined) == len(text) else None
        )
    joined = "".join(folded)
    start = joined.find(folded_word)
    return (start, start + len(folded_word)) if start >= 0 else None
