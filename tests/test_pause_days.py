"""Pauses and reading days: the schedule rule (pure), its SQL twin, and what readers type."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import insert, select

from bot.content.scripts import Script
from bot.rules.arguments import parse_days, parse_pause_days, parse_subscribe
from bot.rules.chats import (
    UNTIL_RESUMED,
    ChatDefaults,
    ChatState,
    is_due,
    next_due,
    paused,
    resume_day,
    resumed,
    subscribed,
    unsubscribed,
)
from bot.rules.schedule import EVERY_DAY, WEEKDAYS, WEEKEND, next_occurrence
from bot.store import Store
from bot.store.chat_records import to_values
from bot.store.queue import due
from bot.store.schema import chats
from tests.conftest import fresh_postgres

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
DEFAULTS = ChatDefaults(LONDON, time(8, 0), sections=5)
MON, WED, FRI = 1 << 0, 1 << 2, 1 << 4


def local(tz: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=tz)  # type: ignore[arg-type, misc]


def walk(chat: ChatState, start: datetime, end: datetime) -> list[datetime]:
    """Return every local delivery instant the rule gives from start to end (as deliveries
    would: each one asks for the next right after it)."""
    out = []
    now = start
    while (due_at := next_due(chat, now, DEFAULTS)) is not None and due_at <= end.timestamp():
        instant = datetime.fromtimestamp(due_at, UTC)
        out.append(instant.astimezone(chat.timezone or LONDON))
        now = instant
    return out


def reader(**kw: object) -> ChatState:
    base = ChatState(1, "private", subscribed=True, delivery_time=time(7, 30), timezone=LONDON)
    return replace(base, **kw)  # type: ignore[arg-type]


# --- the schedule rule --------------------------------------------------------------------------


def test_weekdays_skip_the_weekend_in_the_chats_zone() -> None:
    # Friday 2027-03-26 07:30 London is done; the next weekday is Monday the 29th.
    after = local(LONDON, 2027, 3, 26, 7, 30)
    due_at = next_occurrence(after, time(7, 30), LONDON, WEEKDAYS)
    assert due_at.astimezone(LONDON) == local(LONDON, 2027, 3, 29, 7, 30)


def test_a_fortnight_of_reading_days_across_the_spring_change_keeps_the_wall_time() -> None:
    # London springs forward on Sunday 2027-03-28: 07:30 stays 07:30 on the wall.
    chat = reader(reading_days=MON | WED | FRI)
    days = walk(chat, local(LONDON, 2027, 3, 21, 12, 0), local(LONDON, 2027, 4, 4, 23, 0))
    assert [(d.date().isoformat(), f"{d:%H:%M}") for d in days] == [
        ("2027-03-22", "07:30"),
        ("2027-03-24", "07:30"),
        ("2027-03-26", "07:30"),
        ("2027-03-29", "07:30"),
        ("2027-03-31", "07:30"),
        ("2027-04-02", "07:30"),
    ]
    utc_hours = [d.astimezone(UTC).hour for d in days]
    assert utc_hours == [7, 7, 7, 6, 6, 6]  # the offset moved; the reader's morning did not


def test_weekend_only_across_new_yorks_fall_change() -> None:
    chat = reader(reading_days=WEEKEND, timezone=NEW_YORK, delivery_time=time(1, 30))
    # 2027-11-07 01:30 happens twice in New York: delivered once, at the first.
    days = walk(chat, local(NEW_YORK, 2027, 11, 1, 0, 0), local(NEW_YORK, 2027, 11, 15, 0, 0))
    assert [d.date().isoformat() for d in days] == [
        "2027-11-06",
        "2027-11-07",
        "2027-11-13",
        "2027-11-14",
    ]
    assert days[1].astimezone(UTC) == datetime(2027, 11, 7, 5, 30, tzinfo=UTC)  # EDT, first


def test_reading_days_must_name_a_day() -> None:
    with pytest.raises(ValueError, match="at least one weekday"):
        next_occurrence(datetime(2027, 1, 1, tzinfo=UTC), time(8, 0), LONDON, 0)


@given(
    start=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1)),
    days=st.integers(1, EVERY_DAY),
    hour=st.integers(0, 23),
    minute=st.sampled_from([0, 15, 30, 45]),
    zone=st.sampled_from(
        [LONDON, NEW_YORK, ZoneInfo("Asia/Taipei"), ZoneInfo("Australia/Lord_Howe")]
    ),
)
def test_the_next_digest_is_the_first_reading_day_at_its_time(
    start: datetime, days: int, hour: int, minute: int, zone: ZoneInfo
) -> None:
    after = start.replace(tzinfo=UTC)
    at = time(hour, minute)
    found = next_occurrence(after, at, zone, days)
    assert found > after
    day = found.astimezone(zone).date()
    assert days >> day.weekday() & 1
    # No reading day between: every earlier candidate is not after `after` or not a day.
    probe = after.astimezone(zone).date()
    while probe < day:
        if days >> probe.weekday() & 1:
            assert datetime.combine(probe, at, tzinfo=zone).astimezone(UTC) <= after
        probe += timedelta(days=1)


# --- pause and resume ---------------------------------------------------------------------------


def test_a_pause_skips_that_many_days_of_digests() -> None:
    chat = reader()
    # Wednesday after the day's digest: Thursday, Friday, Saturday are skipped.
    after = paused(chat, 3, local(LONDON, 2027, 3, 24, 9, 0), DEFAULTS)
    assert resume_day(after, DEFAULTS) == date(2027, 3, 28)
    assert after.progress == chat.progress
    assert datetime.fromtimestamp(after.next_due_at or 0, LONDON) == local(
        LONDON, 2027, 3, 28, 7, 30
    )  # Sunday, the day London's clocks go forward: still 07:30 on the wall
    # Wednesday before the day's digest: Wednesday, Thursday, Friday are skipped.
    before = paused(chat, 3, local(LONDON, 2027, 3, 24, 7, 0), DEFAULTS)
    assert resume_day(before, DEFAULTS) == date(2027, 3, 27)
    # Weekdays only: the weekend after the pause is no reading day, so Monday.
    weekdays = paused(
        replace(chat, reading_days=WEEKDAYS), 3, local(LONDON, 2027, 3, 24, 9, 0), DEFAULTS
    )
    assert datetime.fromtimestamp(weekdays.next_due_at or 0, LONDON) == local(
        LONDON, 2027, 3, 29, 7, 30
    )


def test_a_pause_until_resumed_schedules_nothing_and_resume_picks_the_next_time() -> None:
    now = local(LONDON, 2027, 3, 24, 9, 0)
    held = paused(reader(), None, now, DEFAULTS)
    assert held.paused_until == UNTIL_RESUMED and held.next_due_at is None
    assert resume_day(held, DEFAULTS) is None
    back = resumed(held, now + timedelta(days=10), DEFAULTS)
    assert back.paused_until is None
    assert datetime.fromtimestamp(back.next_due_at or 0, LONDON) == local(
        LONDON, 2027, 4, 4, 7, 30
    )


def test_a_pause_ending_at_a_digests_minute_still_lets_it_come() -> None:
    chat = reader(delivery_time=time(0, 0))
    held = paused(chat, 1, local(LONDON, 2027, 3, 24, 9, 0), DEFAULTS)
    assert held.next_due_at == held.paused_until  # midnight of the day it ends


def test_subscribing_keeps_days_chosen_before_and_unsubscribing_ends_a_pause() -> None:
    now = local(LONDON, 2027, 3, 24, 9, 0)
    chat = reader(reading_days=WEEKEND)
    again = subscribed(
        chat, at=time(8, 0), quiet=False, thread_id=None, script=Script.TRADITIONAL,
        now=now, defaults=DEFAULTS,
    )  # fmt: skip
    assert again.reading_days == WEEKEND
    changed = subscribed(
        chat, at=time(8, 0), quiet=False, thread_id=None, script=Script.TRADITIONAL,
        now=now, defaults=DEFAULTS, days=WEEKDAYS,
    )  # fmt: skip
    assert changed.reading_days == WEEKDAYS
    assert unsubscribed(paused(chat, 3, now, DEFAULTS)).paused_until is None


# --- the rule and the store's SQL agree ---------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    async with AsyncExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / 'store.db'}"
        else:
            url = await stack.enter_async_context(fresh_postgres())
        store = Store(url)
        stack.push_async_callback(store.close)
        await store.init()
        yield store


NOW = 1_800_000_000


async def test_the_claims_sql_picks_exactly_the_chats_the_rule_calls_due(store: Store) -> None:
    """Every combination of the fields the rule reads, on both backends."""
    around = (None, NOW - 3600, NOW, NOW + 1, UNTIL_RESUMED)
    states = [
        ChatState(
            chat_id=i + 1,
            kind="private",
            subscribed=sub,
            active=active,
            next_due_at=due_at,
            paused_until=pause,
        )
        for i, (sub, active, due_at, pause) in enumerate(
            itertools.product((True, False), (True, False), around, around)
        )
    ]
    async with store.engine.begin() as conn:
        await conn.execute(insert(chats), [{**to_values(s), "updated_at": 0} for s in states])
        picked = {row[0] for row in await conn.execute(select(chats.c.chat_id).where(due(NOW)))}
    assert picked == {s.chat_id for s in states if is_due(s, NOW)}
    assert 0 < len(picked) < len(states)  # the grid has both kinds
    claimed = await store.queue.claim(NOW, limit=1000, lease=60)
    assert {c.state.chat_id for c in claimed} == picked
    assert await store.queue.backlog(NOW) == len(picked)


# --- what readers type --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "mask"),
    [
        ("每天", EVERY_DAY),
        ("每日", EVERY_DAY),
        ("一至五", WEEKDAYS),
        ("週一至週五", WEEKDAYS),
        ("周一到周五", WEEKDAYS),
        ("工作日", WEEKDAYS),
        ("weekdays", WEEKDAYS),
        ("週末", WEEKEND),
        ("周末", WEEKEND),
        ("六日", WEEKEND),
        ("一三五", MON | WED | FRI),
        ("週一、三、五", MON | WED | FRI),
        ("星期二四", 1 << 1 | 1 << 3),
        ("日", 1 << 6),
    ],
)
def test_reading_days_as_typed(typed: str, mask: int) -> None:
    assert parse_days(typed) == mask


@pytest.mark.parametrize("typed", ["7", "08:00", "八", "五至一", "一至", "abc", "", "每周"])
def test_words_that_are_not_days(typed: str) -> None:
    assert parse_days(typed) is None


def test_subscribe_reads_a_time_and_days_in_any_order() -> None:
    assert parse_subscribe(["一三五", "06:30"]).days == MON | WED | FRI
    assert parse_subscribe(["06:30"]).days is None
    assert parse_subscribe(["06:30", "週八"]).unreadable == "週八"


@pytest.mark.parametrize(
    ("typed", "days"),
    [
        ("3", 3),
        ("三", 3),
        ("3天", 3),
        ("十天", 10),
        ("两周", 14),
        ("1週", 7),
        ("2w", 14),
        ("直到我回來", 0),
        ("0", 0),
    ],
)
def test_pause_lengths_as_typed(typed: str, days: int) -> None:
    assert parse_pause_days(typed) == days


@pytest.mark.parametrize("typed", ["x", "三天半", "-1", "週"])
def test_pause_lengths_that_are_not(typed: str) -> None:
    assert parse_pause_days(typed) is None


# --- the new buttons' data ---------------------------------------------------------------------


def test_the_new_buttons_parse_what_they_encode_and_nothing_else() -> None:
    from bot.render import callback_data as cb

    buttons = [
        cb.Pause(3),
        cb.Pause(0),
        cb.Resume(),
        cb.SetDays(WEEKDAYS),
        cb.Save("q", 4),
        cb.Save("p", 123456789),
        cb.Unsave("s", 2),
        cb.PassageCard(17),
        cb.SectionCard(3),
    ]
    for button in buttons:
        data = button.encode()
        assert len(data.encode()) <= 64
        assert type(button).parse(data) == button
    for forged in [
        "dy:0",
        "dy:128",
        "sv:x:4",
        "sv:q:0",
        "sv:q:-1",
        "us:q",
        "sv:q:４x",
        "pc:",
        "rsm:1",
    ]:
        kind: Any = {"dy": cb.SetDays, "sv": cb.Save, "us": cb.Unsave, "pc": cb.PassageCard}.get(
            forged.split(":")[0], cb.Resume
        )
        assert kind.parse(forged) is None, forged
    # Prefixes that share letters do not take each other's data.
    assert cb.SectionCard.parse("scr:s") is None and cb.Resume.parse("rs") is None
