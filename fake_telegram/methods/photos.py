"""Bot API method sendPhoto: an uploaded image or a file_id this fake issued."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from fake_telegram.html import parse_entities, utf16_len
from fake_telegram.methods.messages import (
    check_effect,
    check_flood,
    check_reply_target,
    thread_of,
)
from fake_telegram.photos import StoredPhoto
from fake_telegram.records import JSON, SentMessage, Upload, bad_request
from fake_telegram.validation import as_bool, validate_reply_markup

if TYPE_CHECKING:
    from fake_telegram.server import FakeTelegram

MAX_CAPTION = 1024  # counted in UTF-16 units, like message texts


def send_photo(fake: FakeTelegram, params: JSON) -> JSON:
    """Implement sendPhoto."""
    world = fake.world
    chat_id = world.resolve_chat(params)
    photo, uploaded = _photo(fake, params)
    caption = params.get("caption")
    parse_mode = params.get("parse_mode")
    plain, entities = parse_entities(caption or "", parse_mode)
    if utf16_len(plain) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    markup = validate_reply_markup(params.get("reply_markup"))
    reply_to, quote = check_reply_target(fake, chat_id, params)
    effect = check_effect(fake, chat_id, params)
    thread = thread_of(fake, chat_id, params)
    paid = check_flood(fake, "sendPhoto", chat_id, params)
    sizes = fake.photos.keep(photo, uploaded=uploaded)
    msg = SentMessage(
        chat_id=chat_id,
        message_id=world.alloc_message_id(chat_id),
        text="" if caption is None else str(caption),
        plain_text=plain,
        parse_mode=parse_mode,
        reply_markup=markup,
        disable_notification=as_bool(params.get("disable_notification", False)),
        message_thread_id=thread,
        t=fake.arrived,
        date=int(time.time()),
        entities=entities,
        paid=paid,
        photo=sizes,
        effect_id=effect,
        reply_to=reply_to,
        quote=quote,
    )
    fake.add_sent(msg)
    return world.message_json(msg)


def _photo(fake: FakeTelegram, params: JSON) -> tuple[StoredPhoto, bool]:
    """Return the photo to send (checked if uploaded) and whether it was uploaded."""
    value: Any = params.get("photo")
    if isinstance(value, str) and value.startswith("attach://"):
        value = params.get(value.removeprefix("attach://"))
    if isinstance(value, Upload):
        return fake.photos.prepare(value), True
    if not value:
        raise bad_request("there is no photo in the request")
    return fake.photos.find(str(value)), False
