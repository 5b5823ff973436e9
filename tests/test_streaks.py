"""Streaks of days in a row, checked against a brute-force count over random visit days."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.rules.streaks import Streak, current_on, touch

START = date(2025, 2, 13)


def day(n: int) -> date:
    return START + timedelta(days=n)


def run_ending(days: set[date], last: date) -> int:
    """Count the consecutive days in days ending on last (0 if last is not in days)."""
    n = 0
    while last - timedelta(days=n) in days:
        n += 1
    return n


def reference(days: list[date]) -> Streak:
    """Build the streak for visits in date order by counting runs over the set of days."""
    if not days:
        return Streak()
    seen = set(days)
    return Streak(run_ending(seen, days[-1]), max(run_ending(seen, d) for d in seen), days[-1])


def replay(days: list[date]) -> Streak:
    streak = Streak()
    for d in days:
        streak = touch(streak, d)
    return streak


# --- examples --------------------------------------------------------------------------------


def test_a_first_visit_starts_a_streak_of_one() -> None:
    assert touch(Streak(), day(0)) == Streak(1, 1, day(0))


def test_the_same_day_changes_nothing() -> None:
    streak = touch(Streak(), day(0))
    assert touch(streak, day(0)) is streak


def test_the_next_day_extends_the_streak() -> None:
    assert replay([day(0), day(1), day(2)]) == Streak(3, 3, day(2))


def test_a_gap_starts_over_and_keeps_the_best() -> None:
    assert replay([day(0), day(1), day(2), day(4)]) == Streak(1, 3, day(4))
    assert replay([day(0), day(1), day(2), day(4), day(5)]) == Streak(2, 3, day(5))


def test_an_earlier_day_is_ignored() -> None:
    # A chat that moves to a zone further west can see its local date go back by one.
    streak = replay([day(0), day(1)])
    assert touch(streak, day(0)) is streak


def test_the_streak_spans_month_and_year_ends() -> None:
    assert replay([date(2024, 12, 31), date(2025, 1, 1)]).current == 2
    assert replay([date(2024, 2, 28), date(2024, 2, 29), date(2024, 3, 1)]).current == 3
    assert replay([date(2025, 2, 28), date(2025, 3, 1)]).current == 2


def test_what_to_show_today() -> None:
    streak = replay([day(0), day(1), day(2)])
    assert current_on(streak, day(2)) == 3  # visited today
    assert current_on(streak, day(3)) == 3  # not yet today: still alive until the day ends
    assert current_on(streak, day(4)) == 0  # a whole day missed: broken
    assert current_on(streak, day(1)) == 3  # local date went back: not broken
    assert current_on(Streak(), day(0)) == 0


# --- properties against a brute-force reference ----------------------------------------------

# Offsets from START with small steps, so that runs, repeats and gaps are all common.
steps = st.lists(st.integers(min_value=0, max_value=3), max_size=40)


def days_from(gaps: list[int]) -> list[date]:
    days, offset = [], 0
    for gap in gaps:
        offset += gap
        days.append(day(offset))
    return days


@given(steps)
def test_in_order_visits_match_the_longest_and_last_runs(gaps: list[int]) -> None:
    days = days_from(gaps)
    assert replay(days) == reference(days)


@given(st.lists(st.integers(min_value=0, max_value=30), max_size=40))
def test_visits_in_any_order_count_only_days_after_the_last(offsets: list[int]) -> None:
    days = [day(n) for n in offsets]
    # Reference: a day earlier than one already seen is dropped, whatever came before it.
    kept = [d for i, d in enumerate(days) if all(d >= e for e in days[:i])]
    assert replay(days) == reference(kept)


@given(steps, st.integers(min_value=0, max_value=5))
def test_current_on_is_the_run_ending_today_or_yesterday(gaps: list[int], later: int) -> None:
    days = days_from(gaps)
    today = (days[-1] if days else START) + timedelta(days=later)
    seen = set(days)
    expected = run_ending(seen, today) or run_ending(seen, today - timedelta(days=1))
    assert current_on(replay(days), today) == expected


@given(steps)
def test_repeating_every_visit_changes_nothing(gaps: list[int]) -> None:
    days = days_from(gaps)
    assert replay([d for d in days for _ in range(2)]) == replay(days)


@given(steps)
def test_best_is_never_below_current(gaps: list[int]) -> None:
    streak = replay(days_from(gaps))
    assert 0 <= streak.current <= streak.best
