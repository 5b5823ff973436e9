"""Factories for Bot API update dicts to push into ``FakeTelegram``.

Every factory returns an update *without* ``update_id``; ``FakeTelegram.push`` assigns it,
fills in missing ``message_id`` values from its per-chat counter and resolves callback
message references against the messages the bot really sent.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Sequence
from typing import Any

JSON = dict[str, Any]

BOT_ID = 123456
BOT_USERNAME = "SerialBot"
DEFAULT_USER_ID = 1001

# Marker key replaced by FakeTelegram.push with the stored message (or an inaccessible one).
MESSAGE_REF_KEY = "_fake_ref"

_ids = itertools.count(1)
_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{1,32})?")


class _Auto:
    """Sentinel meaning "derive this value like Telegram would"."""

    def __repr__(self) -> str:
        """Return a readable name."""
        return "AUTO"


AUTO: Any = _Auto()


def _now() -> int:
    """Return the current time as Telegram's integer epoch seconds."""
    return int(time.time())


def _next_id() -> int:
    """Return a process-wide unique integer for query, file and inline message ids."""
    return next(_ids)


def utf16_len(text: str) -> int:
    """Return the length of text in UTF-16 code units, as Telegram counts offsets."""
    return len(text.encode("utf-16-le")) // 2


def user(
    user_id: int = DEFAULT_USER_ID,
    first_name: str = "Test",
    language_code: str | None = "zh-hant",
    username: str | None = None,
    *,
    is_bot: bool = False,
) -> JSON:
    """Build a User object."""
    result: JSON = {"id": user_id, "is_bot": is_bot, "first_name": first_name}
    if username is not None:
        result["username"] = username
    if language_code is not None:
        result["language_code"] = language_code
    return result


def bot_user(bot_id: int = BOT_ID, username: str = BOT_USERNAME) -> JSON:
    """Build the User object of the bot itself."""
    return {"id": bot_id, "is_bot": True, "first_name": username, "username": username}


def private_chat(
    user_id: int = DEFAULT_USER_ID, first_name: str = "Test", username: str | None = None
) -> JSON:
    """Build the private Chat with a user."""
    chat: JSON = {"id": user_id, "type": "private", "first_name": first_name}
    if username is not None:
        chat["username"] = username
    return chat


def group_chat(
    chat_id: int = -1001,
    title: str = "Group",
    type: str = "group",
    is_forum: bool = False,
    username: str | None = None,
) -> JSON:
    """Build a group or supergroup Chat."""
    chat: JSON = {"id": chat_id, "type": type, "title": title}
    if is_forum:
        chat["is_forum"] = True
    if username is not None:
        chat["username"] = username
    return chat


def supergroup_chat(
    chat_id: int = -1001000000001, title: str = "Supergroup", is_forum: bool = False
) -> JSON:
    """Build a supergroup Chat."""
    return group_chat(chat_id, title, "supergroup", is_forum)


def channel_chat(
    chat_id: int = -1002000000001, title: str = "Channel", username: str | None = None
) -> JSON:
    """Build a channel Chat."""
    chat: JSON = {"id": chat_id, "type": "channel", "title": title}
    if username is not None:
        chat["username"] = username
    return chat


def _as_chat(chat: JSON | int) -> JSON:
    """Accept a chat id as shorthand for a private chat or a group chat."""
    if isinstance(chat, dict):
        return chat
    return private_chat(chat) if chat > 0 else group_chat(chat)


def _as_user(from_user: JSON | int | None) -> JSON | None:
    """Accept a user id as shorthand for a User object."""
    if from_user is None or isinstance(from_user, dict):
        return from_user
    return user(from_user)


def command_entities(text: str) -> list[JSON]:
    """Return the bot_command entity Telegram adds to a text starting with a command."""
    match = _COMMAND_RE.match(text)
    if match is None:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group())}]


def _message_body(
    chat: JSON | int,
    from_user: JSON | int | None,
    *,
    message_id: int | None = None,
    date: int | None = None,
    message_thread_id: int | None = None,
    is_topic_message: bool | None = None,
    sender_chat: JSON | None = None,
) -> JSON:
    """Build the fields every Message has."""
    msg: JSON = {"date": _now() if date is None else date, "chat": _as_chat(chat)}
    if message_id is not None:
        msg["message_id"] = message_id
    sender = _as_user(from_user)
    if sender is not None:
        msg["from"] = sender
    if sender_chat is not None:
        msg["sender_chat"] = sender_chat
    if message_thread_id is not None:
        msg["message_thread_id"] = message_thread_id
        # Telegram only sets is_topic_message inside forum topics.
        if is_topic_message is None and msg["chat"].get("is_forum"):
            is_topic_message = True
    if is_topic_message is not None:
        msg["is_topic_message"] = is_topic_message
    return msg


def message_object(
    chat: JSON | int,
    from_user: JSON | int | None,
    text: str,
    *,
    message_id: int | None = None,
    date: int | None = None,
    message_thread_id: int | None = None,
    is_topic_message: bool | None = None,
    sender_chat: JSON | None = None,
    entities: list[JSON] | None = AUTO,
    reply_to_message: JSON | None = None,
) -> JSON:
    """Build a text Message object (not wrapped in an update)."""
    msg = _message_body(
        chat,
        from_user,
        message_id=message_id,
        date=date,
        message_thread_id=message_thread_id,
        is_topic_message=is_topic_message,
        sender_chat=sender_chat,
    )
    msg["text"] = text
    if entities is AUTO:
        entities = command_entities(text)
    if entities:
        msg["entities"] = entities
    if reply_to_message is not None:
        msg["reply_to_message"] = reply_to_message
    return msg


def message(chat: JSON | int, from_user: JSON | int | None, text: str, **kw: Any) -> JSON:
    """Build a ``message`` update; commands get a bot_command entity automatically."""
    return {"message": message_object(chat, from_user, text, **kw)}


def command(
    text: str, user_id: int = DEFAULT_USER_ID, chat: JSON | int | None = None, **kw: Any
) -> JSON:
    """Build a command message from a user, in their private chat unless chat is given."""
    if not text.startswith("/"):
        text = "/" + text
    target = private_chat(user_id) if chat is None else chat
    return message(target, user(user_id), text, **kw)


def quoted_reply(
    chat: JSON | int,
    from_user: JSON | int | None,
    text: str,
    reply_to: int,
    quote: str | None = None,
    **kw: Any,
) -> JSON:
    """Build a message replying to message ``reply_to`` of the chat, quoting part of it.

    ``FakeTelegram.push`` puts the message replied to in place and checks the quote the way
    Telegram's apps allow it (words of that message; its position is filled in), so a
    quote that is not there fails the test rather than reaching the bot.
    """
    target = _as_chat(chat)
    ref = {MESSAGE_REF_KEY: [target["id"], reply_to]}
    update = message(target, from_user, text, reply_to_message=ref, **kw)
    if quote is not None:
        update["message"]["quote"] = {"text": quote, "is_manual": True}
    return update


def edited_message(
    chat: JSON | int,
    from_user: JSON | int | None,
    text: str,
    message_id: int,
    *,
    edit_date: int | None = None,
    **kw: Any,
) -> JSON:
    """Build an ``edited_message`` update for an existing message id."""
    msg = message_object(chat, from_user, text, message_id=message_id, **kw)
    msg["edit_date"] = _now() if edit_date is None else edit_date
    return {"edited_message": msg}


def channel_post(chat: JSON | int, text: str, **kw: Any) -> JSON:
    """Build a ``channel_post`` update (no ``from``, sender_chat is the channel)."""
    channel = chat if isinstance(chat, dict) else channel_chat(chat)
    kw.setdefault("sender_chat", channel)
    return {"channel_post": message_object(channel, None, text, **kw)}


def callback_query(
    from_user: JSON | int,
    message: JSON | tuple[int, int] | None,
    data: str | None,
    *,
    query_id: str | None = None,
    chat_instance: str | None = None,
    inline_message_id: str | None = None,
) -> JSON:
    """Build a ``callback_query`` update for a button under a message.

    ``message`` may be a Message dict (or a ``message`` update) or a ``(chat_id, message_id)``
    tuple, which ``FakeTelegram.push`` replaces with the message the bot actually sent.
    """
    query: JSON = {
        "id": query_id or f"cbq{_next_id()}",
        "from": _as_user(from_user),
        "chat_instance": chat_instance or "-42",
    }
    if isinstance(message, tuple):
        query["message"] = {MESSAGE_REF_KEY: [message[0], message[1]]}
    elif isinstance(message, dict):
        query["message"] = message.get("message", message)
    if inline_message_id is not None:
        query["inline_message_id"] = inline_message_id
    if data is not None:
        query["data"] = data
    return {"callback_query": query}


def inline_query(
    from_user: JSON | int,
    query: str,
    offset: str = "",
    *,
    query_id: str | None = None,
    chat_type: str | None = "private",
) -> JSON:
    """Build an ``inline_query`` update with a unique query id."""
    body: JSON = {
        "id": query_id or f"iq{_next_id()}",
        "from": _as_user(from_user),
        "query": query,
        "offset": offset,
    }
    if chat_type is not None:
        body["chat_type"] = chat_type
    return {"inline_query": body}


def chosen_inline_result(
    from_user: JSON | int,
    result_id: str,
    query: str = "",
    *,
    inline_message_id: str | None = AUTO,
) -> JSON:
    """Build a ``chosen_inline_result``; an inline_message_id is issued unless None."""
    body: JSON = {"result_id": result_id, "from": _as_user(from_user), "query": query}
    if inline_message_id is AUTO:
        inline_message_id = f"AgAAAFake{_next_id()}"
    if inline_message_id is not None:
        body["inline_message_id"] = inline_message_id
    return {"chosen_inline_result": body}


def chat_member(member: JSON, status: str, *, until_date: int = 0) -> JSON:
    """Build a ChatMember object of the given status with every field PTB requires."""
    result: JSON = {"user": member, "status": status}
    if status == "creator":
        result["is_anonymous"] = False
    elif status == "administrator":
        result.update(
            can_be_edited=False,
            is_anonymous=False,
            can_manage_chat=True,
            can_delete_messages=True,
            can_manage_video_chats=True,
            can_restrict_members=True,
            can_promote_members=False,
            can_change_info=True,
            can_invite_users=True,
            can_post_messages=True,
            can_edit_messages=True,
            can_pin_messages=True,
            can_post_stories=False,
            can_edit_stories=False,
            can_delete_stories=False,
        )
    elif status == "restricted":
        result.update(
            is_member=True,
            can_send_messages=False,
            can_send_audios=False,
            can_send_documents=False,
            can_send_photos=False,
            can_send_videos=False,
            can_send_video_notes=False,
            can_send_voice_notes=False,
            can_send_polls=False,
            can_send_other_messages=False,
            can_add_web_page_previews=False,
            can_change_info=False,
            can_invite_users=False,
            can_pin_messages=False,
            can_manage_topics=False,
            can_edit_tag=False,
            can_react_to_messages=True,
            until_date=until_date,
        )
    elif status == "kicked":
        result["until_date"] = until_date
    elif status not in ("member", "left"):
        raise ValueError(f"unknown chat member status {status!r}")
    return result


def my_chat_member(
    chat: JSON | int,
    from_user: JSON | int,
    old_status: str,
    new_status: str,
    bot_id: int = BOT_ID,
    *,
    bot_username: str = BOT_USERNAME,
) -> JSON:
    """Build a ``my_chat_member`` update (the bot's own status changed, e.g. blocked)."""
    me = bot_user(bot_id, bot_username)
    return {
        "my_chat_member": {
            "chat": _as_chat(chat),
            "from": _as_user(from_user),
            "date": _now(),
            "old_chat_member": chat_member(me, old_status),
            "new_chat_member": chat_member(me, new_status),
        }
    }


def chat_member_updated(
    chat: JSON | int, from_user: JSON | int, member: JSON | int, old_status: str, new_status: str
) -> JSON:
    """Build a ``chat_member`` update about another user."""
    target = _as_user(member)
    assert target is not None
    return {
        "chat_member": {
            "chat": _as_chat(chat),
            "from": _as_user(from_user),
            "date": _now(),
            "old_chat_member": chat_member(target, old_status),
            "new_chat_member": chat_member(target, new_status),
        }
    }


def migrate_message(
    old_chat: JSON | int, new_id: int, from_user: JSON | int | None = DEFAULT_USER_ID
) -> JSON:
    """Build the service message in the old group announcing its supergroup migration."""
    msg = _message_body(old_chat, from_user)
    msg["migrate_to_chat_id"] = new_id
    return {"message": msg}


def migrate_from_message(
    new_chat: JSON | int, old_id: int, from_user: JSON | int | None = DEFAULT_USER_ID
) -> JSON:
    """Build the first service message in the new supergroup after a migration."""
    msg = _message_body(new_chat, from_user)
    msg["migrate_from_chat_id"] = old_id
    return {"message": msg}


def sticker_message(
    chat: JSON | int,
    from_user: JSON | int | None = DEFAULT_USER_ID,
    *,
    emoji: str = "👍",
    set_name: str | None = "FakeStickers",
    **kw: Any,
) -> JSON:
    """Build a message carrying a regular static sticker."""
    msg = _message_body(chat, from_user, **kw)
    n = _next_id()
    sticker: JSON = {
        "file_id": f"CAACAgSticker{n}",
        "file_unique_id": f"AgADSticker{n}",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "emoji": emoji,
    }
    if set_name is not None:
        sticker["set_name"] = set_name
    msg["sticker"] = sticker
    return {"message": msg}


def photo_message(
    chat: JSON | int,
    from_user: JSON | int | None = DEFAULT_USER_ID,
    caption: str | None = None,
    **kw: Any,
) -> JSON:
    """Build a message carrying a photo in two sizes and an optional caption."""
    msg = _message_body(chat, from_user, **kw)
    n = _next_id()
    msg["photo"] = [
        {
            "file_id": f"AgACPhoto{n}s",
            "file_unique_id": f"AQADs{n}",
            "width": 90,
            "height": 60,
            "file_size": 1200,
        },
        {
            "file_id": f"AgACPhoto{n}m",
            "file_unique_id": f"AQADm{n}",
            "width": 800,
            "height": 533,
            "file_size": 48000,
        },
    ]
    if caption is not None:
        msg["caption"] = caption
    return {"message": msg}


def poll_answer(poll_id: str, user: JSON | int, option_ids: Sequence[int]) -> JSON:
    """Build a poll_answer update: a user voted, or retracted their vote with no option_ids.

    Telegram reports votes only in non-anonymous polls the bot sent, so FakeTelegram.push
    refuses others and fills in the options' persistent ids from the poll. poll_answer is
    in the default allowed_updates set; a bot that passes its own allowed_updates list must
    name it to receive these.
    """
    answer = {
        "poll_id": str(poll_id),
        "user": _as_user(user),
        "option_ids": list(option_ids),
        "option_persistent_ids": [str(i) for i in option_ids],
    }
    return {"poll_answer": answer}


def update_type(update: JSON) -> str | None:
    """Return the update's type, i.e. its one key besides ``update_id`` (None if it has none)."""
    return next((key for key in update if key != "update_id"), None)
