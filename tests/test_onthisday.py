"""Years ago in Chinese numerals, the story's day on today's date and the nearest story day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.content import Article, DateEntry, Event, Library, MonthDay
from bot.content.dates import ANY_LEAP_YEAR
from bot.rules.onthisday import nearest_day, on_this_day, years_ago, years_ago_words


def library_with_days(*days: MonthDay) -> Library:
    dates = tuple(DateEntry(d, (Event("事", 1),), ()) for d in sorted(days))
    return Library(Article("題", "記者", "圖", (), (), dates))


# --- years ago -------------------------------------------------------------------------------


def test_years_ago_counts_calendar_years() -> None:
    assert years_ago(2000, date(2006, 2, 13)) == 6
    assert years_ago(2000, date(2006, 12, 31)) == 6
    assert years_ago(2000, date(2000, 6, 1)) == 0


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (1, "一"),
        (2, "二"),
        (6, "六"),
        (7, "七"),
        (9, "九"),
        (10, "十"),
        (11, "十一"),
        (12, "十二"),
        (19, "十九"),
        (20, "二十"),
        (21, "二十一"),
        (30, "三十"),
        (45, "四十五"),
        (99, "九十九"),
    ],
)
def test_years_in_chinese_numerals(n: int, words: str) -> None:
    assert years_ago_words(n) == words


def read_numeral(words: str) -> int:
    """Read back a numeral of the form [d]十[d] or d, written independently of the module."""
    digits = {c: i for i, c in enumerate("一二三四五六七八九", start=1)}
    if "十" not in words:
        return digits[words]
    tens, ones = words.split("十")
    return (digits[tens] if tens else 1) * 10 + (digits[ones] if ones else 0)


@pytest.mark.parametrize("n", range(1, 100))
def test_every_number_reads_back_and_is_written_the_usual_way(n: int) -> None:
    words = years_ago_words(n)
    assert read_numeral(words) == n
    assert not words.startswith("一十")  # 十二, not 一十二
    assert "零" not in words and len(words) <= 3


@pytest.mark.parametrize("n", [0, 100, -1])
def test_numbers_outside_one_to_ninety_nine_are_refused(n: int) -> None:
    with pytest.raises(ValueError):
        years_ago_words(n)


# --- on this day -----------------------------------------------------------------------------


def test_each_story_day_is_found_in_any_year(library: Library) -> None:
    for day in library.days:
        for year in (2021, 2024, 2030):
            assert on_this_day(library, date(year, day.month, day.day)) == day


def test_only_the_story_days_are_found_across_a_leap_year(library: Library) -> None:
    year = date(2024, 1, 1)
    others = [year + timedelta(days=n) for n in range(366)]
    found = [d for d in others if on_this_day(library, d) is not None]
    assert [MonthDay(d.month, d.day) for d in found] == list(library.days)


def test_the_29th_of_february_matches_only_when_the_story_has_it() -> None:
    leap = MonthDay(2, 29)
    assert on_this_day(library_with_days(leap), date(2024, 2, 29)) == leap
    assert on_this_day(library_with_days(MonthDay(2, 28)), date(2024, 2, 29)) is None


# --- nearest day -----------------------------------------------------------------------------


def test_a_story_day_is_its_own_nearest(library: Library) -> None:
    for day in library.days:
        assert nearest_day(library, date(2025, day.month, day.day)) == day


def test_the_day_after_the_story_is_nearest_its_last_day(library: Library) -> None:
    last = max(library.days)
    after = date(ANY_LEAP_YEAR, last.month, last.day) + timedelta(days=1)
    assert nearest_day(library, after) == last
    assert nearest_day(library, date(2025, 2, 20)) == MonthDay(2, 19)  # what the article yields


def test_new_years_eve_goes_forward_around_the_year(library: Library) -> None:
    assert nearest_day(library, date(2025, 12, 31)) == min(library.days) == MonthDay(2, 13)


def test_the_29th_of_february_is_a_valid_today(library: Library) -> None:
    assert nearest_day(library, date(2024, 2, 29)) == max(library.days)


def test_a_tie_goes_to_the_earlier_day() -> None:
    library = library_with_days(MonthDay(3, 1), MonthDay(3, 5))
    assert nearest_day(library, date(2025, 3, 3)) == MonthDay(3, 1)


def test_a_tie_across_the_year_end_goes_to_the_earlier_day_in_the_calendar() -> None:
    # 31 December is ten days from both (on a leap-year calendar, 21 December is day 356).
    library = library_with_days(MonthDay(1, 10), MonthDay(12, 21))
    assert nearest_day(library, date(2025, 12, 31)) == MonthDay(1, 10)


def test_the_short_way_round_wins() -> None:
    library = library_with_days(MonthDay(1, 5), MonthDay(6, 1))
    assert nearest_day(library, date(2025, 12, 30)) == MonthDay(1, 5)
    assert nearest_day(library, date(2025, 1, 6)) == MonthDay(1, 5)
    assert nearest_day(library, date(2025, 5, 1)) == MonthDay(6, 1)


def test_an_article_without_dates_has_no_nearest_day() -> None:
    with pytest.raises(ValueError):
        nearest_day(library_with_days(), date(2025, 1, 1))


def walk_nearest(days: set[MonthDay], today: date) -> MonthDay:
    """Step outwards one day at a time, both ways round a leap-year calendar."""
    calendar = [date(ANY_LEAP_YEAR, 1, 1) + timedelta(days=n) for n in range(366)]
    ring = [MonthDay(d.month, d.day) for d in calendar]
    here = ring.index(MonthDay(today.month, today.day))
    for step in range(len(ring)):
        hits = {ring[(here + step) % len(ring)], ring[(here - step) % len(ring)]} & days
        if hits:
            return min(hits)
    raise AssertionError("no days")


all_days = st.dates(date(ANY_LEAP_YEAR, 1, 1), date(ANY_LEAP_YEAR, 12, 31)).map(
    lambda d: MonthDay(d.month, d.day)
)


@given(st.sets(all_days, min_size=1, max_size=8), st.dates())
def test_nearest_day_matches_a_day_by_day_walk(days: set[MonthDay], today: date) -> None:
    assert nearest_day(library_with_days(*days), today) == walk_nearest(days, today)


@given(st.dates())
def test_the_real_articles_nearest_day_matches_a_day_by_day_walk(
    library: Library, today: date
) -> None:
    assert nearest_day(library, today) == walk_nearest(set(library.days), today)
