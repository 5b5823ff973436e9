"""The reader's experience, as conversations in both scripts: right words, one script per
message, no dead ends, and plain messages that do what readers mean."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.content.scripts import Script
from bot.rules.reading import reading_minutes
from fake_telegram import SentMessage
from fake_telegram import factories as u
from tests.conftest import Clock, Harness

T, S = Script.TRADITIONAL, Script.SIMPLIFIED
LANGUAGE = {T: "zh-hant", S: "zh-hans"}
READER = 8101


def say(reader: int, text: str, script: Script) -> dict[str, Any]:
    return u.message(u.private_chat(reader), u.user(reader, language_code=LANGUAGE[script]), text)


async def one(bot: Harness, text: str, script: Script = T, reader: int = READER) -> SentMessage:
    replies = await bot.ask(say(reader, text, script))
    assert len(replies) == 1, [m.plain_text for m in replies]
    return replies[0]


def data(msg: SentMessage) -> list[str]:
    rows = (msg.reply_markup or {}).get("inline_keyboard", [])
    return [b["callback_data"] for row in rows for b in row if "callback_data" in b]


def label(msg: SentMessage, wanted: str) -> str:
    rows = (msg.reply_markup or {}).get("inline_keyboard", [])
    [found] = [b["text"] for row in rows for b in row if b.get("callback_data") == wanted]
    return str(found)


async def press(
    bot: Harness, msg: SentMessage, wanted: str, script: Script = T
) -> list[SentMessage]:
    assert wanted in data(msg), (wanted, data(msg))
    presser = u.user(msg.chat_id, language_code=LANGUAGE[script])
    return await bot.ask(u.callback_query(presser, (msg.chat_id, msg.message_id), wanted))


# 里 is both the simplified form of 裡 and a word of its own (行百里者, a unit of distance).
_BOTH = frozenset("里")


def simplified_only(text: str) -> set[str]:
    """Return the characters of text that only simplified script writes (个, 这, 说 …).

    Character by character, without context: a phrase converter would also rewrite words
    that are fine in both scripts (了解 → 瞭解).
    """
    from bot.content.scripts import _converter

    convert = _converter("s2tw").convert
    return {ch for ch in set(text) - _BOTH if convert(ch) != ch}


def traditional_only(text: str) -> set[str]:
    """Return the characters of text that only traditional script writes (個, 這, 說 …)."""
    from bot.content.scripts import _converter

    convert = _converter("t2s").convert
    return {ch for ch in set(text) if convert(ch) != ch}


def one_script(text: str, script: Script) -> bool:
    return not (simplified_only(text) if script is T else traditional_only(text))


# --- credit, title lines and reading times ---------------------------------------------------


@pytest.mark.parametrize("script", [T, S])
async def test_start_and_the_first_section_carry_the_title_and_byline(
    bot: Harness, script: Script
) -> None:
    article = bot.services.library.article(script)
    welcome = await one(bot, "/start", script)
    assert article.title in welcome.plain_text and article.byline in welcome.plain_text
    first = await one(bot, "/next", script)
    lines = first.plain_text.splitlines()
    assert lines[0] == f"《{article.title}》" and lines[1] == article.byline
    assert re.search(r"約 \d+ 分鐘讀完|约 \d+ 分钟读完", first.plain_text)
    second = await one(bot, "/next", script)
    assert article.byline not in second.plain_text  # the credit stands once, at the start


async def test_a_daily_delivery_says_what_arrived(bot: Harness, clock: Clock) -> None:
    clock.now = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
    await one(bot, "/subscribe 08:00")
    state = await bot.services.store.chats.get(READER)
    assert state is not None and state.next_due_at is not None
    await bot.services.deliverer.run_due(
        bot.app.bot, datetime.fromtimestamp(state.next_due_at, UTC)
    )
    [digest] = bot.fake.sent(READER)[-1:]
    title = bot.services.library.article(T).title
    first = bot.services.library.section(1, T)
    assert first is not None
    minutes = reading_minutes(first)
    # The first line is what the notification shows: today's section and its reading time.
    assert digest.plain_text.startswith(
        f"今天：第 1 節〈{first.title}〉· 約 {minutes} 分鐘\n每日連載 ·《{title}》"
    )


# --- one script per message --------------------------------------------------------------------


async def test_the_search_word_is_echoed_in_the_readers_script(bot: Harness) -> None:
    none = await one(bot, "/quote 没有这个词", T)
    assert "沒有這個詞" in none.plain_text and one_script(none.plain_text, T)
    none = await one(bot, "/quote 沒有這個詞", S, reader=8102)
    assert "没有这个词" in none.plain_text and one_script(none.plain_text, S)


@pytest.mark.parametrize(("typed", "key", "name"), [
    ("北京", "Asia/Shanghai", "北京時間"),
    ("臺北", "Asia/Taipei", "臺北時間"),
    ("台北", "Asia/Taipei", "臺北時間"),
    ("香港", "Asia/Hong_Kong", "香港時間"),
    ("新加坡", "Asia/Singapore", "新加坡時間"),
    ("東京", "Asia/Tokyo", "東京時間"),
    ("纽约", "America/New_York", "紐約時間"),
    ("倫敦", "Europe/London", "倫敦時間"),
    ("UTC+8", "Etc/GMT-8", "UTC+8"),
    ("asia/kolkata", "Asia/Kolkata", "Asia/Kolkata"),
])  # fmt: skip
async def test_time_zones_are_named_as_readers_know_them(
    bot: Harness, typed: str, key: str, name: str
) -> None:
    reply = await one(bot, f"/timezone {typed}")
    assert name in reply.plain_text
    state = await bot.services.store.chats.get(READER)
    assert state is not None and state.timezone is not None and state.timezone.key == key


async def test_replies_use_no_english_words(bot: Harness) -> None:
    for text in ("/subscribe 08:00", "/progress", "/timezone", "/timezone nowhere", "/help"):
        reply = await one(bot, text)
        words = set(re.findall(r"[A-Za-z]{3,}", reply.plain_text))
        words -= {"Asia", "Shanghai", "Taipei", "Hong", "Kong", "New", "York", "Europe"}
        words -= {"London", "America", "Tokyo", "Singapore", "UTC", "nowhere", "SerialBot"}
        words -= set(re.findall(r"/([a-z]+)", reply.plain_text))  # command names
        assert not words, (text, words)
        assert "quiet" not in reply.plain_text and "IANA" not in reply.plain_text


# --- no dead ends ----------------------------------------------------------------------------


async def test_a_bad_zone_offers_common_zones_as_buttons(bot: Harness) -> None:
    reply = await one(bot, "/timezone Mars/Base")
    assert "tz:Asia/Taipei" in data(reply) and label(reply, "tz:Asia/Taipei") == "臺北時間"
    [done] = await press(bot, reply, "tz:Asia/Taipei")
    assert "臺北時間（Asia/Taipei）" in done.plain_text


@pytest.mark.parametrize("script", [T, S])
async def test_finished_readers_are_told_and_offered_to_start_over(
    bot: Harness, script: Script
) -> None:
    for _ in range(5):
        await bot.ask(say(READER, "/next", script))
    for command in ("/subscribe 08:00", "/progress"):
        reply = await one(bot, command, script)
        assert "rs" in data(reply), command  # start over
        assert one_script(reply.plain_text, script)
    state = await bot.services.store.chats.get(READER)
    assert state is not None and state.next_due_at is None  # nothing would only say "the end"
    reply = await one(bot, "/progress", script)
    [first] = await press(bot, reply, "rs", script)
    assert "第 1/5" in first.plain_text


@pytest.mark.parametrize("script", [T, S])
async def test_a_returning_reader_is_welcomed_back_where_they_are(
    bot: Harness, script: Script
) -> None:
    for _ in range(3):
        await one(bot, "/next", script)
    back = await one(bot, "/start", script)
    title = bot.services.library.section(3, script).title  # type: ignore[union-attr]
    expected = "歡迎回來" if script is T else "欢迎回来"
    assert back.plain_text.startswith(expected) and "第 3 " in back.plain_text
    marked = f"〈{title}〉" if script is T else f"“{title}”"  # a section's marks, never 《》
    assert marked in back.plain_text and f"《{title}》" not in back.plain_text
    [section] = await press(bot, back, "nx", script)
    assert "第 4/5" in section.plain_text


async def test_the_next_button_follows_the_script_of_its_message(bot: Harness) -> None:
    first = await one(bot, "/next", T)
    assert await press(bot, first, "sw:s:1:s") == []  # the message turns simplified in place
    switched = bot.fake.messages[(first.chat_id, first.message_id)]
    assert "nx:1:s" in data(switched)
    [second] = await press(bot, switched, "nx:1:s")
    assert "第 2/5 节" in second.plain_text  # simplified, though the reader reads traditional


async def test_errors_name_the_word_that_was_wrong(bot: Harness) -> None:
    reply = await one(bot, "/subscribe 21:30 blah")
    assert "「blah」" in reply.plain_text and "21:30" not in reply.plain_text.split("。")[0]


# --- plain messages ----------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "expect"), [
    ("三", "第 3/5 節"),
    ("第三節", "第 3/5 節"),
    ("第3节", "第 3/5 節"),
    ("5", "第 5/5 節"),
    ("十", "語錄 10"),
    ("語錄四", "語錄 4"),
])  # fmt: skip
async def test_numbers_open_a_section_or_a_quote(bot: Harness, typed: str, expect: str) -> None:
    reply = await one(bot, typed)
    assert expect in reply.plain_text


@pytest.mark.parametrize(("typed", "expect"), [
    ("下一節", "第 1/5 節"),
    ("繼續", "第 1/5 節"),
    ("目錄", "目錄"),
    ("時間軸", "時間軸"),
    ("語錄", "語錄 "),
    ("你好", "直接輸入一個詞"),
    ("Hello!", "直接輸入一個詞"),
])  # fmt: skip
async def test_navigation_words_and_greetings_do_what_they_say(
    bot: Harness, typed: str, expect: str
) -> None:
    reply = await one(bot, typed)
    assert expect in reply.plain_text


async def test_search_finds_the_title_with_its_reason(bot: Harness) -> None:
    reply = await one(bot, "背水一战")
    assert "標題：" in reply.plain_text
    bold = [reply.plain_text[e[1] : e[2]] for e in reply.entities if e[0] == "bold"]
    assert "背水一戰" in bold  # the word picked out, in the reader's script


async def test_search_finds_sections_with_the_sentence_and_a_button(bot: Harness) -> None:
    reply = await one(bot, "百步亭")
    found = bot.services.search.find("百步亭")
    for place in found.places:
        assert f"第 {place.section} 節" in reply.plain_text
        assert f"rd:{place.section}" in data(reply)
    bold = [reply.plain_text[e[1] : e[2]] for e in reply.entities if e[0] == "bold"]
    assert bold.count("百步亭") >= len(found.places)
    [section] = await press(bot, reply, f"rd:{found.places[0].section}")
    assert f"第 {found.places[0].section}/5 節" in section.plain_text


async def test_search_for_nothing_known_says_so_kindly(bot: Harness) -> None:
    reply = await one(bot, "量子力學")
    assert "沒有找到「量子力學」" in reply.plain_text


# --- one script everywhere: a tour of every command and button -------------------------------

COMMANDS = [
    "/start", "/help", "/next", "/toc", "/read 2", "/quote", "/quote 4", "/quote 排查",
    "/quote 火星", "/date", "/date 2月16日", "/date 3月1日", "/date 哪天", "/progress",
    "/subscribe 08:00 静音", "/subscribe 7:00 whatever", "/timezone", "/timezone 台北",
    "/timezone 火星", "/script", "/reset", "/unsubscribe", "/unsubscribe", "/read 9", "/read x",
    "百步亭", "三", "你好", "目錄", "/nonsense",
]  # fmt: skip


@pytest.mark.parametrize("script", [T, S])
async def test_no_reply_in_a_tour_of_every_command_and_button_mixes_scripts(
    bot: Harness, script: Script
) -> None:
    reader = 8200 if script is T else 8201
    seen: list[SentMessage] = []
    for text in COMMANDS:
        seen += await bot.ask(say(reader, text, script))
    pressed: set[str] = set()
    waiting = list(seen)
    while waiting:  # every kind of button once, on whatever message first shows it
        msg = waiting.pop(0)
        for wanted in data(msg):
            kind = wanted.split(":")[0]
            if kind in pressed or kind in ("sw", "scr", "rst", "rs"):
                continue  # switching script is meant to change it; resets end the tour
            pressed.add(kind)
            replies = await press(bot, msg, wanted, script)
            seen += replies
            waiting += replies
    assert {"nx", "toc", "tl", "qr", "sub", "rd", "q", "d", "qs", "tz", "sa", "qt"} <= pressed
    for msg in [*seen, *(bot.fake.messages.values())]:
        if msg.chat_id != reader:
            continue
        # Every button but the script switches, which name the other script on purpose.
        labels = [
            b["text"]
            for b in _buttons(msg)
            if not str(b.get("callback_data", "")).startswith(("sw:", "scr:"))
        ]
        text = msg.plain_text + " ".join(labels)
        assert one_script(text, script), (
            msg.plain_text[:60],
            simplified_only(text) or traditional_only(text),
        )


def _buttons(msg: SentMessage) -> list[dict[str, Any]]:
    rows = (msg.reply_markup or {}).get("inline_keyboard", [])
    return [b for row in rows for b in row]
