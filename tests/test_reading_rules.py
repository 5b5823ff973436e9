"""Reading time, a section's main date and the recap before the next section."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.content import Library, MonthDay, Section, SectionKind
from bot.content.scripts import Script
from bot.rules.reading import (
    READING_SPEED,
    Recap,
    opening_sentence,
    readable_chars,
    reading_minutes,
    recap,
    section_date,
)


def section(*paragraphs: str, title: str = "") -> Section:
    return Section(1, title, SectionKind.PART, paragraphs)


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


# --- a section's date: the first its text names ---------------------------------------------


def _section(*paragraphs: str) -> Section:
    return Section(1, "题", SectionKind.PART, tuple(paragraphs))


def test_a_sections_date_is_the_first_its_text_names() -> None:
    named = _section("开头没有日期。", "2月13日上任，2月19日又来。")
    assert section_date(named) == MonthDay(2, 13)
    # A bare day counts only under a month named before it (here none: 2日 is skipped).
    assert section_date(_section("2日没有月份。", "3月5日才算，6日也是。")) == MonthDay(3, 5)
    assert section_date(_section("没有日期。")) is None


def test_the_real_sections_dates(library: Library) -> None:
    for script in Script:
        article = library.article(script)
        assert [section_date(s) for s in article.sections] == [
            MonthDay(2, 13),  # the opening: the day he took office, not the day it looks to
            MonthDay(2, 18),
            MonthDay(2, 18),
            MonthDay(2, 16),
            MonthDay(2, 14),
        ]


def test_the_opening_sentence_is_verbatim_and_never_leaves_a_quote_open(
    library: Library,
) -> None:
    for script in Script:
        article = library.article(script)
        for s in article.sections:
            opening = opening_sentence(s)
            assert s.paragraphs[0].startswith(opening) or opening in s.text
            assert opening.count("“") == opening.count("”")
            assert opening[-1] in "。！？”"
    first = opening_sentence(library.article(Script.SIMPLIFIED).sections[0])
    assert first.startswith("2月13日，武汉市委书记王忠林正式上任")
    assert first.endswith("“为人正派”。")


# --- recap -----------------------------------------------------------------------------------


def test_no_recap_before_the_first_section(library: Library) -> None:
    assert recap(library.article(Script.SIMPLIFIED), 0) is None


def test_the_recap_is_of_the_section_read_last(library: Library) -> None:
    article = library.article(Script.TRADITIONAL)
    for progress in range(1, library.section_count + 1):
        s = article.sections[progress - 1]
        assert recap(article, progress) == Recap(
            s.number, s.title, section_date(s), opening_sentence(s)
        )


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


# --- the place in the article: every path that opens a section ----------------------------


def test_caught_up_moves_past_sections_read_in_a_row() -> None:
    from bot.rules.schedule import caught_up

    assert caught_up(0, 0) == 0
    assert caught_up(0, 0b1) == 1
    assert caught_up(1, 0b1101) == 1  # 2 unread: 3 and 4 wait for it
    assert caught_up(1, 0b1111) == 4
    assert caught_up(3, 0) == 3  # an older place without marks stays


def test_opening_the_next_unread_section_counts_and_others_only_mark() -> None:
    from datetime import UTC, datetime, time
    from zoneinfo import ZoneInfo

    from bot.rules.chats import ChatDefaults, ChatState, opened

    defaults = ChatDefaults(ZoneInfo("Asia/Taipei"), time(8), sections=5)
    now = datetime(2026, 3, 1, tzinfo=UTC)
    chat = ChatState(1, "private", subscribed=True, next_due_at=123)
    ahead = opened(chat, 3, now, defaults)
    assert (ahead.progress, ahead.read_mask) == (0, 0b100)
    first = opened(ahead, 1, now, defaults)
    assert (first.progress, first.started_at) == (1, int(now.timestamp()))
    filled = opened(first, 2, now, defaults)
    assert filled.progress == 3 and filled.next_due_at == 123
    again = opened(filled, 1, now, defaults)
    assert again == filled  # re-reading changes nothing
    done = opened(opened(filled, 5, now, defaults), 4, now, defaults)
    assert done.progress == 5 and done.next_due_at is None  # read to the end: nothing due
    assert done.finished_at == int(now.timestamp())


def test_a_delivery_fills_the_gap_and_moves_past_what_was_read_ahead() -> None:
    from bot.rules.schedule import plan_delivery

    assert plan_delivery(1, 5, 0b1).progress == 2  # nothing read ahead: the section itself
    plan = plan_delivery(1, 5, 0b1101)
    assert (plan.section, plan.progress, plan.finished) == (2, 4, False)
    plan = plan_delivery(1, 5, 0b11101)
    assert (plan.section, plan.progress, plan.finished) == (2, 5, True)


def test_blocking_ends_a_private_subscription_and_a_group_resumes_its_own() -> None:
    from datetime import UTC, datetime, time
    from zoneinfo import ZoneInfo

    from bot.content.scripts import Script
    from bot.rules.chats import (
        ChatDefaults,
        ChatState,
        left,
        rejoined,
        stopped_by_block,
        subscribed,
    )

    defaults = ChatDefaults(ZoneInfo("Asia/Taipei"), time(8), sections=5)
    now = datetime(2026, 3, 1, tzinfo=UTC)

    def subscribed_chat(kind: str) -> ChatState:
        chat = ChatState(1 if kind == "private" else -1, kind)
        at = time(7, 30)
        return subscribed(
            chat,
            at=at,
            quiet=False,
            thread_id=None,
            script=Script.SIMPLIFIED,
            now=now,
            defaults=defaults,
        )

    reader = left(subscribed_chat("private"))
    assert stopped_by_block(reader)
    back = rejoined(reader, now, defaults)
    assert back.active and not back.subscribed and back.next_due_at is None
    assert back.delivery_time == time(7, 30)  # kept, for the one button that resumes
    group = rejoined(left(subscribed_chat("group")), now, defaults)
    assert group.subscribed and group.next_due_at is not None
    assert not stopped_by_block(left(subscribed_chat("group")))


def test_a_chat_that_read_everything_is_not_subscribed() -> None:
    from datetime import UTC, datetime, time
    from zoneinfo import ZoneInfo

    from bot.content.scripts import Script
    from bot.rules.chats import ChatDefaults, ChatState, subscribed

    defaults = ChatDefaults(ZoneInfo("Asia/Taipei"), time(8), sections=5)
    done = ChatState(1, "private", progress=5, read_mask=0b11111)
    after = subscribed(
        done,
        at=time(9),
        quiet=False,
        thread_id=None,
        script=Script.SIMPLIFIED,
        now=datetime(2026, 3, 1, tzinfo=UTC),
        defaults=defaults,
    )
    assert after == done  # refused, and nothing recorded


# --- passages -----------------------------------------------------------------------------------


def test_the_opening_sentence_keeps_its_closing_quote() -> None:
    from bot.content.model import Section, SectionKind
    from bot.rules.reading import opening_sentence

    def section(*paragraphs: str) -> Section:
        return Section(1, "標題", SectionKind.PART, paragraphs)

    assert opening_sentence(section("他說：“走吧。”然後走了。")) == "他說：“走吧。”"
    assert opening_sentence(section("沒有句號的段落")) == "沒有句號的段落"


def test_a_long_passage_is_cut_after_its_last_sentence_that_fits() -> None:
    from bot.rules.reading import cut_passage

    sentence = "一" * 50 + "。"
    assert cut_passage(sentence * 3, limit=120) == sentence * 2
    assert cut_passage("短句。", limit=120) == "短句。"
    # No sentence ends early enough: cut at the limit, marked.
    assert cut_passage("二" * 200, limit=120) == "二" * 119 + "…"
    assert (
        cut_passage("三" * 10 + "。" + "四" * 200, limit=120)
        == "三" * 10 + "。" + "四" * 108 + "…"
    )


@given(st.text(alphabet="一二三。！？”，", min_size=1, max_size=400))
def test_a_cut_passage_is_a_prefix_within_the_limit(text: str) -> None:
    from bot.rules.reading import cut_passage

    cut = cut_passage(text, limit=120)
    assert len(cut) <= 120
    assert text.strip().startswith(cut.removesuffix("…"))


def test_words_quoted_in_one_script_map_to_the_same_place_in_the_other(
    library: Library,
) -> None:
    from bot.rules.reading import same_words

    for number in range(1, library.section_count + 1):
        t = library.section(number, Script.TRADITIONAL)
        s = library.section(number, Script.SIMPLIFIED)
        assert t is not None and s is not None
        for index, paragraph in enumerate(t.paragraphs):
            words = paragraph[3:25]
            mapped = same_words(t, s, words)
            if mapped is not None:
                assert mapped == s.paragraphs[index][3:25]
