"""Tests for the article parser, its indexes, the library and ``python -m bot.content``."""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import opencc
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.content import (
    Article,
    ArticleError,
    Library,
    MonthDay,
    SectionKind,
    load_article,
    load_library,
    parse,
)
from bot.content.parser import heading_title, normalize, split_sentences
from bot.content.scripts import Script, to_simplified

ROOT = Path(__file__).resolve().parents[1]
ARTICLE_PATH = ROOT / "content" / "article.txt"
SOURCE = ARTICLE_PATH.read_text(encoding="utf-8")

ASCII_PUNCT = ",:;?!"
FULL_WIDTH = dict(zip(ASCII_PUNCT, "，：；？！", strict=True))
# CJK context for the display normalization, written from the spec (curly quotes count).
CJK_CLASS = (
    "[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\u2018\u2019\u201c\u201d]"
)
IDEOGRAPH = "[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
ASCII_BETWEEN_IDEOGRAPHS = re.compile(f"{IDEOGRAPH}[,:;?!]{IDEOGRAPH}")
ASCII_BETWEEN_CJK = re.compile(f"{CJK_CLASS}[,:;?!]{CJK_CLASS}")

# The source writes the last heading "▶履新一週,…": titles drop the marker.
EXPECTED_TITLES = ("導語", "“狠話”", "暗訪", "問責", "履新一週，武漢市委書記撂下的“狠話”")
EXPECTED_KINDS = (
    SectionKind.OPENING,
    SectionKind.PART,
    SectionKind.PART,
    SectionKind.PART,
    SectionKind.QUOTES,
)
EXPECTED_QUOTE_DATES = (
    "02-14",
    "02-16",
    "02-16",
    "02-16",
    "02-17",
    "02-17",
    "02-17",
    "02-17",
    "02-19",
    "02-18",
    "02-19",
    "02-19",
)
EXPECTED_DAYS = tuple(f"02-{day}" for day in range(13, 20))


# --------------------------------------------------------------------------- helpers


@functools.cache
def library() -> Library:
    return load_library(ARTICLE_PATH)


def traditional() -> Article:
    return library().article(Script.TRADITIONAL)


def simplified() -> Article:
    return library().article(Script.SIMPLIFIED)


def spec_normalize(text: str) -> str:
    """Display normalization as the spec states it, written independently of the parser.

    ASCII , : ; ? ! become full-width with CJK on one side and CJK or a digit on the other.
    """
    text = text.strip()
    out = list(text)

    def cjk(char: str) -> bool:
        return bool(re.fullmatch(CJK_CLASS, char))

    def digit(char: str) -> bool:
        return char in "0123456789"

    for i in range(1, len(text) - 1):
        before, after = text[i - 1], text[i + 1]
        if text[i] in FULL_WIDTH and (
            (cjk(before) and (cjk(after) or digit(after))) or (digit(before) and cjk(after))
        ):
            out[i] = FULL_WIDTH[text[i]]
    return "".join(out)


def source_blocks(text: str) -> list[str]:
    """Blank-line separated blocks of a source text, lines joined, normalized, non-empty."""
    blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n"))
    joined = ("".join(line.strip() for line in b.split("\n")) for b in blocks)
    return [spec_normalize(b) for b in joined if b.strip()]


def expected_body_paragraphs(article: Article) -> list[str]:
    """Source paragraphs minus title, metadata, captions, headings and footer."""
    blocks = source_blocks(SOURCE)
    title = blocks[0]
    footer = next(i for i, b in enumerate(blocks) if b.startswith("【"))
    skipped = {title, to_simplified(title), article.byline, article.image_credit}
    skipped |= {s.title for s in article.sections}
    return [b for b in blocks[1:footer] if b not in skipped and b.lstrip("▶") not in skipped]


def strings(value: object) -> Iterator[str]:
    """Every string inside a JSON value (keys excluded)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def map_strings(value: object, convert: Callable[[str], str]) -> object:
    """Apply ``convert`` to every string inside a JSON value."""
    if isinstance(value, str):
        return convert(value)
    if isinstance(value, dict):
        return {key: map_strings(item, convert) for key, item in value.items()}
    if isinstance(value, list):
        return [map_strings(item, convert) for item in value]
    return value


def article_text(*blocks: str) -> str:
    return "\n\n".join(blocks) + "\n"


TITLE = "市委書記的一週"  # differs from its simplified form 市委书记的一周
INTRO = "這是一段足夠長的開頭段落，它講述了整件事情的來龍去脈。"


# --------------------------------------------------------------------------- real article


def test_title_byline_and_credit_are_metadata() -> None:
    article = traditional()
    blocks = source_blocks(SOURCE)
    assert article.title == blocks[0]
    assert "記者" in article.byline and article.byline in blocks
    assert "圖片" in article.image_credit and article.image_credit in blocks


def test_seed_caption_is_simplified_title() -> None:
    caption = to_simplified(traditional().title)
    assert caption != traditional().title
    assert caption in source_blocks(SOURCE)


def test_five_sections_with_titles_and_kinds() -> None:
    sections = traditional().sections
    assert tuple(s.number for s in sections) == (1, 2, 3, 4, 5)
    assert tuple(s.title for s in sections) == EXPECTED_TITLES
    assert tuple(s.kind for s in sections) == EXPECTED_KINDS


def test_simplified_section_titles() -> None:
    titles = tuple(s.title for s in simplified().sections)
    assert titles[0] == "导语"
    assert titles == tuple(to_simplified(t) for t in EXPECTED_TITLES)


def test_every_body_paragraph_appears_exactly_once() -> None:
    article = traditional()
    produced = Counter(p for s in article.sections for p in s.paragraphs)
    expected = Counter(expected_body_paragraphs(article))
    assert all(count == 1 for count in expected.values())
    assert produced == expected


def test_section_text_joins_paragraphs() -> None:
    for section in traditional().sections:
        assert section.text == "\n\n".join(section.paragraphs)
        assert all(p == p.strip() and p for p in section.paragraphs)


def test_no_boilerplate_in_json() -> None:
    article = traditional()
    caption = to_simplified(article.title)
    for script in Script:
        data = library().article(script).to_json()
        for text in strings(data):
            for word in ("【", "分享到", "相關文章", "相关文章", "報料", "报料"):
                assert word not in text
        # The simplified edition's title is the caption; nothing else may contain it.
        for text in strings({k: v for k, v in data.items() if k != "title"}):
            assert caption not in text
    for section in article.sections:
        assert article.byline not in section.text
        assert article.image_credit not in section.text
        assert article.title not in section.text


def test_twelve_quotes_with_dates() -> None:
    quotes = traditional().quotes
    assert tuple(q.number for q in quotes) == tuple(range(1, 13))
    assert tuple(q.date.key for q in quotes) == EXPECTED_QUOTE_DATES


def test_quote_texts_are_numbered_items_of_the_source() -> None:
    blocks = source_blocks(SOURCE)
    items: dict[int, str] = {}
    for i, block in enumerate(blocks):
        m = re.fullmatch(r"(\d{1,3})[.．、]\s*(.*)", block, re.S)
        if m:
            items[int(m.group(1))] = m.group(2) or blocks[i + 1]
    assert {q.number: q.text for q in traditional().quotes} == items


def test_quote_ten_number_stands_alone_in_source() -> None:
    # The fixture really has the shape the spec describes.
    assert "10." in source_blocks(SOURCE)
    quote = traditional().quote(10)
    assert quote is not None
    assert quote.text.startswith("“不能不當回事")
    # The section text keeps the source's paragraphs; only the index joins them.
    assert any(p == "10." for s in traditional().sections for p in s.paragraphs)


def test_quote_occasions_come_from_following_attribution() -> None:
    blocks = source_blocks(SOURCE)
    attributions = [b.lstrip("—") for b in blocks if b.startswith("——")]
    for quote in traditional().quotes:
        assert quote.occasion
        assert any(a.endswith(quote.occasion) and quote.date.label in a for a in attributions), (
            quote
        )


def test_shared_attributions_share_date_and_occasion() -> None:
    article = traditional()

    def occasions(*numbers: int) -> set[str]:
        return {q.occasion for q in article.quotes if q.number in numbers}

    assert len(occasions(2, 3)) == 1
    assert len(occasions(5, 6, 7, 8)) == 1
    assert occasions(2, 3) != occasions(4)


def test_quote_home_section_is_valid() -> None:
    article = traditional()
    for quote in article.quotes:
        assert article.section(quote.section) is not None


def test_quote_home_is_the_section_that_quotes_it_verbatim() -> None:
    article = traditional()
    body = [s for s in article.sections if s.kind is not SectionKind.QUOTES]
    checked = 0
    for quote in article.quotes:
        core = quote.text.strip("“”。！？")
        holders = [s.number for s in body if core in s.text]
        if len(holders) == 1:
            assert quote.section == holders[0], quote
            checked += 1
    assert checked >= 5


def test_each_day_of_the_week_has_events() -> None:
    article = traditional()
    assert tuple(d.date.key for d in article.dates) == EXPECTED_DAYS
    for entry in article.dates:
        assert entry.events, entry.date


def test_date_quotes_match_quote_dates() -> None:
    article = traditional()
    for entry in article.dates:
        expected = tuple(q.number for q in article.quotes if q.date == entry.date)
        assert entry.quotes == expected
    assert sum(len(d.quotes) for d in article.dates) == 12


@pytest.mark.parametrize("script", list(Script))
def test_events_are_substrings_of_their_section_in_article_order(script: Script) -> None:
    article = library().article(script)
    for entry in article.dates:
        positions: list[tuple[int, int]] = []
        for event in entry.events:
            section = article.section(event.section)
            assert section is not None
            assert section.kind is not SectionKind.QUOTES
            index = section.text.find(event.text)
            assert index >= 0, event
            positions.append((event.section, index))
        assert positions == sorted(positions), entry.date
        assert len(set(positions)) == len(positions)


def test_events_carry_their_date() -> None:
    # Each excerpt mentions its day, either explicitly or through a relative word.
    pattern = re.compile(r"\d{1,2}日|當天|這天|同一天|當晚|一天後|這一天")
    for entry in traditional().dates:
        for event in entry.events:
            assert pattern.search(event.text), event


def events_on(day: str, section: int) -> list[str]:
    entry = traditional().date(MonthDay(2, int(day)))
    assert entry is not None
    return [e.text for e in entry.events if e.section == section]


def test_relative_also_on_this_day() -> None:
    assert any("也是在這天" in text for text in events_on("16", 2))


def test_relative_same_day() -> None:
    assert any("同一天" in text for text in events_on("19", 1))


def test_relative_that_evening() -> None:
    assert any(text.startswith("當晚") for text in events_on("19", 4))


def test_relative_that_day_in_same_paragraph() -> None:
    assert any("也是當天" in text for text in events_on("16", 4))


def test_bare_day_takes_month_from_context() -> None:
    assert any(text.startswith("16日") for text in events_on("16", 2))
    assert any(text.startswith("在17日") for text in events_on("17", 4))


def test_relative_one_day_later() -> None:
    assert any(text.startswith("一天後") for text in events_on("19", 2))


@pytest.mark.parametrize("script", list(Script))
def test_no_ascii_punctuation_between_cjk(script: Script) -> None:
    data = library().article(script).to_json()
    for text in strings(data):
        assert not ASCII_BETWEEN_IDEOGRAPHS.search(text), text
        assert not ASCII_BETWEEN_CJK.search(text), text


# Every place of the source where an ASCII comma stands between CJK text and a date.
ASCII_BEFORE_DIGITS = ("第二天,2月14日", "搞防控”,19日", "現場部署,19日")


@pytest.mark.parametrize("place", ASCII_BEFORE_DIGITS)
def test_ascii_comma_before_digits_is_full_width(place: str) -> None:
    assert place in SOURCE
    fixed = place.replace(",", "，")
    data = json.dumps(traditional().to_json(), ensure_ascii=False)
    assert place not in data and fixed in data
    assert any(fixed in s.text for s in traditional().sections)


@pytest.mark.parametrize("script", list(Script))
def test_no_ascii_punctuation_next_to_cjk(script: Script) -> None:
    """ASCII , : ; ? ! touching CJK text is left only where the other side is not a digit."""
    cjk_digit = re.compile(f"(?:{CJK_CLASS}[,:;?!][0-9]|[0-9][,:;?!]{CJK_CLASS})")
    for text in strings(library().article(script).to_json()):
        assert not cjk_digit.search(text), text


def test_source_punctuation_places_are_all_known() -> None:
    """The source has exactly these ASCII commas between CJK text and a digit."""
    found = re.findall(f"{CJK_CLASS}[,:;?!][0-9]|[0-9][,:;?!]{CJK_CLASS}", SOURCE)
    assert sorted(found) == sorted(
        p[p.index(",") - 1 : p.index(",") + 2] for p in ASCII_BEFORE_DIGITS
    )


def test_traditional_keeps_the_article_forms() -> None:
    data = json.dumps(traditional().to_json(), ensure_ascii=False)
    for char in "為眾裡":
        assert char in SOURCE
        assert char in data
    for char in "爲衆裏":
        assert char not in data


def test_simplified_is_tw2s_of_traditional_for_every_field() -> None:
    trad, simp = traditional(), simplified()
    t = to_simplified
    assert simp.title == t(trad.title)
    assert simp.byline == t(trad.byline)
    assert simp.image_credit == t(trad.image_credit)
    for a, b in zip(trad.sections, simp.sections, strict=True):
        assert (b.number, b.kind) == (a.number, a.kind)
        assert b.title == t(a.title)
        assert b.paragraphs == tuple(t(p) for p in a.paragraphs)
    for qa, qb in zip(trad.quotes, simp.quotes, strict=True):
        assert (qb.number, qb.date, qb.section) == (qa.number, qa.date, qa.section)
        assert (qb.text, qb.occasion) == (t(qa.text), t(qa.occasion))
    for da, db in zip(trad.dates, simp.dates, strict=True):
        assert (db.date, db.quotes) == (da.date, da.quotes)
        assert [(e.text, e.section) for e in db.events] == [
            (t(e.text), e.section) for e in da.events
        ]
    assert simp.to_json() == map_strings(trad.to_json(), to_simplified)


def article_strings(article: Article) -> list[str]:
    """Every text field of an article: title, byline, credit, sections, quotes, date events."""
    found = [article.title, article.byline, article.image_credit]
    for section in article.sections:
        found += [section.title, *section.paragraphs]
    for quote in article.quotes:
        found += [quote.text, quote.occasion]
    found += [event.text for entry in article.dates for event in entry.events]
    return found


def test_tw2s_differs_from_t2s_only_by_the_aspect_particle() -> None:
    """The simplified edition (tw2s) and plain t2s differ in exactly one substitution: 著 → 着."""
    t2s = opencc.OpenCC("t2s")
    substitutions: Counter[tuple[str, str]] = Counter()
    for text, ours in zip(
        article_strings(traditional()), article_strings(simplified()), strict=True
    ):
        theirs = t2s.convert(text)
        assert len(theirs) == len(ours), text
        substitutions.update((a, b) for a, b in zip(theirs, ours, strict=True) if a != b)
    # 盯著, 看著 (twice: body and quote 6), 餓著肚子 (twice: body and quote 11)
    assert substitutions == Counter({("著", "着"): 5})


def test_simplified_writes_the_particle_as_mainland_text_does() -> None:
    data = json.dumps(simplified().to_json(), ensure_ascii=False)
    assert "著" not in data  # every 著 of the source is the aspect particle
    for phrase in ("看着这些人", "饿着肚子", "盯着"):
        assert phrase in data
    assert "著" in SOURCE and "着" not in SOURCE


def test_simplified_has_no_traditional_leftovers() -> None:
    data = json.dumps(simplified().to_json(), ensure_ascii=False)
    for char in "為眾裡這書記":
        assert char not in data


# --------------------------------------------------------------------------- library


def test_library_counts_and_lookups() -> None:
    lib = library()
    assert lib.section_count == 5
    assert lib.quote_count == 12
    assert lib.days == tuple(MonthDay(2, d) for d in range(13, 20))
    for script in Script:
        assert lib.section(0, script) is None
        assert lib.section(6, script) is None
        assert lib.quote(0, script) is None
        assert lib.quote(13, script) is None
        assert lib.date(MonthDay(2, 12), script) is None
        section = lib.section(2, script)
        assert section is not None and section.number == 2
        quote = lib.quote(4, script)
        assert quote is not None and quote.number == 4
        entry = lib.date(MonthDay(2, 16), script)
        assert entry is not None and entry.quotes == (2, 3, 4)


@pytest.mark.parametrize("word", ["細節", "细节", " 細節 ", "細節決定成敗", "细节决定成败"])
def test_search_quotes_either_script(word: str) -> None:
    assert library().search_quotes(word) == [4]


@pytest.mark.parametrize("word", ["調研物流配送基地", "调研物流配送基地"])
def test_search_quotes_matches_occasion(word: str) -> None:
    # Only the attribution shared by quotes 11 and 12 says this.
    assert library().search_quotes(word) == [11, 12]


@pytest.mark.parametrize("word", ["", "   ", "不存在的詞語XYZ"])
def test_search_quotes_nothing(word: str) -> None:
    assert library().search_quotes(word) == []


@pytest.mark.parametrize("word", ["暗訪", "暗访"])
def test_search_dates_either_script(word: str) -> None:
    assert library().search_dates(word) == [MonthDay(2, 18)]


@pytest.mark.parametrize("word", ["看著", "看着", "眼巴巴看著", "眼巴巴看着", "看著這些人"])
def test_search_quotes_finds_the_particle_in_either_form(word: str) -> None:
    assert library().search_quotes(word) == [6]


@pytest.mark.parametrize("word", ["餓著肚子", "饿着肚子", "餓着", "饿著"])
def test_search_quotes_hungry(word: str) -> None:
    assert library().search_quotes(word) == [11]


@pytest.mark.parametrize("word", ["盯著", "盯着", "一直盯著", "一直盯着", "著", "着"])
def test_search_dates_finds_the_particle_in_either_form(word: str) -> None:
    # No dated sentence of the real article has 著, so the event is made up.
    lib = Library(
        parse(article_text(TITLE, INTRO, "小標題", "2月16日，他一直盯著現場的每一個細節。"))
    )
    assert lib.search_dates(word) == [MonthDay(2, 16)]


def test_search_dates_in_date_order_without_repeats() -> None:
    days = library().search_dates("王忠林")
    assert days == sorted(set(days))
    assert len(days) >= 3
    assert library().search_dates("") == []


@pytest.mark.parametrize(
    "text",
    [
        "2月16日",
        "2/16",
        "2-16",
        "02-16",
        "16日",
        "16",
        "Feb 16",
        "feb. 16",
        "February 16th",
        "16 Feb",
        "2020-02-16",
        "2020年2月16日",
        "0216",
        "十六日",
        "二月十六日",
        " 2月16号 ",
    ],
)
def test_parse_day_accepts(text: str) -> None:
    assert library().parse_day(text) == MonthDay(2, 16)


@pytest.mark.parametrize(
    "text",
    ["", "   ", "hello", "2月30日", "2/30", "0230", "13/45", "Foo 16", "30日", "32日", "99"],
)
def test_parse_day_rejects(text: str) -> None:
    assert library().parse_day(text) is None


def test_parse_day_leap_day_is_valid() -> None:
    assert library().parse_day("2月29日") == MonthDay(2, 29)


@pytest.mark.parametrize("text", ["十十", "一二十日", "二十十"])
def test_parse_day_malformed_chinese_numerals(text: str) -> None:
    assert library().parse_day(text) is None


_CN = "〇零一二两兩三四五六七八九十"
DAY_ALPHABET = st.sampled_from(list("0123456789月日号號年/-. ,stndrhfebjanmay") + list(_CN))


@given(st.text(DAY_ALPHABET, max_size=12) | st.text(max_size=20))
@example("2月30日")
@example("")
def test_parse_day_never_raises(text: str) -> None:
    day = library().parse_day(text)
    if day is not None:
        assert isinstance(day, MonthDay)
        assert 1 <= day.month <= 12
        assert 1 <= day.day <= 31
        assert library().parse_day(day.label) == day
        assert library().parse_day(day.key) == day


def test_load_article_errors_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.txt"
    with pytest.raises(ArticleError, match=re.escape(str(missing))):
        load_article(missing)


def test_load_article_equals_parse() -> None:
    assert load_article(ARTICLE_PATH) == parse(SOURCE)


# --------------------------------------------------------------------------- model


def test_month_day_forms() -> None:
    day = MonthDay(2, 6)
    assert day.key == "02-06"
    assert day.compact == "0206"
    assert day.label == "2月6日"
    assert MonthDay(2, 6) < MonthDay(2, 16) < MonthDay(3, 1)


# --------------------------------------------------------------------------- synthetic


def test_synthetic_number_alone_on_a_line() -> None:
    article = parse(
        article_text(TITLE, INTRO, "引語", "1.", "“第一句話。”", "——2月16日，某次會議。")
    )
    assert [s.kind for s in article.sections] == [SectionKind.OPENING, SectionKind.QUOTES]
    (quote,) = article.quotes
    assert (quote.number, quote.text, quote.date.key) == (1, "“第一句話。”", "02-16")
    assert quote.occasion == "某次會議。"
    paragraphs = article.sections[1].paragraphs
    assert "1." in paragraphs  # the section keeps the source's paragraphs
    assert sum("“第一句話。”" in p for p in paragraphs) == 1


def test_synthetic_shared_attributions() -> None:
    article = parse(
        article_text(
            TITLE,
            INTRO,
            "引語",
            "1.“甲。”",
            "2. “乙。”",
            "3、“丙。”",
            "——2月16日，第一次會議。",
            "4.“丁。”",
            "——2月17日，第二次會議。",
        )
    )
    got = [(q.number, q.text, q.date.key, q.occasion) for q in article.quotes]
    assert got == [
        (1, "“甲。”", "02-16", "第一次會議。"),
        (2, "“乙。”", "02-16", "第一次會議。"),
        (3, "“丙。”", "02-16", "第一次會議。"),
        (4, "“丁。”", "02-17", "第二次會議。"),
    ]
    entry = article.date(MonthDay(2, 16))
    assert entry is not None and entry.quotes == (1, 2, 3)


def test_synthetic_footer_removed() -> None:
    article = parse(
        article_text(
            TITLE,
            INTRO,
            "小標題",
            "正文段落在這裡說了一件事情。",
            "【如果您有新聞線索,歡迎向我們報料。】",
            "分享到:",
            "相關文章:",
            "頁尾之後不應出現的段落。",
        )
    )
    assert [s.title for s in article.sections] == ["導語", "小標題"]
    assert article.sections[-1].paragraphs == ("正文段落在這裡說了一件事情。",)
    dumped = json.dumps(article.to_json(), ensure_ascii=False)
    for word in ("【", "報料", "分享到", "相關文章", "頁尾"):
        assert word not in dumped


def test_synthetic_heading_right_before_footer_is_a_paragraph() -> None:
    article = parse(article_text(TITLE, INTRO, "小標題", "正文段落。", "結尾短句", "【報料】"))
    assert [s.title for s in article.sections] == ["導語", "小標題"]
    assert article.sections[-1].paragraphs == ("正文段落。", "結尾短句")


def test_synthetic_captions_removed() -> None:
    caption = to_simplified(TITLE)
    article = parse(
        article_text(
            TITLE,
            TITLE,
            "本報記者 張三",
            "本文圖片來自網絡",
            INTRO,
            caption,
            "第二段開頭的內容。",
            "小標題",
            "小標題下的段落。",
            caption,
            "另一個段落。",
        )
    )
    assert article.title == TITLE
    assert article.byline == "本報記者 張三"
    assert article.image_credit == "本文圖片來自網絡"
    assert [s.title for s in article.sections] == ["導語", "小標題"]
    assert article.sections[0].paragraphs == (INTRO, "第二段開頭的內容。")
    assert article.sections[1].paragraphs == ("小標題下的段落。", "另一個段落。")
    dumped = json.dumps(article.to_json(), ensure_ascii=False)
    assert caption not in dumped
    assert "記者" not in dumped and "圖片" not in dumped


@pytest.mark.parametrize("caption", ["市委书记盯著的一周", "市委书记盯着的一周"])
def test_synthetic_caption_in_either_simplified_form_removed(caption: str) -> None:
    # The site's converter may write the particle 著 (t2s) or 着 (tw2s) in its captions.
    title = "市委書記盯著的一週"
    article = parse(
        article_text(
            title, caption, INTRO, caption, "第二段開頭的內容。", "小標題", "小標題下的段落。"
        )
    )
    assert article.title == title
    assert [s.title for s in article.sections] == ["導語", "小標題"]
    assert article.sections[0].paragraphs == (INTRO, "第二段開頭的內容。")


def test_real_source_keeps_its_heading_marker() -> None:
    assert "▶履新一週,武漢市委書記撂下的“狠話”" in SOURCE
    assert "▶" not in json.dumps(traditional().to_json(), ensure_ascii=False)


@pytest.mark.parametrize("marker", ["▶", "▶ ", "■", "◆ ", "●"])
def test_synthetic_heading_marker_dropped(marker: str) -> None:
    article = parse(article_text(TITLE, INTRO, f"{marker}小標題", "小標題下的段落。"))
    assert [s.title for s in article.sections] == ["導語", "小標題"]


def test_heading_title() -> None:
    assert heading_title("▶履新一週，狠話") == "履新一週，狠話"
    assert heading_title("“狠話”") == "“狠話”"
    assert heading_title("▶") == "▶"  # a marker alone is all the heading there is
    assert heading_title("問責▶") == "問責▶"


def test_synthetic_caption_equal_to_title_removed() -> None:
    title = "王忠林上任"
    assert to_simplified(title) == title
    article = parse(
        article_text(title, INTRO, title, "第二段開頭的內容。", "小標題", "小標題下的段落。")
    )
    assert [s.title for s in article.sections] == ["導語", "小標題"]
    assert article.sections[0].paragraphs == (INTRO, "第二段開頭的內容。")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\n  ",
        "\ufeff",
        "只有標題",
        article_text(TITLE, INTRO, "另一個很長的段落，它也以句號結束。"),
        article_text(TITLE, INTRO, "最後一行沒有標點"),
    ],
)
def test_synthetic_structureless_raises(text: str) -> None:
    with pytest.raises(ArticleError):
        parse(text)


def test_synthetic_bare_day_before_any_month_ignored() -> None:
    article = parse(
        article_text(TITLE, "5日，有人來到了這座城市開始工作。", "小標題", "2月6日，事情發生了。")
    )
    assert [d.date.key for d in article.dates] == ["02-06"]


def test_synthetic_day_evening() -> None:
    article = parse(
        article_text(
            TITLE,
            INTRO,
            "小標題",
            "2月18日，第一件事情發生在城市裡。",
            "19日晚，第二件事情在夜裡發生了。",
        )
    )
    entry = article.date(MonthDay(2, 19))
    assert entry is not None
    assert [(e.text, e.section) for e in entry.events] == [("19日晚，第二件事情在夜裡發生了。", 2)]


def test_synthetic_relative_words() -> None:
    article = parse(
        article_text(
            TITLE,
            "當天有人來到了這座城市開始工作，但沒有日期。",
            "小標題",
            "2月18日，第一件事情發生在城市裡。當晚，又在會議室裡開了一次很長很長的工作會議。",
            "一天後，第二件事情在城市裡發生了。",
            "同一天，第三件事情也在城市裡發生了。",
        )
    )
    # The undated 當天 before any date is ignored.
    assert [d.date.key for d in article.dates] == ["02-18", "02-19"]
    day18 = article.date(MonthDay(2, 18))
    day19 = article.date(MonthDay(2, 19))
    assert day18 is not None and day19 is not None
    assert [e.text for e in day18.events] == [
        "2月18日，第一件事情發生在城市裡。",
        "當晚，又在會議室裡開了一次很長很長的工作會議。",
    ]
    assert day19.events[0].text == "一天後，第二件事情在城市裡發生了。"
    # Whatever 同一天 resolves to, it is not the day before 一天後.
    assert all("同一天" not in e.text for e in day18.events)


def test_synthetic_short_sentence_reads_with_previous() -> None:
    article = parse(article_text(TITLE, INTRO, "小標題", "會議開了很久很久才結束了。2月3日到了。"))
    entry = article.date(MonthDay(2, 3))
    assert entry is not None
    assert [e.text for e in entry.events] == ["會議開了很久很久才結束了。2月3日到了。"]


def test_synthetic_impossible_explicit_date_ignored() -> None:
    article = parse(article_text(TITLE, "2月30日，有人來到了這座城市。", "小標題", "正文。"))
    assert article.dates == ()


def test_synthetic_attribution_bare_day_takes_month_from_body() -> None:
    article = parse(
        article_text(
            TITLE,
            "2月15日，開頭一段話說明了事情。",
            "引語",
            "1.“甲。”",
            "——16日，某會議。",
            "2.“乙。”",
            "——2月17日，另一會議。",
        )
    )
    assert [(q.number, q.date.key) for q in article.quotes] == [(1, "02-16"), (2, "02-17")]


def test_synthetic_crlf_bom_and_wrapped_lines_parse_the_same() -> None:
    text = article_text(TITLE, INTRO, "小標題", "正文第一行,\n接著第二行。")
    article = parse(text)
    assert article.sections[1].paragraphs == ("正文第一行，接著第二行。",)
    assert parse("\ufeff" + text.replace("\n", "\r\n")) == article


# --------------------------------------------------------------------------- normalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("中,文", "中，文"),
        ("中:文", "中：文"),
        ("中;文", "中；文"),
        ("中?文", "中？文"),
        ("中!文", "中！文"),
        ("“甲”,“乙”", "“甲”，“乙”"),
        ("了!”", "了！”"),
        ("  中,文\n", "中，文"),
        ("第二天,2月", "第二天，2月"),
        ("共14位,他們", "共14位，他們"),
        ("截至17日,14位", "截至17日，14位"),
        ("共10,他們", "共10，他們"),
        ("時間:8:30", "時間：8:30"),
        ("10,000人", "10,000人"),
        ("早上8:30開會", "早上8:30開會"),
        ("比分3:2,", "比分3:2,"),
        ("v2,中", "v2，中"),
        ("a,b", "a,b"),
        ("中, 文", "中, 文"),
        ("中,", "中,"),
        ("ihxdsb,報料QQ:3386405712", "ihxdsb,報料QQ:3386405712"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@given(st.text(st.sampled_from(list(",:;?! \n中文“”‘’a1。，")), max_size=30) | st.text())
def test_normalize_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
    assert once == spec_normalize(text)


# --------------------------------------------------------------------------- sentences


@pytest.mark.parametrize(
    ("paragraph", "expected"),
    [
        ("甲。乙！丙？", ["甲。", "乙！", "丙？"]),
        ("“甲。”乙。", ["“甲。”", "乙。"]),
        ("甲。。乙", ["甲。。", "乙"]),
        ("沒有句號", ["沒有句號"]),
        ("甲?!乙", ["甲?!", "乙"]),
        ("", []),
    ],
)
def test_split_sentences(paragraph: str, expected: list[str]) -> None:
    assert split_sentences(paragraph) == expected


@given(st.text(st.sampled_from(list("甲乙。！？!?”’」）》 \n；")), max_size=30) | st.text())
def test_split_sentences_joined_equals_input(text: str) -> None:
    paragraph = text.strip()  # the parser splits normalized (trimmed) paragraphs
    sentences = split_sentences(paragraph)
    assert "".join(sentences) == paragraph
    assert all(s.strip() for s in sentences)


# --------------------------------------------------------------------------- CLI


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.content", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        timeout=60,
        check=False,
    )


@functools.cache
def cli_json(script: str) -> dict[str, Any]:
    result = run_cli("--json", "--script", script)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@pytest.mark.parametrize("script", ["traditional", "simplified"])
def test_cli_json_schema_exact(script: str) -> None:
    data = cli_json(script)
    assert set(data) == {"title", "sections", "quotes", "dates"}
    assert isinstance(data["title"], str)
    sections, quotes, dates = data["sections"], data["quotes"], data["dates"]
    assert isinstance(sections, list) and isinstance(quotes, list) and isinstance(dates, list)
    for section in sections:
        assert set(section) == {"number", "title", "text"}
        assert is_int(section["number"])
        assert isinstance(section["title"], str) and isinstance(section["text"], str)
    for quote in quotes:
        assert set(quote) == {"number", "text", "date", "occasion"}
        assert is_int(quote["number"])
        assert isinstance(quote["text"], str) and isinstance(quote["occasion"], str)
        assert re.fullmatch(r"\d{2}-\d{2}", quote["date"])
    for entry in dates:
        assert set(entry) == {"date", "events"}
        assert re.fullmatch(r"\d{2}-\d{2}", entry["date"])
        assert isinstance(entry["events"], list) and entry["events"]
        assert all(isinstance(e, str) for e in entry["events"])


def test_cli_json_content() -> None:
    data = cli_json("traditional")
    assert data == traditional().to_json()
    assert [s["title"] for s in data["sections"]] == list(EXPECTED_TITLES)
    assert [q["date"] for q in data["quotes"]] == list(EXPECTED_QUOTE_DATES)
    assert [d["date"] for d in data["dates"]] == list(EXPECTED_DAYS)


def test_cli_json_simplified_is_tw2s() -> None:
    simp = cli_json("simplified")
    assert simp == map_strings(cli_json("traditional"), to_simplified)
    assert simp["title"] != cli_json("traditional")["title"]


def test_cli_default_script_is_traditional() -> None:
    result = run_cli("--json")
    assert result.returncode == 0
    assert json.loads(result.stdout) == cli_json("traditional")


@pytest.mark.parametrize("script", ["traditional", "simplified"])
def test_cli_outline(script: str) -> None:
    result = run_cli("--script", script)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    article = library().article(Script(script))
    lines = result.stdout.splitlines()
    assert lines[0] == article.title
    for section in article.sections:
        assert any(line.startswith(f"  {section.number}. {section.title} (") for line in lines)
    for quote in article.quotes:
        assert f"{quote.number:>2}. [{quote.date.key}] {quote.text}" in result.stdout
    for entry in article.dates:
        assert any(line.startswith(f"  {entry.date.key}: ") for line in lines)


def test_cli_article_option(tmp_path: Path) -> None:
    path = tmp_path / "other.txt"
    path.write_text(article_text(TITLE, INTRO, "小標題", "2月18日，正文。"), encoding="utf-8")
    result = run_cli("--json", "--article", str(path))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["title"] == TITLE
    assert [s["title"] for s in data["sections"]] == ["導語", "小標題"]
    assert data["dates"] == [{"date": "02-18", "events": ["2月18日，正文。"]}]


def _missing(tmp_path: Path) -> Path:
    return tmp_path / "nope.txt"


def _empty(tmp_path: Path) -> Path:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    return path


def _blank(tmp_path: Path) -> Path:
    path = tmp_path / "blank.txt"
    path.write_bytes(b" \n\n\t\n")
    return path


def _not_utf8(tmp_path: Path) -> Path:
    path = tmp_path / "big5.txt"
    path.write_bytes("履新一週 市委書記\n\n正文。\n".encode("big5"))
    return path


def _directory(tmp_path: Path) -> Path:
    path = tmp_path / "a_directory"
    path.mkdir()
    return path


def _structureless(tmp_path: Path) -> Path:
    path = tmp_path / "flat.txt"
    path.write_text(article_text(TITLE, INTRO, "又一段完整的句子。"), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (_missing, "not found"),
        (_empty, "empty"),
        (_blank, "empty"),
        (_not_utf8, "UTF-8"),
        (_directory, "directory"),
        (_structureless, "heading"),
    ],
)
def test_cli_errors(tmp_path: Path, make: Callable[[Path], Path], problem: str) -> None:
    path = make(tmp_path)
    for extra in ((), ("--json",)):
        result = run_cli(*extra, "--article", str(path))
        assert result.returncode != 0
        assert result.stdout == ""
        assert "Traceback" not in result.stderr
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        assert str(path) in lines[0]
        assert problem in lines[0]


# --- one reading of numbers -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("3", 3),
        ("３", 3),
        ("１２", 12),
        ("三", 3),
        ("十", 10),
        ("十二", 12),
        ("二十", 20),
        ("第3條", 3),
        ("第3条", 3),
        ("第3節", 3),
        ("第3节", 3),
        ("第十二條", 12),
        ("#4", 4),
        ("第５节", 5),
    ],
)
def test_one_parser_reads_every_way_of_writing_a_number(typed: str, number: int) -> None:
    from bot.rules.arguments import parse_item, parse_item_number

    assert parse_item_number(typed) == number
    found = parse_item(typed)
    assert found is not None and found.number == number


@pytest.mark.parametrize("typed", ["三天", "第", "abc", "²", "①", "十十", "", "第3天"])
def test_what_is_not_a_number_is_not_read_as_one(typed: str) -> None:
    from bot.rules.arguments import parse_item_number

    assert parse_item_number(typed) is None


@pytest.mark.parametrize(
    ("typed", "kind", "number"),
    [
        ("語錄 十二", "quote", 12),
        ("语录3", "quote", 3),
        ("第三节", "section", 3),
        ("第12條", "quote", 12),
    ],
)
def test_a_buttons_label_typed_as_text_names_its_item(typed: str, kind: str, number: int) -> None:
    from bot.rules.arguments import ItemRef, parse_item

    assert parse_item(typed) == ItemRef(kind, number)
