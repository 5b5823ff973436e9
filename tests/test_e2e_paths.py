"""End to end: every path to a section counts the same, and the findings of a reader's tour.

Each test drives the real Application against the fake Bot API, as a person would: typing,
pressing buttons by their label, following links; it asserts what the reader sees.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.content.scripts import Script
from tests.conftest import Clock, Harness
from tests.reader import Reader, quote_shown, section_shown, toc_marks

S, T = Script.SIMPLIFIED, Script.TRADITIONAL
SHANGHAI = ZoneInfo("Asia/Shanghai")
NEXT = {S: "下一节", T: "下一節"}
OPENING_2 = {
    S: "“不能不当回事，人命关天，如果再发现一例，就拿区委书记、区长是问。”",
    T: "“不能不當回事，人命關天，如果再發現一例，就拿區委書記、區長是問。”",
}
DONE = {S: "阅读进度：{}/5 节", T: "閱讀進度：{}/5 節"}


@pytest.mark.parametrize("script", [S, T])
async def test_reading_from_the_contents_counts_like_next(bot: Harness, script: Script) -> None:
    """目录 → ▶ 1 → 下一节 ▶ twice: three read, ✓ on each, /next and the push send 4."""
    reader = Reader(bot, 7101, script)
    contents = await reader.one("/toc")
    assert toc_marks(contents) == {1: "▶", 2: "·", 3: "·", 4: "·", 5: "·"}
    await reader.press(contents, "▶ 1.")  # the contents become section 1, in place
    assert section_shown(contents) == 1
    [second] = await reader.press(contents, NEXT[script])
    assert section_shown(second) == 2
    [third] = await reader.press(second, NEXT[script])
    assert section_shown(third) == 3
    assert DONE[script].format(3) in await reader.progress()
    assert await reader.toc() == {1: "✓", 2: "✓", 3: "✓", 4: "▶", 5: "·"}
    [fourth] = await reader.send("/next")
    assert section_shown(fourth) == 4


@pytest.mark.parametrize("script", [S, T])
async def test_every_path_to_the_next_unread_section_moves_the_place(
    bot: Harness, script: Script
) -> None:
    """/read N, a deep link, a typed number, a search hit: each opens section progress+1."""
    reader = Reader(bot, 7102, script)
    [one] = await reader.send("/read 1")
    assert section_shown(one) == 1
    [two] = await reader.send("/start section_2")
    assert section_shown(two) == 2
    [three] = await reader.send("3")  # a number typed as text
    assert section_shown(three) == 3
    assert DONE[script].format(3) in await reader.progress()
    # A search hit's button: 过山车 is said only in section 4, the next unread one.
    hits = await reader.one("过山车" if script is S else "過山車")
    [four] = await reader.press(hits, "第 4 节" if script is S else "第 4 節")
    assert section_shown(four) == 4
    assert await reader.toc() == {1: "✓", 2: "✓", 3: "✓", 4: "✓", 5: "▶"}
    # A number typed in words: the last section, and with it the end of the article.
    five, summary = await reader.send("第五节" if script is S else "第5節")
    assert section_shown(five) == 5 and "全文完" in summary.plain_text
    assert DONE[script].format(5) in await reader.progress()


@pytest.mark.parametrize("script", [S, T])
async def test_a_section_read_ahead_counts_once_the_gap_is_filled(
    bot: Harness, clock: Clock, script: Script
) -> None:
    """Reading 3 before 2 keeps the place at 1; /next then sends 2 and moves to 3."""
    clock.now = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
    reader = Reader(bot, 7103, script)
    await reader.send("/next")
    await reader.send("/read 3")
    assert DONE[script].format(1) in await reader.progress()
    assert await reader.toc() == {1: "✓", 2: "▶", 3: "✓", 4: "·", 5: "·"}
    [two] = await reader.send("/next")
    assert section_shown(two) == 2
    assert DONE[script].format(3) in await reader.progress()
    [four] = await reader.send("/next")
    assert section_shown(four) == 4  # never section 3 again


async def test_the_next_button_under_a_reread_section_does_not_move_the_place(
    bot: Harness,
) -> None:
    """下一节 under section 1, re-read after reaching 3: shows 2, the place stays at 3."""
    reader = Reader(bot, 7104, S)
    for _ in range(3):
        await reader.send("/next")
    [one] = await reader.send("/read 1")
    [two] = await reader.press(one, NEXT[S])
    assert section_shown(two) == 2
    assert DONE[S].format(3) in await reader.progress()


# --- 2. one reading of numbers ------------------------------------------------------------------


@pytest.mark.parametrize("script", [S, T])
@pytest.mark.parametrize(
    ("typed", "number"),
    [("三", 3), ("十二", 12), ("第3條", 3), ("第3条", 3), ("３", 3), ("第十二条", 12), ("10", 10)],
)
async def test_quote_by_any_numeral(bot: Harness, script: Script, typed: str, number: int) -> None:
    reader = Reader(bot, 7201, script)
    reply = await reader.one(f"/quote {typed}")
    assert quote_shown(reply) == number
    assert "只在" not in reply.plain_text  # a number is an answer, never a search


@pytest.mark.parametrize("script", [S, T])
@pytest.mark.parametrize(("typed", "number"), [("三", 3), ("第2节", 2), ("第四節", 4), ("５", 5)])
async def test_read_by_any_numeral(bot: Harness, script: Script, typed: str, number: int) -> None:
    reader = Reader(bot, 7202, script)
    assert section_shown(await reader.one(f"/read {typed}")) == number


@pytest.mark.parametrize("script", [S, T])
async def test_a_quote_found_only_in_its_occasion_says_so_when_it_is_the_only_hit(
    bot: Harness, script: Script
) -> None:
    reader = Reader(bot, 7203, script)
    reply = await reader.one("/quote 方舱" if script is S else "/quote 方艙")
    said = "只在讲话场合的说明里" if script is S else "只在講話場合的說明裡"
    assert reply.plain_text.startswith(said), reply.plain_text
    assert quote_shown(reply) == 4


@pytest.mark.parametrize("script", [S, T])
async def test_quote_out_of_range_offers_a_way_on(bot: Harness, script: Script) -> None:
    reader = Reader(bot, 7204, script)
    for typed in ("0", "十三", "-1"):
        reply = await reader.one(f"/quote {typed}")
        assert "12" in reply.plain_text
        [shown] = await reader.press(reply, "语录" if script is S else "語錄")
        assert quote_shown(shown) is not None


# --- 3. a reader who blocked the bot ------------------------------------------------------------


async def deliver(bot: Harness, clock: Clock) -> None:
    """Run the daily delivery job once, at the clock's time (as its tick would)."""
    await bot.services.deliverer.run_due(bot.app.bot, clock.now)


@pytest.mark.parametrize("script", [S, T])
@pytest.mark.parametrize("way_back", ["unblock", "/start"])
async def test_blocking_ends_the_subscription_and_return_offers_to_resume(
    bot: Harness, clock: Clock, script: Script, way_back: str
) -> None:
    from fake_telegram import factories as u

    clock.now = datetime(2026, 3, 2, 7, 0, tzinfo=SHANGHAI)
    reader = Reader(bot, 7301, script)
    await reader.send("/subscribe 07:30")
    bot.fake.block(reader.chat_id)
    clock.now = datetime(2026, 3, 2, 7, 30, tzinfo=SHANGHAI)
    await deliver(bot, clock)  # 403: the reader blocked the bot
    state = await bot.services.chats.get(reader.chat_id)
    assert state is not None and not state.active and state.next_due_at is None
    clock.now = datetime(2026, 3, 5, 9, 0, tzinfo=SHANGHAI)
    bot.fake.unblock(reader.chat_id)
    if way_back == "unblock":
        replies = await bot.ask(
            u.my_chat_member(u.private_chat(reader.chat_id), reader.user(), "kicked", "member")
        )
    else:
        replies = await reader.send("/start")
    notice = replies[0]
    said = "拉黑" if script is S else "封鎖"
    assert said in notice.plain_text and "07:30" in notice.plain_text
    # Nothing resumed by itself: the next day's delivery time passes in silence.
    clock.now = datetime(2026, 3, 6, 7, 31, tzinfo=SHANGHAI)
    before = len(bot.fake.sent(reader.chat_id))
    await deliver(bot, clock)
    assert len(bot.fake.sent(reader.chat_id)) == before
    [resumed] = await reader.press(notice, "07:30")
    assert "07:30" in resumed.plain_text and "3月7日 07:30" in resumed.plain_text
    state = await bot.services.chats.get(reader.chat_id)
    assert state is not None and state.subscribed and state.active


@pytest.mark.parametrize("script", [S, T])
async def test_a_group_re_adding_the_bot_hears_its_delivery_goes_on(
    bot: Harness, clock: Clock, script: Script
) -> None:
    from fake_telegram import factories as u

    clock.now = datetime(2026, 3, 2, 7, 0, tzinfo=SHANGHAI)
    group = u.group_chat(-7302, "讀書會")
    admin = Reader(bot, 7302, script, chat=group)
    bot.fake.set_member_status(-7302, admin.user_id, "administrator")
    await admin.send("/script " + ("简" if script is S else "繁"))
    await admin.send("/subscribe 20:00")
    await bot.ask(u.my_chat_member(group, admin.user(), "member", "left"))
    [greeting] = await bot.ask(u.my_chat_member(group, admin.user(), "left", "member"))
    goes_on = "每日推送照常继续" if script is S else "每日推播照常繼續"
    assert goes_on in greeting.plain_text and "3月2日 20:00" in greeting.plain_text


# --- 4 and 5. the story so far; welcome back ----------------------------------------------------


@pytest.mark.parametrize("script", [S, T])
async def test_welcome_back_says_how_long_and_recalls_the_last_section_read(
    bot: Harness, clock: Clock, script: Script
) -> None:
    clock.now = datetime(2026, 3, 2, 21, 0, tzinfo=SHANGHAI)
    reader = Reader(bot, 7401, script)
    await reader.send("/next")
    await reader.send("/next")
    clock.now = datetime(2026, 3, 5, 8, 0, tzinfo=SHANGHAI)
    welcome = await reader.one("/start")
    text = welcome.plain_text
    section = bot.services.library.section(2, script)
    assert section is not None
    away = "上次来是 3 天前。" if script is S else "上次來是 3 天前。"
    assert away in text
    assert "前情提要" in text and "2月18日" in text
    [(start, end)] = [(a, b) for kind, a, b, x in welcome.entities if x == "expandable"]
    assert text[start:end] == OPENING_2[script]
    assert section.paragraphs[0].startswith(text[start:end])  # verbatim, in the reader's script
    assert "《" not in text.replace(bot.services.library.article(script).title, "")
    [next_one] = await reader.press(welcome, "继续阅读" if script is S else "繼續閱讀")
    assert section_shown(next_one) == 3
    clock.now = datetime(2026, 3, 6, 8, 0, tzinfo=SHANGHAI)
    again = await reader.one("/start")
    assert ("上次来是昨天。" if script is S else "上次來是昨天。") in again.plain_text


# --- 6. streaks count reading, on the reader's own date ----------------------------------------


STREAK = {S: "已经连续阅读 {} 天", T: "已經連續閱讀 {} 天"}


@pytest.mark.parametrize("script", [S, T])
async def test_looking_is_not_reading_but_every_way_of_reading_counts(
    bot: Harness, clock: Clock, script: Script
) -> None:
    from fake_telegram import factories as u

    day = datetime(2026, 4, 1, 9, 0, tzinfo=SHANGHAI)
    reader = Reader(bot, 7601, script)
    clock.now = day
    await reader.send("/help")
    await reader.send("/toc")
    assert STREAK[script].format(1) not in await reader.progress()  # looking is not reading
    contents = await reader.one("/toc")
    await reader.press(contents, "▶ 1.")  # day 1: the contents
    assert STREAK[script].format(1) in await reader.progress()
    clock.now = day.replace(day=2)
    [second] = await reader.send("/next")  # day 2: /next
    clock.now = day.replace(day=3)
    await reader.press(second, NEXT[script])  # day 3: paging on
    assert STREAK[script].format(3) in await reader.progress()
    clock.now = day.replace(day=4)
    [poll] = await reader.send("/quiz")  # day 4: answering a quiz
    assert poll.poll is not None
    answer = int(poll.poll["correct_option_ids"][0])
    await bot.ask(u.poll_answer(poll.poll["id"], reader.user(), [answer]), chat_id=7601)
    assert STREAK[script].format(4) in await reader.progress()


async def test_a_streak_day_is_the_readers_own_date(bot: Harness, clock: Clock) -> None:
    """Auckland reads at 23:00 and at 02:00: two of its days, one of the bot's (Shanghai)."""
    auckland = ZoneInfo("Pacific/Auckland")
    reader = Reader(bot, 7602, S)
    clock.now = datetime(2026, 4, 1, 12, 0, tzinfo=auckland)
    await reader.send("/timezone Pacific/Auckland")
    clock.now = datetime(2026, 4, 1, 23, 0, tzinfo=auckland)
    await reader.send("/next")
    clock.now = datetime(2026, 4, 2, 2, 0, tzinfo=auckland)
    assert clock.now.astimezone(SHANGHAI).date() == datetime(2026, 4, 1).date()
    await reader.send("/next")
    assert STREAK[S].format(2) in await reader.progress()


# --- 7. a shared card brings readers back ---------------------------------------------------


@pytest.mark.parametrize("script", [S, T])
async def test_a_cards_caption_links_back_to_its_quote(bot: Harness, script: Script) -> None:
    from fake_telegram import factories as u

    reader = Reader(bot, 7701, script)
    [card] = await reader.send("/card 三")
    assert card.photo is not None
    link = f"https://t.me/{u.BOT_USERNAME}?start=quote_3"
    assert link in card.plain_text  # a photo's text is its caption
    # Someone who sees the shared card follows the link: the bot opens that quote.
    stranger = Reader(bot, 7702, script)
    assert quote_shown(await stranger.one("/start quote_3")) == 3


# --- 9. Taiwan place names are understood ---------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "zone", "label"),
    [
        ("雪梨", "Australia/Sydney", "雪梨時間"),
        ("高雄", "Asia/Taipei", "臺北時間"),
        ("紐西蘭", "Pacific/Auckland", ""),
    ],
)
async def test_timezone_understands_taiwan_names(
    bot: Harness, typed: str, zone: str, label: str
) -> None:
    reader = Reader(bot, 7901, T)
    reply = await reader.one(f"/timezone {typed}")
    assert zone in reply.plain_text and label in reply.plain_text
    assert "悉尼" not in reply.plain_text


# --- 10. dead ends and small surprises ----------------------------------------------------------


@pytest.mark.parametrize("script", [S, T])
async def test_replies_that_would_end_the_way_offer_one_on(bot: Harness, script: Script) -> None:
    """Each reply names what went wrong and carries buttons that lead somewhere."""
    reader = Reader(bot, 8001, script)
    for typed in ("/read 6", "/read", "/read abc"):
        reply = await reader.one(typed)
        [section] = await reader.press(reply, "2")  # every section one tap away
        assert section_shown(section) == 2, typed
    none = await reader.one("/quote 0")
    assert quote_shown((await reader.press(none, "语录" if script is S else "語錄"))[0])
    nothing = await reader.one("量子力学" if script is S else "量子力學")  # a search with no hit
    [contents] = await reader.press(nothing, "目录" if script is S else "目錄")
    assert set(toc_marks(contents)) == {1, 2, 3, 4, 5}
    not_subscribed = await reader.one("/unsubscribe")
    [choice] = await reader.press(not_subscribed, "每天推送" if script is S else "每天推播")
    [subscribed] = await reader.press(choice, "21:00")
    assert "21:00" in subscribed.plain_text
    bad_time = await reader.one("/subscribe 25:99")
    [again] = await reader.press(bad_time, "07:00")
    assert "07:00" in again.plain_text


async def test_a_refused_subscribe_is_not_remembered_after_a_reset(
    bot: Harness, clock: Clock
) -> None:
    clock.now = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
    reader = Reader(bot, 8002, S)
    for _ in range(5):
        await reader.send("/next")
    refused = await reader.one("/subscribe 08:00")
    assert "读完" in refused.plain_text
    confirm = await reader.one("/reset")
    await reader.press(confirm, "确定")
    assert "尚未订阅" in await reader.progress()
    clock.now = datetime(2026, 3, 3, 8, 1, tzinfo=SHANGHAI)
    before = len(bot.fake.sent(reader.chat_id))
    await deliver(bot, clock)
    assert len(bot.fake.sent(reader.chat_id)) == before  # nothing was ever subscribed


@pytest.mark.parametrize("script", [S, T])
async def test_the_quiet_button_updates_the_message_it_sits_under(
    bot: Harness, script: Script
) -> None:
    reader = Reader(bot, 8003, script)
    reply = await reader.one("/subscribe 08:00")
    silent = "静音送达" if script is S else "靜音送達"
    assert silent not in reply.plain_text
    assert await reader.press(reply, "静音" if script is S else "靜音") == []
    assert silent in reply.plain_text  # the same message says it now
    await reader.press(reply, "有声" if script is S else "有聲")
    assert silent not in reply.plain_text


@pytest.mark.parametrize("script", [S, T])
async def test_start_after_a_reset_greets_with_the_readers_own_time(
    bot: Harness, script: Script
) -> None:
    reader = Reader(bot, 8004, script)
    await reader.send("/subscribe 21:30")
    await reader.send("/next")
    confirm = await reader.one("/reset")
    await reader.press(confirm, "确定" if script is S else "確定")
    welcome = await reader.one("/start")
    assert "21:30" in welcome.plain_text and "08:00" not in welcome.plain_text


@pytest.mark.parametrize("script", [S, T])
async def test_onthisday_tells_a_non_subscriber_the_cards_come_with_a_subscription(
    bot: Harness, script: Script
) -> None:
    reader = Reader(bot, 8005, script)
    reply = await reader.one("/onthisday")
    assert ("订阅以后" if script is S else "訂閱以後") in reply.plain_text
    [choice] = await reader.press(reply, "每天推送" if script is S else "每天推播")
    assert "21:00" in str(choice.reply_markup)
    await reader.send("/subscribe 07:00")
    assert "訂閱以後" not in (await reader.one("/onthisday")).plain_text


async def test_without_an_article_year_the_card_says_the_storys_day(
    bot: Harness, clock: Clock
) -> None:
    reader = Reader(bot, 8006, T)
    clock.now = datetime(2027, 2, 15, 20, 0, tzinfo=SHANGHAI)
    await reader.send("/subscribe 07:00")
    clock.now = datetime(2027, 2, 16, 7, 0, tzinfo=SHANGHAI)
    await deliver(bot, clock)
    section, card = bot.fake.sent(reader.chat_id)[-2:]
    assert section_shown(section) == 1
    assert card.plain_text.startswith("報導裡的這一天 · 2月16日")
