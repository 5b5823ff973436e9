"""The button protocol and the deep links: exact strings, round trips, nothing forged gets in."""

from __future__ import annotations

import dataclasses
import inspect
from datetime import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.content import MonthDay
from bot.content.scripts import Script
from bot.render import callback_data as cb
from bot.rules.zones import COMMON

S, T = Script.SIMPLIFIED, Script.TRADITIONAL


def _protocol_classes() -> list[type[Any]]:
    """Every public class of the module that encodes and parses: the buttons and the links."""
    return [
        value
        for name, value in vars(cb).items()
        if inspect.isclass(value)
        and value.__module__ == cb.__name__
        and not name.startswith("_")
        and hasattr(value, "encode")
        and hasattr(value, "parse")
    ]


LINKS = {cb.SectionLink, cb.QuoteLink, cb.DateLink}
BUTTONS = [c for c in _protocol_classes() if c not in LINKS]

# What each button and link carries; a new class must be added here to be tested.
numbers = st.integers(0, 999_999)
days = st.builds(MonthDay, st.integers(1, 12), st.integers(1, 31))
scripts = st.sampled_from(Script)
STRATEGIES: dict[type[Any], st.SearchStrategy[Any]] = {
    cb.Toc: st.builds(cb.Toc, st.booleans()),
    cb.Timeline: st.builds(cb.Timeline, st.booleans()),
    cb.Quiz: st.just(cb.Quiz()),
    cb.Restart: st.just(cb.Restart()),
    cb.RandomQuote: st.just(cb.RandomQuote()),
    cb.Subscribe: st.just(cb.Subscribe()),
    # The script only follows a section number: a bare "next" has none.
    cb.Next: st.just(cb.Next()) | st.builds(cb.Next, numbers, st.none() | scripts),
    cb.OpenSection: st.builds(cb.OpenSection, numbers, st.booleans()),
    cb.OpenQuote: st.builds(cb.OpenQuote, numbers),
    cb.Card: st.builds(cb.Card, numbers),
    cb.QuoteSource: st.builds(cb.QuoteSource, numbers),
    cb.OpenDate: st.builds(cb.OpenDate, days, st.booleans()),
    cb.SubscribeAt: st.builds(
        cb.SubscribeAt, st.none() | st.builds(time, st.integers(0, 23), st.integers(0, 59))
    ),
    cb.SetZone: st.builds(cb.SetZone, st.sampled_from(COMMON)),
    cb.SwitchScript: st.builds(cb.SwitchScript, st.sampled_from("sq"), numbers.map(str), scripts)
    | st.builds(cb.SwitchScript, st.just("d"), days.map(lambda d: d.compact), scripts),
    cb.ChooseScript: st.builds(cb.ChooseScript, scripts),
    cb.Quiet: st.builds(cb.Quiet, st.booleans()),
    cb.ConfirmReset: st.builds(cb.ConfirmReset, st.booleans()),
    cb.Pause: st.builds(cb.Pause, numbers),
    cb.Resume: st.just(cb.Resume()),
    cb.SetDays: st.builds(cb.SetDays, st.integers(1, 127)),
    cb.Save: st.builds(cb.Save, st.sampled_from("qsp"), st.integers(1, 999_999_999)),
    cb.Unsave: st.builds(cb.Unsave, st.sampled_from("qsp"), st.integers(1, 999_999_999)),
    cb.PassageCard: st.builds(cb.PassageCard, st.integers(1, 999_999_999)),
    cb.SectionCard: st.builds(cb.SectionCard, numbers),
    cb.SectionLink: st.builds(cb.SectionLink, st.integers(0, 9_999)),
    cb.QuoteLink: st.builds(cb.QuoteLink, st.integers(0, 9_999)),
    cb.DateLink: st.builds(cb.DateLink, days),
}


def test_every_button_and_link_has_a_strategy() -> None:
    assert set(_protocol_classes()) == set(STRATEGIES)
    assert len(BUTTONS) == 25


@given(st.one_of(*(STRATEGIES[c] for c in BUTTONS)))
def test_every_button_survives_the_round_trip_and_only_its_own_class_reads_it(
    button: Any,
) -> None:
    data = button.encode()
    assert 1 <= len(data.encode()) <= 64  # Telegram's limit for callback data
    assert type(button).parse(data) == button
    readers = [c for c in BUTTONS if c.parse(data) is not None]
    assert readers == [type(button)]


@given(st.one_of(*(STRATEGIES[c] for c in LINKS)))
def test_every_link_survives_the_round_trip_as_a_start_payload(link: Any) -> None:
    payload = link.encode()
    assert 1 <= len(payload) <= 64 and all(
        c.isascii() and (c.isalnum() or c in "_-") for c in payload
    )
    assert cb.parse_link(payload) == link


# Text near the protocol's shapes: prefixes, separators, digits, codes, and anything else.
TOKENS = [*"0123456789:_eystnqdrx", "nx", "rd", "tz", "sw", "sa", "toc", "date", "other", "０"]
near = st.lists(st.sampled_from(TOKENS), max_size=8).map("".join)


@given(st.one_of(near, st.text(max_size=70)))
def test_any_text_is_refused_or_read_back_the_same(data: str) -> None:
    """No data makes a parser raise; whatever one accepts, it writes back to the same button."""
    for kind in _protocol_classes():
        found = kind.parse(data)
        if found is not None:
            assert kind.parse(found.encode()) == found, (kind, data)


# The strings themselves: buttons under messages sent by an older release must still work.
PINNED = [
    (cb.Toc(), "toc"),
    (cb.Toc(edit=True), "toc:e"),
    (cb.Timeline(edit=True), "tl:e"),
    (cb.Quiz(), "qz"),
    (cb.Restart(), "rs"),
    (cb.RandomQuote(), "qr"),
    (cb.Subscribe(), "sub"),
    (cb.Next(), "nx"),
    (cb.Next(4), "nx:4"),
    (cb.Next(4, S), "nx:4:s"),
    (cb.OpenSection(7), "rd:7"),
    (cb.OpenSection(7, edit=True), "rd:7:e"),
    (cb.OpenQuote(12), "q:12"),
    (cb.Card(0), "cd:0"),
    (cb.QuoteSource(3), "qs:3"),
    (cb.OpenDate(MonthDay(2, 16)), "d:0216"),
    (cb.OpenDate(MonthDay(12, 1), edit=True), "d:1201:e"),
    (cb.SubscribeAt(time(7, 5)), "sa:0705"),
    (cb.SubscribeAt(None), "sa:other"),
    (cb.SetZone("Asia/Taipei"), "tz:Asia/Taipei"),
    (cb.SwitchScript("s", "3", T), "sw:s:3:t"),
    (cb.SwitchScript("d", "0216", S), "sw:d:0216:s"),
    (cb.ChooseScript(S), "scr:s"),
    (cb.Quiet(True), "qt:1"),
    (cb.Quiet(False), "qt:0"),
    (cb.ConfirmReset(True), "rst:y"),
    (cb.ConfirmReset(False), "rst:n"),
    (cb.SectionLink(2), "section_2"),
    (cb.QuoteLink(3), "quote_3"),
    (cb.DateLink(MonthDay(2, 16)), "date_0216"),
]


@pytest.mark.parametrize(("item", "data"), PINNED, ids=[d for _, d in PINNED])
def test_the_strings_stay_as_released(item: Any, data: str) -> None:
    assert item.encode() == data
    assert type(item).parse(data) == item


FORGED = [
    "",
    "toc:x",
    "toc:e:e",
    "qz:1",
    "nx:",
    "nx:a",
    "nx:4:x",
    "nx:4:s:1",
    "rd:-1",
    "rd:7:x",
    "rd:1234567",
    "q:",
    "q:1:2",
    "cd:x",
    "d:0230x",
    "d:1301",
    "d:0200",
    "d:216",
    "d:0216:x",
    "sa:2460",
    "sa:７００",
    "sa:0705:1",
    "tz:Mars/Olympus",
    "tz:",
    "sw:x:1:s",
    "sw:s:1:x",
    "sw:d:1399:s",
    "sw:s:a:s",
    "scr:x",
    "qt:2",
    "qt:y",
    "rst:1",
    "TOC",
    "toc ",
]


@pytest.mark.parametrize("data", FORGED)
def test_forged_or_stale_data_is_read_by_no_button(data: str) -> None:
    assert [c for c in BUTTONS if c.parse(data) is not None] == []


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "inline",
        "section",
        "section_",
        "section_12345",
        "section_-1",
        "section_٣",
        "quote_x",
        "date_1399",
        "date_0100",
        "date_0",
        "date_12345",
        "Section_1",
        "section_1_2",
    ],
)
def test_a_payload_that_is_not_a_link_is_none(payload: str) -> None:
    assert cb.parse_link(payload) is None


def test_a_date_link_may_leave_out_the_months_leading_zero() -> None:
    assert cb.parse_link("date_216") == cb.DateLink(MonthDay(2, 16))


def test_buttons_are_frozen_dataclasses() -> None:
    for kind in BUTTONS + sorted(LINKS, key=lambda c: c.__name__):
        assert dataclasses.is_dataclass(kind) and kind.__dataclass_params__.frozen, kind  # type: ignore[attr-defined]
