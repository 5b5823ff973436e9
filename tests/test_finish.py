"""The finish summary: inclusive days taken and the numbers gathered in one place."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from bot.rules.chats import ChatState
from bot.rules.finish import FinishSummary, days_taken, summarize, summary_of
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


SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_the_summary_counts_days_on_the_chats_calendar() -> None:
    """Started 23:30 UTC on the 12th is the 13th in Shanghai; finished the 14th there."""
    started = int(datetime(2025, 2, 12, 23, 30, tzinfo=UTC).timestamp())
    finished = int(datetime(2025, 2, 14, 1, 0, tzinfo=UTC).timestamp())
    chat = ChatState(1, "private", read_mask=0b1011, started_at=started, finished_at=finished)
    later = datetime(2025, 3, 1, tzinfo=UTC)  # not used: both ends are recorded
    summary = summary_of(chat, SHANGHAI, later, 5, Score(4, 3))
    assert summary == FinishSummary(2, 3, 5, 3, 4)


def test_an_end_not_yet_recorded_is_now() -> None:
    """The digest that ends the article sends its summary before the finish is recorded."""
    started = int(datetime(2025, 2, 13, 0, 0, tzinfo=UTC).timestamp())
    chat = ChatState(1, "private", read_mask=0b11, started_at=started)
    now = datetime(2025, 2, 20, 23, 0, tzinfo=UTC)  # the 21st in Shanghai
    assert summary_of(chat, SHANGHAI, now, 2).days_taken == 9
    fresh = ChatState(2, "private", read_mask=0b1)  # a whole reading in one /next
    assert summary_of(fresh, SHANGHAI, now, 1).days_taken == 1
