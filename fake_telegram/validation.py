"""Decoding request parameters and checking them like Telegram: numbers, flags, keyboards."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from fake_telegram.records import JSON, ApiError, Upload, bad_request

MAX_CALLBACK_DATA = 64
MAX_COPY_TEXT = 256  # CopyTextButton.text: 1-256 characters
BUTTON_ACTIONS = (
    "callback_data",
    "url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "login_url",
    "web_app",
    "callback_game",
    "pay",
    "copy_text",
)
# Parameters that are strings in the Bot API: form values for them must not be JSON-decoded,
# since PTB sends str values raw ("123" as text must stay a str).
STRING_PARAMS = frozenset(
    {
        "text",
        "parse_mode",
        "caption",
        "callback_query_id",
        "inline_query_id",
        "inline_message_id",
        "url",
        "description",
        "short_description",
        "language_code",
        "action",
        "next_offset",
        "switch_pm_text",
        "switch_pm_parameter",
        "message_effect_id",
        "business_connection_id",
        "secret_token",
        "title",
        "emoji",
        "name",
        "query",
        "question",
        "question_parse_mode",
        "explanation",
        "explanation_parse_mode",
        "type",
        "photo",
    }
)


def validate_reply_markup(markup: Any) -> JSON | None:
    """Validate reply_markup like Telegram; return it as a dict."""
    if markup is None or markup == "":
        return None
    if isinstance(markup, str):
        try:
            markup = json.loads(markup)
        except ValueError:
            raise bad_request("can't parse reply keyboard markup JSON object") from None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
            )
        if sum(len(r) for r in rows) > 100:
            raise bad_request("reply markup is too long")
        for row in rows:
            for button in row:
                _validate_inline_button(button)
    elif "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request('field "keyboard" of the ReplyKeyboardMarkup must be an Array')
        for row in rows:
            for button in row:
                text = button.get("text") if isinstance(button, dict) else button
                if not isinstance(text, str) or not text:
                    raise bad_request("keyboard button text is empty")
    elif not (markup.get("remove_keyboard") or markup.get("force_reply")):
        raise bad_request("can't parse reply keyboard markup JSON object")
    return markup


def _validate_inline_button(button: Any) -> None:
    """Validate one InlineKeyboardButton."""
    if not isinstance(button, dict):
        raise bad_request(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
        )
    text = button.get("text")
    if not isinstance(text, str) or not text:
        raise bad_request(
            'can\'t parse inline keyboard button: Field "text" must be of type String'
        )
    actions = [k for k in BUTTON_ACTIONS if button.get(k) is not None]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if len(actions) > 1:
        raise bad_request(
            "can't parse inline keyboard button: exactly one of the optional fields must be used"
        )
    if "callback_data" in actions:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA:
            raise bad_request("BUTTON_DATA_INVALID")
    if "copy_text" in actions:
        copy = button["copy_text"]
        text = copy.get("text") if isinstance(copy, dict) else None
        if not isinstance(text, str):
            raise bad_request(
                'can\'t parse inline keyboard button: Field "text" of CopyTextButton must be of '
                "type String"
            )
        if not 1 <= len(text) <= MAX_COPY_TEXT:
            raise bad_request("COPY_TEXT_INVALID")
    if "url" in actions:
        url = button["url"]
        if not isinstance(url, str) or not url.startswith(("http://", "https://", "tg://")):
            raise bad_request(f"inline keyboard button URL '{url}' is invalid")


async def read_params(request: web.Request) -> JSON:
    """Read query, JSON, urlencoded or multipart parameters."""
    items: list[tuple[str, Any]] = list(request.query.items()) if request.query_string else []
    if request.method == "POST" and request.can_read_body:
        ctype = request.content_type
        if ctype == "application/x-www-form-urlencoded":
            # PTB's default encoding; parse_qsl is much cheaper than request.post().
            body = (await request.read()).decode("utf-8", "replace")
            items.extend(parse_qsl(body, keep_blank_values=True))
        elif ctype == "application/json":
            try:
                data = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON encoded request body") from None
            if isinstance(data, dict):
                items.extend(data.items())
        else:
            try:
                form = await request.post()
            except web.HTTPRequestEntityTooLarge:
                raise ApiError(413, "Request Entity Too Large") from None
            items.extend(form.items())
    return decode_params(items)


def decode_params(raw: Iterable[tuple[str, Any]]) -> JSON:
    """JSON-decode form/query values the way Telegram does, leaving string params alone."""
    params: JSON = {}
    for key, value in raw:
        if isinstance(value, str) and key not in STRING_PARAMS and value:
            if value[0] in '{["-0123456789tfn':
                with contextlib.suppress(ValueError):
                    value = json.loads(value)
        elif isinstance(value, web.FileField):
            value = Upload(value.filename, value.content_type, value.file.read())
        elif not isinstance(value, str | int | float | bool | dict | list | type(None)):
            value = repr(value)
        params[key] = value
    return params


def as_int(value: Any, name: str) -> int:
    """Convert an integer parameter or raise a Telegram-like 400."""
    if isinstance(value, bool):
        raise bad_request(f"invalid {name} specified")
    if isinstance(value, int):
        return value
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"invalid {name} specified") from None


def as_bool(value: Any) -> bool:
    """Interpret a Boolean parameter."""
    if isinstance(value, str):
        return value.lower() in ("true", "1")
    return bool(value)
