"""Prove FakeTelegram is as strict as Telegram and talks real HTTP with PTB 22."""

from __future__ import annotations

import asyncio
import io
import json
import sys
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
from aiohttp import web
from PIL import Image
from telegram import (
    Bot,
    ChatMemberAdministrator,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputPollOption,
    InputTextMessageContent,
    MaybeInaccessibleMessage,
    Message,
    Update,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, CommandHandler, ContextTypes

from fake_telegram import FakeTelegram, FakeTelegramClient, parse_html
from fake_telegram import factories as U

PROJECT_ROOT = Path(__file__).resolve().parent.parent
USER = 5001
GROUP = -4001
T = TypeVar("T")


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """Run a fake server with one known private chat and one group."""
    async with FakeTelegram() as server:
        server.add_chats([USER])
        server.add_chats([GROUP], type="group")
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    """Return an initialized PTB Bot pointed at the fake."""
    async with Bot(fake.token, base_url=fake.base_url) as b:
        yield b


@pytest.fixture
def ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's timedelta retry_after.

    Without it, constructing RetryAfter emits PTBDeprecationWarning, which
    filterwarnings=error turns into the exception raised instead of RetryAfter.
    """
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """Return a raw HTTP session for requests PTB would pre-validate or shape."""
    async with aiohttp.ClientSession() as session:
        yield session


async def raw(
    session: aiohttp.ClientSession, fake: FakeTelegram, method: str, **params: Any
) -> tuple[int, dict[str, Any]]:
    """POST a JSON body to the fake and return (status, body)."""
    async with session.post(f"{fake.base_url}{fake.token}/{method}", json=params) as resp:
        return resp.status, await resp.json()


def keyboard(*buttons: InlineKeyboardButton) -> InlineKeyboardMarkup:
    """Build a one-row inline keyboard."""
    return InlineKeyboardMarkup([list(buttons)])


def need(value: T | None) -> T:
    """Return an optional attribute PTB parsed, failing the test if it is missing."""
    assert value is not None
    return value


def accessible(message: MaybeInaccessibleMessage | None) -> Message:
    """Return a callback query's message, failing the test if the bot cannot see it."""
    assert isinstance(message, Message)
    return message


def edited_message(result: Message | bool) -> Message:
    """Return the message an edit answered with (True only for inline messages)."""
    assert isinstance(result, Message)
    return result


def retry_after(error: RetryAfter) -> timedelta:
    """Return the wait a 429 asked for; tests opt in to PTB's timedelta form."""
    assert isinstance(error.retry_after, timedelta)
    return error.retry_after


# ------------------------------------------------------------------------------ basics


async def test_get_me_and_tokens(
    fake: FakeTelegram, bot: Bot, http: aiohttp.ClientSession
) -> None:
    """GetMe works; a wrong token is 401 and an unknown method 404."""
    assert bot.username == "SerialBot"
    assert bot.id == 123456
    with pytest.raises(InvalidToken):
        async with Bot("999:wrong", base_url=fake.base_url):
            pass
    status, body = await raw(http, fake, "noSuchMethod")
    assert status == 404
    assert body == {"ok": False, "error_code": 404, "description": "Not Found"}
    async with http.post(f"{fake.base_url}999:wrong/getMe") as resp:
        assert resp.status == 401
        assert (await resp.json())["description"] == "Unauthorized"


async def test_revoked_token(fake: FakeTelegram, bot: Bot, http: aiohttp.ClientSession) -> None:
    """A revoked token answers 401 like a wrong one, and ends a waiting long poll at once."""
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await fake.wait_for(lambda: fake.polling, timeout=5)
    fake.revoke_token()
    with pytest.raises(InvalidToken):
        await asyncio.wait_for(poll, 2)
    assert not fake.polling
    with pytest.raises(InvalidToken):
        await bot.get_me()
    unauthorized = {"ok": False, "error_code": 401, "description": "Unauthorized"}
    for method in ("sendMessage", "getUpdates", "noSuchMethod"):
        assert await raw(http, fake, method, chat_id=USER, text="x") == (401, unauthorized)
    assert fake.sent() == []
    assert [c.status for c in fake.calls_for("getUpdates")] == [401, 401]


async def test_revoke_token_issues_a_new_one(fake: FakeTelegram, bot: Bot) -> None:
    """With a new token the bot works again once it uses it; the old one stays revoked."""
    old = fake.token
    fake.revoke_token("123456:NEW-token")
    assert fake.token == "123456:NEW-token"
    with pytest.raises(InvalidToken):
        await bot.send_message(USER, "old token")
    async with Bot(fake.token, base_url=fake.base_url) as renewed:
        await renewed.send_message(USER, "new token")
    assert [m.text for m in fake.sent()] == ["new token"]
    with pytest.raises(ValueError, match="revoked"):
        fake.revoke_token(old)


async def test_request_encodings(fake: FakeTelegram, http: aiohttp.ClientSession) -> None:
    """JSON bodies, GET query strings and multipart forms are all understood."""
    markup = {"inline_keyboard": [[{"text": "a", "callback_data": "1"}]]}
    status, body = await raw(
        http, fake, "sendMessage", chat_id=USER, text="1", reply_markup=markup
    )
    assert status == 200
    assert body["result"]["reply_markup"] == markup
    # "1" must stay a string although it looks like JSON.
    assert fake.sent()[-1].text == "1"
    url = f"{fake.base_url}{fake.token}/sendMessage"
    async with http.get(url, params={"chat_id": str(USER), "text": "true"}) as resp:
        assert resp.status == 200
    assert fake.sent()[-1].text == "true"
    form = aiohttp.FormData()
    form.add_field("chat_id", str(USER))
    form.add_field("text", "multi")
    form.add_field("reply_markup", json.dumps(markup))
    form.add_field("document", b"data", filename="x.txt")  # forces multipart encoding
    async with http.post(url, data=form) as resp:
        assert resp.status == 200, await resp.text()
    assert fake.sent()[-1].reply_markup == markup
    status, body = await raw(http, fake, "sendMessage", text="no chat")
    assert (status, body["description"]) == (400, "Bad Request: chat_id is empty")
    status, body = await raw(http, fake, "sendMessage", chat_id=USER, text="x", parse_mode="BB")
    assert (status, body["description"]) == (400, "Bad Request: unsupported parse_mode")


# ------------------------------------------------------------------------------ HTML strictness


@pytest.mark.parametrize(
    "text",
    [
        "<div>x</div>",
        "<b>unclosed",
        "fish & chips",
        "<a>no href</a>",
        "&nbsp;",
        "<b>x</i>",
        "x</b>",
        '<span class="x">s</span>',
        "1 < 2",
        "<br>",
        "<b",
        "<tg-emoji>x</tg-emoji>",
    ],
)
async def test_invalid_html_rejected(bot: Bot, text: str) -> None:
    """Anything Telegram's HTML parser rejects is a BadRequest "can't parse entities"."""
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities") as info:
        await bot.send_message(USER, text, parse_mode="HTML")
    assert "byte offset" in info.value.message or "end tag" in info.value.message


async def test_byte_offset_is_utf8(bot: Bot) -> None:
    """Error offsets count UTF-8 bytes, like Telegram's."""
    with pytest.raises(BadRequest, match=r"(?i)at byte offset 6"):
        await bot.send_message(USER, "中文<div>", parse_mode="HTML")


async def test_valid_nested_html(fake: FakeTelegram, bot: Bot) -> None:
    """All supported tags and entities parse, and plain_text is the visible text."""
    html = (
        '<b>bold <i>it &lt;3</i></b> <a href="https://x.y/?a=1&amp;b=2">link</a> '
        '<tg-spoiler>s</tg-spoiler><span class="tg-spoiler">t</span> <u>u</u><ins>i</ins>'
        "<s>s</s><strike>k</strike><del>d</del><em>e</em><strong>g</strong>"
        "<blockquote expandable>q</blockquote><blockquote>r</blockquote>"
        '<pre><code class="language-python">x = 1</code></pre> <code>c</code> '
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
        "&#128512;&#x1F600;&quot;&gt;&amp;<B>upper</B>"
    )
    message = await bot.send_message(USER, html, parse_mode="HTML")
    expected = "bold it <3 link st uisk" + "degqrx = 1 c 👍" + '😀😀">&upper'
    assert message.text == expected
    kinds = {e.type for e in message.entities}
    assert kinds >= {"bold", "italic", "text_link", "spoiler", "pre", "custom_emoji"}
    assert {"expandable_blockquote", "blockquote", "underline", "code"} <= kinds
    pre = next(e for e in message.entities if e.type == "pre")
    assert (pre.language, message.parse_entity(pre)) == ("python", "x = 1")
    link = next(e for e in message.entities if e.type == "text_link")
    assert link.url == "https://x.y/?a=1&b=2"
    sent = fake.sent(USER)[-1]
    assert sent.text == html
    assert sent.plain_text == expected
    assert sent.parse_mode == "HTML"


async def test_entity_offsets_are_utf16(bot: Bot) -> None:
    """Returned entities use UTF-16 offsets, so PTB rebuilds the same HTML."""
    message = await bot.send_message(USER, "😀 <b>粗體</b> x", parse_mode="HTML")
    [bold] = message.entities
    assert (bold.offset, bold.length) == (3, 2)
    assert message.text_html == "😀 <b>粗體</b> x"


def test_parse_html_entities() -> None:
    """The parser reports entity spans over the plain text."""
    plain, entities = parse_html('<b>a<i>b</i></b><a href="tg://user?id=1">c</a>')
    assert plain == "abc"
    assert entities == (
        ("italic", 1, 2, None),
        ("bold", 0, 2, None),
        ("text_link", 2, 3, "tg://user?id=1"),
    )


async def test_markdown_is_plain(fake: FakeTelegram, bot: Bot) -> None:
    """MarkdownV2 text is accepted as is."""
    await bot.send_message(USER, "*bold* <x> &", parse_mode="MarkdownV2")
    assert fake.sent()[-1].plain_text == "*bold* <x> &"


async def test_length_counts_utf16(bot: Bot) -> None:
    """4096 UTF-16 units pass, 4097 fail; a non-BMP char counts twice; tags don't count."""
    await bot.send_message(USER, "a" * 4096)
    await bot.send_message(USER, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
    emoji = "😀" * 2048  # 2048 code points, 4096 UTF-16 units
    await bot.send_message(USER, emoji)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(USER, "a" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(USER, emoji + "a")  # only 2049 code points


@pytest.mark.parametrize(("text", "mode"), [("", None), ("  \n ", None), ("<b> </b>", "HTML")])
async def test_empty_text(bot: Bot, text: str, mode: str | None) -> None:
    """Empty or whitespace-only visible text is rejected."""
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(USER, text, parse_mode=mode)


# ------------------------------------------------------------------------------ keyboards


async def test_callback_data_limit(fake: FakeTelegram, bot: Bot) -> None:
    """callback_data may be 64 UTF-8 bytes, not 65."""
    ok = "é" * 32  # 64 bytes in 32 characters
    await bot.send_message(
        USER, "k", reply_markup=keyboard(InlineKeyboardButton("b", callback_data=ok))
    )
    assert fake.sent()[-1].reply_markup == {
        "inline_keyboard": [[{"text": "b", "callback_data": ok}]]
    }
    for bad in (ok + "a", "x" * 65):
        markup = keyboard(InlineKeyboardButton("b", callback_data=bad))
        with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
            await bot.send_message(USER, "k", reply_markup=markup)


async def test_button_validation(fake: FakeTelegram, http: aiohttp.ClientSession) -> None:
    """Buttons need text and exactly one action; URLs need a known scheme."""
    cases = [
        ([{"text": "a"}], "Text buttons are unallowed"),
        ([{"callback_data": "x"}], 'Field "text"'),
        ([{"text": "a", "callback_data": "x", "url": "https://x"}], "exactly one"),
        ([{"text": "a", "callback_data": ""}], "BUTTON_DATA_INVALID"),
        ([{"text": "a", "url": "ftp://x"}], "inline keyboard button URL 'ftp://x' is invalid"),
    ]
    for row, error in cases:
        status, body = await raw(
            http,
            fake,
            "sendMessage",
            chat_id=USER,
            text="t",
            reply_markup={"inline_keyboard": [row]},
        )
        assert status == 400
        assert error in body["description"]
    status, _ = await raw(
        http,
        fake,
        "sendMessage",
        chat_id=USER,
        text="t",
        reply_markup={"inline_keyboard": [[{"text": "a", "url": "tg://resolve?domain=x"}]]},
    )
    assert status == 200


# ------------------------------------------------------------------------------ edits


async def test_edit_message(fake: FakeTelegram, bot: Bot) -> None:
    """Edits update the stored message; identical edits and unknown ids fail."""
    markup = keyboard(InlineKeyboardButton("next", callback_data="n"))
    sent = await bot.send_message(USER, "<b>one</b>", parse_mode="HTML", reply_markup=markup)
    with pytest.raises(BadRequest) as info:
        await bot.edit_message_text(
            "<b>one</b>", USER, sent.message_id, parse_mode="HTML", reply_markup=markup
        )
    assert info.value.message == (
        "Message is not modified: specified new message content and reply markup are exactly "
        "the same as a current content and reply markup of the message"
    )
    # Same visible text, different formatting: a real modification.
    edited = edited_message(
        await bot.edit_message_text(
            "<i>one</i>", USER, sent.message_id, parse_mode="HTML", reply_markup=markup
        )
    )
    assert edited.text == "one"
    assert edited.edit_date is not None
    # Leaving out reply_markup removes the keyboard, as on Telegram.
    await bot.edit_message_text("two", USER, sent.message_id)
    record = fake.messages[(USER, sent.message_id)]
    assert (record.text, record.reply_markup) == ("two", None)
    assert [v.text for v in record.history] == ["<b>one</b>", "<i>one</i>"]
    assert fake.sent(USER) == [record]
    await bot.edit_message_reply_markup(USER, sent.message_id, reply_markup=markup)
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_reply_markup(USER, sent.message_id, reply_markup=markup)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", USER, 999)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", GROUP, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.edit_message_text("<p>", USER, sent.message_id, parse_mode="HTML")


async def test_inline_message_edit(fake: FakeTelegram, bot: Bot) -> None:
    """Messages sent via inline mode are editable by the issued inline_message_id."""
    update = U.chosen_inline_result(USER, "r1", "q")
    inline_id = update["chosen_inline_result"]["inline_message_id"]
    fake.push(update)
    assert await bot.edit_message_text("<b>hi</b>", inline_message_id=inline_id, parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_text("<b>hi</b>", inline_message_id=inline_id, parse_mode="HTML")
    assert fake.inline_messages[inline_id].plain_text == "hi"
    with pytest.raises(BadRequest, match=r"(?i)MESSAGE_ID_INVALID"):
        await bot.edit_message_text("x", inline_message_id="nope")


async def test_message_ids_shared_with_updates(fake: FakeTelegram, bot: Bot) -> None:
    """User and bot messages in a chat draw from one counter, so ids never collide."""
    fake.push(U.message(USER, USER, "hello"))
    fake.push(U.message(USER, USER, "again"))
    sent = await bot.send_message(USER, "reply", reply_to_message_id=2)
    assert sent.message_id == 3
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await bot.send_message(USER, "reply", reply_to_message_id=50)
    with pytest.raises(BadRequest, match=r"(?i)message can't be edited"):
        await bot.edit_message_text("mine now", USER, 1)


# ------------------------------------------------------------------------------ chats


async def test_unknown_blocked_kicked(fake: FakeTelegram, bot: Bot) -> None:
    """Unknown chats are 400; blocked users and kicked groups are 403."""
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(777, "hi")
    fake.block(USER)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(USER, "hi")
    with pytest.raises(Forbidden):
        await bot.edit_message_text("x", USER, 1)
    fake.unblock(USER)
    await bot.send_message(USER, "back")
    fake.kick(GROUP)
    with pytest.raises(Forbidden, match=r"(?i)bot was kicked from the group chat"):
        await bot.send_message(GROUP, "hi")


async def test_my_chat_member_updates_world(fake: FakeTelegram, bot: Bot) -> None:
    """A pushed "kicked" my_chat_member blocks the chat; "member" unblocks it."""
    fake.push(U.my_chat_member(U.private_chat(42), 42, "member", "kicked"))
    with pytest.raises(Forbidden, match=r"(?i)blocked"):
        await bot.send_message(42, "hi")
    fake.push(U.my_chat_member(U.private_chat(42), 42, "kicked", "member"))
    await bot.send_message(42, "hi")


async def test_open_chats() -> None:
    """With open_chats any chat id is accepted."""
    async with (
        FakeTelegram(open_chats=True) as fake,
        Bot(fake.token, base_url=fake.base_url) as bot,
    ):
        await bot.send_message(31337, "hi")
        await bot.send_message(-1001234, "hi")
        assert [m.chat_id for m in fake.sent()] == [31337, -1001234]


async def test_migrated_group(fake: FakeTelegram, bot: Bot) -> None:
    """Sending to a migrated group raises ChatMigrated carrying the new id."""
    fake.migrate(GROUP, -1009999)
    with pytest.raises(ChatMigrated) as info:
        await bot.send_message(GROUP, "hi")
    assert info.value.new_chat_id == -1009999
    await bot.send_message(-1009999, "hi")
    # Pushing the service message migrates too.
    fake.add_chats([-77], type="group")
    fake.push(U.migrate_message(U.group_chat(-77), -1007777))
    with pytest.raises(ChatMigrated):
        await bot.send_message(-77, "hi")


async def test_chat_members(fake: FakeTelegram, bot: Bot) -> None:
    """getChatMember follows set_member_status and calls are counted per user."""
    channel = -1005555
    fake.push(U.channel_post(U.channel_chat(channel, "News"), "post"))
    assert (await bot.get_chat_member(GROUP, USER)).status == "member"
    fake.set_member_status(GROUP, USER, "administrator")
    member = await bot.get_chat_member(GROUP, USER)
    assert isinstance(member, ChatMemberAdministrator)
    assert member.can_delete_messages
    for status in ("creator", "left", "kicked", "restricted"):
        fake.set_member_status(GROUP, 9, status)
        assert (await bot.get_chat_member(GROUP, 9)).status == status
    assert (await bot.get_chat_member(channel, bot.id)).status == "administrator"
    assert (await bot.get_chat_member(GROUP, bot.id)).status == "member"
    assert fake.call_count("getChatMember") == 8
    assert fake.call_count("getChatMember", chat_id=GROUP, user_id=USER) == 2
    admins = await bot.get_chat_administrators(GROUP)
    assert [a.user.id for a in admins] == [USER]
    assert [a.user.id for a in await bot.get_chat_administrators(channel)] == [bot.id]


async def test_misc_methods(fake: FakeTelegram, bot: Bot, http: aiohttp.ClientSession) -> None:
    """Commands and descriptions are checked and recorded; methods the bot never uses are 404."""
    from telegram import BotCommand

    await bot.set_my_commands([BotCommand("start", "開始"), BotCommand("next", "下一節")])
    [commands] = fake.commands.values()
    assert [c["command"] for c in commands] == ["start", "next"]
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])
    assert await bot.set_my_description("d")
    assert await bot.set_my_short_description("s")
    assert (fake.descriptions, fake.short_descriptions) == ({"": "d"}, {"": "s"})
    with pytest.raises(BadRequest, match=r"(?i)description is too long"):
        await bot.set_my_description("d" * 513)
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.delete_webhook()
    for method in ("sendChatAction", "deleteMessage", "getChat", "getMyCommands"):
        status, body = await raw(http, fake, method, chat_id=USER)
        assert (status, body["description"]) == (404, "Not Found")


# ------------------------------------------------------------------------------ faults, flood


async def test_fail_next(fake: FakeTelegram, bot: Bot, ptb_timedelta: None) -> None:
    """Injected failures hit the right method, chat and count."""
    fake.fail_next("sendMessage", count=2, chat_id=USER)
    await bot.send_message(GROUP, "other chat unaffected")
    for _ in range(2):
        with pytest.raises(NetworkError, match=r"(?i)Internal Server Error"):
            await bot.send_message(USER, "hi")
    await bot.send_message(USER, "hi")
    fake.fail_next("sendMessage", retry_after=3)
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(USER, "hi")
    assert info.value.retry_after == timedelta(seconds=3)
    assert fake.http_429 == 1
    fake.fail_next("*", status=400, description="Bad Request: injected")
    with pytest.raises(BadRequest, match=r"(?i)injected"):
        await bot.get_me()
    # Sending again at once ignores the retry_after the fake asked for.
    await bot.send_message(USER, "too early")
    assert [v["chat_id"] for v in fake.retry_after_violations] == [USER]


async def test_flood_control(fake: FakeTelegram, bot: Bot, ptb_timedelta: None) -> None:
    """Per-chat, per-group and global limits answer 429 with retry_after."""
    fake.flood_control = True
    await bot.send_message(USER, "1")
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(USER, "2")
    assert retry_after(info.value) >= timedelta(seconds=1)
    assert fake.retry_after_violations == []
    with pytest.raises(RetryAfter):
        await bot.send_message(USER, "3")  # ignored the retry_after
    assert len(fake.retry_after_violations) == 1
    assert fake.http_429 == 2
    fake.group_per_minute = 2
    await bot.send_message(GROUP, "g1")
    await bot.send_message(GROUP, "g2")
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(GROUP, "g3")
    assert retry_after(info.value) >= timedelta(seconds=55)
    fake.global_rate = 5  # 3 sends already in this second
    fake.add_chats(range(1, 10))
    await bot.send_message(1, "a")
    await bot.send_message(2, "b")
    with pytest.raises(RetryAfter):
        await bot.send_message(3, "c")
    call = fake.calls_for("sendMessage")[-1]
    assert call.status == 429
    assert call.response["parameters"]["retry_after"] >= 1
    assert call.response["description"].startswith("Too Many Requests: retry after ")


async def test_paid_broadcasts(fake: FakeTelegram, bot: Bot, ptb_timedelta: None) -> None:
    """Paid sends count against paid_rate instead of global_rate; per-chat limits stay."""
    fake.flood_control = True
    fake.global_rate, fake.paid_rate = 2, 3
    fake.add_chats(range(1, 10))
    await bot.send_message(1, "a")
    await bot.send_message(2, "b")
    with pytest.raises(RetryAfter):
        await bot.send_message(3, "c")
    for chat in (3, 4, 5):
        await bot.send_message(chat, "paid", allow_paid_broadcast=True)
    with pytest.raises(RetryAfter):
        await bot.send_message(6, "paid", allow_paid_broadcast=True)
    fake.paid_rate = 1000
    with pytest.raises(RetryAfter):
        await bot.send_message(1, "again", allow_paid_broadcast=True)
    assert fake.paid_sends == 3
    assert [m.paid for m in fake.sent()] == [False, False, True, True, True]
    # Only the last send came before the paid window's retry_after had passed.
    assert [v["chat_id"] for v in fake.retry_after_violations] == [1]


async def test_edits_are_flood_limited(fake: FakeTelegram, bot: Bot, ptb_timedelta: None) -> None:
    """Edits count against the same limits as sends, and early retries are recorded."""
    sent = await bot.send_message(USER, "1")
    fake.flood_control = True
    await bot.edit_message_text("2", USER, sent.message_id)
    markup = keyboard(InlineKeyboardButton("b", callback_data="b"))
    with pytest.raises(RetryAfter):
        await bot.edit_message_reply_markup(USER, sent.message_id, reply_markup=markup)
    with pytest.raises(RetryAfter):
        await bot.edit_message_text("3", USER, sent.message_id)
    assert [v["method"] for v in fake.retry_after_violations] == ["editMessageText"]
    assert fake.messages[(USER, sent.message_id)].plain_text == "2"


async def test_delay_times_out(fake: FakeTelegram, bot: Bot) -> None:
    """A delayed method makes the client time out."""
    fake.delay("getChatMember", 0.3)
    with pytest.raises(TimedOut):
        await bot.get_chat_member(USER, USER, read_timeout=0.05)
    fake.delay("getChatMember", None)
    assert (await bot.get_chat_member(USER, USER)).user.id == USER


async def test_stop_start_keeps_port(fake: FakeTelegram, bot: Bot) -> None:
    """An outage refuses connections; restarting rebinds the same port."""
    port = fake.port
    async with fake.outage():
        assert not fake.running
        with pytest.raises(NetworkError):
            await bot.send_message(USER, "during outage")
    assert fake.port == port
    await bot.send_message(USER, "after outage")
    await fake.stop()
    await fake.start()
    assert fake.port == port
    assert (await bot.get_me()).id == bot.id


# ------------------------------------------------------------------------------ updates


async def test_long_poll_wakes_on_push(fake: FakeTelegram, bot: Bot) -> None:
    """getUpdates parks until an update is pushed, then returns at once."""
    started = time.perf_counter()
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await fake.wait_for(lambda: fake.polling, timeout=5)
    uid = fake.push(U.command("start", user_id=USER))
    result = await asyncio.wait_for(poll, 5)
    assert time.perf_counter() - started < 5
    assert [u.update_id for u in result] == [uid]
    assert need(result[0].message).text == "/start"
    assert fake.handed_out_at[uid] <= time.perf_counter()
    # Without confirmation the update is handed out again, but the first time is kept.
    first = fake.handed_out_at[uid]
    assert [u.update_id for u in await bot.get_updates()] == [uid]
    assert fake.handed_out_at[uid] == first
    assert await bot.get_updates(offset=uid + 1) == ()
    assert fake.pending_updates == 0


async def test_timeout_and_limit(fake: FakeTelegram, bot: Bot) -> None:
    """An empty long poll ends after its timeout; limit caps a batch."""
    started = time.perf_counter()
    assert await bot.get_updates(timeout=timedelta(milliseconds=200)) == ()
    assert 0.15 < time.perf_counter() - started < 3
    ids = fake.push_many([U.message(USER, USER, str(i)) for i in range(5)])
    assert [u.update_id for u in await bot.get_updates(limit=2)] == ids[:2]
    assert [u.update_id for u in await bot.get_updates(offset=ids[3])] == ids[3:]


async def test_second_poll_conflicts(fake: FakeTelegram, bot: Bot) -> None:
    """A newer getUpdates (second bot instance) ends the older one with 409, like Telegram."""
    assert await bot.get_updates(timeout=0) == ()
    first = asyncio.create_task(bot.get_updates(timeout=10))
    await fake.wait_for(lambda: fake.polling, timeout=5)
    mine = fake.poller
    assert mine is not None
    assert fake.conflicts == 0
    # PTB's getUpdates connection pool has size 1, so the rival must be another Bot.
    async with Bot(fake.token, base_url=fake.base_url) as rival:
        assert await rival.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match=r"(?i)terminated by other getUpdates"):
        await first
    assert (fake.conflicts, fake.poller) == (1, None)
    # Each client is its TCP port; one Bot keeps its connection, so its polls share a port.
    before, terminated, rivals = sorted(fake.calls_for("getUpdates"), key=lambda c: c.t)
    assert before.client == terminated.client == mine
    assert (terminated.status, rivals.status) == (409, 200)
    assert rivals.client != mine
    assert fake.polling_clients() == [mine, rivals.client]


async def test_every_factory_parses(fake: FakeTelegram, bot: Bot) -> None:
    """Updates from every factory are accepted by PTB's Update.de_json."""
    sent = await bot.send_message(
        USER,
        "<b>Section 1</b>",
        parse_mode="HTML",
        reply_markup=keyboard(InlineKeyboardButton("next", callback_data="next:2")),
    )
    forum = U.supergroup_chat(-1003333, "Forum", is_forum=True)
    channel = U.channel_chat(-1004444, "News", username="news")
    factories: dict[str, dict[str, Any]] = {
        "message": U.message(U.private_chat(USER), U.user(USER), "hi"),
        "command": U.command("/start@SerialBot chapter", user_id=USER),
        "group": U.message(U.group_chat(GROUP), U.user(USER), "/next@SerialBot"),
        "topic": U.message(forum, U.user(USER), "/start", message_thread_id=7),
        "anonymous": U.message(forum, None, "anon", sender_chat=forum),
        "edited": U.edited_message(USER, USER, "fixed", 1),
        "channel_post": U.channel_post(channel, "post"),
        "callback": U.callback_query(U.user(USER), (USER, sent.message_id), "next:2"),
        "callback_gone": U.callback_query(USER, (USER, 999), "x"),
        "callback_dict": U.callback_query(USER, U.message(USER, USER, "given"), "y"),
        "inline_query": U.inline_query(U.user(USER), "search"),
        "chosen": U.chosen_inline_result(USER, "r1", "search"),
        "my_chat_member": U.my_chat_member(U.group_chat(-55), USER, "left", "member"),
        "restricted": U.my_chat_member(U.group_chat(-56), USER, "member", "restricted"),
        "admin": U.my_chat_member(channel, USER, "member", "administrator"),
        "chat_member": U.chat_member_updated(GROUP, USER, 77, "member", "kicked"),
        "migrate": U.migrate_message(U.group_chat(-66), -1006666),
        "migrate_from": U.migrate_from_message(U.supergroup_chat(-1006666), -66),
        "sticker": U.sticker_message(USER, USER),
        "photo": U.photo_message(U.private_chat(USER), U.user(USER), caption="pic"),
    }
    ids = {name: fake.push(update) for name, update in factories.items()}
    result = {u.update_id: u for u in await bot.get_updates(allowed_updates=Update.ALL_TYPES)}
    assert set(result) == set(ids.values())
    by_name = {name: result[uid] for name, uid in ids.items()}
    command = need(by_name["command"].message)
    assert command.entities[0].type == "bot_command"
    assert command.entities[0].length == len("/start@SerialBot")
    assert need(command.text).split()[1] == "chapter"
    topic = need(by_name["topic"].message)
    assert (topic.message_thread_id, topic.is_topic_message) == (7, True)
    assert need(by_name["edited"].edited_message).text == "fixed"
    assert need(need(by_name["channel_post"].channel_post).sender_chat).id == channel["id"]
    callback = accessible(need(by_name["callback"].callback_query).message)
    assert callback.text == "Section 1"
    assert need(callback.reply_markup).inline_keyboard[0][0].callback_data == "next:2"
    assert not need(need(by_name["callback_gone"].callback_query).message).is_accessible
    assert accessible(need(by_name["callback_dict"].callback_query).message).text == "given"
    assert need(by_name["inline_query"].inline_query).query == "search"
    assert need(by_name["chosen"].chosen_inline_result).inline_message_id
    assert need(by_name["my_chat_member"].my_chat_member).new_chat_member.status == "member"
    assert need(by_name["restricted"].my_chat_member).new_chat_member.status == "restricted"
    assert need(by_name["admin"].my_chat_member).new_chat_member.status == "administrator"
    assert need(by_name["chat_member"].chat_member).new_chat_member.status == "kicked"
    assert need(by_name["migrate"].message).migrate_to_chat_id == -1006666
    assert need(need(by_name["sticker"].message).sticker).emoji == "👍"
    photo = need(by_name["photo"].message)
    assert (photo.photo[-1].width, photo.caption) == (800, "pic")
    # Message ids of pushed messages are allocated and distinct per chat.
    private_ids = [need(by_name[n].message).message_id for n in ("message", "command", "sticker")]
    assert len(set(private_ids)) == 3
    assert sent.message_id not in private_ids
    # Chats mentioned in updates became known.
    await bot.send_message(-1003333, "forum reply", message_thread_id=7)
    assert fake.sent(-1003333)[0].message_thread_id == 7
    await bot.send_message("@news", "by username")
    assert fake.sent(channel["id"])[0].plain_text == "by username"


async def test_allowed_updates(fake: FakeTelegram, bot: Bot) -> None:
    """chat_member updates are only delivered when explicitly allowed."""
    member_uid = fake.push(U.chat_member_updated(GROUP, USER, 77, "member", "left"))
    message_uid = fake.push(U.message(USER, USER, "hi"))
    assert [u.update_id for u in await bot.get_updates()] == [message_uid]
    got = await bot.get_updates(allowed_updates=["chat_member"])
    assert [u.update_id for u in got] == [member_uid]


async def test_push_raw(fake: FakeTelegram, bot: Bot, http: aiohttp.ClientSession) -> None:
    """push_raw queues an update as given, assigning only a missing update_id."""
    poison = {"message": {"message_id": "x"}}
    first = fake.push_raw(poison)
    poison["message"]["message_id"] = "changed later"  # the fake keeps its own copy
    stranger = {"message_id": 1, "date": 0, "chat": {"id": 777, "type": "private"}, "text": "hi"}
    own = fake.push_raw({"update_id": first + 10, "message": stranger})
    assert own == first + 10
    after = fake.push(U.message(USER, USER, "factory"))
    assert after == own + 1  # ids keep growing after one the test chose
    status, body = await raw(http, fake, "getUpdates")
    assert status == 200
    assert body["result"][:2] == [
        {"update_id": first, "message": {"message_id": "x"}},
        {"update_id": own, "message": stranger},
    ]
    # Nothing was derived or learnt: PTB cannot parse the first, the chat stays unknown.
    with pytest.raises(KeyError, match="date"):
        await bot.get_updates()
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(777, "x")
    assert [u.update_id for u in await bot.get_updates(offset=own)] == [own, after]
    with pytest.raises(ValueError, match=f"above {after}"):
        fake.push_raw({"update_id": after, "message": stranger})
    with pytest.raises(ValueError, match="integer"):
        fake.push_raw({"update_id": "x"})
    with pytest.raises(TypeError):
        fake.push_raw({"message": {"not JSON"}})
    assert fake.pending_updates == 2


async def test_push_raw_honours_allowed_updates(
    fake: FakeTelegram, http: aiohttp.ClientSession
) -> None:
    """A raw update's type is its one key besides update_id; one without a type always passes."""
    join = fake.push_raw({"chat_join_request": {"chat": {"id": GROUP}}})
    reaction = fake.push_raw({"message_reaction": {"chat": {"id": GROUP}}})  # not by default
    empty = fake.push_raw({})

    async def handed_out(**params: Any) -> list[int]:
        status, body = await raw(http, fake, "getUpdates", **params)
        assert status == 200
        return [u["update_id"] for u in body["result"]]

    assert await handed_out() == [join, empty]
    assert await handed_out(allowed_updates=["message"]) == [empty]
    assert await handed_out(allowed_updates=["message_reaction"]) == [reaction, empty]


async def test_callback_answers(fake: FakeTelegram, bot: Bot) -> None:
    """Callback queries can be answered once, with at most 200 chars."""
    query_id = U.callback_query(USER, (USER, 1), "x")["callback_query"]["id"]
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query_id)
    fake.push(U.callback_query(USER, (USER, 1), "x", query_id=query_id))
    with pytest.raises(BadRequest):
        await bot.answer_callback_query(query_id, "x" * 201)
    assert await bot.answer_callback_query(query_id, "好" * 200)
    assert fake.callback_answers[query_id]["text"] == "好" * 200
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query_id)


async def test_inline_answers(fake: FakeTelegram, bot: Bot, http: aiohttp.ClientSession) -> None:
    """answerInlineQuery checks ids, counts and message_text, and records the answer."""

    def article(rid: str, text: str = "<b>ok</b>") -> InlineQueryResultArticle:
        return InlineQueryResultArticle(
            rid, "title", InputTextMessageContent(text, parse_mode="HTML")
        )

    query_id = U.inline_query(USER, "q")["inline_query"]["id"]
    fake.push(U.inline_query(USER, "q", query_id=query_id))
    bad_cases = [
        ([article(str(i)) for i in range(51)], "RESULTS_TOO_MUCH"),
        ([article("a"), article("a")], "RESULT_ID_DUPLICATE"),
        ([article("x" * 65)], "RESULT_ID_INVALID"),
        ([article("a", "<div>")], "can't parse entities"),
        ([article("a", "x" * 4097)], "message is too long"),
    ]
    for results, error in bad_cases:
        with pytest.raises(BadRequest, match=r"(?i)" + error):
            await bot.answer_inline_query(query_id, results)
    status, body = await raw(
        http, fake, "answerInlineQuery", inline_query_id=query_id, results=[{"type": "article"}]
    )
    assert (status, body["description"]) == (400, "Bad Request: RESULT_ID_INVALID")
    results = [article(str(i)) for i in range(50)]
    assert await bot.answer_inline_query(query_id, results, cache_time=0, is_personal=True)
    answer = fake.inline_answers[query_id]
    assert (len(answer.results), answer.cache_time, answer.is_personal) == (50, 0, True)
    assert answer.results[0]["input_message_content"]["message_text"] == "<b>ok</b>"
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_inline_query(query_id, results)


# ------------------------------------------------------------------------------ polls


async def test_send_poll_and_votes(fake: FakeTelegram, bot: Bot) -> None:
    """sendPoll answers a Poll PTB accepts; pushed votes are counted; stopPoll closes it."""
    msg = await bot.send_poll(
        GROUP,
        "哪一節?",
        ["一", InputPollOption("二")],
        is_anonymous=False,
        allows_multiple_answers=True,
    )
    poll = need(msg.poll)
    assert (poll.question, [o.text for o in poll.options]) == ("哪一節?", ["一", "二"])
    assert (poll.type, poll.is_anonymous, poll.allows_multiple_answers) == ("regular", False, True)
    assert (poll.total_voter_count, poll.is_closed, poll.allows_revoting) == (0, False, True)
    record = fake.polls[poll.id]
    assert record is fake.sent(GROUP)[-1]
    assert record.poll is not None
    fake.push(U.poll_answer(poll.id, USER, [0, 1]))
    fake.push(U.poll_answer(poll.id, 77, [1]))
    fake.push(U.poll_answer(poll.id, USER, []))  # retracted
    assert [o["voter_count"] for o in record.poll["options"]] == [0, 1]
    assert record.poll["total_voter_count"] == 1
    # poll_answer is in the default set, but not in a list that leaves it out.
    assert await bot.get_updates(allowed_updates=["message"]) == ()
    answers = [need(u.poll_answer) for u in await bot.get_updates(allowed_updates=[])]
    assert [a.option_ids for a in answers] == [(0, 1), (1,), ()]
    assert answers[0].option_persistent_ids == ("0", "1")
    assert need(answers[0].user).id == USER
    # Votes Telegram would never report to the bot.
    with pytest.raises(ValueError, match="not sent by the bot"):
        fake.push(U.poll_answer("12345", USER, [0]))
    anonymous = need((await bot.send_poll(USER, "Anonymous?", ["y", "n"])).poll)
    assert anonymous.is_anonymous
    with pytest.raises(ValueError, match="anonymous"):
        fake.push(U.poll_answer(anonymous.id, USER, [0]))
    with pytest.raises(BadRequest, match=r"(?i)there is no text in the message to edit"):
        await bot.edit_message_text("x", GROUP, msg.message_id)
    stopped = await bot.stop_poll(GROUP, msg.message_id)
    assert (stopped.is_closed, stopped.total_voter_count) == (True, 1)
    with pytest.raises(BadRequest, match=r"(?i)poll has already been closed"):
        await bot.stop_poll(GROUP, msg.message_id)
    text = await bot.send_message(USER, "not a poll")
    with pytest.raises(BadRequest, match=r"(?i)message is not a poll"):
        await bot.stop_poll(USER, text.message_id)


async def test_quiz(fake: FakeTelegram, bot: Bot, http: aiohttp.ClientSession) -> None:
    """A quiz names its correct options and explanation; its answers cannot change."""
    msg = await bot.send_poll(
        USER,
        "2 + 2 = ?",
        ["3", "4"],
        type="quiz",
        correct_option_ids=[1],
        explanation="<b>4</b>, of course",
        explanation_parse_mode="HTML",
        is_anonymous=False,
    )
    poll = need(msg.poll)
    assert (poll.type, poll.correct_option_ids, poll.allows_revoting) == ("quiz", (1,), False)
    assert poll.explanation == "4, of course"
    assert [(e.type, e.offset, e.length) for e in poll.explanation_entities] == [("bold", 0, 1)]
    fake.push(U.poll_answer(poll.id, USER, [0]))
    with pytest.raises(ValueError, match="changing a vote"):
        fake.push(U.poll_answer(poll.id, USER, [1]))
    # The older correct_option_id still works, as on Telegram.
    status, body = await raw(
        http,
        fake,
        "sendPoll",
        chat_id=USER,
        question="q",
        options=["a", "b"],
        type="quiz",
        correct_option_id=0,
    )
    assert (status, body["result"]["poll"]["correct_option_ids"]) == (200, [0])


async def test_polls_are_flood_limited(fake: FakeTelegram, bot: Bot, ptb_timedelta: None) -> None:
    """sendPoll counts against the same limits as sendMessage, paid broadcasts included."""
    fake.flood_control = True
    await bot.send_message(USER, "1")
    with pytest.raises(RetryAfter):
        await bot.send_poll(USER, "q", ["a", "b"])
    await bot.send_poll(GROUP, "q", ["a", "b"], allow_paid_broadcast=True)
    assert (fake.paid_sends, fake.http_429) == (1, 1)


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"question": " "}, "poll question must be non-empty"),
        ({"question": "問" * 301}, "poll question length must not exceed 300"),
        ({"options": ["a"]}, "poll must have at least 2 option"),
        ({"options": [str(i) for i in range(13)]}, "poll can't have more than 12 options"),
        ({"options": ["a", {"text": ""}]}, "poll options must be non-empty"),
        ({"options": ["a", "b" * 101]}, "poll options length must not exceed 100"),
        ({"options": "a,b"}, "can't parse options JSON object"),
        ({"type": "survey"}, "unsupported poll type specified"),
        ({"type": "quiz"}, "correct quiz option list must be non-empty"),
        ({"type": "quiz", "correct_option_ids": [2]}, "wrong quiz correct_option_id"),
        (
            {"type": "quiz", "correct_option_ids": [1, 0]},
            "correct quiz option list must be increasing",
        ),
        ({"type": "quiz", "correct_option_ids": [0, 1]}, "QUIZ_CORRECT_ANSWERS_TOO_MUCH"),
        (
            {"type": "quiz", "correct_option_ids": [0], "explanation": "e" * 201},
            "explanation is too long",
        ),
        (
            {"type": "quiz", "correct_option_ids": [0], "explanation": "a\nb\nc\nd"},
            "explanation can't contain more than 2 line feeds",
        ),
        (
            {
                "type": "quiz",
                "correct_option_ids": [0],
                "explanation": "<b>x",
                "explanation_parse_mode": "HTML",
            },
            "can't parse entities: Can't find end tag corresponding to start tag \"b\" at byte "
            "offset 0",
        ),
    ],
)
async def test_poll_checks(
    fake: FakeTelegram, http: aiohttp.ClientSession, params: dict[str, Any], error: str
) -> None:
    """sendPoll refuses what Telegram refuses."""
    request = {"chat_id": USER, "question": "q", "options": ["a", "b"], **params}
    status, body = await raw(http, fake, "sendPoll", **request)
    assert (status, body["description"]) == (400, f"Bad Request: {error}")
    assert fake.sent() == []


async def test_limits_at_the_edge(fake: FakeTelegram, http: aiohttp.ClientSession) -> None:
    """300 question characters, 12 options of 100 and a 200-character explanation pass."""
    status, body = await raw(
        http,
        fake,
        "sendPoll",
        chat_id=USER,
        question="問" * 300,
        options=["選" * 100] * 12,
        type="quiz",
        correct_option_ids=[11],
        explanation="e" * 200,
        allows_multiple_answers=True,
    )
    assert status == 200, body
    assert len(fake.polls) == 1


# ------------------------------------------------------------------------------ photos


def image(width: int, height: int, kind: str = "PNG") -> bytes:
    """Return a real image file of the given size."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (180, 40, 40)).save(out, kind)
    return out.getvalue()


async def upload_photo(
    http: aiohttp.ClientSession, fake: FakeTelegram, data: bytes, **fields: str
) -> tuple[int, dict[str, Any]]:
    """POST sendPhoto as multipart/form-data, the way PTB uploads files."""
    form = aiohttp.FormData()
    form.add_field("chat_id", str(USER))
    file_field = fields.pop("field", "photo")
    for name, value in fields.items():
        form.add_field(name, value)
    form.add_field(file_field, io.BytesIO(data), filename="photo.png")
    async with http.post(f"{fake.base_url}{fake.token}/sendPhoto", data=form) as resp:
        return resp.status, await resp.json()


async def test_send_photo_upload_and_reuse(fake: FakeTelegram, bot: Bot) -> None:
    """An upload gets Telegram's PhotoSizes and file ids; a file id can be sent again."""
    png = image(1000, 500)
    markup = keyboard(InlineKeyboardButton("next", callback_data="n"))
    msg = await bot.send_photo(
        USER,
        png,
        caption="<b>圖</b> 一",
        parse_mode="HTML",
        reply_markup=markup,
        disable_notification=True,
    )
    assert [(p.width, p.height) for p in msg.photo] == [
        (90, 45),
        (320, 160),
        (800, 400),
        (1000, 500),
    ]
    largest = msg.photo[-1]
    assert largest.file_size == len(png)
    assert (msg.caption, msg.caption_entities[0].type) == ("圖 一", "bold")
    assert msg.reply_markup == markup
    assert fake.photo_bytes(largest.file_id) == png
    with Image.open(io.BytesIO(fake.photo_bytes(msg.photo[0].file_id))) as decoded:
        assert decoded.size == (1000, 500)
    record = fake.sent(USER)[-1]
    assert (record.plain_text, record.disable_notification) == ("圖 一", True)
    assert record.photo is not None and record.photo[-1]["file_id"] == largest.file_id
    again = await bot.send_photo(GROUP, largest.file_id)
    assert again.photo == msg.photo and again.caption is None
    await bot.send_photo(GROUP, msg.photo[0].file_id)
    assert (fake.photo_uploads, fake.photo_reuses) == (1, 2)
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier/HTTP URL specified"):
        await bot.send_photo(USER, "AgACAgIAAxkDAAInvented")
    with pytest.raises(BadRequest, match=r"(?i)there is no text in the message to edit"):
        await bot.edit_message_text("x", USER, msg.message_id)
    # A large JPEG is kept at 2560 pixels on its longer side, as Telegram does.
    jpeg = await bot.send_photo(USER, image(3000, 2000, "JPEG"))
    assert (jpeg.photo[-1].width, jpeg.photo[-1].height, len(jpeg.photo)) == (2560, 1707, 5)


@pytest.mark.parametrize(
    ("make", "fields", "error"),
    [
        (lambda: b"", {}, "file must be non-empty"),
        (lambda: b"GIF89a" + bytes(100), {}, "IMAGE_PROCESS_FAILED"),
        (lambda: b"plain text, not an image", {}, "IMAGE_PROCESS_FAILED"),
        (lambda: image(400, 300)[:80], {}, "IMAGE_PROCESS_FAILED"),
        (lambda: image(9000, 1001, "JPEG"), {}, "PHOTO_INVALID_DIMENSIONS"),
        (lambda: image(2100, 100), {}, "PHOTO_INVALID_DIMENSIONS"),
        (lambda: b"\x89PNG\r\n\x1a\n" + bytes(10 * 1024**2), {}, "PHOTO_SAVE_FILE_INVALID"),
        (lambda: image(20, 20), {"caption": "字" * 1025}, "message caption is too long"),
        (lambda: image(20, 20), {"caption": "<i>x", "parse_mode": "HTML"}, "can't parse entities"),
        (lambda: image(20, 20), {"field": "document"}, "there is no photo in the request"),
    ],
)
async def test_photo_checks(
    fake: FakeTelegram,
    http: aiohttp.ClientSession,
    make: Callable[[], bytes],
    fields: dict[str, str],
    error: str,
) -> None:
    """Uploads Telegram cannot take as a photo are refused with its words."""
    status, body = await upload_photo(http, fake, make(), **dict(fields))
    assert status == 400
    assert body["description"].startswith(f"Bad Request: {error}")
    assert (fake.sent(), fake.photo_uploads) == ([], 0)


async def test_photo_limits_and_attach(fake: FakeTelegram, http: aiohttp.ClientSession) -> None:
    """Limits themselves pass; a file may be named with attach://."""
    status, body = await upload_photo(http, fake, image(2000, 100), caption="字" * 1024)
    assert status == 200, body
    status, body = await upload_photo(
        http, fake, image(5000, 5000, "JPEG"), photo="attach://pic", field="pic"
    )
    assert status == 200, body
    assert body["result"]["photo"][-1]["width"] == 2560
    assert fake.photo_uploads == 2


async def test_photos_are_flood_limited(fake: FakeTelegram, bot: Bot, ptb_timedelta: None) -> None:
    """sendPhoto counts against the same limits as sendMessage; a refused upload is not kept."""
    fake.flood_control = True
    await bot.send_message(USER, "1")
    with pytest.raises(RetryAfter):
        await bot.send_photo(USER, image(10, 10))
    assert fake.photo_uploads == 0
    await bot.send_photo(GROUP, image(10, 10), allow_paid_broadcast=True)
    assert (fake.photo_uploads, fake.paid_sends) == (1, 1)


# ------------------------------------------------------------------------------ webhooks


class Replica:
    """One bot replica behind the webhook: records each request and answers ``status``."""

    def __init__(self, status: int = 200, delay: float = 0.0) -> None:
        self.status = status
        self.delay = delay
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((request.path_qs, dict(request.headers), await request.read()))
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)  # a slow replica, not a test wait
            return web.Response(status=self.status)
        finally:
            self.in_flight -= 1

    @property
    def update_ids(self) -> list[int]:
        return [json.loads(body)["update_id"] for _, _, body in self.received]

    async def __aenter__(self) -> Replica:
        app = web.Application()
        app.router.add_route("POST", "/{tail:.*}", self.handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


HOOK = "https://bot.example.com/tg/hook?replica=any"


@pytest.fixture
def hook_fake(fake: FakeTelegram) -> FakeTelegram:
    """The fake with quick retries and no pause between setWebhook calls."""
    fake.set_webhook_interval = 0
    fake.webhook_retry_delay = 0.05
    return fake


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"url": "ftp://x.org/hook"}, "Bad Request: invalid webhook URL specified"),
        ({"url": "https://:443/hook"}, "Bad Request: invalid webhook URL specified"),
        (
            {"url": "https://x.org:8080/hook"},
            "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443",
        ),
        (
            {"url": HOOK, "secret_token": "no spaces"},
            "Bad Request: secret token contains unallowed characters",
        ),
        (
            {"url": HOOK, "secret_token": "é"},
            "Bad Request: secret token contains unallowed characters",
        ),
        ({"url": HOOK, "secret_token": "a" * 257}, "Bad Request: secret token is too long"),
    ],
)
async def test_set_webhook_checks(
    hook_fake: FakeTelegram, http: aiohttp.ClientSession, params: dict[str, Any], error: str
) -> None:
    """setWebhook refuses what Telegram refuses, with Telegram's words."""
    status, body = await raw(http, hook_fake, "setWebhook", **params)
    assert (status, body["description"]) == (400, error)
    assert hook_fake.webhook is None


async def test_set_webhook_once_a_second(
    fake: FakeTelegram, bot: Bot, ptb_timedelta: None
) -> None:
    """A second setWebhook with a URL within a second answers 429, like Telegram."""
    assert await bot.set_webhook(HOOK, secret_token="a" * 256)
    with pytest.raises(RetryAfter) as info:
        await bot.set_webhook(HOOK)
    assert info.value.retry_after == timedelta(seconds=1)
    assert await bot.set_webhook("")  # removing is not limited


async def test_webhook_info_and_getupdates_conflict(
    hook_fake: FakeTelegram, bot: Bot, http: aiohttp.ClientSession
) -> None:
    """getWebhookInfo shows the registration; getUpdates is a 409 while it is set."""
    fake = hook_fake
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count, info.max_connections) == ("", 0, None)
    fake.push(U.message(USER, USER, "queued"))
    assert await bot.set_webhook(
        HOOK, secret_token="Ab_-9", max_connections=5, allowed_updates=["message"]
    )
    info = await bot.get_webhook_info()
    assert (info.url, info.has_custom_certificate) == (HOOK, False)
    assert (info.pending_update_count, info.max_connections) == (1, 5)
    assert info.allowed_updates == ("message",)
    assert info.last_error_date is None
    assert fake.webhook is not None and fake.webhook.secret_token == "Ab_-9"
    with pytest.raises(Conflict, match=r"(?i)can't use getUpdates method while webhook is active"):
        await bot.get_updates()
    assert fake.conflicts == 1
    status, body = await raw(
        http, fake, "setWebhook", url=HOOK, secret_token="Ab_-9", max_connections=5
    )
    assert (status, body["description"]) == (200, "Webhook is already set")
    # Out-of-range max_connections are clamped, as Telegram does.
    for given, kept in ((0, 1), (500, 100), (None, 40)):
        await raw(http, fake, "setWebhook", url=HOOK, max_connections=given)
        assert fake.webhook.max_connections == kept
    assert [c.params.get("max_connections") for c in fake.calls_for("setWebhook")] == [
        5,
        5,
        0,
        500,
        None,
    ]
    status, body = await raw(http, fake, "deleteWebhook")
    assert (status, body["description"]) == (200, "Webhook was deleted")
    assert [need(u.message).text for u in await bot.get_updates()] == ["queued"]
    status, body = await raw(http, fake, "deleteWebhook")
    assert body["description"] == "Webhook is already deleted"
    assert fake.call_count("deleteWebhook") == 2


async def test_set_webhook_ends_long_poll(hook_fake: FakeTelegram, bot: Bot) -> None:
    """A getUpdates long poll waiting when the webhook is set ends with 409."""
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await hook_fake.wait_for(lambda: hook_fake.polling, timeout=5)
    async with Bot(hook_fake.token, base_url=hook_fake.base_url) as other:
        await other.set_webhook(HOOK)
    with pytest.raises(Conflict, match=r"(?i)terminated by setWebhook request"):
        await poll


async def test_webhook_delivery_round_robin(hook_fake: FakeTelegram, bot: Bot) -> None:
    """Updates go to each target in turn, at the registered path, with the secret header."""
    fake = hook_fake
    async with Replica() as one, Replica() as two:
        fake.webhook_targets = [one.url, two.url + "/"]
        await bot.set_webhook(HOOK, secret_token="s3cret")
        ids = fake.push_many([U.message(chat, chat, f"hi {chat}") for chat in (1, 2, 3, 4)])
        await fake.wait_delivered(timeout=5)
        assert sorted(one.update_ids + two.update_ids) == ids
        assert (len(one.received), len(two.received)) == (2, 2)
        path, headers, body = one.received[0]
        assert path == "/tg/hook?replica=any"
        assert headers["X-Telegram-Bot-Api-Secret-Token"] == "s3cret"
        assert headers["Content-Type"] == "application/json"
        assert json.loads(body)["message"]["text"] == "hi 1"
        delivery = fake.deliveries[ids[0]]
        assert (delivery.target, delivery.statuses, delivery.delivered) == (one.url, [200], True)
        assert fake.deliveries[ids[1]].target == two.url
        assert fake.handed_out_at[ids[0]] <= delivery.delivered_at
        assert (await bot.get_webhook_info()).pending_update_count == 0
        # Raw posts for tests of the bot's own checks: wrong secret, malformed body.
        status, _ = await fake.post_webhook(b"{not json", target=two.url, secret="wrong")
        assert status == 200
        assert two.received[-1][1]["X-Telegram-Bot-Api-Secret-Token"] == "wrong"
        await fake.post_webhook({"update_id": 1}, secret="")
        assert "X-Telegram-Bot-Api-Secret-Token" not in one.received[-1][1]


async def test_webhook_redelivers_to_the_next_target(hook_fake: FakeTelegram, bot: Bot) -> None:
    """A failed update is retried on the next target until one accepts it; errors are shown."""
    fake = hook_fake
    fake.webhook_timeout = 0.2
    async with Replica(status=500) as broken, Replica(delay=1) as slow, Replica() as good:
        dead = "http://127.0.0.1:9"  # nothing listens on the discard port
        fake.webhook_targets = [broken.url, dead, slow.url, good.url]
        await bot.set_webhook(HOOK)
        [uid] = fake.push_many([U.message(USER, USER, "retry me")])
        await fake.wait_delivered(timeout=5)
        delivery = fake.deliveries[uid]
        assert [a.target for a in delivery.attempts] == fake.webhook_targets
        assert delivery.statuses == [500, None, None, 200]
        assert [a.error for a in delivery.attempts] == [
            "Wrong response from the webhook: 500 Internal Server Error",
            "Connection refused",
            "Read timeout expired",
            None,
        ]
        assert delivery.target == good.url
        assert broken.update_ids == slow.update_ids == good.update_ids == [uid]
        info = await bot.get_webhook_info()
        assert info.last_error_message == "Read timeout expired"
        assert info.last_error_date is not None
        # Setting the webhook again clears the last error, as on Telegram.
        await bot.set_webhook(HOOK, secret_token="new")
        assert (await bot.get_webhook_info()).last_error_message is None


async def test_webhook_order_and_connections(hook_fake: FakeTelegram, bot: Bot) -> None:
    """Like Telegram: one request at a time per chat, in order; max_connections in total."""
    fake = hook_fake
    async with Replica(delay=0.05) as replica:
        fake.webhook_targets = [replica.url]
        await bot.set_webhook(HOOK, max_connections=2)
        same_chat = fake.push_many([U.message(USER, USER, str(i)) for i in range(4)])
        others = fake.push_many([U.message(chat, chat, "x") for chat in (7, 8, 9)])
        await fake.wait_delivered(timeout=5)
        arrived = replica.update_ids
        assert [uid for uid in arrived if uid in same_chat] == same_chat
        assert sorted(arrived) == sorted(same_chat + others)
        assert replica.most_in_flight == 2


async def test_webhook_allowed_updates(hook_fake: FakeTelegram, bot: Bot) -> None:
    """Updates the bot did not ask for are never delivered; chat_member needs asking."""
    fake = hook_fake
    async with Replica() as replica:
        fake.webhook_targets = [replica.url]
        fake.push(U.chat_member_updated(GROUP, USER, 77, "member", "left"))
        message = fake.push(U.message(USER, USER, "hi"))
        await bot.set_webhook(HOOK)
        await fake.wait_delivered(timeout=5)
        assert replica.update_ids == [message]
        await bot.set_webhook(HOOK, allowed_updates=["chat_member"])
        fake.push(U.message(USER, USER, "not asked for"))
        member = fake.push(U.chat_member_updated(GROUP, USER, 77, "member", "left"))
        await fake.wait_delivered(timeout=5)
        assert replica.update_ids == [message, member]


async def test_webhook_carries_raw_updates(hook_fake: FakeTelegram, bot: Bot) -> None:
    """Raw updates are POSTed as given, filtered by type, even without a chat to order by."""
    fake = hook_fake
    no_chat = {"message": {"message_id": 1, "date": 0, "text": "no chat"}}
    odd_chat = {"message": {"message_id": 2, "date": 0, "chat": {"id": [GROUP]}}}
    async with Replica() as replica:
        fake.webhook_targets = [replica.url]
        await bot.set_webhook(HOOK, allowed_updates=["message"])
        first = fake.push_raw(no_chat)
        fake.push_raw({"callback_query": {"id": "not asked for"}})
        second = fake.push_raw(odd_chat)
        await fake.wait_delivered(timeout=5)
        bodies = sorted((json.loads(body) for _, _, body in replica.received), key=str)
        assert bodies == [{"update_id": first, **no_chat}, {"update_id": second, **odd_chat}]


async def test_webhook_survives_an_outage(hook_fake: FakeTelegram, bot: Bot) -> None:
    """While the fake is down nothing is delivered; afterwards delivery resumes."""
    fake = hook_fake
    async with Replica() as replica:
        fake.webhook_targets = [replica.url]
        await bot.set_webhook(HOOK)
        async with fake.outage():
            uid = fake.push(U.message(USER, USER, "during the outage"))
        await fake.wait_delivered(timeout=5)
        assert replica.update_ids == [uid]


async def test_webhook_pending_and_dropped(hook_fake: FakeTelegram, bot: Bot) -> None:
    """Without targets updates wait; deleteWebhook hands them to getUpdates or drops them."""
    fake = hook_fake
    await bot.set_webhook(HOOK)
    ids = fake.push_many([U.message(USER, USER, str(i)) for i in range(3)])
    assert (await bot.get_webhook_info()).pending_update_count == 3
    with pytest.raises(TimeoutError):
        await fake.wait_delivered(timeout=0.05)
    assert await bot.delete_webhook()
    assert [u.update_id for u in await bot.get_updates()] == ids
    await bot.set_webhook(HOOK, drop_pending_updates=True)
    assert (await bot.get_webhook_info()).pending_update_count == 0
    fake.push(U.message(USER, USER, "late"))
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates() == ()
    assert fake.calls_for("setWebhook")[-1].params["drop_pending_updates"] is True


# ------------------------------------------------------------------------------ recording


async def test_wait_helpers(fake: FakeTelegram, bot: Bot) -> None:
    """wait_sent wakes on new messages; wait_for times out with the last calls."""
    waiter = asyncio.create_task(fake.wait_sent(2, chat_id=USER, timeout=5))
    await bot.send_message(USER, "a")
    await bot.send_message(GROUP, "g")
    assert not waiter.done()
    await bot.send_message(USER, "b")
    assert [m.text for m in await waiter] == ["a", "b"]
    with pytest.raises(TimeoutError, match=r"(?i)sendMessage 200"):
        await fake.wait_for(lambda: False, timeout=0.05)
    fake.reset_records()
    assert (fake.calls, fake.sent(), fake.call_count("sendMessage")) == ([], [], 0)
    # Message state survives a records reset, so later edits still work.
    assert (USER, 1) in fake.messages


async def test_application_end_to_end(fake: FakeTelegram) -> None:
    """A real PTB Application polling the fake answers a pushed command."""

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_html("<b>歡迎</b>")

    app = Application.builder().token(fake.token).base_url(fake.base_url).build()
    app.add_handler(CommandHandler("start", start))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=5)
        fake.push(U.command("/start", user_id=USER))
        sent = await fake.wait_sent(1, chat_id=USER, timeout=5)
        assert sent[0].plain_text == "歡迎"
        await app.updater.stop()
        await app.stop()


async def test_standalone_process(ptb_timedelta: None, http: aiohttp.ClientSession) -> None:
    """``python -m fake_telegram`` prints READY and obeys its control API."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "fake_telegram",
        "--port",
        "0",
        cwd=PROJECT_ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode().split()
        assert line[0] == "READY"
        port = int(line[1])
        base_url = f"http://127.0.0.1:{port}/bot"
        async with (
            FakeTelegramClient(port) as client,
            Bot("123456:TEST-token", base_url=base_url) as bot,
        ):
            await client.add_chats([USER, 2])
            ids = await client.push(U.command("start", user_id=USER))
            assert [u.update_id for u in await bot.get_updates()] == ids
            assert set(await client.handed_out()) == set(ids)
            await bot.send_message(USER, "<b>hi</b>", parse_mode="HTML")
            assert await client.wait_sent(1, chat_id=USER, timeout=5) == 1
            sent = await client.sent(USER)
            assert sent[0]["plain_text"] == "hi"
            await client.block(2)
            with pytest.raises(Forbidden):
                await bot.send_message(2, "x")
            await client.migrate(-3, -1003)
            with pytest.raises(ChatMigrated):
                await bot.send_message(-3, "x")
            await client.fail_next("sendMessage", retry_after=2)
            with pytest.raises(RetryAfter):
                await bot.send_message(USER, "x")
            await client.flood(True, per_chat_interval=60)
            await bot.send_message(USER, "1")
            with pytest.raises(RetryAfter):
                await bot.send_message(USER, "2")
            stats = await client.stats()
            assert stats["http_429"] == 2
            assert stats["sent_count"] == 2
            assert stats["calls"]["sendMessage"] == 6
            assert len(stats["retry_after_violations"]) == 2  # after fail_next and flood 429s
            with pytest.raises(TimeoutError):
                await client.wait_sent(10, timeout=0.05)
            await client.reset()
            assert (await client.stats())["sent_count"] == 0
            [poison] = await client.push_raw({"message": {"message_id": "x"}})
            url = f"{base_url}123456:TEST-token/getUpdates"
            async with http.post(url, json={"offset": poison}) as resp:
                body = await resp.json()
            assert body["result"] == [{"update_id": poison, "message": {"message_id": "x"}}]
            await client.revoke_token()
            with pytest.raises(InvalidToken):
                await bot.get_me()
    finally:
        proc.terminate()
        assert await asyncio.wait_for(proc.wait(), 10) is not None


def test_an_expandable_blockquote_parses_as_telegram_does() -> None:
    """``<blockquote expandable>`` (Bot API 7.4): an expandable_blockquote entity, by UTF-16."""
    from fake_telegram.html import entities_json, parse_html

    plain, entities = parse_html("<b>前情提要</b>：\n<blockquote expandable>第一句。</blockquote>")
    assert plain == "前情提要：\n第一句。"
    assert entities_json(plain, entities) == [
        {"type": "bold", "offset": 0, "length": 4},
        {"type": "expandable_blockquote", "offset": 6, "length": 4},
    ]
    plain, entities = parse_html("<blockquote>引文</blockquote>")
    assert entities_json(plain, entities) == [{"type": "blockquote", "offset": 0, "length": 2}]


# ------------------------------------------------------------------------------ quotes, effects


async def test_a_reply_may_quote_only_words_of_the_message_it_replies_to(
    fake: FakeTelegram, bot: Bot
) -> None:
    """reply_parameters.quote must be part of the replied-to text, as Telegram checks it."""
    from telegram import ReplyParameters

    sent = await bot.send_message(USER, "一二三，四五六。七八九")
    reply = await bot.send_message(
        USER, "quoted", reply_parameters=ReplyParameters(sent.message_id, quote="四五六")
    )
    assert reply.quote is not None and reply.quote.text == "四五六"
    assert reply.quote.position == 4
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.message_id == sent.message_id
    with pytest.raises(BadRequest, match=r"(?i)QUOTE_TEXT_INVALID"):
        await bot.send_message(
            USER, "x", reply_parameters=ReplyParameters(sent.message_id, quote="十")
        )
    fake.push(U.message(USER, USER, "a user's own words"))
    mine = fake.world.next_message_id[USER] - 1
    answer = await bot.send_message(
        USER, "y", reply_parameters=ReplyParameters(mine, quote="own words")
    )
    assert answer.quote is not None and answer.quote.position == 9


async def test_a_pushed_quoted_reply_carries_the_quote_and_the_message(
    fake: FakeTelegram, bot: Bot
) -> None:
    """A user's quoted reply reaches the bot with message.quote (position filled in)."""
    sent = await bot.send_message(USER, "第一句。第二句話。")
    fake.push(U.quoted_reply(USER, USER, "/card", sent.message_id, "第二句話"))
    [update] = await bot.get_updates()
    message = update.message
    assert message is not None and message.quote is not None
    assert (message.quote.text, message.quote.position, message.quote.is_manual) == (
        "第二句話",
        4,
        True,
    )
    assert message.reply_to_message is not None
    assert message.reply_to_message.text == "第一句。第二句話。"
    with pytest.raises(ValueError, match="QUOTE_TEXT_INVALID"):
        fake.push(U.quoted_reply(USER, USER, "/card", sent.message_id, "第三句"))


async def test_message_effects_are_known_ids_in_private_chats_only(
    fake: FakeTelegram, bot: Bot
) -> None:
    """message_effect_id: a known effect in a private chat; 400 anywhere else."""
    party = "5046509860389126442"
    sent = await bot.send_message(USER, "done!", message_effect_id=party)
    assert sent.effect_id == party and fake.sent(USER)[-1].effect_id == party
    with pytest.raises(BadRequest, match=r"(?i)EFFECT_ID_INVALID"):
        await bot.send_message(USER, "x", message_effect_id="12345")
    with pytest.raises(BadRequest, match=r"(?i)EFFECT_ID_INVALID"):
        await bot.send_message(GROUP, "x", message_effect_id=party)


async def test_copy_text_buttons_carry_one_to_256_characters(fake: FakeTelegram, bot: Bot) -> None:
    """A CopyTextButton's text is 1-256 characters, as Telegram checks it."""
    from telegram import CopyTextButton

    ok = InlineKeyboardButton("copy", copy_text=CopyTextButton("字" * 256))
    await bot.send_message(USER, "k", reply_markup=InlineKeyboardMarkup([[ok]]))
    assert fake.sent(USER)[-1].reply_markup == {
        "inline_keyboard": [[{"text": "copy", "copy_text": {"text": "字" * 256}}]]
    }
    for text in ("", "字" * 257):
        bad = InlineKeyboardButton("copy", copy_text=CopyTextButton(text))
        with pytest.raises(BadRequest, match=r"(?i)COPY_TEXT_INVALID"):
            await bot.send_message(USER, "k", reply_markup=InlineKeyboardMarkup([[bad]]))
