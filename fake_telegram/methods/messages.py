"""Bot API methods that send and edit text messages."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from fake_telegram.html import parse_text
from fake_telegram.records import (
    JSON,
    Entities,
    MessageVersion,
    SentMessage,
    bad_request,
)
from fake_telegram.validation import as_bool, as_int, validate_reply_markup

if TYPE_CHECKING:
    from fake_telegram.server import FakeTelegram

# The message effects every bot may use (the six of the default reaction set), by id.
EFFECTS = {
    "5104841245755180586": "🔥",
    "5107584321108051014": "👍",
    "5044134455711629726": "❤️",
    "5046509860389126442": "🎉",
    "5104858069142078462": "👎",
    "5046589136895476101": "💩",
}

# Worded as the Bot API server words MESSAGE_NOT_MODIFIED.
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)


def send_message(fake: FakeTelegram, params: JSON) -> JSON:
    """Implement sendMessage."""
    chat_id = fake.world.resolve_chat(params)
    text = params.get("text")
    parse_mode = params.get("parse_mode")
    plain, entities = parse_text(text, parse_mode)
    markup = validate_reply_markup(params.get("reply_markup"))
    reply_to, quote = check_reply_target(fake, chat_id, params)
    effect = check_effect(fake, chat_id, params)
    thread = thread_of(fake, chat_id, params)
    paid = check_flood(fake, "sendMessage", chat_id, params)
    msg = SentMessage(
        chat_id=chat_id,
        message_id=fake.world.alloc_message_id(chat_id),
        text=str(text),
        plain_text=plain,
        parse_mode=parse_mode,
        reply_markup=markup,
        disable_notification=as_bool(params.get("disable_notification", False)),
        message_thread_id=thread,
        t=fake.arrived,
        date=int(time.time()),
        entities=entities,
        paid=paid,
        effect_id=effect,
        reply_to=reply_to,
        quote=quote,
    )
    fake.add_sent(msg)
    return fake.world.message_json(msg)


def check_effect(fake: FakeTelegram, chat_id: int, params: JSON) -> str | None:
    """Return message_effect_id if Telegram would take it: a known effect, a private chat."""
    effect = params.get("message_effect_id")
    if effect is None or effect == "":
        return None
    if str(effect) not in EFFECTS:
        raise bad_request("EFFECT_ID_INVALID")
    if fake.world.chat_types.get(chat_id, "private") != "private":
        # Effects are for private chats only; elsewhere Telegram refuses the whole message.
        raise bad_request("EFFECT_ID_INVALID")
    return str(effect)


def check_flood(fake: FakeTelegram, method: str, chat_id: int, params: JSON) -> bool:
    """Apply the flood limits to a send; return whether it is a paid broadcast."""
    paid = as_bool(params.get("allow_paid_broadcast", False))
    fake.flood.check(method, chat_id, paid=paid)
    return paid


def thread_of(fake: FakeTelegram, chat_id: int, params: JSON) -> int | None:
    """Return message_thread_id, failing like Telegram when the topic was deleted."""
    raw = params.get("message_thread_id")
    if raw is None:
        return None
    thread = as_int(raw, "message_thread_id")
    if (chat_id, thread) in fake.world.deleted_topics:
        raise bad_request("message thread not found")
    return thread


def check_reply_target(
    fake: FakeTelegram, chat_id: int, params: JSON
) -> tuple[int | None, JSON | None]:
    """Fail like Telegram when replying to a message that does not exist, or quoting words
    that message does not have; return the message replied to and the TextQuote."""
    reply = params.get("reply_parameters")
    target: Any = None
    quote: Any = None
    allow = as_bool(params.get("allow_sending_without_reply", False))
    if isinstance(reply, dict):
        target = reply.get("message_id")
        quote = reply.get("quote")
        allow = allow or as_bool(reply.get("allow_sending_without_reply", False))
        other_chat = reply.get("chat_id")
        if other_chat is not None and other_chat != chat_id:
            return None, None  # cross-chat replies: not modelled
    elif params.get("reply_to_message_id") is not None:
        target = params["reply_to_message_id"]
    if target is None:
        return None, None
    message_id = as_int(target, "message_id")
    if not fake.world.message_exists(chat_id, message_id):
        if allow:
            return None, None
        raise bad_request("message to be replied not found")
    if quote is None:
        return message_id, None
    position = reply.get("quote_position") if isinstance(reply, dict) else None
    return message_id, fake.world.text_quote(chat_id, message_id, quote, position)


def edit_message_text(fake: FakeTelegram, params: JSON) -> JSON | bool:
    """Implement editMessageText (a missing reply_markup removes the keyboard)."""
    target = _edit_target(fake, params)
    if isinstance(target, SentMessage) and not target.has_text:
        raise bad_request("there is no text in the message to edit")
    text = params.get("text")
    parse_mode = params.get("parse_mode")
    plain, entities = parse_text(text, parse_mode)
    markup = validate_reply_markup(params.get("reply_markup"))
    return _apply_edit(
        fake, target, "editMessageText", str(text), plain, parse_mode, entities, markup
    )


def edit_message_reply_markup(fake: FakeTelegram, params: JSON) -> JSON | bool:
    """Implement editMessageReplyMarkup."""
    target = _edit_target(fake, params)
    markup = validate_reply_markup(params.get("reply_markup"))
    method = "editMessageReplyMarkup"
    if isinstance(target, str):
        current = fake.world.inline_messages.get(target)
        if current is None:
            return _apply_edit(fake, target, method, "", "", None, (), markup)
    else:
        current = target
    return _apply_edit(
        fake,
        target,
        method,
        current.text,
        current.plain_text,
        current.parse_mode,
        current.entities,
        markup,
    )


def _edit_target(fake: FakeTelegram, params: JSON) -> SentMessage | str:
    """Find the message an edit refers to, or the inline_message_id."""
    world = fake.world
    inline_id = params.get("inline_message_id")
    if inline_id:
        if inline_id not in world.inline_ids:
            raise bad_request("MESSAGE_ID_INVALID")
        return str(inline_id)
    if params.get("chat_id") is None and params.get("message_id") is None:
        raise bad_request("message identifier is not specified")
    chat_id = world.resolve_chat(params)
    if params.get("message_id") is None:
        raise bad_request("message identifier is not specified")
    message_id = as_int(params["message_id"], "message_id")
    msg = world.messages.get((chat_id, message_id))
    if msg is None:
        if world.message_exists(chat_id, message_id):
            raise bad_request("message can't be edited")
        raise bad_request("message to edit not found")
    return msg


def _apply_edit(
    fake: FakeTelegram,
    target: SentMessage | str,
    method: str,
    text: str,
    plain: str,
    parse_mode: str | None,
    entities: Entities,
    markup: JSON | None,
) -> JSON | bool:
    """Check "not modified", store the new state and build the result."""
    first = False
    if isinstance(target, str):
        found = fake.world.inline_messages.get(target)
        if found is None:
            found = fake.world.inline_messages[target] = _blank_inline_message(target)
            first = True
        msg = found
    else:
        msg = target
    if (
        not first
        and msg.plain_text == plain
        and msg.entities == entities
        and msg.reply_markup == markup
    ):
        raise bad_request(NOT_MODIFIED)
    if isinstance(target, SentMessage):
        fake.flood.check(method, msg.chat_id)
    if not first:
        msg.history.append(
            MessageVersion(msg.text, msg.plain_text, msg.parse_mode, msg.reply_markup, msg.t)
        )
    msg.text, msg.plain_text, msg.parse_mode = text, plain, parse_mode
    msg.entities, msg.reply_markup, msg.t = entities, markup, time.perf_counter()
    msg.edit_date = int(time.time())
    if isinstance(target, str):
        return True
    return fake.world.message_json(msg)


def _blank_inline_message(inline_message_id: str) -> SentMessage:
    """Return the record of an inline message the bot has not edited yet."""
    return SentMessage(
        chat_id=0,
        message_id=0,
        text="",
        plain_text="",
        parse_mode=None,
        reply_markup=None,
        disable_notification=False,
        message_thread_id=None,
        t=time.perf_counter(),
        date=int(time.time()),
        inline_message_id=inline_message_id,
    )
