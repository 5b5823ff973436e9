"""The date quiz: right answers, distinct sorted options, avoid, determinism and fairness."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.content import Article, DateEntry, Library, MonthDay, Quote, Section, SectionKind
from bot.content.scripts import Script
from bot.rules.quiz_questions import OPTIONS, Question, Score, make_question, quiz_available


def small_library(*quote_days: MonthDay) -> Library:
    """Build an article with one quote per given day (days may repeat)."""
    quotes = tuple(Quote(n, f"“{n}”", day, "", 1) for n, day in enumerate(quote_days, 1))
    dates = tuple(
        DateEntry(day, (), tuple(q.number for q in quotes if q.date == day))
        for day in sorted(set(quote_days))
    )
    section = Section(1, "一", SectionKind.PART, ("正文。",))
    return Library(Article("題", "記者", "圖", (section,), quotes, dates))


def test_the_right_option_is_the_quotes_date(library: Library) -> None:
    rng = random.Random(1)
    for _ in range(200):
        question = make_question(library, rng)
        quote = library.quote(question.quote, Script.SIMPLIFIED)
        assert quote is not None
        assert question.correct == quote.date
        assert question.is_right(question.answer)
        assert not any(question.is_right(i) for i in range(OPTIONS) if i != question.answer)


def test_options_are_four_distinct_article_dates_in_order(library: Library) -> None:
    rng = random.Random(2)
    for _ in range(200):
        options = make_question(library, rng).options
        assert len(options) == OPTIONS == len(set(options))
        assert list(options) == sorted(options)
        assert set(options) <= set(library.days)


def test_every_quote_can_be_asked(library: Library) -> None:
    rng = random.Random(3)
    asked = {make_question(library, rng).quote for _ in range(500)}
    assert asked == set(range(1, library.quote_count + 1))


@given(seed=st.integers(), avoid=st.sets(st.integers(min_value=-2, max_value=15)))
def test_avoid_is_honoured_unless_it_covers_every_quote(
    library: Library, seed: int, avoid: set[int]
) -> None:
    question = make_question(library, random.Random(seed), avoid=avoid)
    every = set(range(1, library.quote_count + 1))
    if every <= avoid:
        assert question.quote in every
    else:
        assert question.quote not in avoid


def test_avoid_covering_every_quote_is_ignored(library: Library) -> None:
    every = list(range(1, library.quote_count + 1))
    rng = random.Random(9)
    asked = {make_question(library, rng, avoid=every).quote for _ in range(500)}
    assert asked == set(every)


def test_the_same_seed_gives_the_same_questions(library: Library) -> None:
    rng_a, rng_b = random.Random(8), random.Random(8)
    assert [make_question(library, rng_a) for _ in range(20)] == [
        make_question(library, rng_b) for _ in range(20)
    ]


def test_quotes_are_drawn_uniformly(library: Library) -> None:
    rng = random.Random(4)
    draws = 12_000
    counts = Counter(make_question(library, rng).quote for _ in range(draws))
    expected = draws / library.quote_count
    assert all(abs(n - expected) < 0.15 * expected for n in counts.values()), counts


def test_quotes_outside_avoid_are_drawn_uniformly(library: Library) -> None:
    rng = random.Random(5)
    avoid = {1, 2, 3}
    counts = Counter(make_question(library, rng, avoid=avoid).quote for _ in range(9_000))
    assert set(counts) == set(range(4, library.quote_count + 1))
    expected = 9_000 / (library.quote_count - len(avoid))
    assert all(abs(n - expected) < 0.15 * expected for n in counts.values()), counts


def test_wrong_options_are_drawn_uniformly_from_the_other_dates(library: Library) -> None:
    # Only quote 1 may be asked: every other date should be offered equally often.
    rng = random.Random(6)
    others = set(range(2, library.quote_count + 1))
    questions = [make_question(library, rng, avoid=others) for _ in range(6_000)]
    right = questions[0].correct
    counts = Counter(day for q in questions for day in q.options if day != right)
    assert set(counts) == set(library.days) - {right}
    expected = 6_000 * (OPTIONS - 1) / (len(library.days) - 1)
    assert all(abs(n - expected) < 0.1 * expected for n in counts.values()), counts


def test_an_article_with_three_dates_offers_three_options() -> None:
    days = [MonthDay(3, 1), MonthDay(3, 5), MonthDay(3, 9)]
    library = small_library(days[0], days[0], days[1], days[2])
    question = make_question(library, random.Random(0))
    assert question.options == tuple(days)


def test_an_article_with_two_dates_offers_both() -> None:
    library = small_library(MonthDay(3, 1), MonthDay(4, 1))
    question = make_question(library, random.Random(0))
    assert question.options == (MonthDay(3, 1), MonthDay(4, 1))
    assert quiz_available(library)


def test_an_article_with_one_date_has_no_quiz() -> None:
    library = small_library(MonthDay(3, 1), MonthDay(3, 1))
    assert not quiz_available(library)
    with pytest.raises(ValueError, match="at least 2"):
        make_question(library, random.Random(0))


def test_an_article_without_quotes_has_no_quiz() -> None:
    assert not quiz_available(small_library())


def test_the_real_article_has_a_quiz(library: Library) -> None:
    assert quiz_available(library)


def test_score_records_answers() -> None:
    score = Score().record(True).record(False).record(True)
    assert score == Score(answered=3, right=2)


@pytest.mark.parametrize(("answered", "right"), [(-1, 0), (1, 2), (0, -1)])
def test_a_score_cannot_be_impossible(answered: int, right: int) -> None:
    with pytest.raises(ValueError):
        Score(answered, right)


def test_question_is_frozen() -> None:
    question = Question(1, (MonthDay(2, 1), MonthDay(2, 2)), 0)
    with pytest.raises(AttributeError):
        question.answer = 1  # type: ignore[misc]
