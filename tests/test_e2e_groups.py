"""End to end in groups, forum topics, channels and inline mode, against the fake Bot API.

Each test drives the real Application over HTTP and asserts what members of the chat see:
the messages the bot sends, where they land (chat, topic) and in which script.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import time, timedelta
from typing import Any

import pytest

from bot.content.scripts import Script
from bot.render import texts
from fake_telegram import SentMessage
from fake_telegram import factories as u
from tests.conftest import Clock, Harness

GROUP_ID = -4001
ADMIN = 2001
MEMBER = 2002
OTHER = 2003
ANONYMOUS_BOT_ID = 1087968824  # Telegram's GroupAnonymousBot, the "from" of anonymous admins

T, S = Script.TRADITIONAL, Script.SIMPLIFIED


def txt(template: str, script: Script = T, **values: object) -> str:
    """Return a UI string as the reader sees it (plain text, in the given script)."""
    return texts.t(template, script, **values).replace("<b>", "").replace("</b>", "")


def group(chat_id: int = GROUP_ID) -> dict[str, Any]:
    return u.group_chat(chat_id, title="讀書會")


def buttons(message: SentMessage) -> list[dict[str, Any]]:
    markup = message.reply_markup or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


def section_titles(library: Any, number: int) -> dict[Script, str]:
    return {script: library.section(number, script).title for script in Script}


async def as_admin(bot: Harness, chat_id: int, user_id: int = ADMIN) -> None:
    bot.fake.set_member_status(chat_id, user_id, "administrator")


async def quiet(bot: Harness, update: dict[str, Any], chat_id: int) -> None:
    """Push an update, wait until it is fully handled, and assert the bot said nothing."""
    before = bot.fake.sent_count(chat_id)
    await bot.processed(update)
    assert bot.fake.sent(chat_id)[before:] == []


# --- joining and leaving --------------------------------------------------------------------


async def test_added_to_group_greets_once(bot: Harness, library: Any) -> None:
    added = u.my_chat_member(group(), ADMIN, "left", "member")
    [greeting] = await bot.ask(added)
    title = library.article(T).title
    assert f"《{title}》" in greeting.plain_text
    assert "/subscribe" in greeting.plain_text  # how an admin subscribes the group
    assert "/next" in greeting.plain_text
    # Telegram may deliver the same change twice; the group is greeted only once.
    await quiet(bot, u.my_chat_member(group(), ADMIN, "left", "member"), GROUP_ID)
    # Being promoted is not being added.
    await quiet(bot, u.my_chat_member(group(), ADMIN, "member", "administrator"), GROUP_ID)


async def test_two_identical_join_updates_at_once_greet_once(bot: Harness) -> None:
    change = u.my_chat_member(group(), ADMIN, "left", "member")
    # Both are queued before the bot polls, so they are handled concurrently.
    await asyncio.gather(bot.processed(change), bot.processed(change))
    assert len(bot.fake.sent(GROUP_ID)) == 1


async def test_removed_from_group_deactivates_and_keeps_state(bot: Harness) -> None:
    await bot.ask(u.my_chat_member(group(), ADMIN, "left", "member"))
    await as_admin(bot, GROUP_ID)
    await bot.command("/subscribe 09:00", ADMIN, chat=group())
    await bot.command("/next", MEMBER, chat=group())

    await quiet(bot, u.my_chat_member(group(), ADMIN, "member", "kicked"), GROUP_ID)
    state = await bot.services.store.chats.get(GROUP_ID)
    assert state is not None
    assert not state.active and state.next_due_at is None  # nothing more is sent there
    assert state.subscribed and state.delivery_time == time(9, 0) and state.progress == 1


async def test_readded_group_is_greeted_again_and_resumes(bot: Harness) -> None:
    await bot.ask(u.my_chat_member(group(), ADMIN, "left", "member"))
    await as_admin(bot, GROUP_ID)
    await bot.command("/subscribe 09:00", ADMIN, chat=group())
    await bot.command("/next", MEMBER, chat=group())
    await quiet(bot, u.my_chat_member(group(), ADMIN, "member", "left"), GROUP_ID)

    [greeting] = await bot.ask(u.my_chat_member(group(), ADMIN, "left", "member"))
    assert "/subscribe" in greeting.plain_text
    [progress] = await bot.command("/progress", MEMBER, chat=group())
    assert "1/5" in progress.plain_text
    # The subscription was kept, so it picks up again where it stopped.
    assert "09:00" in progress.plain_text
    assert txt(texts.PROGRESS_NOT_SUBSCRIBED) not in progress.plain_text


async def test_greeting_subscribe_button_is_for_admins(bot: Harness) -> None:
    [greeting] = await bot.ask(u.my_chat_member(group(), ADMIN, "left", "member"))
    [button] = [b for b in buttons(greeting) if b.get("callback_data") == "sub"]
    [refused] = await bot.ask(
        u.callback_query(u.user(MEMBER), (GROUP_ID, greeting.message_id), button["callback_data"])
    )
    assert refused.plain_text == txt(texts.ADMINS_ONLY)
    await as_admin(bot, GROUP_ID)
    [choose] = await bot.ask(
        u.callback_query(u.user(ADMIN), (GROUP_ID, greeting.message_id), button["callback_data"])
    )
    times = [b["callback_data"] for b in buttons(choose)]
    assert "sa:0800" in times and "sa:other" in times  # common times, and "other"
    [refused] = await bot.ask(
        u.callback_query(u.user(MEMBER), (GROUP_ID, choose.message_id), "sa:0800")
    )
    assert refused.plain_text == txt(texts.ADMINS_ONLY)
    [ok] = await bot.ask(u.callback_query(u.user(ADMIN), (GROUP_ID, choose.message_id), "sa:0800"))
    assert "08:00" in ok.plain_text
    state = await bot.services.store.chats.get(GROUP_ID)
    assert state is not None and state.subscribed


async def test_added_to_channel_is_silent(bot: Harness) -> None:
    channel = u.channel_chat()
    await quiet(bot, u.my_chat_member(channel, ADMIN, "left", "administrator"), channel["id"])


# --- who a command is for ---------------------------------------------------------------------


async def test_command_with_our_username_is_answered(bot: Harness) -> None:
    [reply] = await bot.command("/next@SerialBot", MEMBER, chat=group())
    assert "1/5" in reply.plain_text


@pytest.mark.parametrize(
    "text", ["/next@OtherBot", "/subscribe@OtherBot 09:00", "/nosuch@OtherBot", "/nosuch"]
)
async def test_commands_for_other_bots_are_ignored(bot: Harness, text: str) -> None:
    await quiet(bot, u.command(text, MEMBER, chat=group()), GROUP_ID)
    assert bot.fake.call_count("getChatMember") == 0


async def test_unknown_command_for_us_gets_a_hint(bot: Harness) -> None:
    [reply] = await bot.command("/nosuch@SerialBot", MEMBER, chat=group())
    assert reply.plain_text == txt(texts.UNKNOWN_COMMAND)


async def test_plain_text_in_group_is_ignored(bot: Harness) -> None:
    # With privacy mode off the bot sees chatter too; it must not answer it.
    await quiet(bot, u.message(group(), MEMBER, "人命關天"), GROUP_ID)


# --- reading together -------------------------------------------------------------------------


async def test_group_shares_one_progress(bot: Harness) -> None:
    [first] = await bot.command("/next", MEMBER, chat=group())
    [second] = await bot.command("/next", OTHER, chat=group())
    assert "1/5" in first.plain_text and "2/5" in second.plain_text
    [progress] = await bot.command("/progress", MEMBER, chat=group())
    assert "2/5" in progress.plain_text
    [toc] = await bot.command("/toc", OTHER, chat=group())
    marks = [b["text"][:3] for b in buttons(toc)]
    assert marks == ["✓ 1", "✓ 2", "▶ 3", "· 4", "· 5"]


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("/read 3", "3/5"),
        ("/toc", txt(texts.TOC_HEADER).split("\n")[0]),
        ("/quote 3", "這件事不能再等了"),
        ("/date 2月16日", "2月16日"),
        ("/progress", "0/5"),
    ],
)
async def test_reading_commands_work_for_everyone(bot: Harness, text: str, expect: str) -> None:
    [reply] = await bot.command(text, MEMBER, chat=group())
    assert expect in reply.plain_text
    assert bot.fake.call_count("getChatMember") == 0  # no admin check for reading


# --- settings are for admins ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["/subscribe", "/subscribe 09:00", "/unsubscribe", "/timezone Asia/Taipei", "/reset"]
)
async def test_settings_refused_for_non_admins(bot: Harness, text: str) -> None:
    [reply] = await bot.command(text, MEMBER, chat=group())
    assert reply.plain_text == txt(texts.ADMINS_ONLY)
    state = await bot.services.store.chats.get(GROUP_ID)
    assert state is None or (not state.subscribed and state.timezone is None)


async def test_admin_changes_settings_with_one_member_lookup(bot: Harness) -> None:
    await as_admin(bot, GROUP_ID)
    [subscribed] = await bot.command("/subscribe 21:30", ADMIN, chat=group())
    assert "21:30" in subscribed.plain_text
    [zone] = await bot.command("/timezone Asia/Taipei", ADMIN, chat=group())
    assert "Asia/Taipei" in zone.plain_text
    [off] = await bot.command("/unsubscribe", ADMIN, chat=group())
    assert off.plain_text == txt(texts.UNSUBSCRIBED)
    # The admin status is cached briefly: three settings, one getChatMember.
    assert bot.fake.call_count("getChatMember", chat_id=GROUP_ID, user_id=ADMIN) == 1


async def test_admin_resets_group_progress_but_member_cannot_confirm(bot: Harness) -> None:
    await as_admin(bot, GROUP_ID)
    await bot.command("/next", MEMBER, chat=group())
    [confirm] = await bot.command("/reset", ADMIN, chat=group())
    # A member pressing the admin's confirmation button is refused with an alert.
    press = u.callback_query(u.user(MEMBER), (GROUP_ID, confirm.message_id), "rst:y")
    await bot.processed(press)
    answer = bot.fake.callback_answers[press["callback_query"]["id"]]
    assert answer.get("text") == txt(texts.ADMINS_ONLY)
    assert confirm.plain_text == txt(texts.RESET_CONFIRM)

    await bot.processed(u.callback_query(u.user(ADMIN), (GROUP_ID, confirm.message_id), "rst:y"))
    assert confirm.plain_text == txt(texts.RESET_DONE)
    [progress] = await bot.command("/progress", MEMBER, chat=group())
    assert "0/5" in progress.plain_text


def anonymous_admin_command(chat: dict[str, Any], text: str) -> dict[str, Any]:
    sender = u.user(ANONYMOUS_BOT_ID, "Group", None, "GroupAnonymousBot", is_bot=True)
    return u.message(chat, sender, text, sender_chat=chat)


async def test_anonymous_admin_may_change_settings(bot: Harness) -> None:
    [reply] = await bot.ask(anonymous_admin_command(group(), "/subscribe 07:15"))
    assert "07:15" in reply.plain_text
    state = await bot.services.store.chats.get(GROUP_ID)
    assert state is not None and state.subscribed
    assert bot.fake.call_count("getChatMember") == 0  # posting as the group proves it


async def test_posting_as_another_channel_is_not_admin(bot: Harness) -> None:
    # Members may post as their own channel; that channel is not the group's admin.
    channel = u.channel_chat(-1009999)
    post = u.message(
        group(),
        u.user(136817688, "Channel", None, "Channel_Bot", is_bot=True),
        "/subscribe",
        sender_chat=channel,
    )
    [reply] = await bot.ask(post)
    assert reply.plain_text == txt(texts.ADMINS_ONLY)


# --- scripts in a group -----------------------------------------------------------------------


async def test_member_replies_use_own_script_else_group_script(bot: Harness, library: Any) -> None:
    titles = section_titles(library, 2)
    await as_admin(bot, GROUP_ID)
    [reply] = await bot.command("/script 简", ADMIN, chat=group())
    assert txt(texts.SCRIPT_SET_GROUP, S, script_name="简体") in reply.plain_text
    # A member who never chose gets the group's script (not their app language).
    [plain] = await bot.command("/read 2", MEMBER, chat=group())
    assert titles[S] in plain.plain_text and titles[T] not in plain.plain_text
    # A member who chose traditional (privately) keeps it in the group.
    await bot.command("/script 繁", OTHER)
    [own] = await bot.command("/read 2", OTHER, chat=group())
    assert titles[T] in own.plain_text


async def test_non_admin_script_choice_does_not_change_group(bot: Harness) -> None:
    [reply] = await bot.command("/script 简", MEMBER, chat=group())
    assert reply.plain_text == txt(texts.SCRIPT_SET, S, script_name="简体")
    state = await bot.services.store.chats.get(GROUP_ID)
    assert state is None or state.script is None
    [other] = await bot.command("/nosuch@SerialBot", OTHER, chat=group())
    assert other.plain_text == txt(texts.UNKNOWN_COMMAND, T)


async def test_scheduled_group_delivery_has_deep_link_in_member_script(
    start_bot: Callable[..., Any], clock: Clock, library: Any
) -> None:
    bot: Harness = await start_bot(run_jobs=True)
    await as_admin(bot, GROUP_ID)
    await bot.command("/script 简", ADMIN, chat=group())
    await bot.command("/subscribe 09:00", ADMIN, chat=group())
    before = bot.fake.sent_count(GROUP_ID)
    clock.now += timedelta(days=1)
    [delivery] = (await bot.fake.wait_sent(before + 1, GROUP_ID))[before:]
    titles = section_titles(library, 1)
    assert "1/5" in delivery.plain_text and titles[S] in delivery.plain_text  # group's script
    links = [b["url"] for b in buttons(delivery) if "url" in b]
    assert links == ["https://t.me/SerialBot?start=section_1"]

    # A member reading traditional follows the link into a private chat.
    reader = u.user(MEMBER, language_code="zh-hant")
    [private] = await bot.ask(u.message(u.private_chat(MEMBER), reader, "/start section_1"))
    assert "1/5" in private.plain_text and titles[T] in private.plain_text
    assert titles[S] != titles[T]


# --- supergroup migration ---------------------------------------------------------------------

NEW_ID = -1004001


async def _group_with_history(bot: Harness) -> None:
    await as_admin(bot, GROUP_ID)
    await bot.command("/script 简", ADMIN, chat=group())
    await bot.command("/subscribe 09:00", ADMIN, chat=group())
    await bot.command("/next", MEMBER, chat=group())
    await bot.command("/next", MEMBER, chat=group())


async def test_migration_service_messages_keep_settings_and_progress(bot: Harness) -> None:
    await _group_with_history(bot)
    supergroup = u.supergroup_chat(NEW_ID, "讀書會")
    await bot.processed(u.migrate_message(group(), NEW_ID))
    await bot.processed(u.migrate_from_message(supergroup, GROUP_ID))

    [progress] = await bot.command("/progress", MEMBER, chat=supergroup)
    assert "2/5" in progress.plain_text
    assert "09:00" in progress.plain_text  # still subscribed, same time
    [section] = await bot.command("/next", MEMBER, chat=supergroup)
    assert "3/5" in section.plain_text
    state = await bot.services.store.chats.get(GROUP_ID)  # the old id leads to the new row
    assert state == await bot.services.store.chats.get(NEW_ID)
    assert state is not None and state.script is Script.SIMPLIFIED and state.kind == "supergroup"


async def test_migration_found_while_delivering_moves_the_group(
    start_bot: Callable[..., Any], clock: Clock
) -> None:
    bot: Harness = await start_bot(run_jobs=True)
    await _group_with_history(bot)
    bot.fake.migrate(GROUP_ID, NEW_ID)  # no service message: the send is the first to learn
    clock.now += timedelta(days=1)
    [delivery] = await bot.fake.wait_sent(1, NEW_ID)
    assert "3/5" in delivery.plain_text

    supergroup = u.supergroup_chat(NEW_ID, "讀書會")
    [progress] = await bot.command("/progress", MEMBER, chat=supergroup)
    assert "3/5" in progress.plain_text and "09:00" in progress.plain_text
    moved = await bot.services.store.chats.get(GROUP_ID)
    assert moved is not None and moved.chat_id == NEW_ID


# --- forum topics -----------------------------------------------------------------------------

FORUM_ID = -1005001
TOPIC = 77


def forum() -> dict[str, Any]:
    return u.supergroup_chat(FORUM_ID, "論壇", is_forum=True)


async def test_command_in_topic_is_answered_in_that_topic(bot: Harness) -> None:
    [reply] = await bot.command("/next", MEMBER, chat=forum(), message_thread_id=TOPIC)
    assert reply.message_thread_id == TOPIC and "1/5" in reply.plain_text
    [general] = await bot.command("/progress", MEMBER, chat=forum())
    assert general.message_thread_id is None


async def test_refusal_in_topic_stays_in_topic(bot: Harness) -> None:
    [reply] = await bot.command("/subscribe", MEMBER, chat=forum(), message_thread_id=TOPIC)
    assert reply.message_thread_id == TOPIC
    assert reply.plain_text == txt(texts.ADMINS_ONLY)


async def test_subscription_made_in_topic_delivers_there(
    start_bot: Callable[..., Any], clock: Clock
) -> None:
    bot: Harness = await start_bot(run_jobs=True)
    await as_admin(bot, FORUM_ID)
    [ok] = await bot.command("/subscribe 09:00", ADMIN, chat=forum(), message_thread_id=TOPIC)
    assert ok.message_thread_id == TOPIC
    before = bot.fake.sent_count(FORUM_ID)
    clock.now += timedelta(days=1)
    [delivery] = (await bot.fake.wait_sent(before + 1, FORUM_ID))[before:]
    assert "1/5" in delivery.plain_text and delivery.message_thread_id == TOPIC


# --- inline mode ------------------------------------------------------------------------------


async def inline(bot: Harness, user: dict[str, Any], query: str) -> Any:
    update = u.inline_query(user, query)
    await bot.processed(update)
    return bot.fake.inline_answers[update["inline_query"]["id"]]


def _check_ids(results: list[dict[str, Any]]) -> None:
    ids = [r["id"] for r in results]
    assert len(set(ids)) == len(ids)
    assert all(1 <= len(i.encode()) <= 64 for i in ids)


async def test_inline_empty_query_lists_every_quote(bot: Harness, library: Any) -> None:
    answer = await inline(bot, u.user(MEMBER), "")
    assert len(answer.results) == library.quote_count == 12
    _check_ids(answer.results)
    assert answer.is_personal and answer.cache_time and answer.cache_time > 0


async def test_inline_word_matches_either_script_in_users_script(
    bot: Harness, library: Any
) -> None:
    simplified_reader = u.user(MEMBER, language_code="zh-hans")
    by_traditional = await inline(bot, simplified_reader, "人命關天")
    by_simplified = await inline(bot, simplified_reader, "人命关天")
    assert [r["title"] for r in by_traditional.results] == [
        r["title"] for r in by_simplified.results
    ]
    assert len(by_simplified.results) == 2
    _check_ids(by_simplified.results)
    sent = by_simplified.results[0]["input_message_content"]["message_text"]
    q = library.quote(6, S)
    assert q.text in sent  # simplified for a simplified-language user
    assert q.date.label in sent and q.occasion in sent  # the quote with its date and occasion


async def test_inline_follows_the_users_chosen_script(bot: Harness, library: Any) -> None:
    await bot.command("/script 简", MEMBER)  # app language is zh-hant; the choice wins
    answer = await inline(bot, u.user(MEMBER), "細節")
    [result] = answer.results
    assert library.quote(4, S).text in result["input_message_content"]["message_text"]
    other = await inline(bot, u.user(OTHER), "細節")
    assert library.quote(4, T).text in other.results[0]["input_message_content"]["message_text"]
    assert result["id"] != other.results[0]["id"]  # per-script ids never collide in a cache


async def test_inline_without_match_answers_empty(bot: Harness) -> None:
    answer = await inline(bot, u.user(MEMBER), "zzzz-nothing")
    assert answer.results == []


# --- channels ---------------------------------------------------------------------------------


async def test_channel_subscribe_deliver_and_unsubscribe(
    start_bot: Callable[..., Any], clock: Clock, library: Any
) -> None:
    bot: Harness = await start_bot(run_jobs=True)
    channel = u.channel_chat(-1002000000001, "連載頻道")
    await bot.processed(u.my_chat_member(channel, ADMIN, "left", "administrator"))
    # The channel's digest script is the admins' choice, like a group's.
    [chosen] = await bot.ask(u.channel_post(channel, "/script 简"))
    assert "简体" in chosen.plain_text
    [ok] = await bot.ask(u.channel_post(channel, "/subscribe 06:45"))
    assert "06:45" in ok.plain_text

    clock.now += timedelta(days=1)
    [delivery] = (await bot.fake.wait_sent(3, channel["id"]))[2:]
    assert "1/5" in delivery.plain_text
    assert library.section(1, S).title in delivery.plain_text
    links = [b["url"] for b in buttons(delivery) if "url" in b]
    assert links == ["https://t.me/SerialBot?start=section_1"]

    [off] = await bot.ask(u.channel_post(channel, "/unsubscribe@SerialBot"))
    assert off.plain_text == txt(texts.UNSUBSCRIBED, S)
    state = await bot.services.store.chats.get(channel["id"])
    assert state is not None and not state.subscribed and state.next_due_at is None


async def test_channel_post_for_other_bot_is_ignored(bot: Harness) -> None:
    channel = u.channel_chat()
    await quiet(bot, u.channel_post(channel, "/subscribe@OtherBot"), channel["id"])


async def test_command_from_group_that_just_migrated_is_answered_in_supergroup(
    bot: Harness,
) -> None:
    # The command was sent moments before the upgrade; replying to the old id gets a 400
    # with migrate_to_chat_id, and the answer must still reach the members.
    await bot.command("/next", MEMBER, chat=group())
    bot.fake.migrate(GROUP_ID, NEW_ID)
    [reply] = await bot.ask(u.command("/read 2", MEMBER, chat=group()), chat_id=NEW_ID)
    assert "2/5" in reply.plain_text
    supergroup = u.supergroup_chat(NEW_ID, "讀書會")
    await bot.processed(u.migrate_from_message(supergroup, GROUP_ID))
    [progress] = await bot.command("/progress", MEMBER, chat=supergroup)
    assert "2/5" in progress.plain_text  # section 2 was the group's next: it counts


async def test_removed_from_channel_deactivates(bot: Harness) -> None:
    channel = u.channel_chat()
    await bot.processed(u.my_chat_member(channel, ADMIN, "left", "administrator"))
    await bot.ask(u.channel_post(channel, "/subscribe 06:45"))
    await quiet(bot, u.my_chat_member(channel, ADMIN, "administrator", "left"), channel["id"])
    state = await bot.services.store.chats.get(channel["id"])
    assert state is not None and not state.active and state.next_due_at is None
    assert state.subscribed  # kept, so re-adding the bot can pick it up again


async def test_quiet_button_under_a_subscription_is_for_admins_and_flips_delivery(
    bot: Harness,
) -> None:
    group = u.group_chat(-100777)
    bot.fake.set_member_status(-100777, 501, "administrator")
    [reply] = await bot.ask(u.command("/subscribe 08:00", 501, chat=group))
    assert reply.reply_markup is not None
    *_, [button] = reply.reply_markup["inline_keyboard"]  # reading days above it
    assert button["callback_data"] == "qt:1"

    # A member's press is refused with an alert and changes nothing.
    refused = u.callback_query(u.user(502), (-100777, reply.message_id), "qt:1")
    await bot.processed(refused)
    answer = bot.fake.calls_for("answerCallbackQuery")[-1].params
    assert answer.get("show_alert") in (True, "true") and "管理員" in answer["text"]
    state = await bot.services.store.chats.get(-100777)
    assert state is not None and not state.quiet

    # The admin's press makes deliveries silent and flips the button in place.
    await bot.processed(u.callback_query(u.user(501), (-100777, reply.message_id), "qt:1"))
    state = await bot.services.store.chats.get(-100777)
    assert state is not None and state.quiet
    flipped_markup = bot.fake.messages[(-100777, reply.message_id)].reply_markup
    assert flipped_markup is not None
    *_, [flipped] = flipped_markup["inline_keyboard"]
    assert flipped["callback_data"] == "qt:0"
