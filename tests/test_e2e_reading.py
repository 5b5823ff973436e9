"""End to end: reading the article in a private chat, over HTTP against the strict fake.

Every test drives the real Application with Bot API updates and asserts on what the user
would see: the messages (as Telegram renders them), their buttons and their later edits.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.content import Library
from bot.content.scripts import Script, to_simplified
from bot.render import texts
from fake_telegram import SentMessage
from fake_telegram import factories as u
from tests.conftest import BotRunner, Clock, Harness

USER = u.DEFAULT_USER_ID
TOTAL_SECTIONS = 5
TOTAL_QUOTES = 12
KNOWN_DAYS = ["2月13日", "2月14日", "2月15日", "2月16日", "2月17日", "2月18日", "2月19日"]


# --------------------------------------------------------------------------- helpers


def private_command(text: str, user_id: int = USER, language_code: str | None = "zh-hant") -> Any:
    """A command in the user's private chat, from a user with the given Telegram language."""
    return u.message(u.private_chat(user_id), u.user(user_id, language_code=language_code), text)


async def one(bot: Harness, text: str, **kw: Any) -> SentMessage:
    """Send a command in the private chat and return the single reply."""
    replies = await bot.ask(private_command(text, **kw))
    assert len(replies) == 1, [m.plain_text for m in replies]
    return replies[0]


def buttons(msg: SentMessage) -> list[dict[str, Any]]:
    rows = (msg.reply_markup or {}).get("inline_keyboard", [])
    return [button for row in rows for button in row]


def callback_data(msg: SentMessage) -> list[str]:
    return [b["callback_data"] for b in buttons(msg) if "callback_data" in b]


def button_text(msg: SentMessage, data: str) -> str:
    [found] = [b["text"] for b in buttons(msg) if b.get("callback_data") == data]
    return str(found)


def press_update(msg: SentMessage, data: str, user_id: int = USER) -> dict[str, Any]:
    # A button can only be pressed if it is really on the message.
    assert data in callback_data(msg), f"{data!r} not among {callback_data(msg)}"
    return u.callback_query(u.user(user_id), (msg.chat_id, msg.message_id), data)


async def press(bot: Harness, msg: SentMessage, data: str) -> list[SentMessage]:
    """Press a button on a bot message; return the new messages it caused."""
    update = press_update(msg, data)
    replies = await bot.ask(update, chat_id=msg.chat_id)
    query_id = update["callback_query"]["id"]
    assert query_id in bot.fake.callback_answers, "the button press was never answered"
    return replies


def paragraphs_of(msg: SentMessage) -> list[str]:
    return msg.plain_text.split("\n\n")


def section_header(n: int, script: Script = Script.TRADITIONAL) -> str:
    return f"第 {n}/{TOTAL_SECTIONS} {'節' if script is Script.TRADITIONAL else '节'}"


def is_section(msg: SentMessage, n: int, script: Script = Script.TRADITIONAL) -> bool:
    """Tell whether a message shows section ``n`` (its header opens a line of the message)."""
    return f"\n{section_header(n, script)} · " in f"\n{msg.plain_text}"


def is_simplified(text: str) -> bool:
    return to_simplified(text) == text


# --------------------------------------------------------------------------- /start


async def test_start_welcomes_in_traditional_with_buttons_to_begin(
    bot: Harness, library: Library
) -> None:
    msg = await one(bot, "/start")
    title = library.article(Script.TRADITIONAL).title
    assert title in msg.plain_text
    assert "5 節" in msg.plain_text and "/next" in msg.plain_text
    assert "現在用的是繁體" in msg.plain_text
    # Taiwan wording: 報導 (never 報道 or s2tw's 報道里), 推播 for the daily push.
    assert "報導" in msg.plain_text and "報道" not in msg.plain_text
    assert "推播" in msg.plain_text and "推送" not in msg.plain_text
    data = callback_data(msg)
    assert data[0] == "nx" and {"toc", "tl", "qr", "scr:s", "scr:t"} <= set(data)


@pytest.mark.parametrize(
    ("language_code", "script"),
    [
        ("zh-hans", Script.SIMPLIFIED),
        ("zh-cn", Script.SIMPLIFIED),
        ("zh-sg", Script.SIMPLIFIED),
        ("zh-CN", Script.SIMPLIFIED),
        ("zh-hant", Script.TRADITIONAL),
        ("zh-tw", Script.TRADITIONAL),
        ("zh-hk", Script.TRADITIONAL),
        ("en", Script.TRADITIONAL),
        (None, Script.TRADITIONAL),
    ],
)
async def test_default_script_follows_telegram_language(
    bot: Harness, language_code: str | None, script: Script
) -> None:
    msg = await one(bot, "/start", language_code=language_code)
    expected = "现在用的是简体" if script is Script.SIMPLIFIED else "現在用的是繁體"
    assert expected in msg.plain_text
    section = await one(bot, "/next", language_code=language_code)
    assert section_header(1, script) in section.plain_text


async def test_begin_button_on_welcome_sends_first_section(bot: Harness) -> None:
    welcome = await one(bot, "/start")
    [section] = await press(bot, welcome, callback_data(welcome)[0])
    assert section_header(1) in section.plain_text


async def test_deep_links_open_quote_section_and_date(bot: Harness, library: Library) -> None:
    quote = library.quote(3, Script.TRADITIONAL)
    assert quote is not None
    msg = await one(bot, "/start quote_3")
    assert msg.plain_text.startswith("語錄 3（2月16日）") and quote.text in msg.plain_text

    msg = await one(bot, "/start section_2")
    assert is_section(msg, 2)

    msg = await one(bot, "/start date_0216")
    assert msg.plain_text.startswith("2月16日")
    assert all(f"{n}. " in msg.plain_text for n in (2, 3, 4))


async def test_deep_link_section_does_not_move_progress(bot: Harness) -> None:
    await one(bot, "/start section_3")
    msg = await one(bot, "/next")
    assert section_header(1) in msg.plain_text


@pytest.mark.parametrize(
    "payload", ["quote_99", "quote_0", "section_9", "date_0301", "date_1399", "bogus", "inline"]
)
async def test_bad_deep_link_falls_back_to_welcome(bot: Harness, payload: str) -> None:
    msg = await one(bot, f"/start {payload}")
    assert "你好" in msg.plain_text and "/next" in msg.plain_text


# --------------------------------------------------------------------------- /help


async def test_help_lists_every_command_on_one_line(bot: Harness) -> None:
    msg = await one(bot, "/help")
    lines = msg.plain_text.splitlines()
    for command, description, _ in texts.COMMANDS:
        mine = [line for line in lines if re.match(rf"/{command}\b", line)]
        assert len(mine) == 1, (command, mine)
        # The line carries the description (in traditional), not just the name.
        assert texts.t(description, Script.TRADITIONAL).split()[-1] in mine[0]
        assert not mine[0].startswith(f"/{command} — /{command}"), "the name is repeated"


# --------------------------------------------------------------------------- /next


async def test_next_reads_the_whole_article_every_paragraph_once(
    bot: Harness, library: Library
) -> None:
    sections = library.article(Script.TRADITIONAL).sections
    assert len(sections) == TOTAL_SECTIONS
    delivered = [await one(bot, "/next") for _ in sections[:-1]]
    last, summary = await bot.ask(private_command("/next"))  # the end: and how it went
    delivered.append(last)
    assert summary.plain_text.startswith("—— 全文完 ——") and "5/5" in summary.plain_text

    for n, msg in enumerate(delivered, start=1):
        assert is_section(msg, n)
    blocks = [block for msg in delivered for block in paragraphs_of(msg)]
    for section in sections:
        for paragraph in section.paragraphs:
            assert blocks.count(paragraph) == 1, paragraph[:40]
            [home] = [m for m in delivered if paragraph in paragraphs_of(m)]
            assert is_section(home, section.number)

    end = await one(bot, "/next")
    assert "5 節" in end.plain_text and not end.plain_text.startswith("第 ")
    assert {"rs", "toc", "qr"} <= set(callback_data(end))  # read again, contents, a quote
    again = await one(bot, "/next")
    assert again.plain_text == end.plain_text  # stays at the end, never wraps around


async def test_last_section_from_next_says_the_article_is_over(bot: Harness) -> None:
    for _ in range(TOTAL_SECTIONS - 1):
        await one(bot, "/next")
    last, summary = await bot.ask(private_command("/next"))
    assert is_section(last, 5)
    # 全文完 and the summary are one message, with the ways on: no dead end, no repeats.
    assert "全文完" in summary.plain_text and "全文完" not in last.plain_text
    assert {"qz", "rs", "toc", "qr"} <= set(callback_data(summary))
    assert not {"rs", "toc", "qr"} & set(callback_data(last))


async def test_section_message_has_next_and_switch_buttons(bot: Harness) -> None:
    msg = await one(bot, "/next")
    data = callback_data(msg)
    assert data[0].startswith("nx")
    assert button_text(msg, data[0]) == "下一節 ▶"
    assert "sw:s:1:s" in data and button_text(msg, "sw:s:1:s") == "简体"


async def test_next_button_continues_with_the_following_section(bot: Harness) -> None:
    first = await one(bot, "/next")
    [second] = await press(bot, first, callback_data(first)[0])
    assert is_section(second, 2)
    # Progress moved with the button: /next continues after it.
    third = await one(bot, "/next")
    assert is_section(third, 3)


async def test_next_button_under_a_reread_section_opens_the_one_after_it(bot: Harness) -> None:
    shown = await one(bot, "/read 3")
    [after] = await press(bot, shown, callback_data(shown)[0])
    assert is_section(after, 4)
    # Re-reading does not move the chat's place in the article.
    msg = await one(bot, "/next")
    assert is_section(msg, 1)


async def test_section_lists_the_dates_it_mentions_as_buttons(
    bot: Harness, library: Library
) -> None:
    msg = await one(bot, "/read 3")
    days = library.article(Script.TRADITIONAL).dates_in_section(3)
    assert days
    assert "本節提到的日期：" + "、".join(d.label for d in days) in msg.plain_text
    [reply] = await press(bot, msg, f"d:{days[0].compact}")
    assert reply.plain_text.startswith(days[0].label)


# --------------------------------------------------------------------------- /toc


async def test_toc_lists_each_section_once_with_its_reading_time_and_marks(
    bot: Harness, library: Library
) -> None:
    sections = library.article(Script.TRADITIONAL).sections
    toc = await one(bot, "/toc")
    assert toc.plain_text.startswith("目錄")
    for s in sections:
        assert s.title not in toc.plain_text  # listed once: as its button
    assert callback_data(toc) == [f"rd:{s.number}:e" for s in sections]
    assert button_text(toc, "rd:1:e").startswith("▶ 1.")  # the next to read
    assert all("分鐘" in button_text(toc, f"rd:{s.number}:e") for s in sections)

    await one(bot, "/next")
    await one(bot, "/read 4")
    toc = await one(bot, "/toc")
    assert button_text(toc, "rd:1:e").startswith(f"✓ 1. {sections[0].title}")
    assert button_text(toc, "rd:2:e").startswith(f"▶ 2. {sections[1].title}")
    assert button_text(toc, "rd:3:e").startswith("· 3.")
    assert button_text(toc, "rd:4:e").startswith("✓ 4.")


async def test_toc_opens_sections_in_place_and_leads_back(bot: Harness) -> None:
    toc = await one(bot, "/toc")
    assert await press(bot, toc, "rd:4:e") == []  # no new message: the contents became it
    shown = bot.fake.messages[(toc.chat_id, toc.message_id)]
    assert is_section(shown, 4) and "toc:e" in callback_data(shown)
    assert await press(bot, shown, "toc:e") == []
    back = bot.fake.messages[(toc.chat_id, toc.message_id)]
    assert back.plain_text.startswith("目錄")
    msg = await one(bot, "/next")
    assert is_section(msg, 1)  # opening section 4 did not move the reader's place


# --------------------------------------------------------------------------- /read


async def test_read_shows_section_without_moving_progress(bot: Harness, library: Library) -> None:
    section = library.section(3, Script.TRADITIONAL)
    assert section is not None
    msg = await one(bot, "/read 3")
    assert is_section(msg, 3)
    assert all(p in paragraphs_of(msg) for p in section.paragraphs)
    progress = await one(bot, "/progress")
    assert "0/5" in progress.plain_text


@pytest.mark.parametrize("arg", ["３", "第3節", "#3"])
async def test_read_accepts_number_forms(bot: Harness, arg: str) -> None:
    msg = await one(bot, f"/read {arg}")
    assert is_section(msg, 3)


@pytest.mark.parametrize("arg", ["0", "6", "-1", "abc", "99999999", "<b>&"])
async def test_read_bad_number_names_valid_range(bot: Harness, arg: str) -> None:
    msg = await one(bot, f"/read {arg}")
    assert "1 到 5" in msg.plain_text
    assert arg in msg.plain_text  # echoed back, escaped: the fake parsed it as HTML


@pytest.mark.parametrize("arg", ["第三節", "第三节", "三", "３"])
async def test_read_understands_chinese_numerals(bot: Harness, arg: str) -> None:
    msg = await one(bot, f"/read {arg}")
    assert is_section(msg, 3)


@pytest.mark.parametrize("arg", ["第x節", "三十三十"])
async def test_read_echoes_words_it_cannot_read_once(bot: Harness, arg: str) -> None:
    msg = await one(bot, f"/read {arg}")
    assert f"看不懂「{arg}」" in msg.plain_text and "1 到 5" in msg.plain_text
    assert "第 第" not in msg.plain_text and msg.plain_text.count(arg) == 1


@pytest.mark.parametrize("arg", ["第9節", "9", "#9"])
async def test_read_out_of_range_names_the_number(bot: Harness, arg: str) -> None:
    msg = await one(bot, f"/read {arg}")
    assert msg.plain_text.startswith("沒有第 9 節：全文共 5 節")


async def test_read_without_number_explains_usage(bot: Harness) -> None:
    msg = await one(bot, "/read")
    assert "/read 2" in msg.plain_text and "5 節" in msg.plain_text


# --------------------------------------------------------------------------- /quote


def quote_number(msg: SentMessage) -> int:
    m = re.match(r"語錄 (\d+)（(\d+月\d+日)）", msg.plain_text)
    assert m, msg.plain_text
    return int(m.group(1))


async def test_random_quote_shows_number_date_occasion_and_links(
    bot: Harness, library: Library
) -> None:
    seen = set()
    for _ in range(4):
        msg = await one(bot, "/quote")
        n = quote_number(msg)
        q = library.quote(n, Script.TRADITIONAL)
        assert q is not None
        assert f"（{q.date.label}）" in msg.plain_text
        assert q.text in msg.plain_text and q.occasion in msg.plain_text
        assert {f"d:{q.date.compact}", f"sw:q:{n}:s"} <= set(callback_data(msg))
        narrated = bot.services.search.narrated(n) is not None
        assert (f"qs:{n}" in callback_data(msg)) == narrated  # 出處 only where it is told
        seen.add(n)
    assert seen <= set(range(1, TOTAL_QUOTES + 1))


@pytest.mark.parametrize("n", [1, 7, 12])
async def test_quote_by_number(bot: Harness, library: Library, n: int) -> None:
    q = library.quote(n, Script.TRADITIONAL)
    assert q is not None
    msg = await one(bot, f"/quote {n}")
    assert quote_number(msg) == n
    assert q.text in msg.plain_text and q.occasion in msg.plain_text


@pytest.mark.parametrize("arg", ["0", "13", "-3", "99999999", "3.5", "#x", "1/2"])
async def test_quote_out_of_range_or_junk_names_the_range(bot: Harness, arg: str) -> None:
    msg = await one(bot, f"/quote {arg}")
    assert "1 到 12" in msg.plain_text


@pytest.mark.parametrize("word", ["決戰", "决战", "殲滅戰", "歼灭战"])
async def test_quote_word_in_either_script_finds_the_quote(bot: Harness, word: str) -> None:
    msg = await one(bot, f"/quote {word}")
    assert quote_number(msg) == 2
    assert "決戰之地" in msg.plain_text  # answered in the reader's script, not the query's


async def test_quote_word_lists_its_own_words_apart_from_occasions(bot: Harness) -> None:
    found = bot.services.search.find("排查")
    assert found.occasions and not found.quotes  # 排查 is only ever in the occasions
    msg = await one(bot, "/quote 排查")
    assert f"只在講話場合的說明裡提到「排查」的（{len(found.occasions)} 條）" in msg.plain_text
    assert "語錄原話中" not in msg.plain_text
    assert callback_data(msg) == [f"q:{n}" for n in found.occasions]
    [opened] = await press(bot, msg, f"q:{found.occasions[-1]}")
    assert quote_number(opened) == found.occasions[-1]


async def test_quote_word_in_the_quotes_own_words_comes_first(bot: Harness) -> None:
    found = bot.services.search.find("細節")
    msg = await one(bot, "/quote 细节")  # typed in simplified: echoed in the reader's script
    if len(found.quotes) + len(found.occasions) == 1:
        assert quote_number(msg) == found.quotes[0]
    else:
        assert msg.plain_text.startswith("語錄原話中有「細節」的")


@pytest.mark.parametrize("word", ["火星", "<script>", "a&b"])
async def test_quote_word_without_matches_says_so(bot: Harness, word: str) -> None:
    msg = await one(bot, f"/quote {word}")
    assert f"沒有找到包含「{word}」的語錄" in msg.plain_text


async def test_quote_buttons_open_its_date_and_where_it_is_told(
    bot: Harness, library: Library
) -> None:
    q = library.quote(11, Script.TRADITIONAL)
    assert q is not None
    msg = await one(bot, "/quote 11")
    assert button_text(msg, f"d:{q.date.compact}") == f"當天：{q.date.label}"
    [day] = await press(bot, msg, f"d:{q.date.compact}")
    assert day.plain_text.startswith(q.date.label) and q.text in day.plain_text
    place = bot.services.search.narrated(11)
    assert place is not None
    assert button_text(msg, "qs:11") == f"出處：見第 {place.section} 節"
    [section] = await press(bot, msg, "qs:11")
    assert is_section(section, place.section)
    sentence = bot.services.search.sentence(place, Script.TRADITIONAL)
    bold = [e for e in section.entities if e[0] == "bold"]
    assert any(section.plain_text[e[1] : e[2]] == sentence for e in bold)  # (type, start, end)


@pytest.mark.parametrize("n", [1, 6, 7])
async def test_a_quote_told_nowhere_else_has_no_source_button(bot: Harness, n: int) -> None:
    assert bot.services.search.narrated(n) is None
    msg = await one(bot, f"/quote {n}")
    assert not any(d.startswith("qs:") for d in callback_data(msg))


# --------------------------------------------------------------------------- /date


async def test_timeline_lists_each_date_with_a_summary_as_buttons(
    bot: Harness, library: Library
) -> None:
    msg = await one(bot, "/date")
    assert msg.plain_text.startswith("時間軸")
    assert not any(day in msg.plain_text for day in KNOWN_DAYS)  # each date once: its button
    assert callback_data(msg) == [f"d:{d.compact}:e" for d in library.days]
    labels = [button_text(msg, f"d:{d.compact}:e") for d in library.days]
    assert [label.split(" · ")[0] for label in labels] == KNOWN_DAYS
    assert all(" · " in label for label in labels), "a date lacks its summary"
    assert await press(bot, msg, "d:0217:e") == []  # shown in place of the timeline
    day = bot.fake.messages[(msg.chat_id, msg.message_id)]
    assert day.plain_text.startswith("2月17日") and "tl:e" in callback_data(day)
    await press(bot, day, "tl:e")
    assert bot.fake.messages[(msg.chat_id, msg.message_id)].plain_text.startswith("時間軸")


@pytest.mark.parametrize(
    "arg", ["2月16日", "2/16", "2-16", "02-16", "16日", "Feb 16", "2020-02-16", "0216", "十六日"]
)
async def test_date_accepts_many_forms(bot: Harness, library: Library, arg: str) -> None:
    msg = await one(bot, f"/date {arg}")
    assert msg.plain_text.startswith("2月16日")
    assert "當天的語錄" in msg.plain_text
    for n in (2, 3, 4):
        q = library.quote(n, Script.TRADITIONAL)
        assert q is not None and q.text in msg.plain_text
    assert {"q:2", "q:3", "q:4", "rd:2", "rd:4", "sw:d:0216:s"} <= set(callback_data(msg))
    assert "tl:e" not in callback_data(msg)  # sent by a command: no way back to show


@pytest.mark.parametrize("arg", ["3/1", "2月20日", "xyz", "2月30日", "<i>"])
async def test_unknown_date_offers_the_storys_dates_as_buttons(bot: Harness, arg: str) -> None:
    msg = await one(bot, f"/date {arg}")
    assert [button_text(msg, d).split(" · ")[0] for d in callback_data(msg)] == KNOWN_DAYS
    [day] = await press(bot, msg, callback_data(msg)[3])
    assert day.plain_text.startswith(KNOWN_DAYS[3])


async def test_date_links_to_its_quotes_and_sections(bot: Harness) -> None:
    msg = await one(bot, "/date 2月19日")
    [quote] = await press(bot, msg, "q:9")
    assert quote_number(quote) == 9
    [section] = await press(bot, msg, "rd:1")
    assert is_section(section, 1)


# --------------------------------------------------------------------------- /script


async def test_script_without_argument_offers_two_buttons(bot: Harness) -> None:
    msg = await one(bot, "/script")
    assert "現在用的是繁體" in msg.plain_text
    assert callback_data(msg) == ["scr:s", "scr:t"]
    [confirm] = await press(bot, msg, "scr:s")
    assert "简体" in confirm.plain_text and is_simplified(confirm.plain_text)
    after = await one(bot, "/start")
    assert "现在用的是简体" in after.plain_text


@pytest.mark.parametrize(
    ("arg", "script"),
    [
        ("simplified", Script.SIMPLIFIED),
        ("简", Script.SIMPLIFIED),
        ("簡", Script.SIMPLIFIED),
        ("s", Script.SIMPLIFIED),
        ("traditional", Script.TRADITIONAL),
        ("繁", Script.TRADITIONAL),
        ("t", Script.TRADITIONAL),
    ],
)
async def test_script_aliases_set_the_script_for_every_reply(
    bot: Harness, arg: str, script: Script
) -> None:
    # Start from the other script, so the change is visible.
    language = "zh-hant" if script is Script.SIMPLIFIED else "zh-hans"
    await one(bot, f"/script {arg}", language_code=language)
    section = await one(bot, "/read 1", language_code=language)
    assert is_section(section, 1, script)
    assert ("为" in section.plain_text) is (script is Script.SIMPLIFIED)
    assert ("為" in section.plain_text) is (script is Script.TRADITIONAL)


async def test_script_bad_argument_explains(bot: Harness) -> None:
    msg = await one(bot, "/script klingon")
    assert "klingon" in msg.plain_text and "/script 簡" in msg.plain_text


async def test_simplified_reader_sees_only_simplified(bot: Harness) -> None:
    await one(bot, "/script 简")
    for command in ["/start", "/help", "/next", "/toc", "/read 4", "/quote 6", "/date 2/17"]:
        msg = await one(bot, command)
        assert is_simplified(msg.plain_text), command
        assert all(is_simplified(b["text"]) or b["text"] == "繁體" for b in buttons(msg))
    for bad in ["/read 9", "/quote 99", "/date 9/9", "/progress", "/nonsense"]:
        msg = await one(bot, bad)
        assert is_simplified(msg.plain_text), bad


async def test_switch_button_rerenders_section_in_place(bot: Harness) -> None:
    msg = await one(bot, "/read 2")
    before = msg.plain_text
    assert "為" in before and "书" not in before
    assert await press(bot, msg, "sw:s:2:s") == []  # no new message: the old one changed
    edited = bot.fake.messages[(msg.chat_id, msg.message_id)]
    assert edited.edited
    assert is_section(edited, 2, Script.SIMPLIFIED)
    assert "为" in edited.plain_text and "為" not in edited.plain_text
    assert "书" in edited.plain_text and "書" not in edited.plain_text
    assert edited.plain_text == to_simplified(before)
    assert "sw:s:2:t" in callback_data(edited) and button_text(edited, "sw:s:2:t") == "繁體"
    assert button_text(edited, callback_data(edited)[0]) == "下一节 ▶"

    assert await press(bot, edited, "sw:s:2:t") == []
    back = bot.fake.messages[(msg.chat_id, msg.message_id)]
    assert back.plain_text == before


async def test_switch_button_rerenders_quote_and_date_in_place(bot: Harness) -> None:
    quote = await one(bot, "/quote 6")
    assert "這是人命關天的事" in quote.plain_text
    await press(bot, quote, "sw:q:6:s")
    edited = bot.fake.messages[(quote.chat_id, quote.message_id)]
    assert edited.plain_text.startswith("语录 6") and "这是人命关天的事" in edited.plain_text

    day = await one(bot, "/date 2月19日")
    await press(bot, day, "sw:d:0219:s")
    edited = bot.fake.messages[(day.chat_id, day.message_id)]
    assert edited.plain_text.startswith("2月19日") and "当天的语录" in edited.plain_text
    assert "說出去的話" not in edited.plain_text and "说出去的话" in edited.plain_text


async def test_switch_button_double_tap_is_harmless(bot: Harness) -> None:
    msg = await one(bot, "/read 1")
    first = press_update(msg, "sw:s:1:s")
    second = press_update(msg, "sw:s:1:s")  # the same stale button, pressed twice
    await bot.ask(first)
    await bot.ask(second)
    assert second["callback_query"]["id"] in bot.fake.callback_answers
    current = bot.fake.messages[(msg.chat_id, msg.message_id)]
    assert is_section(current, 1, Script.SIMPLIFIED)


# --------------------------------------------------------------------------- /progress


async def test_progress_shows_a_bar_and_no_schedule(bot: Harness) -> None:
    msg = await one(bot, "/progress")
    assert "0/5" in msg.plain_text and "░░░░░░░░░░ 0%" in msg.plain_text
    await one(bot, "/next")
    await one(bot, "/next")
    msg = await one(bot, "/progress")
    assert "2/5" in msg.plain_text and "████░░░░░░ 40%" in msg.plain_text
    assert "/subscribe" in msg.plain_text  # nothing scheduled: says how to schedule


async def test_progress_shows_next_scheduled_delivery(bot: Harness, clock: Clock) -> None:
    clock.now = datetime(2024, 3, 1, 0, 0, tzinfo=UTC)  # 08:00 in Asia/Shanghai
    await one(bot, "/subscribe 21:30")
    msg = await one(bot, "/progress")
    assert "下次推播：3月1日 21:30，北京時間（Asia/Shanghai）" in msg.plain_text


# --------------------------------------------------------------------------- /reset


async def test_reset_asks_then_starts_over(bot: Harness) -> None:
    for _ in range(3):
        await one(bot, "/next")
    ask_msg = await one(bot, "/reset")
    assert "確定" in ask_msg.plain_text
    assert callback_data(ask_msg) == ["rst:y", "rst:n"]
    assert await press(bot, ask_msg, "rst:y") == []
    done = bot.fake.messages[(ask_msg.chat_id, ask_msg.message_id)]
    assert "已從頭開始" in done.plain_text and callback_data(done) == ["nx"]  # 開始閱讀 ▶
    [msg] = await press(bot, done, "nx")
    assert is_section(msg, 1)
    toc = await one(bot, "/toc")
    marks = [button_text(toc, d)[0] for d in callback_data(toc)]
    assert marks == ["✓", "▶", "·", "·", "·"]  # only section 1 read, after the reset


async def test_reset_cancel_keeps_progress(bot: Harness) -> None:
    await one(bot, "/next")
    ask_msg = await one(bot, "/reset")
    await press(bot, ask_msg, "rst:n")
    done = bot.fake.messages[(ask_msg.chat_id, ask_msg.message_id)]
    assert "已取消" in done.plain_text
    msg = await one(bot, "/next")
    assert is_section(msg, 2)


# --------------------------------------------------------------------------- odd input


async def test_unknown_command_gets_a_hint(bot: Harness) -> None:
    msg = await one(bot, "/frobnicate now")
    assert "/help" in msg.plain_text


async def test_sticker_and_photo_get_a_short_hint(bot: Harness) -> None:
    for update in (u.sticker_message(USER), u.photo_message(USER, caption="/next")):
        [msg] = await bot.ask(update)
        assert "/help" in msg.plain_text and len(msg.plain_text) < 60


async def test_edited_message_is_never_asked_for(bot: Harness) -> None:
    [first] = await bot.ask(private_command("/next"))
    edited = u.edited_message(u.private_chat(USER), USER, "/next", message_id=1)
    edit_id = bot.fake.push(edited)
    msg = await one(bot, "/next")  # handled after the edit was pushed
    assert edit_id not in bot.done, "edits are not in allowed_updates: Telegram never sends them"
    assert is_section(msg, 2), "the edit must not have read a section"
    assert is_section(first, 1)


@pytest.mark.parametrize(
    "data", ["zz:1", "rd:99", "q:0", "d:0301", "sw:s:9:s", "sw:x", "nx:x", "nx:5"]
)
async def test_stale_or_foreign_buttons_are_answered_and_ignored(bot: Harness, data: str) -> None:
    msg = await one(bot, "/read 1")
    update = u.callback_query(u.user(USER), (msg.chat_id, msg.message_id), data)
    assert await bot.ask(update) == []
    assert update["callback_query"]["id"] in bot.fake.callback_answers
    assert not bot.fake.messages[(msg.chat_id, msg.message_id)].edited


# --------------------------------------------------------------------------- restart


async def test_restart_with_same_database_keeps_progress_and_script(
    run_bot: BotRunner,
) -> None:
    # Not the `bot` fixture: two bots polling one fake would conflict, as on Telegram.
    async def run(commands: list[str]) -> list[SentMessage]:
        replies = []
        async with run_bot() as harness:
            for command in commands:
                replies += await harness.ask(private_command(command, user_id=2002))
        return replies

    first = await run(["/script 简", "/next", "/next"])
    assert is_section(first[1], 1, Script.SIMPLIFIED)
    [section, progress] = await run(["/next", "/progress"])
    assert is_section(section, 3, Script.SIMPLIFIED)
    assert "阅读进度：3/5 节" in progress.plain_text
