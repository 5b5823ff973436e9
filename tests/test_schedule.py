"""The pure due-time functions: local wall time across zones, DST changes and odd offsets."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.rules.schedule import (
    format_hhmm,
    next_due_epoch,
    next_occurrence,
    parse_hhmm,
    plan_delivery,
)
from bot.rules.zones import resolve_zone

NEW_YORK = ZoneInfo("America/New_York")
KATHMANDU = ZoneInfo("Asia/Kathmandu")
SHANGHAI = ZoneInfo("Asia/Shanghai")
LONDON = ZoneInfo("Europe/London")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")  # DST shifts by 30 minutes, not an hour


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def wall(instant: datetime, tz: ZoneInfo) -> tuple[str, str]:
    local = instant.astimezone(tz)
    return local.date().isoformat(), f"{local:%H:%M}"


# --- next_occurrence -------------------------------------------------------------------------


def test_later_today_when_the_time_is_still_ahead() -> None:
    after = datetime(2025, 3, 5, 7, 59, 30, tzinfo=SHANGHAI)
    due = next_occurrence(after, time(8, 0), SHANGHAI)
    assert due == datetime(2025, 3, 5, 8, 0, tzinfo=SHANGHAI)
    assert due.tzinfo is UTC  # stored as UTC epoch seconds, so it comes back in UTC


def test_strictly_after_so_a_delivery_at_its_minute_moves_to_tomorrow() -> None:
    # The deliverer asks for the next time right after delivering: it must not be "now".
    at = datetime(2025, 3, 5, 8, 0, tzinfo=SHANGHAI)
    assert next_occurrence(at, time(8, 0), SHANGHAI) == at + timedelta(days=1)
    just_before = at - timedelta(microseconds=1)
    assert next_occurrence(just_before, time(8, 0), SHANGHAI) == at


def test_zone_of_after_does_not_matter() -> None:
    # 2025-03-05 23:30 UTC is already 07:30 on the 6th in Shanghai.
    assert wall(next_occurrence(utc(2025, 3, 5, 23, 30), time(8, 0), SHANGHAI), SHANGHAI) == (
        "2025-03-06",
        "08:00",
    )


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_occurrence(datetime(2025, 1, 1, 8, 0), time(8, 0), SHANGHAI)


def test_kathmandu_quarter_hour_offset() -> None:
    due = next_occurrence(utc(2025, 6, 1, 0, 0), time(8, 0), KATHMANDU)
    assert due == utc(2025, 6, 1, 2, 15)  # UTC+05:45
    assert wall(due, KATHMANDU) == ("2025-06-01", "08:00")


@pytest.mark.parametrize(
    ("after", "expected_utc"),
    [
        # 2025-03-09 is the spring-forward day in New York: 08:00 is EDT (UTC-4), not EST.
        (utc(2025, 3, 8, 14, 0), utc(2025, 3, 9, 12, 0)),
        # The day before it was still EST (UTC-5).
        (utc(2025, 3, 7, 14, 0), utc(2025, 3, 8, 13, 0)),
        # 2025-11-02 is the fall-back day: 08:00 is EST again.
        (utc(2025, 11, 1, 13, 0), utc(2025, 11, 2, 13, 0)),
        (utc(2025, 10, 31, 13, 0), utc(2025, 11, 1, 12, 0)),
    ],
)
def test_new_york_keeps_the_wall_time_across_dst(after: datetime, expected_utc: datetime) -> None:
    due = next_occurrence(after, time(8, 0), NEW_YORK)
    assert due == expected_utc
    assert due.astimezone(NEW_YORK).time() == time(8, 0)


def test_spring_forward_gap_time_is_delivered_an_hour_later_once() -> None:
    # 02:30 does not exist on 2025-03-09 in New York (02:00 jumps to 03:00).
    before = next_occurrence(utc(2025, 3, 7, 12, 0), time(2, 30), NEW_YORK)
    assert wall(before, NEW_YORK) == ("2025-03-08", "02:30")
    in_gap = next_occurrence(before, time(2, 30), NEW_YORK)
    assert wall(in_gap, NEW_YORK) == ("2025-03-09", "03:30")
    assert in_gap == utc(2025, 3, 9, 7, 30)
    after = next_occurrence(in_gap, time(2, 30), NEW_YORK)
    assert wall(after, NEW_YORK) == ("2025-03-10", "02:30")
    assert after - in_gap == timedelta(hours=23)


def test_fall_back_repeated_time_is_delivered_once_at_its_first_occurrence() -> None:
    # 01:30 happens twice on 2025-11-02 in New York: at 05:30 UTC (EDT) and 06:30 UTC (EST).
    first = next_occurrence(utc(2025, 11, 1, 12, 0), time(1, 30), NEW_YORK)
    assert first == utc(2025, 11, 2, 5, 30)
    following = next_occurrence(first, time(1, 30), NEW_YORK)
    assert following == utc(2025, 11, 3, 6, 30)  # the next day, not the repeated 01:30
    # Asked during the repeated hour (01:10 EST, after the first 01:30): tomorrow, not again.
    assert next_occurrence(utc(2025, 11, 2, 6, 10), time(1, 30), NEW_YORK) == following


def test_half_hour_dst_of_lord_howe() -> None:
    # Lord Howe moves from +11 to +10:30 on 2025-04-06 at 02:00 local.
    before = next_occurrence(utc(2025, 4, 4, 12, 0), time(8, 0), LORD_HOWE)
    after = next_occurrence(before, time(8, 0), LORD_HOWE)
    assert wall(before, LORD_HOWE) == ("2025-04-05", "08:00")
    assert wall(after, LORD_HOWE) == ("2025-04-06", "08:00")
    assert after - before == timedelta(hours=24, minutes=30)


def test_daily_sequence_is_one_per_local_day_across_both_changes() -> None:
    after = utc(2025, 1, 1)
    seen: list[str] = []
    for _ in range(365):
        after = next_occurrence(after, time(8, 0), NEW_YORK)
        day, hhmm = wall(after, NEW_YORK)
        assert hhmm == "08:00"
        seen.append(day)
    assert len(set(seen)) == 365
    assert seen[0] == "2025-01-01" and seen[-1] == "2025-12-31"


def test_next_due_epoch_is_integer_seconds() -> None:
    epoch = next_due_epoch(utc(2025, 6, 1, 0, 0), time(8, 0), KATHMANDU)
    assert epoch == int(utc(2025, 6, 1, 2, 15).timestamp())


ZONES = [NEW_YORK, KATHMANDU, SHANGHAI, LONDON, LORD_HOWE, ZoneInfo("Pacific/Chatham")]


@settings(max_examples=300, deadline=None)
@given(
    after=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
    ),
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
    zone=st.sampled_from(ZONES),
)
def test_result_is_the_first_instant_with_that_wall_time(
    after: datetime, hour: int, minute: int, zone: ZoneInfo
) -> None:
    at = time(hour, minute)
    due = next_occurrence(after, at, zone)
    assert due > after
    assert due - after <= timedelta(days=1, hours=1)
    local = due.astimezone(zone)
    intended = datetime.combine(local.date(), at, tzinfo=zone)
    if local.time().replace(second=0, microsecond=0) != at:
        # Only a wall time skipped by a spring-forward gap may differ: it does not survive
        # a round trip through UTC, and is delivered as the same offset past the gap.
        assert intended.astimezone(UTC).astimezone(zone).time() != at
        assert due == intended.astimezone(UTC)
    # The same wall time on the previous local day is not after `after`.
    previous = datetime.combine(local.date() - timedelta(days=1), at, tzinfo=zone)
    assert previous.astimezone(UTC) <= after


# --- small helpers ---------------------------------------------------------------------------


def test_format_hhmm_pads() -> None:
    assert format_hhmm(time(7, 5)) == "07:05"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("08:00", time(8)),
        ("８：３０", time(8, 30)),
        ("²:30", None),
        ("21：30", time(21, 30)),
        ("8:05", time(8, 5)),
        ("2130", time(21, 30)),
        ("7点", time(7)),
        ("24:00", None),
        ("12:60", None),
        ("soon", None),
        ("", None),
    ],
)
def test_parse_hhmm(text: str, expected: time | None) -> None:
    assert parse_hhmm(text) == expected


@settings(max_examples=200, deadline=None)
@given(hour=st.integers(0, 23), minute=st.integers(0, 59))
def test_parse_hhmm_reads_what_format_hhmm_writes(hour: int, minute: int) -> None:
    assert parse_hhmm(format_hhmm(time(hour, minute))) == time(hour, minute)


@pytest.mark.parametrize(
    ("progress", "total", "section", "finished"),
    [(0, 5, 1, False), (3, 5, 4, False), (4, 5, 5, True), (5, 5, 0, True), (7, 5, 0, True)],
)
def test_plan_delivery(progress: int, total: int, section: int, finished: bool) -> None:
    plan = plan_delivery(progress, total)
    assert (plan.section, plan.finished) == (section, finished)


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("Asia/Kathmandu", "Asia/Kathmandu"),
        ("america/new_york", "America/New_York"),
        (" America/New York ", "America/New_York"),
        ("EUROPE/LONDON", "Europe/London"),
        ("UTC", "UTC"),
    ],
)
def test_resolve_zone_accepts_iana_names_loosely(typed: str, key: str) -> None:
    zone = resolve_zone(typed)
    assert zone is not None and zone.key == key


@pytest.mark.parametrize(
    "typed", ["", "  ", "Mars/Olympus", "Asia", "../etc/passwd", "/etc/localtime", "GMT+8x"]
)
def test_resolve_zone_rejects_bad_names(typed: str) -> None:
    assert resolve_zone(typed) is None
