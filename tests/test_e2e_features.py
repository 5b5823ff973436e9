"""What no serial reader has, end to end on the fake Bot API: the quiz (private and group),
on-this-day cards, the story so far, streaks, quote cards and the finish line."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from bot.content.scripts import Script
from bot.render import card_image as cards
from fake_telegram import SentMessage
from fake_telegram import factories as u
from tests.conftest import Clock, Harness

SHANGHAI = ZoneInfo("Asia/Shanghai")
T, S = Script.TRADITIONAL, Script.SIMPLIFIED


def data(msg: SentMessage) -> list[str]:
    rows = (msg.reply_markup or {}).get("inline_keyboard", [])
    return [b["callback_data"] for row in rows for b in row if "callback_data" in b]


def vote(poll: SentMessage, user: int, option: int) -> dict[str, Any]:
    assert poll.poll is not None
    return u.poll_answer(poll.poll["id"], u.user(user), [option])


def right_option(poll: SentMessage) -> int:
    assert poll.poll is not None
    return int(poll.poll["correct_option_ids"][0])


# --- the quiz ----------------------------------------------------------------------------------


async def test_a_private_quiz_round_keeps_the_readers_score(bot: Harness) -> None:
    [poll] = await bot.command("/quiz", 9101)
    assert poll.poll is not None and poll.poll["type"] == "quiz"
    assert poll.poll["question"].startswith("這句話是哪天說的？")
    assert len(poll.poll["options"]) == 4 and not poll.poll["is_anonymous"]
    quote = next(
        q for q in bot.services.library.article(T).quotes if q.text in poll.poll["question"]
    )
    labels = [o["text"] for o in poll.poll["options"]]
    assert labels[right_option(poll)] == quote.date.label  # the right answer is the quote's day
    assert quote.date.label in poll.poll["explanation"]  # the explanation names the occasion

    [verdict] = await bot.ask(vote(poll, 9101, right_option(poll)), chat_id=9101)
    assert "答對了" in verdict.plain_text and "1/1" in verdict.plain_text
    # Telegram delivering the same answer again (a retry) counts it once.
    before = bot.fake.sent_count(9101)
    repeat = bot.fake.push_raw(vote(poll, 9101, right_option(poll)))
    await bot.fake.wait_for(lambda: repeat in bot.done)
    assert bot.fake.sent_count(9101) == before
    [again] = await bot.ask(
        u.callback_query(u.user(9101), (9101, verdict.message_id), "qz"), chat_id=9101
    )
    wrong = (right_option(again) + 1) % 4
    [verdict] = await bot.ask(vote(again, 9101, wrong), chat_id=9101)
    assert "差一點" in verdict.plain_text and "1/2" in verdict.plain_text


async def test_a_group_quiz_is_one_shared_question_with_a_board(bot: Harness) -> None:
    group = u.group_chat(-9200, "讀書會")
    [poll] = await bot.ask(u.command("/quiz", 9201, chat=group))
    right = right_option(poll)
    await bot.processed(vote(poll, 9201, right))
    await bot.processed(vote(poll, 9202, (right + 1) % 4))
    assert bot.fake.sent(9201) == [] and bot.fake.sent(9202) == []  # no private verdicts
    [board] = await bot.ask(u.command("/quiz 排行", 9202, chat=group))
    lines = board.plain_text.splitlines()
    assert lines[0] == "猜日期排行榜"
    assert lines[1].startswith("1. Test") and "1/1" in lines[1]
    assert lines[2].startswith("2. Test") and "0/1" in lines[2]


async def test_the_quiz_is_offered_after_the_quotes_and_at_the_end(bot: Harness) -> None:
    replies = [m for _ in range(5) for m in await bot.command("/next", 9301)]
    quotes_section = next(m for m in replies if "第 5/5 節" in m.plain_text)
    assert "qz" not in data(quotes_section)  # the summary right after it offers the quiz
    summary = replies[-1]
    assert summary.plain_text.startswith("—— 全文完 ——") and "qz" in data(summary)
    # Re-reading the last section later (no summary after it): the quiz is in its buttons.
    [again] = await bot.command("/read 5", 9301)
    assert "qz" in data(again)


# --- on this day, the story so far, streaks ---------------------------------------------------


async def _deliver_on(bot: Harness, clock: Clock, chat: int, local: datetime) -> list[SentMessage]:
    clock.now = local.astimezone(UTC)
    before = bot.fake.sent_count(chat)
    await bot.services.deliverer.run_due(bot.app.bot, clock.now)
    return bot.fake.sent(chat)[before:]


async def test_on_this_day_cards_come_on_the_storys_dates_only(
    start_bot: Any, clock: Clock
) -> None:
    bot: Harness = await start_bot(ARTICLE_YEAR="2020")
    clock.now = datetime(2027, 2, 15, 20, 0, tzinfo=SHANGHAI)
    await bot.command("/subscribe 07:00", 9401)
    sent = await _deliver_on(bot, clock, 9401, datetime(2027, 2, 16, 7, 0, tzinfo=SHANGHAI))
    section, card = sent
    assert "第 1/5 節" in section.plain_text
    assert card.plain_text.startswith("七年前的今天 · 2月16日")  # 2027 − 2020, computed
    entry = bot.services.library.date(bot.services.library.parse_day("2/16"), T)  # type: ignore[arg-type]
    assert entry is not None and entry.events[0].text in card.plain_text
    assert (
        await _deliver_on(bot, clock, 9401, datetime(2027, 2, 16, 7, 0, 30, tzinfo=SHANGHAI)) == []
    )
    later = await _deliver_on(bot, clock, 9401, datetime(2027, 2, 20, 7, 0, tzinfo=SHANGHAI))
    assert len(later) == 1 and "第 2/5 節" in later[0].plain_text  # no card: not a story day


async def test_on_this_day_can_be_turned_off(start_bot: Any, clock: Clock) -> None:
    bot: Harness = await start_bot(ARTICLE_YEAR="2020")
    clock.now = datetime(2027, 2, 15, 20, 0, tzinfo=SHANGHAI)
    await bot.command("/subscribe 07:00", 9402)
    [off] = await bot.command("/onthisday 關", 9402)
    assert "不再推播" in off.plain_text
    sent = await _deliver_on(bot, clock, 9402, datetime(2027, 2, 16, 7, 0, tzinfo=SHANGHAI))
    assert len(sent) == 1


async def test_date_today_works_any_day(bot: Harness, clock: Clock) -> None:
    clock.now = datetime(2026, 2, 17, 12, 0, tzinfo=SHANGHAI)
    [today] = await bot.command("/date 今天", 9403)
    assert today.plain_text.startswith("2月17日")
    clock.now = datetime(2026, 7, 1, 12, 0, tzinfo=SHANGHAI)
    [nearest] = await bot.command("/date today", 9403)
    assert (
        nearest.plain_text.startswith("今天（7月1日）不是報導中的日子")
        and "2月19日" in nearest.plain_text
    )


async def test_the_second_delivery_recalls_where_the_reader_left_off(
    bot: Harness, clock: Clock
) -> None:
    clock.now = datetime(2026, 5, 1, 6, 0, tzinfo=SHANGHAI)
    await bot.command("/subscribe 07:00", 9501)
    [first] = await _deliver_on(bot, clock, 9501, datetime(2026, 5, 1, 7, 0, tzinfo=SHANGHAI))
    assert "上回" not in first.plain_text
    [second] = await _deliver_on(bot, clock, 9501, datetime(2026, 5, 2, 7, 0, tzinfo=SHANGHAI))
    opening = bot.services.library.section(1, T)
    assert opening is not None
    assert f"前情提要：上回讀到第 1 節〈{opening.title}〉，從2月13日講起：" in second.plain_text
    # The recap is the section's own first sentence, verbatim, in a folded quote.
    first_sentence = opening.paragraphs[0]
    assert f"\n{first_sentence}\n" in second.plain_text
    [(start, end)] = [
        (start, end)
        for kind, start, end, extra in second.entities
        if kind == "blockquote" and extra == "expandable"
    ]
    assert second.plain_text[start:end] == first_sentence


async def test_a_streak_grows_over_three_days_and_breaks_after_a_gap(
    bot: Harness, clock: Clock
) -> None:
    day = datetime(2026, 6, 1, 9, 0, tzinfo=SHANGHAI)
    for offset in range(3):
        clock.now = day + timedelta(days=offset)
        await bot.command("/next", 9601)
    [progress] = await bot.command("/progress", 9601)
    assert "已經連續閱讀 3 天（最長 3 天）" in progress.plain_text
    clock.now = day + timedelta(days=5)  # two days without reading
    [progress] = await bot.command("/progress", 9601)  # looking is not reading
    assert "已經連續閱讀" not in progress.plain_text and "今天讀一節" in progress.plain_text
    await bot.command("/read 1", 9601)  # re-reading a section counts: a new run of 1
    [progress] = await bot.command("/progress", 9601)
    assert "已經連續閱讀 1 天（最長 3 天）" in progress.plain_text
    streak = await bot.services.store.users.streak(9601)
    assert (streak.current, streak.best, streak.last_day) == (1, 3, date(2026, 6, 6))


# --- quote cards --------------------------------------------------------------------------------


def _ink(image: Image.Image, box: tuple[int, int, int, int]) -> int:
    counts = image.crop(box).convert("L").histogram()
    return sum(counts[:128])  # dark pixels: text


@pytest.mark.skipif(not cards.available(), reason="no CJK font installed")
@pytest.mark.parametrize("script", [T, S])
async def test_a_quote_card_is_an_image_drawn_once_and_reused(
    bot: Harness, script: Script
) -> None:
    reader = 9701 if script is T else 9702
    language = "zh-hant" if script is T else "zh-hans"
    ask = u.message(u.private_chat(reader), u.user(reader, language_code=language), "/card 4")
    [photo] = await bot.ask(ask)
    assert photo.photo is not None
    file_id = photo.photo[-1]["file_id"]
    image = Image.open(io.BytesIO(bot.fake.photo_bytes(file_id)))
    assert image.size == cards.CARD_SIZE
    width, height = image.size
    assert _ink(image, (0, 0, width, height // 2)) > 2_000  # the quote
    assert _ink(image, (0, height * 3 // 4, width, height)) > 1_000  # title and credit
    uploads = bot.fake.photo_uploads
    [again] = await bot.ask(ask)  # the second time: Telegram's file_id, no new upload
    assert bot.fake.photo_uploads == uploads and bot.fake.photo_reuses >= 1
    assert again.photo is not None


@pytest.mark.skipif(not cards.available(), reason="no CJK font installed")
async def test_every_quote_has_a_card_button(bot: Harness) -> None:
    [quote] = await bot.command("/quote 7", 9703)
    assert "cd:7" in data(quote)
    [photo] = await bot.ask(u.callback_query(u.user(9703), (9703, quote.message_id), "cd:7"))
    assert photo.photo is not None and "語錄 7" in photo.plain_text  # the caption
