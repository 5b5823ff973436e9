"""Turn the article's plain text into the model: sections, quotes and dates.

Nothing here names the article's own words: headings, numbered items, attributions and
dates are recognized by their shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.content.dates import BARE_DAY, EXPLICIT, find_mentions, shift
from bot.content.model import (
    Article,
    DateEntry,
    Event,
    MonthDay,
    Quote,
    Section,
    SectionKind,
)
from bot.content.scripts import fold

# The untitled opening needs a title of its own; traditional like the article.
OPENING_TITLE = "導語"

_HEADING_MAX_CHARS = 30
_SENTENCE_END = "。！？!?；;…"
_CLOSERS = "”’」』）)》〉】"
_CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\u2018\u2019\u201c\u201d"
# ASCII punctuation with CJK on one side and CJK or a digit on the other (第二天,2月14日);
# digits on both sides (10,000, 8:30) are numbers and times, and stay as they are.
_ASCII_PUNCT = re.compile(rf"(?<=[{_CJK}])[,:;?!](?=[{_CJK}0-9])|(?<=[0-9])[,:;?!](?=[{_CJK}])")
_FULL_WIDTH = {",": "，", ":": "：", ";": "；", "?": "？", "!": "！"}

# Glyphs some sites put before a heading (▶履新一週…); the title is the words after them.
_HEADING_MARKERS = "▶▷►▸▹■□▪▫◆◇●○•★☆"

_NUMBERED = re.compile(r"^(\d{1,3})[.．、]\s*(.*)$", re.S)
_ATTRIBUTION = re.compile(r"^[—–－]{2}\s*(.*)$", re.S)
_FOOTER_START = "【"
_BYLINE_MARKERS = ("記者", "记者")
_CREDIT_MARKERS = ("圖片", "图片", "圖", "图")

# An excerpt shorter than this reads better with the sentence before it.
_SHORT_SENTENCE = 16


class ArticleError(Exception):
    """The article file cannot be used; the message names the problem."""


def normalize(text: str) -> str:
    """Make ASCII punctuation next to CJK text full-width and trim whitespace."""
    return _ASCII_PUNCT.sub(lambda m: _FULL_WIDTH[m.group(0)], text.strip())


def heading_title(heading: str) -> str:
    """Return a heading's words without a leading marker glyph (▶, ■ …)."""
    return heading.lstrip(_HEADING_MARKERS + " \u3000") or heading


def _paragraphs(text: str) -> list[str]:
    blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    # Lines of one block are one paragraph; Chinese joins them with no space.
    paragraphs = ["".join(line.strip() for line in b.split("\n")) for b in blocks]
    return [normalize(p) for p in paragraphs if p.strip()]


def _ends_sentence(paragraph: str) -> bool:
    stripped = paragraph.rstrip(_CLOSERS)
    return bool(stripped) and stripped[-1] in _SENTENCE_END


def _is_heading(paragraph: str) -> bool:
    return (
        len(paragraph) <= _HEADING_MAX_CHARS
        and not _ends_sentence(paragraph)
        and not _NUMBERED.match(paragraph)
        and not _ATTRIBUTION.match(paragraph)
    )


def split_sentences(paragraph: str) -> list[str]:
    """Split a paragraph after 。！？ (and closing quotes that follow)."""
    sentences: list[str] = []
    start = 0
    i = 0
    n = len(paragraph)
    while i < n:
        if paragraph[i] in "。！？!?":
            i += 1
            while i < n and (paragraph[i] in _CLOSERS or paragraph[i] in "。！？!?"):
                i += 1
            sentences.append(paragraph[start:i])
            start = i
        else:
            i += 1
    if start < n:
        sentences.append(paragraph[start:])
    return [s for s in sentences if s.strip()]


@dataclass
class _Draft:
    title: str
    kind: SectionKind
    paragraphs: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


def _repeats_title(paragraph: str, title: str) -> bool:
    """Tell whether a line repeats the title in either script (captions left by images).

    The site made its simplified captions with a converter of its own, which may write 著 or
    着: comparing folded forms accepts either.
    """
    # A caption converts the title character by character: compare lengths before converting.
    return len(paragraph) == len(title) and fold(paragraph) == fold(title)


def _split_header(paragraphs: list[str], title: str) -> tuple[str, str, list[str]]:
    """Return byline, image credit and the body paragraphs after the header."""
    byline = credit = ""
    body_start = len(paragraphs)
    for i, p in enumerate(paragraphs):
        if len(p) > _HEADING_MAX_CHARS or _ends_sentence(p):
            body_start = i
            break
        if _repeats_title(p, title):
            continue
        if not byline and any(m in p for m in _BYLINE_MARKERS):
            byline = p
        elif not credit and any(m in p for m in _CREDIT_MARKERS):
            credit = p
        else:
            body_start = i
            break
    return byline, credit, paragraphs[body_start:]


def _sections(body: list[str], title: str) -> list[_Draft]:
    drafts = [_Draft(OPENING_TITLE, SectionKind.OPENING)]
    for i, p in enumerate(body):
        if p.startswith(_FOOTER_START):
            break  # the footer (tip-off notice, share links) ends the article
        # Caption lines left where images stood repeat the title in simplified script
        # (identical to it when the title has no traditional-only characters).
        if _repeats_title(p, title):
            continue
        followed = i + 1 < len(body) and not body[i + 1].startswith(_FOOTER_START)
        if _is_heading(p) and followed:
            drafts.append(_Draft(heading_title(p), SectionKind.PART))
            continue
        drafts[-1].paragraphs.append(p)
    for draft in drafts:
        items = sum(1 for p in draft.paragraphs if _NUMBERED.match(p))
        if draft.kind is SectionKind.PART and items and items * 2 >= len(draft.paragraphs) - 1:
            draft.kind = SectionKind.QUOTES
    return [d for d in drafts if d.paragraphs]


def _index_dates(
    drafts: list[_Draft],
) -> tuple[dict[MonthDay, list[Event]], dict[int, int | None]]:
    """Resolve every date mention of the body to the sentence that carries it.

    Relative words (當天, 一天後 …) take the nearest date before them in the same section;
    bare days (16日) take the month in force. Also return the month in force at the start
    of each section, for the quote list's attributions.
    """
    events: dict[MonthDay, list[Event]] = {}
    month: int | None = None
    months: dict[int, int | None] = {}
    for number, draft in enumerate(drafts, start=1):
        months[number] = month
        anchor: MonthDay | None = None  # the last explicit date seen in this section
        for paragraph in draft.paragraphs:
            found, month = find_mentions(paragraph, month)
            sentences = split_sentences(paragraph)
            for mention in found:
                if mention.day is not None:
                    day = anchor = mention.day
                elif anchor is not None and mention.offset is not None:
                    # A resolved relative date is the reference for the next one
                    # (一天後 … 同一天 is the later day).
                    day = anchor = shift(anchor, mention.offset)
                else:
                    continue
                if draft.kind is SectionKind.QUOTES:
                    continue  # quotes are indexed with their attribution instead
                excerpt = _sentence_at(sentences, mention.start)
                _add_event(events.setdefault(day, []), Event(excerpt, number))
    return events, months


def _add_event(bucket: list[Event], event: Event) -> None:
    """Add an excerpt unless it repeats one already there; a longer one replaces its part."""
    for i, old in enumerate(bucket):
        if event.text in old.text:
            return
        if old.text in event.text:
            bucket[i] = event
            return
    bucket.append(event)


def _sentence_at(sentences: list[str], position: int) -> str:
    offset = 0
    for i, sentence in enumerate(sentences):
        if position < offset + len(sentence):
            if len(sentence) < _SHORT_SENTENCE and i > 0:
                return sentences[i - 1] + sentence
            return sentence
        offset += len(sentence)
    return sentences[-1]


def _lone_number(paragraph: str) -> bool:
    item = _NUMBERED.match(paragraph)
    return bool(item) and not item.group(2).strip()  # type: ignore[union-attr]


def _bigrams(text: str) -> set[str]:
    """Return the character pairs of text's letters, for matching a quote inside the body."""
    letters = "".join(ch for ch in fold(text) if ch.isalnum())
    return {letters[i : i + 2] for i in range(len(letters) - 1)}


# A body sentence sharing this share of a quote's character pairs is where the quote stands.
_QUOTE_MATCH = 0.6


def _home_section(text: str, body: list[tuple[int, list[set[str]]]]) -> int | None:
    pairs = _bigrams(text)
    best, best_score = None, _QUOTE_MATCH
    for number, sentences in body:
        for sentence in sentences:
            score = len(pairs & sentence) / len(pairs) if pairs else 0.0
            if score > best_score:
                best, best_score = number, score
    return best


def _quotes(
    drafts: list[_Draft], events: dict[MonthDay, list[Event]], months: dict[int, int | None]
) -> list[Quote]:
    quotes: list[Quote] = []
    body = [
        (n, [_bigrams(s) for p in d.paragraphs for s in split_sentences(p)])
        for n, d in enumerate(drafts, start=1)
        if d.kind is not SectionKind.QUOTES
    ]
    for list_number, draft in enumerate(drafts, start=1):
        if draft.kind is not SectionKind.QUOTES:
            continue
        pending: list[tuple[int, str]] = []
        month = months.get(list_number)
        paragraphs = draft.paragraphs
        for i, paragraph in enumerate(paragraphs):
            item = _NUMBERED.match(paragraph)
            attribution = _ATTRIBUTION.match(paragraph)
            if item:
                text = item.group(2).strip()
                if not text and i + 1 < len(paragraphs):
                    # A number alone on its line: the item's text is the next paragraph.
                    text = paragraphs[i + 1]
                pending.append((int(item.group(1)), text))
            elif i > 0 and _lone_number(paragraphs[i - 1]):
                continue  # already taken as the text of the number above it
            elif attribution and pending:
                rest = attribution.group(1)
                found, month = find_mentions(rest, month)
                dated = next((m for m in found if m.day is not None), None)
                if dated is None or dated.day is None:
                    continue
                after = EXPLICIT.match(rest[dated.start :]) or BARE_DAY.match(rest[dated.start :])
                cut = dated.start + (after.end() if after else 0)
                occasion = rest[cut:].lstrip("，,、：: ")
                for number, text in pending:
                    home = _home_section(text, body)
                    if home is None:
                        home = next((e.section for e in events.get(dated.day, [])), list_number)
                    quotes.append(Quote(number, text, dated.day, occasion, home))
                pending = []
    return sorted(quotes, key=lambda q: q.number)


def parse(text: str) -> Article:
    """Parse the article's text into the model; raise ArticleError if it has no structure."""
    paragraphs = _paragraphs(text.lstrip("\ufeff"))
    if not paragraphs:
        raise ArticleError("the file is empty")
    title = paragraphs[0]
    byline, credit, body = _split_header(paragraphs[1:], title)
    drafts = _sections(body, title)
    if not any(d.kind is not SectionKind.OPENING for d in drafts):
        raise ArticleError(
            "no section headings found (a heading is a short line without "
            "sentence-final punctuation standing between paragraphs)"
        )
    events, months = _index_dates(drafts)
    quotes = _quotes(drafts, events, months)
    by_day: dict[MonthDay, list[int]] = {}
    for quote in quotes:
        by_day.setdefault(quote.date, []).append(quote.number)
    dates = tuple(
        DateEntry(day, tuple(events.get(day, ())), tuple(by_day.get(day, ())))
        for day in sorted(set(events) | set(by_day))
    )
    sections = tuple(
        Section(n, d.title, d.kind, tuple(d.paragraphs)) for n, d in enumerate(drafts, start=1)
    )
    return Article(title, byline, credit, sections, tuple(quotes), dates)
