"""What a hostile reader, a careless operator and a failing disk found, each class closed:
channel buttons, odd digits, migration races, double taps, inline presses, demoted admins,
poison updates, an unreachable database and backpressure."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.content.scripts import Script
from bot.render import texts
from fake_telegram import FakeTelegram, SentMessage
from fake_telegram import factories as u
from tests.conftest import Harness

CHANNEL = -1002000000077
ADMIN, READER = 7001, 7002


def data_of(message: SentMessage) -> list[str]:
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    return [b["callback_data"] for row in rows for b in row if "callback_data" in b]


async def press(bot: Harness, message: SentMessage, data: str, user: int) -> list[SentMessage]:
    update = u.callback_query(u.user(user), (message.chat_id, message.message_id), data)
    sent = await bot.ask(update)
    assert update["callback_query"]["id"] in bot.fake.callback_answers
    return sent


# --- channels: a reader's button press is not an admin's --------------------------------------


async def test_channel_buttons_are_for_its_admins_only(bot: Harness) -> None:
    channel = u.channel_chat(CHANNEL, "頻道")
    await bot.processed(u.my_chat_member(channel, ADMIN, "left", "administrator"))
    bot.fake.set_member_status(CHANNEL, ADMIN, "administrator")
    [confirm] = await bot.ask(u.channel_post(channel, "/subscribe 06:45"))
    state = await bot.services.store.chats.get(CHANNEL)
    assert state is not None and state.next_due_at is not None and not state.quiet
    # The daily section is posted, with its buttons, as readers of the channel see it.
    later = datetime.fromtimestamp(state.next_due_at, UTC)
    await bot.services.deliverer.run_due(bot.app.bot, later)
    [section] = bot.fake.sent(CHANNEL)[-1:]
    assert "1/5" in section.plain_text

    for message, data in ((confirm, "qt:1"), (section, "nx:1:t"), (section, "sw:s:1:s")):
        assert data in data_of(message)
        assert await press(bot, message, data, READER) == []  # nothing posted
        answer = bot.fake.calls_for("answerCallbackQuery")[-1].params
        assert answer.get("show_alert") in (True, "true") and "管理員" in answer["text"]
    forged = u.callback_query(u.user(READER), (CHANNEL, section.message_id), "rst:y")
    assert await bot.ask(forged) == []
    state = await bot.services.store.chats.get(CHANNEL)
    assert state is not None and not state.quiet and state.progress == 1  # no reset
    assert state.script is Script.TRADITIONAL
    assert not bot.fake.messages[(CHANNEL, section.message_id)].edited

    [after] = await press(bot, section, "nx:1:t", ADMIN)  # the channel's admin may
    assert "2/5" in after.plain_text


async def test_channel_admins_can_reset_the_channel(bot: Harness) -> None:
    channel = u.channel_chat(CHANNEL, "頻道")
    await bot.processed(u.my_chat_member(channel, ADMIN, "left", "administrator"))
    bot.fake.set_member_status(CHANNEL, ADMIN, "administrator")
    await bot.ask(u.channel_post(channel, "/subscribe 06:45"))
    await bot.services.store.chats.take_next(CHANNEL, 5)
    [confirm] = await bot.ask(u.channel_post(channel, "/reset"))
    await press(bot, confirm, "rst:y", ADMIN)
    state = await bot.services.store.chats.get(CHANNEL)
    assert state is not None and state.progress == 0


# --- one number parser: ², ① and --5 are not numbers ------------------------------------------


@pytest.mark.parametrize("text", ["/read ²", "/read ①", "/read --5", "/quote ①", "/quote --5"])
async def test_odd_digits_in_commands_get_a_friendly_reply(bot: Harness, text: str) -> None:
    [reply] = await bot.command(text, 7003)
    assert "1" in reply.plain_text and "到" in reply.plain_text  # names the range


@pytest.mark.parametrize("data", ["rd:²", "nx:①", "q:--5", "d:0²16", "sw:s:²:t", "rst:①"])
async def test_odd_digits_in_buttons_are_answered_and_ignored(bot: Harness, data: str) -> None:
    [section] = await bot.command("/read 1", 7004)
    assert await press(bot, section, data, 7004) == [] or data.startswith("rd")


# --- a supergroup upgrade never loses the group's state ---------------------------------------

GROUP, SUPER = -4300, -1004300


@pytest.mark.parametrize("order", ["command-first", "service-first", "supergroup-spoke-first"])
async def test_migration_merges_whatever_order_things_arrive_in(bot: Harness, order: str) -> None:
    group = u.group_chat(GROUP, "升級群")
    supergroup = u.supergroup_chat(SUPER, "升級群")
    bot.fake.set_member_status(GROUP, ADMIN, "administrator")
    await bot.ask(u.command("/script 简", ADMIN, chat=group))
    await bot.ask(u.command("/timezone Asia/Taipei", ADMIN, chat=group))
    await bot.ask(u.command("/subscribe 21:30", ADMIN, chat=group))
    await bot.ask(u.command("/next", ADMIN, chat=group))
    await bot.ask(u.command("/next", ADMIN, chat=group))
    bot.fake.migrate(GROUP, SUPER)
    batch: list[dict[str, Any]] = [
        u.command("/quote 4", READER, chat=group),  # its reply fails with ChatMigrated
        u.migrate_message(group, SUPER),
        u.migrate_from_message(supergroup, GROUP),
    ]
    if order == "service-first":
        batch = batch[1:] + batch[:1]
    elif order == "supergroup-spoke-first":
        batch = [u.command("/next", READER, chat=supergroup), *batch]
    bot.fake.push_many(batch)
    await bot.fake.wait_for(lambda: bot.fake.pending_updates == 0)
    await bot.ask(u.command("/help", READER, chat=supergroup))  # everything before is done
    state = await bot.services.store.chats.get(SUPER)
    assert state is not None and state.chat_id == SUPER and state.kind == "supergroup"
    assert state.subscribed and str(state.delivery_time) == "21:30:00"
    assert state.timezone is not None and state.timezone.key == "Asia/Taipei"
    assert state.script is Script.SIMPLIFIED
    assert state.progress >= 2  # the group's reading is kept (and one more if read there)


# --- taps, inline messages and demoted admins -------------------------------------------------


async def test_double_tapping_a_confirmation_is_harmless(bot: Harness) -> None:
    [confirm] = await bot.command("/reset", 7005)
    await press(bot, confirm, "rst:y", 7005)
    await press(bot, confirm, "rst:y", 7005)  # the second tap: "message is not modified"
    assert bot.fake.messages[(7005, confirm.message_id)].edited


async def test_a_press_under_an_inline_message_is_answered_and_ignored(bot: Harness) -> None:
    update = u.callback_query(u.user(7006), None, "nx", inline_message_id="AgAAAFake1")
    await bot.processed(update)
    assert update["callback_query"]["id"] in bot.fake.callback_answers


async def test_a_demoted_admin_loses_settings_at_once(bot: Harness) -> None:
    group = u.group_chat(-4400, "降級群")
    bot.fake.set_member_status(-4400, ADMIN, "administrator")
    [ok] = await bot.ask(u.command("/subscribe 08:00", ADMIN, chat=group))
    assert "08:00" in ok.plain_text
    bot.fake.set_member_status(-4400, ADMIN, "member")
    await bot.processed(u.chat_member_updated(group, 1, ADMIN, "administrator", "member"))
    [refused] = await bot.ask(u.command("/unsubscribe", ADMIN, chat=group))
    assert texts.t(texts.ADMINS_ONLY, Script.TRADITIONAL) in refused.plain_text


# --- poison updates, storage faults, backpressure ---------------------------------------------


async def test_an_update_the_bot_cannot_read_does_not_stop_the_rest(bot: Harness) -> None:
    bot.fake.push_raw({"message": {"message_id": "x", "text": "/next"}})
    [reply] = await bot.command("/quote 4", 7007)  # polling moved past it
    assert "細節決定成敗" in reply.plain_text


async def test_writes_that_fail_later_get_a_clear_reply_and_one_line_logs(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    await bot.command("/start", 7008)
    # The disk turns read-only under the running bot (SQLite's query_only has the same effect
    # on its one connection: every write fails, reads still work).
    async with bot.services.store.engine.connect() as conn:
        await conn.exec_driver_sql("PRAGMA query_only = ON")
    with caplog.at_level(logging.INFO):
        [sorry] = await bot.command("/next", 7008)
        [again] = await bot.command("/subscribe 08:00", 7008)
        [quote] = await bot.command("/quote 4", 7008)  # reading the article needs no writes
    expected = texts.t(texts.STORE_UNAVAILABLE, Script.TRADITIONAL)
    assert sorry.plain_text == again.plain_text == expected
    assert "細節決定成敗" in quote.plain_text
    assert "Traceback" not in caplog.text
    complaints = [r for r in caplog.records if "database failed" in r.getMessage()]
    assert len(complaints) == 1  # said once, not once per update
    # The global error handler took them (the harness sees what reaches it): expected here.
    assert [type(e).__name__ for e in bot.errors] == ["OperationalError"] * 2
    bot.errors.clear()
    async with bot.services.store.engine.connect() as conn:
        await conn.exec_driver_sql("PRAGMA query_only = OFF")
    [section] = await bot.command("/next", 7008)
    assert "1/5" in section.plain_text


async def test_a_backlog_of_updates_stays_with_telegram_not_in_memory(
    bot: Harness, fake: FakeTelegram
) -> None:
    fake.delay("sendMessage", 0.2)
    users = range(800_000, 803_000)
    fake.push_many(u.command("/quote 4", uid) for uid in users)
    lanes = bot.services.lanes
    await fake.wait_for(lambda: lanes.held >= lanes.capacity, 30)
    # Every lane is full: the bot stopped fetching, and Telegram keeps the rest.
    assert fake.pending_updates > 2_000
    assert lanes.held <= lanes.capacity
    # Telegram is fast again: the updates in hand finish well within the stop's drain.
    fake.delay("sendMessage", None)
