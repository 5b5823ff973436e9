"""Quote cards: one of the article's quotes as a shareable PNG; Pillow only, no Telegram."""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from bot.content.scripts import Script
from bot.render.linebreak import NO_LINE_END, balanced, shorten, wrap_at_most

if TYPE_CHECKING:
    # Pillow is imported where a card is drawn: a bot that never draws one never loads it.
    from PIL import Image, ImageFont

# 4:5 portrait: Telegram shows it whole in a chat, and it stays far below the photo limits.
CARD_SIZE = (1080, 1350)
MARGIN = 96
FOOTER_TOP = CARD_SIZE[1] - MARGIN - 118  # the hairline above title and credit

Colour = tuple[int, int, int]
PAPER: Colour = (247, 242, 232)
INK: Colour = (38, 34, 30)
MUTED: Colour = (110, 102, 94)
ACCENT: Colour = (168, 50, 38)
HAIRLINE: Colour = (216, 206, 190)

_FONT_PACKAGE = "noto_cjk_sans_otc"
_FONT_FILE = "NotoSansCJK-Regular.ttc"
# The collection holds every region. Each script gets its own face because the regions set
# punctuation differently: SC puts ，。 low at the left of the em box, TC centres them.
_FACES = {Script.SIMPLIFIED: "Noto Sans CJK SC", Script.TRADITIONAL: "Noto Sans CJK TC"}
_MAX_FACES = 16

_WIDTH = CARD_SIZE[0] - 2 * MARGIN
_BODY_TOP = MARGIN + 110  # below the accent bar and the number
_BODY_BOTTOM = FOOTER_TOP - 72
_QUOTE_SIZES = range(92, 43, -4)  # largest first: the quote takes the biggest size that fits
_QUOTE_LEADING = 1.45
_QUOTE_GAP = 64  # between the quote and the accent rule above the date
_DATE_SIZE, _DATE_TOP, _DATE_LEADING = 34, 30, 51
_OCCASION_SIZE, _OCCASION_LEADING, _OCCASION_LINES = 30, 48, 4
_TITLE_SIZE, _TITLE_LEADING, _CREDIT_SIZE, _CREDIT_LEADING = 28, 42, 24, 36
_NUMBER_SIZE = 30
# The ideographic em box is centred this far above the baseline, in ems.
_EM_CENTRE = 0.38
# The cached fonts share FreeType faces, which two threads must not use at once (a handler
# may well render in a worker thread).
_FREETYPE = threading.Lock()


class CardFontMissing(RuntimeError):
    """The CJK font package is missing or unusable, so no card can be drawn."""


@dataclass(frozen=True)
class QuoteCard:
    """One card's content; every string is already in the reader's script."""

    number: int
    text: str
    date_label: str
    occasion: str
    title: str
    credit: str
    script: Script  # picks the regional glyph forms; the renderer converts nothing
    heading: str = ""  # a passage card's section, above the text


@dataclass(frozen=True)
class CardLayout:
    """Where a card's blocks go: wrapped lines, the quote's font size, block tops in pixels."""

    quote_size: int
    quote_lines: tuple[str, ...]
    date_label: str
    occasion_lines: tuple[str, ...]
    title: str
    credit: str
    quote_top: int
    meta_top: int
    bottom: int  # of the date and occasion
    heading: str = ""


@cache
def _collection() -> tuple[Path, dict[Script, int]] | None:
    """Return the font collection and each script's face index in it, or None."""
    try:
        path = Path(str(files(_FONT_PACKAGE).joinpath(_FONT_FILE)))
    except ModuleNotFoundError:
        return None
    from PIL import ImageFont

    wanted = {family: script for script, family in _FACES.items()}
    found: dict[Script, int] = {}
    for index in range(_MAX_FACES):
        try:
            family = ImageFont.truetype(str(path), 12, index=index).getname()[0]
        except OSError:  # missing, unreadable, not a font, or past the last face
            break
        if family in wanted:
            found[wanted[family]] = index
    return (path, found) if len(found) == len(_FACES) else None


def font_path() -> Path | None:
    """Return the CJK font collection cards are set in, or None if it is unusable."""
    found = _collection()
    return found[0] if found else None


def available() -> bool:
    """Return whether cards can be rendered here."""
    return font_path() is not None


# Enough for both scripts' usual sizes (7 each); each face costs a few MB.
@lru_cache(maxsize=16)
def _font(script: Script, size: int) -> ImageFont.FreeTypeFont:
    from PIL import ImageFont

    found = _collection()
    if found is None:
        raise CardFontMissing(f"quote cards need the font from the {_FONT_PACKAGE} package")
    path, faces = found
    # BASIC layout: CJK needs no shaping, and cards then look the same with or without raqm.
    return ImageFont.truetype(
        str(path), size, index=faces[script], layout_engine=ImageFont.Layout.BASIC
    )


def card_text(quote: str) -> str:
    """Return a quote as a card shows it: an inner “ the source never closes is dropped.

    Quote 12 reads “今晚必须结硬账，“不摸清底数，……” in the article: set large on a card the
    stray mark looks like our typo. Only the card drops it; the article text stays verbatim.
    """
    if len(quote) < 2 or not (quote.startswith("“") and quote.endswith("”")):
        return quote
    inner = quote[1:-1]
    unmatched: list[int] = []
    for i, char in enumerate(inner):
        if char == "“":
            unmatched.append(i)
        elif char == "”" and unmatched:
            unmatched.pop()
    kept = "".join(char for i, char in enumerate(inner) if i not in unmatched)
    return f"“{kept}”"


def layout(card: QuoteCard) -> CardLayout:
    """Wrap the texts, pick the largest quote size that fits, and place the blocks."""
    with _FREETYPE:
        return _layout(card)


def _layout(card: QuoteCard) -> CardLayout:
    text = card_text(card.text)
    occasion_width = _font(card.script, _OCCASION_SIZE).getlength
    occasion = wrap_at_most(card.occasion, _WIDTH, occasion_width, _OCCASION_LINES)
    meta_height = _DATE_TOP + _DATE_LEADING + len(occasion) * _OCCASION_LEADING
    room = _BODY_BOTTOM - _BODY_TOP - meta_height - _QUOTE_GAP
    for size in _QUOTE_SIZES:
        leading = round(size * _QUOTE_LEADING)
        measure = _font(card.script, size).getlength
        quote = balanced(text, _WIDTH, measure)
        if len(quote) * leading <= room:
            break
    else:  # too long even at the smallest size: keep what fits and mark the cut
        quote = wrap_at_most(text, _WIDTH, measure, max(room // leading, 1))
    block = len(quote) * leading + _QUOTE_GAP + meta_height
    # A little above the middle of the body, where a centred block looks centred.
    top = _BODY_TOP + (_BODY_BOTTOM - _BODY_TOP - block) * 9 // 20
    return CardLayout(
        quote_size=size,
        quote_lines=tuple(quote),
        date_label=shorten(card.date_label, _WIDTH, _font(card.script, _DATE_SIZE).getlength),
        occasion_lines=tuple(occasion),
        title=shorten(card.title, _WIDTH, _font(card.script, _TITLE_SIZE).getlength),
        credit=shorten(card.credit, _WIDTH, _font(card.script, _CREDIT_SIZE).getlength),
        quote_top=top,
        meta_top=top + len(quote) * leading + _QUOTE_GAP,
        bottom=top + block,
        heading=shorten(card.heading, _WIDTH, _font(card.script, _DATE_SIZE).getlength)
        if card.heading
        else "",
    )


@lru_cache(maxsize=64)
def _ink_left(script: Script, size: int, char: str) -> int:
    """Return how far right of the pen position a glyph's ink begins."""
    # Drawn, not asked: for this font Pillow's getbbox gives the advance box, not the ink.
    from PIL import Image, ImageDraw

    scratch = Image.new("L", (3 * size, 3 * size))
    font = _font(script, size)
    ImageDraw.Draw(scratch).text((size, 2 * size), char, font=font, anchor="ls", fill=255)
    box = scratch.getbbox()
    return box[0] - size if box else 0


class _Pen:
    """Draws one script's text and rules on a card, left-aligned at the margin."""

    def __init__(self, image: Image.Image, script: Script) -> None:
        from PIL import ImageDraw

        self.draw = ImageDraw.Draw(image)
        self.script = script

    def lines(
        self, lines: tuple[str, ...], top: int, size: int, leading: int, fill: Colour
    ) -> int:
        """Draw lines from top, each centred in its leading; return the bottom."""
        font = _font(self.script, size)
        for i, line in enumerate(lines):
            baseline = top + i * leading + leading / 2 + _EM_CENTRE * size
            x = MARGIN
            if line[:1] in NO_LINE_END:
                # Hang an opening mark: its ink, not its blank half em, meets the margin.
                x -= _ink_left(self.script, size, line[0])
            self.draw.text((x, baseline), line, font=font, fill=fill, anchor="ls")
        return top + len(lines) * leading

    def rule(self, top: int, length: int, thickness: int, fill: Colour) -> None:
        """Draw a horizontal rule from the left margin."""
        self.draw.rectangle((MARGIN, top, MARGIN + length - 1, top + thickness - 1), fill=fill)


def render(card: QuoteCard) -> bytes:
    """Draw the card and return it as PNG bytes; raise CardFontMissing without the font."""
    with _FREETYPE:
        return _render(card)


def _render(card: QuoteCard) -> bytes:
    from PIL import Image

    plan = _layout(card)
    width, height = CARD_SIZE
    image = Image.new("RGB", CARD_SIZE, PAPER)
    pen = _Pen(image, card.script)
    pen.rule(MARGIN, 72, 8, ACCENT)
    number = _font(card.script, _NUMBER_SIZE)
    pen.draw.text(
        (width - MARGIN, MARGIN - 6), f"{card.number:02d}", font=number, fill=MUTED, anchor="ra"
    )
    if plan.heading:  # between the accent bar and the body, in the date's type
        pen.lines((plan.heading,), MARGIN + 28, _DATE_SIZE, _DATE_LEADING, ACCENT)
    leading = round(plan.quote_size * _QUOTE_LEADING)
    pen.lines(plan.quote_lines, plan.quote_top, plan.quote_size, leading, INK)
    pen.rule(plan.meta_top, 40, 4, ACCENT)
    top = pen.lines(
        (plan.date_label,), plan.meta_top + _DATE_TOP, _DATE_SIZE, _DATE_LEADING, ACCENT
    )
    pen.lines(plan.occasion_lines, top, _OCCASION_SIZE, _OCCASION_LEADING, MUTED)
    pen.rule(FOOTER_TOP, _WIDTH, 2, HAIRLINE)
    pen.lines((plan.title,), FOOTER_TOP + 24, _TITLE_SIZE, _TITLE_LEADING, INK)
    credit_top = height - MARGIN - _CREDIT_LEADING
    pen.lines((plan.credit,), credit_top, _CREDIT_SIZE, _CREDIT_LEADING, MUTED)
    out = io.BytesIO()
    # Flat paper and dark strokes compress well: about 75 to 150 KB, and no metadata or
    # timestamp in the file, so the same card gives the same bytes.
    image.save(out, "PNG", optimize=True)
    return out.getvalue()
