"""The finish summary: inclusive days taken and the numbers gathered in one place."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.rules.finish import FinishSummary, days_taken, summarize
from bot.rules.quiz_questions import Score


def test_the_same_day_is_one_day() -> None:
    assert days_taken(date(2025, 2, 13), date(2025, 2, 13)) == 1


def test_both_ends_are_counted() -> None:
    assert days_taken(date(2025, 2, 13), date(2025, 2, 14)) == 2
    assert days_taken(date(2025, 2, 13), date(2025, 2, 19)) == 7


def test_month_year_and_leap_days_are_counted() -> None:
    assert days_taken(date(2024, 12, 30), date(2025, 1, 2)) == 4
    assert days_taken(date(2024, 2, 28), date(2024, 3, 1)) == 3
    assert days_taken(date(2025, 2, 28), date(2025, 3, 1)) == 2


def test_a_finish_before_the_start_counts_as_one_day() -> None:
    assert days_taken(date(2025, 2, 14), date(2025, 2, 13)) == 1


@given(st.dates(max_value=date(9000, 1, 1)), st.integers(min_value=0, max_value=3_000))
def test_days_taken_counts_every_day_from_start_to_finish(start: date, extra: int) -> None:
    finish = start + timedelta(days=extra)
    walked, day = 1, start
    while day < finish:
        day += timedelta(days=1)
        walked += 1
    assert days_taken(start, finish) == walked


def test_summarize_gathers_the_numbers() -> None:
    score = Score().record(True).record(False)
    summary = summarize(date(2025, 2, 13), date(2025, 2, 17), 5, 5, score)
    assert summary == FinishSummary(
        days_taken=5, sections_read=5, total=5, quiz_right=1, quiz_answered=2
    )


def test_a_reader_who_never_played_has_an_empty_score() -> None:
    summary = summarize(date(2025, 2, 13), date(2025, 2, 13), 3, 5)
    assert (summary.quiz_right, summary.quiz_answered) == (0, 0)
