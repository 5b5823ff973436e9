"""Tests for quote cards: the renderer over the real article, and kinsoku line breaking."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from PIL import Image

from bot.content import Library
from bot.content.scripts import Script
from bot.render import card_image as cards
from bot.render.card_image import (
    CARD_SIZE,
    FOOTER_TOP,
    MARGIN,
    PAPER,
    CardFontMissing,
    QuoteCard,
    available,
    font_path,
    layout,
    render,
)
from bot.render.linebreak import ELLIPSIS, NO_LINE_END, NO_LINE_START, shorten, wrap, wrap_at_most

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "card-example.png"
WIDTH, HEIGHT = CARD_SIZE
# Ink is anything well darker than the paper (grey 242): text strokes and rules.
INK_BELOW = 190


def card_for(library: Library, number: int, script: Script) -> QuoteCard:
    article = library.article(script)
    quote = article.quote(number)
    assert quote is not None
    return QuoteCard(
        number=quote.number,
        text=quote.text,
        date_label=quote.date.label,
        occasion=quote.occasion,
        title=article.title,
        credit=article.byline,
        script=script,
    )


def decode(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return image.convert("RGB")


def ink(image: Image.Image, box: tuple[int, int, int, int]) -> int:
    """Count ink pixels in box (left, top, right, bottom)."""
    return sum(image.crop(box).convert("L").histogram()[:INK_BELOW])


def margin_is_paper(image: Image.Image) -> bool:
    bands = [
        (0, 0, WIDTH, MARGIN),
        (0, HEIGHT - MARGIN, WIDTH, HEIGHT),
        (0, 0, MARGIN, HEIGHT),
        (WIDTH - MARGIN, 0, WIDTH, HEIGHT),
    ]
    return all(image.crop(band).getcolors() == [(band_area(band), PAPER)] for band in bands)


def band_area(box: tuple[int, int, int, int]) -> int:
    return (box[2] - box[0]) * (box[3] - box[1])


ALL_CARDS = [(n, s) for s in Script for n in range(1, 13)]


@pytest.fixture(scope="module")
def rendered(library: Library) -> dict[tuple[int, Script], bytes]:
    # Render each card once; the checks below read the same bytes.
    return {(n, s): render(card_for(library, n, s)) for n, s in ALL_CARDS}


def test_the_font_ships_with_the_project() -> None:
    assert available()
    path = font_path()
    assert path is not None and path.is_file()
    assert path.suffix == ".ttc"


def test_article_has_twelve_quotes(library: Library) -> None:
    assert all(len(library.article(s).quotes) == 12 for s in Script)


@pytest.mark.parametrize(("number", "script"), ALL_CARDS)
def test_every_quote_renders_in_both_scripts(
    library: Library, rendered: dict[tuple[int, Script], bytes], number: int, script: Script
) -> None:
    png = rendered[number, script]
    image = decode(png)
    assert image.size == CARD_SIZE
    assert len(png) < 300_000
    plan = layout(card_for(library, number, script))
    assert ink(image, (MARGIN, plan.quote_top, WIDTH - MARGIN, plan.meta_top)) > 2_000
    assert ink(image, (MARGIN, plan.meta_top, WIDTH - MARGIN, plan.bottom)) > 1_000
    assert ink(image, (MARGIN, FOOTER_TOP + 8, WIDTH - MARGIN, HEIGHT - MARGIN)) > 1_000
    counted = image.getcolors(WIDTH * HEIGHT)
    assert counted is not None
    colours = {colour: count for count, colour in counted}
    assert colours[PAPER] > 0.8 * WIDTH * HEIGHT
    assert margin_is_paper(image)


def longest(library: Library, script: Script, field: str) -> QuoteCard:
    quotes = library.article(script).quotes
    number = max(quotes, key=lambda q: len(getattr(q, field))).number
    return card_for(library, number, script)


@pytest.mark.parametrize("script", list(Script))
@pytest.mark.parametrize("field", ["text", "occasion"])
def test_longest_texts_fit_inside_the_margins(
    library: Library, script: Script, field: str
) -> None:
    card = longest(library, script, field)
    plan = layout(card)
    assert "".join(plan.quote_lines) == card.text
    assert "".join(plan.occasion_lines) == card.occasion
    assert plan.bottom < FOOTER_TOP
    image = decode(render(card))
    assert margin_is_paper(image)
    # Nothing from the body spills into the gap above the footer's hairline.
    assert ink(image, (0, plan.bottom, WIDTH, FOOTER_TOP)) == 0


def test_the_quote_shrinks_until_it_fits(library: Library) -> None:
    short = card_for(library, 4, Script.TRADITIONAL)
    long = longest(library, Script.TRADITIONAL, "text")
    assert layout(long).quote_size < layout(short).quote_size
    text = "".join(q.text for q in library.article(Script.TRADITIONAL).quotes)
    huge = QuoteCard(
        99,
        text * 2,
        "12月31日",
        short.occasion * 5,
        short.title * 3,
        short.credit * 5,
        short.script,
    )
    plan = layout(huge)
    assert plan.quote_size <= layout(long).quote_size
    assert plan.quote_lines[-1].endswith(ELLIPSIS)
    assert len(plan.occasion_lines) == 4 and plan.occasion_lines[-1].endswith(ELLIPSIS)
    assert plan.title.endswith(ELLIPSIS) and plan.credit.endswith(ELLIPSIS)
    assert plan.bottom < FOOTER_TOP
    assert margin_is_paper(decode(render(huge)))


def test_same_card_same_bytes(library: Library, rendered: dict[tuple[int, Script], bytes]) -> None:
    card = card_for(library, 4, Script.TRADITIONAL)
    assert render(card) == rendered[4, Script.TRADITIONAL]
    # A fresh interpreter with another hash seed: no state, clock or set order leaks in.
    code = (
        "import hashlib; from pathlib import Path;"
        "from bot.render.card_image import QuoteCard, render;"
        "from bot.content import load_library; from bot.content.scripts import Script;"
        "a = load_library(Path('content/article.txt')).article(Script.TRADITIONAL);"
        "q = a.quote(4);"
        "s = Script.TRADITIONAL;"
        "card = QuoteCard(4, q.text, q.date.label, q.occasion, a.title, a.byline, s);"
        "print(hashlib.sha256(render(card)).hexdigest())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == hashlib.sha256(rendered[4, Script.TRADITIONAL]).hexdigest()


def test_scripts_use_their_own_glyphs(rendered: dict[tuple[int, Script], bytes]) -> None:
    # Same quote, different regional face and characters: the pictures must differ.
    assert rendered[4, Script.TRADITIONAL] != rendered[4, Script.SIMPLIFIED]


@pytest.fixture
def no_font(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    cards._font.cache_clear()
    monkeypatch.setattr(cards, "_collection", lambda: None)
    yield
    cards._font.cache_clear()


@pytest.mark.usefixtures("no_font")
def test_render_without_the_font_says_so(library: Library) -> None:
    assert not available()
    assert font_path() is None
    with pytest.raises(CardFontMissing, match="noto_cjk_sans_otc"):
        render(card_for(library, 1, Script.SIMPLIFIED))


@pytest.mark.parametrize(
    ("attribute", "value"),
    [("_FONT_PACKAGE", "no_such_font_package"), ("_FONT_FILE", "NoSuchFont.ttc")],
)
def test_a_missing_font_is_unusable(
    monkeypatch: pytest.MonkeyPatch, attribute: str, value: str
) -> None:
    monkeypatch.setattr(cards, attribute, value)
    assert cards._collection.__wrapped__() is None


def test_example_card_is_committed() -> None:
    with Image.open(EXAMPLE) as image:
        assert image.format == "PNG" and image.size == CARD_SIZE


# --- line breaking -------------------------------------------------------------------------


def unit(text: str) -> float:
    """Measure as a typewriter would: every character one unit wide."""
    return float(len(text))


OPENING = sorted(NO_LINE_END)
CLOSING = sorted(NO_LINE_START - {" "})
ideograph = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
# Chinese-like text: ideographs with opening marks before them and closing marks after,
# in runs as long as real text has ("」。”" is three).
token = st.builds(
    lambda o, w, c: "".join(o + w + c),
    st.lists(st.sampled_from(OPENING), max_size=2),
    st.lists(ideograph, min_size=1, max_size=6),
    st.lists(st.sampled_from(CLOSING), max_size=3),
)
chinese = st.lists(token, min_size=1, max_size=40).map("".join)


@given(text=chinese, width=st.integers(min_value=8, max_value=24))
@example(text="“今晚必須結硬賬，“不摸清底數，這場戰‘疫’就沒法打。”", width=8)
def test_wrap_obeys_kinsoku(text: str, width: int) -> None:
    lines = wrap(text, width, unit)
    assert "".join(lines) == text
    assert all(0 < unit(line) <= width for line in lines)
    assert not any(line[0] in NO_LINE_START for line in lines)
    assert not any(line[-1] in NO_LINE_END for line in lines)


@given(text=chinese, size=st.sampled_from([30, 52, 92]), chars=st.integers(8, 16))
def test_wrap_fits_the_real_font(text: str, size: int, chars: int) -> None:
    measure = cards._font(Script.TRADITIONAL, size).getlength
    lines = wrap(text, chars * size, measure)
    assert "".join(lines) == text
    assert all(measure(line) <= chars * size for line in lines)


@pytest.mark.parametrize(
    ("text", "width", "lines"),
    [
        ("一二三四五六。七", 6, ["一二三四五", "六。七"]),  # 。 never starts a line
        ("一二三四五「六」", 6, ["一二三四五", "「六」"]),  # 「 never ends one
        ("一二三四五六」。", 6, ["一二三四五", "六」。"]),  # 」 pulls 六 down
        ("甲乙丙丁2020年", 6, ["甲乙丙丁", "2020年"]),  # digits stay together
        ("一二三四五……", 6, ["一二三四", "五……"]),
    ],
)
def test_wrap_examples(text: str, width: int, lines: list[str]) -> None:
    assert wrap(text, width, unit) == lines


def test_wrap_breaks_anyway_when_the_rules_cannot_be_kept() -> None:
    text = "一" + "，" * 9
    lines = wrap(text, 4, unit)
    assert "".join(lines) == text
    assert all(unit(line) <= 4 for line in lines)


def test_shorten() -> None:
    assert shorten("細節決定成敗。", 7, unit) == "細節決定成敗。"
    assert shorten("細節決定成敗。", 6, unit) == "細節決定成…"
    assert shorten("細節決，定成敗。", 5, unit) == "細節決…"  # no "，…"
    assert wrap_at_most("一二三四五六七八九十", 3, unit, 2) == ["一二三", "四五…"]


# --- balanced lines: every card, both scripts -------------------------------------------------


@pytest.mark.parametrize(("number", "script"), ALL_CARDS)
def test_every_cards_lines_are_balanced(library: Library, number: int, script: Script) -> None:
    """No card ends on a lone character; its lines are as even as their count allows."""
    from bot.render.card_image import _QUOTE_SIZES, _font, card_text
    from bot.render.linebreak import MIN_LAST_LINE, readable

    card = card_for(library, number, script)
    plan = layout(card)
    lines = plan.quote_lines
    assert "".join(lines) == card_text(card.text)  # nothing lost, nothing added
    measure = _font(script, plan.quote_size).getlength
    greedy = wrap(card_text(card.text), WIDTH - 2 * MARGIN, measure)
    assert len(lines) == len(greedy)  # balancing never costs a line
    if len(lines) > 1:
        assert readable(lines[-1]) >= MIN_LAST_LINE, lines
        # As even as it goes: any narrower and the quote would need another line.
        widest = max(measure(line) for line in lines)
        assert len(wrap(card_text(card.text), widest - 1, measure)) > len(lines)
    assert plan.quote_size in _QUOTE_SIZES


def test_the_cards_that_ended_on_one_character_now_do_not(library: Library) -> None:
    from bot.render.linebreak import readable

    # 控。” 了！” 看。” 的。” 打。”: the greedy wrap left one character on the last line.
    for script in Script:
        for number in range(1, 13):
            assert readable(layout(card_for(library, number, script)).quote_lines[-1]) >= 3


def test_quote_12s_stray_inner_mark_is_dropped_on_the_card_only(library: Library) -> None:
    from bot.render.card_image import card_text

    for script in Script:
        text = library.article(script).quote(12).text  # type: ignore[union-attr]
        assert text.count("“") == 2  # the source, verbatim
        shown = card_text(text)
        assert shown.count("“") == 1 and shown.count("”") == 1
        assert shown.replace("“", "") == text.replace("“", "")
    assert card_text("“他说“好”。”") == "“他说“好”。”"  # a closed inner quote stays
    assert card_text("没有引号") == "没有引号"


@given(text=chinese, width=st.integers(min_value=8, max_value=24))
@example(text="一二三四五六七八九十一二三四五六七八九控。”", width=10)
def test_balanced_keeps_the_line_count_and_the_rules(text: str, width: int) -> None:
    from bot.render.linebreak import balanced

    lines = balanced(text, width, unit)
    assert "".join(lines) == text
    assert len(lines) == len(wrap(text, width, unit))
    assert all(unit(line) <= width for line in lines)


# --- passage cards ------------------------------------------------------------------------------


def passage_card(library: Library, number: int, script: Script) -> QuoteCard:
    """The card of a section's longest paragraph, cut as the bot cuts it, headed by the section."""
    from bot.rules.reading import cut_passage

    article = library.article(script)
    section = library.section(number, script)
    assert section is not None
    return QuoteCard(
        number=number,
        text=cut_passage(max(section.paragraphs, key=len)),
        date_label="、".join(d.label for d in article.dates_in_section(number)),
        occasion="",
        title=article.title,
        credit=article.byline,
        script=script,
        heading=f"第 {number} 节〈{section.title}〉",
    )


@pytest.mark.parametrize(("number", "script"), [(n, s) for s in Script for n in range(1, 6)])
def test_every_sections_longest_passage_fits_a_card_under_its_heading(
    library: Library, number: int, script: Script
) -> None:
    card = passage_card(library, number, script)
    plan = layout(card)
    assert plan.heading == card.heading  # short enough to stand whole
    image = decode(render(card))
    heading_band = (MARGIN, MARGIN + 28, WIDTH - MARGIN, MARGIN + 79)
    assert ink(image, heading_band) > 500
    assert plan.quote_top >= MARGIN + 79  # the text starts below the heading
    assert ink(image, (MARGIN, plan.quote_top, WIDTH - MARGIN, plan.meta_top)) > 2_000
    assert "".join(plan.quote_lines) == card.text  # the whole passage: nothing cut away
    assert margin_is_paper(image)


def test_a_quote_card_has_no_heading(library: Library) -> None:
    image = decode(render(card_for(library, 4, Script.TRADITIONAL)))
    assert ink(image, (MARGIN, MARGIN + 28, WIDTH - MARGIN, MARGIN + 79)) < 50
