"""Rules about reading a section: how long it takes, what day it is about, the recap before it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.content.dates import find_mentions
from bot.content.model import Article, MonthDay, Section
from bot.content.parser import split_sentences

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


def section_date(section: Section) -> MonthDay | None:
    """Return the first date a section's text names, or None.

    The first date is when its story starts: the opening names 2月13日 before it tells of
    the days after it. (Counting events per date answered 2月19日, a day it only looks to.)
    """
    month: int | None = None
    for paragraph in section.paragraphs:
        mentions, month = find_mentions(paragraph, month)
        for mention in mentions:
            if mention.day is not None:
                return mention.day
    return None


def opening_sentence(section: Section) -> str:
    """Return the first sentence of a section, verbatim (its closing quotes included).

    A sentence that ends inside a quotation runs on to the quotation's end, so a recap
    never leaves a quote open (1.“行百里者半九十。 → the whole quoted saying).
    """
    for paragraph in section.paragraphs:
        opening = ""
        for sentence in split_sentences(paragraph):
            opening += sentence
            if opening.count("“") <= opening.count("”"):
                break
        if opening.strip():
            return opening.strip()
    return ""


@dataclass(frozen=True)
class Recap:
    """What to remind a reader of before the next section: the one they read last.

    Extractive: the section's own opening sentence and the first date it names, in the
    script of the article it came from; nothing is made up.
    """

    section: int
    title: str
    date: MonthDay | None
    opening: str


def recap(article: Article, progress: int) -> Recap | None:
    """Return the recap of section progress for a reader who has read progress sections.

    None when nothing has been read yet (progress 0) or progress is beyond the article.
    """
    if progress < 0:
        raise ValueError(f"progress cannot be negative, got {progress}")
    section = article.section(progress)
    if section is None:
        return None
    return Recap(section.number, section.title, section_date(section), opening_sentence(section))


# --- passages: what a passage card shows ------------------------------------------------------

SENTENCE_ENDS = "。！？；…!?"
CLOSERS = "”’」』）》〉\"')"
PASSAGE_LIMIT = 120  # characters: more would not fit a card at a readable size


def _sentence_end(text: str, index: int) -> int:
    """Return the index just past a sentence end at ``index`` and its closing marks."""
    end = index + 1
    while end < len(text) and text[end] in CLOSERS:
        end += 1
    return end


def cut_passage(text: str, limit: int = PASSAGE_LIMIT) -> str:
    """Return a passage short enough for a card: cut after the last sentence end within
    ``limit``, or (no sentence ends early enough) at ``limit`` with an ellipsis."""
    text = text.strip()
    if len(text) <= limit:
        return text
    best = 0
    for i, char in enumerate(text[:limit]):
        if char in SENTENCE_ENDS and (end := _sentence_end(text, i)) <= limit:
            best = end
    if best >= limit // 3:
        return text[:best]
    return text[: limit - 1] + "…"


@dataclass(frozen=True)
class Place:
    """Where quoted words are in a section: paragraph index and character offset."""

    paragraph: int
    offset: int


def find_in(section: Section, words: str) -> Place | None:
    """Return where ``words`` are in the section's paragraphs, or None."""
    for index, paragraph in enumerate(section.paragraphs):
        found = paragraph.find(words)
        if found >= 0:
            return Place(index, found)
    return None


def same_words(source: Section, target: Section, words: str) -> str | None:
    """Return the words of ``target`` at the place ``words`` have in ``source`` (the same
    section in the other script), or None when the two do not line up."""
    place = find_in(source, words)
    if place is None or place.paragraph >= len(target.paragraphs):
        return None
    there = target.paragraphs[place.paragraph]
    if len(there) != len(source.paragraphs[place.paragraph]):
        return None  # converted word for word, not character for character: no mapping
    return there[place.offset : place.offset + len(words)]
