"""Reading time, a section's main date and the recap before the next section."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.content import Article, DateEntry, Event, Library, MonthDay, Section, SectionKind
from bot.content.scripts import Script
from bot.rules.reading import (
    READING_SPEED,
    Recap,
    main_date,
    readable_chars,
    reading_minutes,
    recap,
)


def section(*paragraphs: str, title: str = "") -> Section:
    return Section(1, title, SectionKind.PART, paragraphs)


def article_with_events(*events: tuple[MonthDay, int]) -> Article:
    """Build an article whose date index holds one event per (day, section) pair, in that order."""
    days = list(dict.fromkeys(day for day, _ in events))
    dates = tuple(
        DateEntry(day, tuple(Event("事", n) for d, n in events if d == day), ()) for day in days
    )
    sections = tuple(Section(n, f"第{n}節", SectionKind.PART, ("正文。",)) for n in (1, 2, 3))
    return Article("題", "記者", "圖", sections, (), dates)


# --- reading_minutes -------------------------------------------------------------------------


def test_the_reading_speed_is_a_typical_one_for_chinese() -> None:
    assert 300 <= READING_SPEED <= 500


def test_punctuation_and_spaces_are_not_counted() -> None:
    assert readable_chars("“武汉，2月16日！” ABC　def\n\n……——《》") == len("武汉2月16日ABCdef")


def test_full_width_letters_and_digits_are_counted() -> None:
    assert readable_chars("ＡＢ１２") == 4


@pytest.mark.parametrize(
    ("chars", "minutes"), [(0, 1), (1, 1), (400, 1), (401, 2), (800, 2), (801, 3)]
)
def test_minutes_are_rounded_up_and_at_least_one(chars: int, minutes: int) -> None:
    assert reading_minutes(section("字" * chars)) == minutes


def test_the_title_is_read_too() -> None:
    assert reading_minutes(section("字" * 400, title="標題")) == 2


def test_another_speed_can_be_given() -> None:
    assert reading_minutes(section("字" * 600), chars_per_minute=300) == 2


def test_the_speed_must_be_positive() -> None:
    with pytest.raises(ValueError):
        reading_minutes(section("字"), chars_per_minute=0)


@given(words=st.lists(st.text(min_size=1), max_size=5), cpm=st.integers(1, 1000))
def test_minutes_cover_the_text_and_punctuation_is_free(words: list[str], cpm: int) -> None:
    minutes = reading_minutes(section(*words), cpm)
    chars = readable_chars("".join(words))
    assert minutes >= 1
    assert (minutes - 1) * cpm < max(chars, 1) <= minutes * cpm
    padded = section(*(f"，{w}。 " for w in words))
    assert reading_minutes(padded, cpm) == minutes


def test_the_real_sections_take_a_few_minutes_in_either_script(library: Library) -> None:
    for number in range(1, library.section_count + 1):
        simplified = library.section(number, Script.SIMPLIFIED)
        traditional = library.section(number, Script.TRADITIONAL)
        assert simplified is not None and traditional is not None
        minutes = reading_minutes(simplified)
        assert 1 <= minutes <= 5
        assert reading_minutes(traditional) == minutes


# --- main_date -------------------------------------------------------------------------------


def test_the_date_with_most_events_wins() -> None:
    march = [MonthDay(3, d) for d in (1, 2, 3)]
    article = article_with_events(
        (march[0], 1), (march[1], 1), (march[1], 1), (march[2], 1), (march[2], 2)
    )
    assert main_date(article, 1) == march[1]
    assert main_date(article, 2) == march[2]


def test_a_tie_goes_to_the_earliest_date() -> None:
    early, late = MonthDay(1, 31), MonthDay(12, 1)
    # The late day comes first in the index, so only the rule can pick the early one.
    article = article_with_events((late, 1), (early, 1), (late, 2), (early, 2), (early, 2))
    assert article.dates[0].date == late
    assert main_date(article, 1) == early


def test_a_section_without_events_has_no_main_date() -> None:
    article = article_with_events((MonthDay(3, 1), 1))
    assert main_date(article, 3) is None
    assert main_date(article, 99) is None


def test_the_real_sections_main_dates(library: Library) -> None:
    article = library.article(Script.SIMPLIFIED)
    for s in article.sections:
        counts = {
            entry.date: sum(e.section == s.number for e in entry.events) for entry in article.dates
        }
        best = max(counts.values())
        tied = [day for day, n in counts.items() if n == best > 0]
        expected = min(tied) if tied else None
        assert main_date(article, s.number) == expected
    assert [main_date(article, s.number) for s in article.sections] == [
        MonthDay(2, 19),
        MonthDay(2, 16),
        MonthDay(2, 18),
        MonthDay(2, 19),
        None,  # the quote list: its quotes' stories are told in the body sections
    ]


# --- recap -----------------------------------------------------------------------------------


def test_no_recap_before_the_first_section(library: Library) -> None:
    assert recap(library.article(Script.SIMPLIFIED), 0) is None


def test_the_recap_is_of_the_section_read_last(library: Library) -> None:
    article = library.article(Script.TRADITIONAL)
    for progress in range(1, library.section_count + 1):
        s = article.sections[progress - 1]
        assert recap(article, progress) == Recap(s.number, s.title, main_date(article, s.number))


def test_the_recap_title_is_in_the_articles_script(library: Library) -> None:
    simplified = recap(library.article(Script.SIMPLIFIED), 3)
    traditional = recap(library.article(Script.TRADITIONAL), 3)
    assert simplified is not None and traditional is not None
    assert simplified.title == library.article(Script.SIMPLIFIED).sections[2].title
    assert traditional.title == library.article(Script.TRADITIONAL).sections[2].title


def test_no_recap_beyond_the_article(library: Library) -> None:
    assert recap(library.article(Script.SIMPLIFIED), library.section_count + 1) is None


def test_negative_progress_is_an_error(library: Library) -> None:
    with pytest.raises(ValueError):
        recap(library.article(Script.SIMPLIFIED), -1)
