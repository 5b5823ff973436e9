"""Reading features, round two, end to end on the fake Bot API in both scripts: pauses and
reading days across a week and a clock change, saving, passage cards, the digest's preview
line, the finish effect, copying a quote, and the reading history."""

from __future__ import annotations

import asyncio
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from bot.content.scripts import Script
from bot.render import card_image as cards
from bot.rules.reading import opening_sentence, reading_minutes
from fake_telegram import SentMessage
from fake_telegram import factories as u
from tests.conftest import Clock, Harness
from tests.test_delivery import earliest_due

T, S = Script.TRADITIONAL, Script.SIMPLIFIED
LANGUAGE = {T: "zh-hant", S: "zh-hans"}
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
ADMIN, MEMBER = 7701, 7702
SECTION = re.compile(r"第 (\d)/5 [节節]")


def say(chat: int | dict[str, Any], user: int, text: str, script: Script) -> dict[str, Any]:
    where = u.private_chat(user) if chat == user else chat
    return u.message(where, u.user(user, language_code=LANGUAGE[script]), text)


async def one(bot: Harness, chat: Any, user: int, text: str, script: Script) -> SentMessage:
    replies = await bot.ask(say(chat, user, text, script))
    assert len(replies) == 1, [m.plain_text for m in replies]
    return replies[0]


def data(msg: SentMessage) -> list[str]:
    rows = (msg.reply_markup or {}).get("inline_keyboard", [])
    return [b["callback_data"] for row in rows for b in row if "callback_data" in b]


def labels(msg: SentMessage) -> list[str]:
    rows = (msg.reply_markup or {}).get("inline_keyboard", [])
    return [b["text"] for row in rows for b in row]


async def press(
    bot: Harness, msg: SentMessage, wanted: str, user: int, script: Script
) -> list[SentMessage]:
    assert wanted in data(msg), (wanted, data(msg))
    presser = u.user(user, language_code=LANGUAGE[script])
    return await bot.ask(u.callback_query(presser, (msg.chat_id, msg.message_id), wanted))


def answer_to(bot: Harness) -> dict[str, Any]:
    """Return the bot's answer to the latest button press."""
    return list(bot.fake.callback_answers.values())[-1]


async def live(bot: Harness, clock: Clock, chat: int, until: datetime, tz: ZoneInfo) -> list[str]:
    """Move the clock to ``until`` an hour at a time (or to the next due digest, as the job
    wakes), running the digest at every step; return each section that arrived as
    "MM-DD Day HH:MM n" in the chat's zone."""
    got = []
    while clock.now < until:
        due = await earliest_due(bot.services.store.queue)
        step = clock.now + timedelta(hours=1)
        if due is not None and clock.now.timestamp() < due < step.timestamp():
            step = datetime.fromtimestamp(due, UTC)
        clock.now = min(step, until)
        before = bot.fake.sent_count(chat)
        report = await bot.services.deliverer.run_due(bot.app.bot, clock.now)
        for msg in bot.fake.sent(chat)[before:]:
            found = SECTION.search(msg.plain_text)
            if found is not None:
                got.append(f"{clock.now.astimezone(tz):%m-%d %a %H:%M} {found.group(1)}")
        assert report.retried == 0
    return got


def wall(clock: Clock, tz: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=tz).astimezone(UTC)  # type: ignore[arg-type, misc]


# --- pause and reading days ----------------------------------------------------------------------


@pytest.mark.parametrize("script", [T, S])
async def test_reading_days_and_pauses_across_two_weeks_and_londons_clock_change(
    bot: Harness, clock: Clock, script: Script
) -> None:
    reader = 7600 + list(Script).index(script)
    ask = lambda text: one(bot, reader, reader, text, script)  # noqa: E731
    clock.now = wall(clock, LONDON, 2027, 3, 20, 12, 0)  # Saturday
    await ask("/timezone Europe/London")
    reply = await ask("/subscribe 07:30 一三五")
    days = {T: "每週一、三、五", S: "每周一、三、五"}[script]
    push = {T: "推播", S: "推送"}[script]
    assert reply.plain_text.startswith(
        f"已訂閱：{days} 07:30" if script is T else f"已订阅：{days} 07:30"
    )
    assert f"下次{push}：3月22日 07:30" in reply.plain_text
    # Days of one's own: none of the buttons' sets is ticked.
    assert labels(reply)[:3] == ["每天", "一至五", "週末" if script is T else "周末"]

    # Monday and Wednesday in winter time (07:30 is 07:30 UTC).
    got = await live(bot, clock, reader, wall(clock, LONDON, 2027, 3, 24, 12, 0), LONDON)
    assert got == ["03-22 Mon 07:30 1", "03-24 Wed 07:30 2"]

    # A pause of three days on Wednesday afternoon: Thursday to Saturday have no digest.
    paused = await ask("/pause 3")
    resume = {T: "3月28日（週日）恢復", S: "3月28日（周日）恢复"}[script]
    assert (
        resume in paused.plain_text
        and ("進度不變" if script is T else "进度不变") in paused.plain_text
    )
    assert "3月29日 07:30" in paused.plain_text  # Sunday is no reading day: Monday
    assert data(paused) == ["ps:3", "ps:7", "ps:0", "rsm"]
    assert labels(paused)[:3] == (
        ["✓ 3 天", "1 週", "直到我回來"] if script is T else ["✓ 3 天", "1 周", "直到我回来"]
    )
    progress = await ask("/progress")
    assert f"{push}日：{days} 07:30" in progress.plain_text
    assert ("推播已暫停，" if script is T else "推送已暂停，") + resume in progress.plain_text
    assert "2/5" in progress.plain_text  # progress unchanged

    # Across the change to summer time on Sunday the 28th: the digest keeps 07:30 local.
    got = await live(bot, clock, reader, wall(clock, LONDON, 2027, 3, 31, 12, 0), LONDON)
    assert got == ["03-29 Mon 07:30 3", "03-31 Wed 07:30 4"]
    assert bot.fake.sent(reader)[-1].date  # sent
    assert clock.now.astimezone(LONDON).utcoffset() == timedelta(hours=1)

    # Paused until the reader comes back, then back two days later.
    paused = await ask("/pause")  # a week by default
    assert "✓ " + ("1 週" if script is T else "1 周") in labels(paused)
    [edited] = [m for m in bot.fake.sent(reader) if m.message_id == paused.message_id]
    await press(bot, paused, "ps:0", reader, script)
    assert edited.plain_text.startswith(
        "好的，暫停每日推播，直到你傳送 /resume"
        if script is T
        else "好的，暂停每日推送，直到你发送 /resume"
    )
    assert await live(bot, clock, reader, wall(clock, LONDON, 2027, 4, 2, 12, 0), LONDON) == []
    back = await ask("/resume")
    assert f"下次{push}：4月5日 07:30" in back.plain_text
    again = await ask("/resume")
    assert again.plain_text == ("每日推播沒有暫停。" if script is T else "每日推送没有暂停。")
    got = await live(bot, clock, reader, wall(clock, LONDON, 2027, 4, 5, 12, 0), LONDON)
    assert got == ["04-05 Mon 07:30 5"]


@pytest.mark.parametrize("script", [T, S])
async def test_in_a_group_only_admins_pause_and_choose_days(
    bot: Harness, clock: Clock, script: Script
) -> None:
    group = u.group_chat(-7700 - list(Script).index(script), "讀書會")
    gid = group["id"]
    bot.fake.set_member_status(gid, ADMIN, "administrator")
    clock.now = wall(clock, NEW_YORK, 2027, 11, 1, 12, 0)  # a Monday, the week New York falls back
    await one(bot, group, ADMIN, "/script " + ("繁" if script is T else "简"), script)
    await one(bot, group, ADMIN, "/timezone America/New_York", script)
    reply = await one(bot, group, ADMIN, "/subscribe 08:00", script)
    assert data(reply)[:3] == ["dy:127", "dy:31", "dy:96"]
    assert labels(reply)[0] == "✓ 每天"

    refused = await one(bot, group, MEMBER, "/pause 2", script)
    assert refused.plain_text == (
        "抱歉，只有群組管理員可以更改這項設定。"
        if script is T
        else "抱歉，只有群管理员可以更改这项设置。"
    )
    await press(bot, reply, "dy:96", MEMBER, script)
    assert answer_to(bot).get("show_alert") in (True, "true", "True")
    await press(bot, reply, "dy:96", ADMIN, script)
    weekend = "週末" if script is T else "周末"
    assert weekend in str(answer_to(bot).get("text"))
    [edited] = [m for m in bot.fake.sent(gid) if m.message_id == reply.message_id]
    assert f"{weekend} 08:00" in edited.plain_text and "11月6日 08:00" in edited.plain_text
    assert labels(edited)[2] == f"✓ {weekend}"

    # Weekends only across New York's fall change (Sunday 7 November).
    got = await live(bot, clock, gid, wall(clock, NEW_YORK, 2027, 11, 14, 12, 0), NEW_YORK)
    assert got == [
        "11-06 Sat 08:00 1",
        "11-07 Sun 08:00 2",
        "11-13 Sat 08:00 3",
        "11-14 Sun 08:00 4",
    ]
    paused = await one(bot, group, ADMIN, "/pause 直到我回來", script)
    assert "/resume" in paused.plain_text
    # Until the group comes back: nothing scheduled, and both /progress and a new
    # /subscribe say so (the new time is kept for when it does).
    assert (await earliest_due(bot.services.store.queue)) is None
    progress = await one(bot, group, MEMBER, "/progress", script)
    assert (
        "推播已暫停，傳送 /resume 恢復。" if script is T else "推送已暂停，发送 /resume 恢复。"
    ) in (progress.plain_text)
    moved = await one(bot, group, ADMIN, "/subscribe 09:00", script)
    assert moved.plain_text.splitlines() == [
        f"{'推播' if script is T else '推送'}日：{weekend} 09:00",
        "推播已暫停，傳送 /resume 恢復。" if script is T else "推送已暂停，发送 /resume 恢复。",
    ]
    back = await one(bot, group, ADMIN, "/resume", script)
    assert "11月20日 09:00" in back.plain_text  # Saturday, the group's next reading day
    bad = await one(bot, group, ADMIN, "/pause 九百天", script)
    assert bad.plain_text.startswith("看不懂「九百天」" if script is T else "看不懂“九百天”")
    assert data(bad) == ["ps:3", "ps:7", "ps:0", "rsm"]


# --- saving ----------------------------------------------------------------------------------


def button_text(msg: SentMessage, wanted: str) -> str:
    rows = (msg.reply_markup or {}).get("inline_keyboard", [])
    [found] = [b["text"] for row in rows for b in row if b.get("callback_data") == wanted]
    return str(found)


def current(bot: Harness, msg: SentMessage) -> SentMessage:
    """Return a sent message as it is now (after edits)."""
    return bot.fake.messages[(msg.chat_id, msg.message_id)]


@pytest.mark.parametrize("script", [T, S])
async def test_save_a_quote_and_a_section_list_them_and_remove_them(
    bot: Harness, script: Script
) -> None:
    reader = 7610 + list(Script).index(script)
    quote = await one(bot, reader, reader, "/quote 4", script)
    assert button_text(quote, "sv:q:4") == "☆ 收藏"
    await press(bot, quote, "sv:q:4", reader, script)
    assert answer_to(bot)["text"] == (
        "已收藏。傳送 /saved 查看全部收藏。"
        if script is T
        else "已收藏。发送 /saved 查看全部收藏。"
    )
    assert button_text(current(bot, quote), "sv:q:4") == "★ 已收藏"
    section = await one(bot, reader, reader, "/read 2", script)
    await press(bot, section, "sv:s:2", reader, script)
    assert button_text(current(bot, section), "sv:s:2") == "★ 已收藏"

    listing = await one(bot, reader, reader, "/saved", script)
    lines = listing.plain_text.splitlines()
    assert lines[0] == (
        "你的收藏（最新的在前，共 2 條）" if script is T else "你的收藏（最新的在前，共 2 条）"
    )
    title2 = bot.services.library.section(2, script).title  # type: ignore[union-attr]
    assert lines[1] == f"1. 第 2 {'節' if script is T else '节'}〈{title2}〉"
    q4 = bot.services.library.quote(4, script)
    assert q4 is not None and lines[2].startswith(
        f"2. {'語錄' if script is T else '语录'} 4（2月16日）："
    )
    assert q4.text[:10] in lines[2]
    assert data(listing) == ["rd:2", "sc:2", "us:s:2", "q:4", "cd:4", "us:q:4"]

    await press(bot, listing, "us:s:2", reader, script)
    after = current(bot, listing)
    assert "共 1 " in after.plain_text and data(after) == ["q:4", "cd:4", "us:q:4"]
    # Pressed again, the star unsaves.
    await press(bot, current(bot, quote), "sv:q:4", reader, script)
    assert answer_to(bot)["text"] == ("已取消收藏。")
    assert button_text(current(bot, quote), "sv:q:4") == "☆ 收藏"
    empty = await one(bot, reader, reader, "/saved", script)
    assert empty.plain_text.startswith("還沒有收藏。" if script is T else "还没有收藏。")
    assert "/saved" in empty.plain_text and "☆ 收藏" in empty.plain_text

    # A ☆ shown before the item was saved (another message of it) saves, never unsaves.
    older = await one(bot, reader, reader, "/quote 4", script)
    newer = await one(bot, reader, reader, "/quote 4", script)
    await press(bot, newer, "sv:q:4", reader, script)
    await press(bot, older, "sv:q:4", reader, script)
    assert answer_to(bot)["text"].startswith("已收藏")
    assert button_text(current(bot, older), "sv:q:4") == "★ 已收藏"
    assert "共 1 " in (await one(bot, reader, reader, "/saved", script)).plain_text


async def test_in_a_group_each_reader_saves_for_themselves(bot: Harness) -> None:
    group = u.group_chat(-7720, "讀書會")
    quote = await one(bot, group, ADMIN, "/quote 2", T)
    await press(bot, quote, "sv:q:2", ADMIN, T)
    await press(bot, quote, "sv:q:2", MEMBER, T)
    await press(bot, quote, "sv:q:2", MEMBER, T)  # the member changed their mind
    assert current(bot, quote).reply_markup == quote.reply_markup  # everyone's message: as it was
    assert not current(bot, quote).edited
    mine = await one(bot, group, ADMIN, "/saved", T)
    theirs = await one(bot, group, MEMBER, "/saved", T)
    assert "共 1 條" in mine.plain_text and theirs.plain_text.startswith("還沒有收藏。")
    # A forged star for a quote the article does not have saves nothing.
    await bot.processed(
        u.callback_query(u.user(ADMIN), (group["id"], quote.message_id), "sv:q:99")
    )
    assert "共 1 條" in (await one(bot, group, ADMIN, "/saved", T)).plain_text


# --- passage cards -------------------------------------------------------------------------------


def reply_card(
    reader: int, to: SentMessage, quote: str | None, script: Script, chat: Any = None
) -> dict[str, Any]:
    where = chat if chat is not None else u.private_chat(reader)
    who = u.user(reader, language_code=LANGUAGE[script])
    return u.quoted_reply(where, who, "/card", to.message_id, quote)


def heading_ink(bot: Harness, photo: SentMessage) -> int:
    """Return the dark pixels of the band where a passage card's heading goes."""
    assert photo.photo is not None
    image = Image.open(io.BytesIO(bot.fake.photo_bytes(photo.photo[-1]["file_id"])))
    assert image.size == cards.CARD_SIZE
    top = cards.MARGIN + 28
    band = image.crop((cards.MARGIN, top, cards.CARD_SIZE[0] // 2, top + 51)).convert("L")
    return sum(band.histogram()[:160])


@pytest.mark.skipif(not cards.available(), reason="no CJK font installed")
@pytest.mark.parametrize("script", [T, S])
async def test_a_quoted_reply_makes_a_card_of_exactly_that_passage(
    bot: Harness, script: Script
) -> None:
    reader = 7630 + list(Script).index(script)
    library = bot.services.library
    section = library.section(3, script)
    assert section is not None
    shown = await one(bot, reader, reader, "/read 3", script)
    words = section.paragraphs[1][5:40]
    [photo] = await bot.ask(reply_card(reader, shown, words, script))
    # A reply to the section, quoting the words (the fake checks them like Telegram).
    assert photo.reply_to == shown.message_id and photo.quote is not None
    assert photo.quote["text"] == words
    head = f"第 3 {'節' if script is T else '节'}〈{section.title}〉"
    assert photo.photo is not None and photo.plain_text.splitlines()[0] == head
    assert 'href="https://t.me/SerialBot?start=section_3"' in photo.text  # back to the bot
    assert photo.plain_text.splitlines()[1] == (
        "在 @SerialBot 閱讀全文" if script is T else "在 @SerialBot 阅读全文"
    )
    [save, open_section] = data(photo)
    assert open_section == "rd:3" and save.startswith("sv:p:")
    passage = await bot.services.store.saved.passage(int(save.split(":")[2]))
    assert passage is not None and (passage.section, passage.text) == (3, words)
    assert heading_ink(bot, photo) > 300  # headed by its section

    # A long quote is cut at a sentence end; no quoted part: the opening sentence.
    long_words = max(section.paragraphs, key=len)
    assert len(long_words) > 120
    [long_card] = await bot.ask(reply_card(reader, shown, long_words, script))
    kept = await bot.services.store.saved.passage(int(data(long_card)[0].split(":")[2]))
    assert kept is not None and len(kept.text) <= 120 and kept.text[-1] in "。！？；…”」"
    assert long_words.startswith(kept.text)
    [opening] = await bot.ask(reply_card(reader, shown, None, script))
    assert opening.reply_to == shown.message_id and opening.quote is None
    first = await bot.services.store.saved.passage(int(data(opening)[0].split(":")[2]))
    assert first is not None and first.text == opening_sentence(section)

    # Saved with its ☆, listed in /saved, and drawn again from there.
    await press(bot, photo, save, reader, script)
    listing = await one(bot, reader, reader, "/saved", script)
    assert f"1. {head}的一段：{words[:20]}" in listing.plain_text
    pid = save.split(":")[2]
    assert data(listing) == ["rd:3", f"pc:{pid}", f"us:p:{pid}"]
    [again] = await press(bot, listing, f"pc:{pid}", reader, script)
    assert again.photo is not None and again.plain_text.startswith(head)


@pytest.mark.skipif(not cards.available(), reason="no CJK font installed")
async def test_a_passage_quoted_in_one_script_is_drawn_in_the_readers(bot: Harness) -> None:
    """A simplified reader quoting a section someone shared in traditional (in a group)."""
    group = u.group_chat(-7740, "讀書會")
    await one(bot, group, ADMIN, "/script 繁", T)
    shown = await one(bot, group, ADMIN, "/read 4", T)
    traditional = bot.services.library.section(4, T)
    simplified = bot.services.library.section(4, S)
    assert traditional is not None and simplified is not None
    words = traditional.paragraphs[0][:30]
    await bot.ask(say(MEMBER, MEMBER, "/script 简", S))  # the member's own choice
    [photo] = await bot.ask(reply_card(MEMBER, shown, words, S, chat=group))
    assert photo.plain_text.startswith(f"第 4 节〈{simplified.title}〉")
    passage = await bot.services.store.saved.passage(int(data(photo)[0].split(":")[2]))
    assert passage is not None and passage.text == simplified.paragraphs[0][:30]


@pytest.mark.parametrize("script", [T, S])
async def test_a_card_reply_to_something_else_says_how(bot: Harness, script: Script) -> None:
    reader = 7650 + list(Script).index(script)
    quote = await one(bot, reader, reader, "/quote 3", script)
    [reply] = await bot.ask(reply_card(reader, quote, None, script))
    assert reply.plain_text.startswith(
        "要把一段做成圖片：長按某一節的訊息"
        if script is T
        else "要把一段做成图片：长按某一节的消息"
    )


# --- the push's preview, the finish effect, the copy button -------------------------------------

CELEBRATION = "5046509860389126442"  # 🎉


@pytest.mark.parametrize("script", [T, S])
async def test_each_push_opens_with_what_the_notification_should_say(
    bot: Harness, clock: Clock, script: Script
) -> None:
    reader = 7660 + list(Script).index(script)
    clock.now = wall(clock, LONDON, 2027, 5, 3, 12, 0)
    await one(bot, reader, reader, "/timezone Europe/London", script)
    await one(bot, reader, reader, "/subscribe 07:00", script)
    await live(bot, clock, reader, wall(clock, LONDON, 2027, 5, 6, 8, 0), LONDON)
    pushes = [m for m in bot.fake.sent(reader) if SECTION.search(m.plain_text)]
    assert len(pushes) == 3
    for n, push in enumerate(pushes, start=1):
        section = bot.services.library.section(n, script)
        assert section is not None
        minutes = reading_minutes(section)
        first = push.plain_text.splitlines()[0]
        if script is T:
            assert first == f"今天：第 {n} 節〈{section.title}〉· 約 {minutes} 分鐘"
        else:
            assert first == f"今天：第 {n} 节〈{section.title}〉· 约 {minutes} 分钟"
    assert (
        pushes[2]
        .plain_text.splitlines()[0]
        .startswith("今天：第 3 節〈暗訪〉" if script is T else "今天：第 3 节〈暗访〉")
    )


@pytest.mark.parametrize("script", [T, S])
async def test_finishing_in_a_private_chat_celebrates_once(bot: Harness, script: Script) -> None:
    reader = 7670 + list(Script).index(script)
    sent = [m for _ in range(5) for m in (await bot.ask(say(reader, reader, "/next", script)))]
    finish = sent[-1]
    assert finish.plain_text.startswith("—— 全文完 ——")
    assert finish.effect_id == CELEBRATION
    assert [m.effect_id for m in sent[:-1]] == [None] * (len(sent) - 1)  # only the finish
    [after] = await bot.ask(say(reader, reader, "/next", script))
    assert after.effect_id is None
    assert after.plain_text.startswith("你已經讀完" if script is T else "你已经读完")


async def test_a_group_finishes_without_an_effect(bot: Harness) -> None:
    """Telegram refuses effects outside private chats: the fake answers 400, so none is sent."""
    group = u.group_chat(-7680, "讀書會")
    sent = [m for _ in range(5) for m in (await bot.ask(say(group, ADMIN, "/next", T)))]
    assert sent[-1].plain_text.startswith("—— 全文完 ——")
    assert all(m.effect_id is None for m in sent)


@pytest.mark.parametrize("script", [T, S])
async def test_the_last_push_brings_the_celebration_in_private_chats_only(
    bot: Harness, clock: Clock, script: Script
) -> None:
    reader = 7690 + list(Script).index(script)
    group = u.group_chat(-7690 - list(Script).index(script), "讀書會")
    bot.fake.set_member_status(group["id"], ADMIN, "administrator")
    clock.now = wall(clock, LONDON, 2027, 5, 3, 12, 0)
    for chat in (reader, group):
        await one(
            bot, chat, reader if chat == reader else ADMIN, "/timezone Europe/London", script
        )
        await one(bot, chat, reader if chat == reader else ADMIN, "/subscribe 07:00", script)
    await live(bot, clock, reader, wall(clock, LONDON, 2027, 5, 9, 8, 0), LONDON)
    finish = bot.fake.sent(reader)[-1]
    assert finish.plain_text.startswith("—— 全文完 ——")
    assert finish.effect_id == CELEBRATION
    assert sum(m.effect_id is not None for m in bot.fake.sent(reader)) == 1
    group_finish = bot.fake.sent(group["id"])[-1]
    assert group_finish.plain_text.startswith("—— 全文完 ——")  # the group reads traditional
    assert all(m.effect_id is None for m in bot.fake.sent(group["id"]))


def copy_text_of(msg: SentMessage) -> str:
    rows = (msg.reply_markup or {}).get("inline_keyboard", [])
    [found] = [b["copy_text"]["text"] for row in rows for b in row if "copy_text" in b]
    return str(found)


@pytest.mark.parametrize("script", [T, S])
async def test_a_copy_button_under_every_quote_copies_it_with_its_day_and_credit(
    bot: Harness, script: Script
) -> None:
    reader = 7695 + list(Script).index(script)
    library = bot.services.library
    article = library.article(script)
    for number in range(1, library.quote_count + 1):
        quote = await one(bot, reader, reader, f"/quote {number}", script)
        copied = copy_text_of(quote)
        q = library.quote(number, script)
        assert q is not None
        assert 1 <= len(copied) <= 256
        words, when, credit = copied.split("\n")
        assert words == (f"「{q.text}」" if script is T else f"“{q.text}”")
        assert when.startswith(f"—— {q.date.label}，") and q.occasion[:5] in when
        assert credit == f"《{article.title}》{article.byline}"
    markup = quote.reply_markup
    assert markup is not None
    copy_label = [b["text"] for row in markup["inline_keyboard"] for b in row if "copy_text" in b]
    assert copy_label == ["複製" if script is T else "复制"]


# --- the reading history -------------------------------------------------------------------------


@pytest.mark.parametrize("script", [T, S])
async def test_history_shows_the_day_each_section_was_read_or_delivered(
    bot: Harness, clock: Clock, script: Script
) -> None:
    reader = 7698 + list(Script).index(script)
    empty = await one(bot, reader, reader, "/history", script)
    assert empty.plain_text.startswith(
        "還沒有讀過任何一節" if script is T else "还没有读过任何一节"
    )
    clock.now = wall(clock, LONDON, 2027, 3, 22, 12, 15)  # Monday
    await one(bot, reader, reader, "/timezone Europe/London", script)
    await bot.ask(say(reader, reader, "/next", script))  # section 1, read
    await one(bot, reader, reader, "/subscribe 07:00", script)
    await live(bot, clock, reader, wall(clock, LONDON, 2027, 3, 24, 9, 0), LONDON)  # 2 and 3
    clock.now = wall(clock, LONDON, 2027, 3, 28, 21, 5)  # Sunday, summer time
    await bot.ask(say(reader, reader, "/read 5", script))
    await bot.ask(say(reader, reader, "/read 1", script))  # again: the first day stays

    shown = await one(bot, reader, reader, "/history", script)
    lines = shown.plain_text.splitlines()
    titles = [bot.services.library.section(n, script).title for n in range(1, 6)]  # type: ignore[union-attr]
    if script is T:
        assert lines == [
            "閱讀記錄（倫敦時間（Europe/London））",
            f"第 1 節〈{titles[0]}〉：3月22日（週一） 12:15（自己讀）",
            f"第 2 節〈{titles[1]}〉：3月23日（週二） 07:00（每日推播）",
            f"第 3 節〈{titles[2]}〉：3月24日（週三） 07:00（每日推播）",
            f"第 4 節〈{titles[3]}〉：還沒讀",
            f"第 5 節〈{titles[4]}〉：3月28日（週日） 21:05（自己讀）",
        ]
    else:
        assert lines == [
            "阅读记录（伦敦时间（Europe/London））",
            f"第 1 节〈{titles[0]}〉：3月22日（周一） 12:15（自己读）",
            f"第 2 节〈{titles[1]}〉：3月23日（周二） 07:00（每日推送）",
            f"第 3 节〈{titles[2]}〉：3月24日（周三） 07:00（每日推送）",
            f"第 4 节〈{titles[3]}〉：还没读",
            f"第 5 节〈{titles[4]}〉：3月28日（周日） 21:05（自己读）",
        ]
    # In another zone the same moments are other local times: New York, already on summer
    # time while London is not, is four hours behind until the 28th, then five.
    await one(bot, reader, reader, "/timezone America/New_York", script)
    again = (await one(bot, reader, reader, "/history", script)).plain_text.splitlines()
    assert "3月23日" in again[2] and "03:00" in again[2]
    assert "3月28日" in again[5] and "16:05" in again[5]


async def test_a_groups_history_follows_it_into_its_supergroup(bot: Harness) -> None:
    group = u.group_chat(-7799, "讀書會")
    await bot.ask(say(group, ADMIN, "/next", T))
    await bot.processed(u.migrate_message(group, -1007799))
    moved = u.supergroup_chat(-1007799, "讀書會")
    await bot.ask(say(moved, ADMIN, "/next", T))
    shown = await one(bot, moved, ADMIN, "/history", T)
    lines = shown.plain_text.splitlines()
    assert "（自己讀）" in lines[1] and "（自己讀）" in lines[2] and "還沒讀" in lines[3]


# --- help and the command menu ---------------------------------------------------------------

NEW_COMMANDS = ("pause", "resume", "saved", "history")


@pytest.mark.parametrize("script", [T, S])
async def test_help_and_the_command_menu_name_the_new_commands(
    bot: Harness, script: Script
) -> None:
    shown = await one(bot, 7800, 7800, "/help", script)
    for command in NEW_COMMANDS:
        assert f"/{command}" in shown.plain_text
    assert ("/pause [天數] 暫停每日推播" if script is T else "/pause [天数] 暂停每日推送") in (
        shown.plain_text
    )
    await asyncio.wait_for(bot.app.menus_published.wait(), 10)
    menus = [c.params for c in bot.fake.calls_for("setMyCommands")]
    language = {T: "zh-hant", S: None}[script]  # simplified is the menu's default
    mine = [m for m in menus if m.get("language_code") == language]
    assert len(mine) == 2  # private chats, and groups
    for menu in mine:
        described = {entry["command"]: entry["description"] for entry in menu["commands"]}
        assert set(NEW_COMMANDS) <= set(described)
        assert described["resume"] == (
            "結束暫停，恢復每日推播" if script is T else "结束暂停，恢复每日推送"
        )


@pytest.mark.parametrize("script", [T, S])
async def test_days_that_are_not_days_get_a_friendly_answer(bot: Harness, script: Script) -> None:
    reply = await one(bot, 7810, 7810, "/subscribe 08:00 週八", script)
    assert reply.plain_text.startswith("看不懂「週八」" if script is T else "看不懂“周八”")
    assert ("「一至五」「週末」或「一三五」" if script is T else "“一至五”“周末”或“一三五”") in (
        reply.plain_text
    )
    state = await bot.services.store.chats.get(7810)
    assert state is None or not state.subscribed
