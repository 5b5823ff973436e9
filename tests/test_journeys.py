"""A reader's week, lived end to end, in both scripts.

Each journey drives the real Application against the fake Bot API over HTTP: people type and
press buttons by their labels, the clock moves day by day, and the daily delivery job runs
at each day's delivery time (called, as its tick would, with the clock's time). At every
step the test asserts what the reader sees: their progress, the ✓ marks, the next push, the
recap and the streak. Paths that disagree about a reader's place show up here.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.content.scripts import Script
from fake_telegram import SentMessage
from fake_telegram import factories as u
from tests.conftest import Clock, Harness
from tests.reader import Reader, section_shown, toc_marks

S, T = Script.SIMPLIFIED, Script.TRADITIONAL
SHANGHAI = ZoneInfo("Asia/Shanghai")

# What each script's reader reads on the screen, for the words these journeys look for.
WORDS: dict[Script, dict[str, str]] = {
    S: {
        "progress": "阅读进度：{}/5 节",
        "next push": "下次推送：{}",
        "not subscribed": "尚未订阅每日推送",
        "streak": "已经连续阅读 {} 天（最长 {} 天）",
        "streak start": "今天读一节，就开始连续阅读的记录",
        "away": "上次来是 {} 天前。",
        "recap": "前情提要：上回读到第 {} 节",
        "digest": "每日连载",
        "next": "下一节",
        "continue": "继续阅读",
        "restart": "从头再读",
        "the end": "—— 全文完 ——",
        "blocked": "拉黑",
        "admins only": "只有群管理员",
        "subscribe": "每天推送",
    },
    T: {
        "progress": "閱讀進度：{}/5 節",
        "next push": "下次推播：{}",
        "not subscribed": "尚未訂閱每日推播",
        "streak": "已經連續閱讀 {} 天（最長 {} 天）",
        "streak start": "今天讀一節，就開始連續閱讀的記錄",
        "away": "上次來是 {} 天前。",
        "recap": "前情提要：上回讀到第 {} 節",
        "digest": "每日連載",
        "next": "下一節",
        "continue": "繼續閱讀",
        "restart": "從頭再讀",
        "the end": "—— 全文完 ——",
        "blocked": "封鎖",
        "admins only": "只有群組管理員",
        "subscribe": "每天推播",
    },
}
# The opening sentence of each section, as the recap must quote it (never made up).
OPENINGS: dict[Script, dict[int, str]] = {
    S: {
        2: "“不能不当回事，人命关天，如果再发现一例，就拿区委书记、区长是问。”",
        3: "因在疫情下仍举办万家家宴而处于舆论漩涡中的百步亭，像是这座城市的一道疮疤。",
        4: "这一周来，武汉的领导干部应该有不少人体验到了坐过山车的感觉，"
        "立状问责和火线提拔时常有之。",
    },
    T: {
        2: "“不能不當回事，人命關天，如果再發現一例，就拿區委書記、區長是問。”",
        3: "因在疫情下仍舉辦萬家家宴而處於輿論漩渦中的百步亭，像是這座城市的一道瘡疤。",
        4: "這一週來，武漢的領導幹部應該有不少人體驗到了坐過山車的感覺，"
        "立狀問責和火線提拔時常有之。",
    },
}
DATES = {2: "2月18日", 3: "2月18日", 4: "2月16日"}  # the first date each section names


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of March 2026 in Shanghai (the bot's default zone): day 2 is a Monday."""
    return datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)


async def push_day(bot: Harness, clock: Clock, when: datetime, chat_id: int) -> list[SentMessage]:
    """Move the clock to ``when``, run the delivery job; return what reached the chat."""
    clock.now = when
    before = bot.fake.sent_count(chat_id)
    await bot.services.deliverer.run_due(bot.app.bot, clock.now)
    return bot.fake.sent(chat_id)[before:]


def recap_shown(msg: SentMessage) -> str | None:
    """Return the sentence a message quotes in its expandable story-so-far block, if any."""
    quoted = [
        msg.plain_text[start:end]
        for kind, start, end, extra in msg.entities
        if kind == "blockquote" and extra == "expandable"
    ]
    assert len(quoted) <= 1
    return quoted[0] if quoted else None


def says(msg: SentMessage | str, script: Script, key: str, *values: object) -> bool:
    text = msg if isinstance(msg, str) else msg.plain_text
    return WORDS[script][key].format(*values) in text


# --------------------------------------------------------------------------- a private reader


@pytest.mark.parametrize("script", [S, T])
async def test_a_new_readers_first_week(bot: Harness, clock: Clock, script: Script) -> None:
    reader = Reader(bot, 9101, script)
    w = WORDS[script]

    # Monday evening: they find the bot and subscribe for 07:30.
    clock.now = at(2, 20)
    welcome = await reader.one("/start")
    assert "/subscribe" in welcome.plain_text
    subscribed = await reader.one("/subscribe 07:30")
    assert "3月3日 07:30" in subscribed.plain_text
    progress = await reader.progress()
    assert says(progress, script, "progress", 0) and says(progress, script, "streak start")
    assert await reader.toc() == {1: "▶", 2: "·", 3: "·", 4: "·", 5: "·"}

    # Tuesday 07:30: the first push, section 1, nothing to recall yet.
    [first] = await push_day(bot, clock, at(3, 7, 30), reader.chat_id)
    # The push's first line is what the notification shows; the digest's header follows.
    preview, header = first.plain_text.split("\n")[:2]
    assert preview.startswith("今天：第 1 ") and header.startswith(w["digest"])
    assert section_shown(first) == 1
    assert recap_shown(first) is None
    progress = await reader.progress()
    assert says(progress, script, "progress", 1)
    assert says(progress, script, "next push", "3月4日 07:30")
    assert says(progress, script, "streak start")  # a push is not reading: they did nothing

    # Tuesday evening: they read ahead from the contents, 2 then 3 with the next button.
    clock.now = at(3, 21)
    contents = await reader.one("/toc")
    assert toc_marks(contents) == {1: "✓", 2: "▶", 3: "·", 4: "·", 5: "·"}
    await reader.press(contents, "▶ 2.")
    assert section_shown(contents) == 2  # opened in place of the contents
    [third] = await reader.press(contents, w["next"])
    assert section_shown(third) == 3
    assert await reader.toc() == {1: "✓", 2: "✓", 3: "✓", 4: "▶", 5: "·"}
    progress = await reader.progress()
    assert says(progress, script, "progress", 3) and says(progress, script, "streak", 1, 1)
    assert says(progress, script, "next push", "3月4日 07:30")

    # Wednesday 07:30: the push sends section 4, not 2 again, and recalls section 3.
    [fourth] = await push_day(bot, clock, at(4, 7, 30), reader.chat_id)
    assert section_shown(fourth) == 4
    assert says(fourth, script, "recap", 3) and DATES[3] in fourth.plain_text
    assert recap_shown(fourth) == OPENINGS[script][3]
    # A busy week: they stop the pushes (stopping is not reading).
    clock.now = at(4, 12)
    await reader.send("/unsubscribe")
    progress = await reader.progress()
    assert says(progress, script, "progress", 4) and says(progress, script, "not subscribed")
    assert says(progress, script, "streak", 1, 1)  # yesterday's reading still counts today

    # Four days without reading: no pushes arrive.
    for day in (5, 6):
        assert await push_day(bot, clock, at(day, 7, 31), reader.chat_id) == []

    # Saturday: welcome back, how long they were away, the story so far.
    clock.now = at(7, 9)
    back = await reader.one("/start")
    assert says(back, script, "away", 4)
    assert says(back, script, "recap", 4) and DATES[4] in back.plain_text
    assert recap_shown(back) == OPENINGS[script][4]
    assert says(await reader.progress(), script, "streak start")  # the run was broken

    # They finish: section 5 and, in one message, the end with the ways on.
    last, summary = await reader.press(back, w["continue"])
    assert section_shown(last) == 5
    assert summary.plain_text.startswith(w["the end"]) and w["the end"] not in last.plain_text
    assert ("5 天" in summary.plain_text) and ("5/5" in summary.plain_text)  # Tue to Sat
    assert await reader.toc() == {n: "✓" for n in range(1, 6)}
    progress = await reader.progress()
    assert says(progress, script, "progress", 5) and says(progress, script, "streak", 1, 1)

    # And start over from the summary's button: section 1 again, a fresh place.
    [again] = await reader.press(summary, w["restart"])
    assert section_shown(again) == 1
    assert await reader.toc() == {1: "✓", 2: "▶", 3: "·", 4: "·", 5: "·"}
    assert says(await reader.progress(), script, "progress", 1)


# --------------------------------------------------------------------------- blocked and back


@pytest.mark.parametrize("script", [S, T])
async def test_a_reader_who_blocks_the_bot_and_returns(
    bot: Harness, clock: Clock, script: Script
) -> None:
    reader = Reader(bot, 9201, script)
    w = WORDS[script]
    clock.now = at(2, 20)
    await reader.send("/subscribe 07:30")
    [first] = await push_day(bot, clock, at(3, 7, 30), reader.chat_id)
    assert section_shown(first) == 1
    clock.now = at(3, 12)
    [second] = await reader.send("/next")
    assert section_shown(second) == 2
    assert says(await reader.progress(), script, "streak", 1, 1)

    # They block the bot; Wednesday's push meets a 403, which ends the subscription.
    bot.fake.block(reader.chat_id)
    assert await push_day(bot, clock, at(4, 7, 30), reader.chat_id) == []
    state = await bot.services.chats.get(reader.chat_id)
    assert state is not None and not state.active and state.next_due_at is None
    assert await push_day(bot, clock, at(5, 7, 31), reader.chat_id) == []

    # Friday they unblock: the bot says delivery stopped then, with one button to resume.
    clock.now = at(6, 10)
    bot.fake.unblock(reader.chat_id)
    [notice] = await bot.ask(
        u.my_chat_member(u.private_chat(reader.chat_id), reader.user(), "kicked", "member")
    )
    assert w["blocked"] in notice.plain_text and "07:30" in notice.plain_text
    assert len(notice.reply_markup["inline_keyboard"]) == 1  # type: ignore[index]
    assert says(await reader.progress(), script, "not subscribed")  # not silently resumed
    assert await push_day(bot, clock, at(6, 7, 31).replace(day=7), reader.chat_id) == []

    # They come back properly on Saturday: welcome back with the gap and the recap.
    clock.now = at(7, 9)
    back = await reader.one("/start")
    assert says(back, script, "away", 4)  # last read on Tuesday
    assert recap_shown(back) == OPENINGS[script][2]
    [resumed] = await reader.press(notice, "07:30")
    assert "3月8日 07:30" in resumed.plain_text
    progress = await reader.progress()
    assert says(progress, script, "progress", 2) and says(
        progress, script, "next push", "3月8日 07:30"
    )

    # Sunday's push goes on where they were, recalling section 2.
    [third] = await push_day(bot, clock, at(8, 7, 30), reader.chat_id)
    assert section_shown(third) == 3 and recap_shown(third) == OPENINGS[script][2]


# --------------------------------------------------------------------------- a group's week


@pytest.mark.parametrize("script", [S, T])
async def test_a_groups_week(bot: Harness, clock: Clock, script: Script) -> None:
    group = u.supergroup_chat(-1009100, "讀書會")
    w = WORDS[script]
    admin = Reader(bot, 9301, script, chat=group, name="Admin")
    bea = Reader(bot, 9302, script, chat=group, name="Bea")
    cai = Reader(bot, 9303, script, chat=group, name="Cai")
    bot.fake.set_member_status(group["id"], admin.user_id, "administrator")

    # Monday: the admin adds the bot, picks the group's script and a time.
    clock.now = at(2, 18)
    [greeting] = await bot.ask(u.my_chat_member(group, admin.user(), "left", "member"))
    assert "/subscribe" in greeting.plain_text
    await admin.send("/script " + ("简" if script is S else "繁"))
    subscribed = await admin.one("/subscribe 20:00")
    assert "3月2日 20:00" in subscribed.plain_text

    # Monday 20:00: section 1 reaches the group.
    [first] = await push_day(bot, clock, at(2, 20), group["id"])
    # The push's first line is what the notification shows; the digest's header follows.
    preview, header = first.plain_text.split("\n")[:2]
    assert preview.startswith("今天：第 1 ") and header.startswith(w["digest"])
    assert section_shown(first) == 1

    # Bea pages on under the push; Cai opens the next one from the contents.
    clock.now = at(2, 21)
    [second] = await bea.press(first, w["next"])
    assert section_shown(second) == 2
    contents = await cai.one("/toc")
    assert toc_marks(contents) == {1: "✓", 2: "✓", 3: "▶", 4: "·", 5: "·"}
    await cai.press(contents, "▶ 3.")
    assert section_shown(contents) == 3
    progress = await cai.progress()
    assert says(progress, script, "progress", 3) and says(
        progress, script, "next push", "3月3日 20:00"
    )
    # Reading in the group counts in each reader's own streak.
    assert says((await Reader(bot, bea.user_id, script).one("/progress")), script, "streak", 1, 1)

    # A member may not move the time; the admin moves it to the morning.
    clock.now = at(3, 9)
    refused = await bea.one("/subscribe 07:00")
    assert w["admins only"] in refused.plain_text
    moved = await admin.one("/subscribe 07:00")
    assert "3月4日 07:00" in moved.plain_text
    assert await push_day(bot, clock, at(3, 20), group["id"]) == []  # the old time is gone

    # Wednesday 07:00: section 4, recalling the section the group read last.
    [fourth] = await push_day(bot, clock, at(4, 7), group["id"])
    assert section_shown(fourth) == 4 and recap_shown(fourth) == OPENINGS[script][3]

    # Thursday 07:00: the last section and the end, as one message after it.
    last, summary = await push_day(bot, clock, at(5, 7), group["id"])
    assert section_shown(last) == 5 and summary.plain_text.startswith(w["the end"])
    assert says(await admin.progress(), script, "progress", 5)
    assert await push_day(bot, clock, at(6, 7), group["id"]) == []  # nothing more is due
    assert await admin.toc() == {n: "✓" for n in range(1, 6)}
