"""A fake Telegram Bot API server that is as strict as the real one.

Run in-process (``async with FakeTelegram() as fake``) or standalone::

    python -m tests.fake_telegram --port 8081 [--flood] [--open-chats]

which prints ``READY <port>`` and serves a control API under ``/_control/`` until SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import gc
import itertools
import json
import math
import re
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import ClientSession, ClientTimeout, web

from tests.updates import BOT_ID, BOT_USERNAME, MESSAGE_REF_KEY, bot_user, chat_member

JSON = dict[str, Any]

DEFAULT_TOKEN = "123456:TEST-token"
GLOBAL = "global"  # key of the bot-wide flood window in retry_after bookkeeping

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a content and reply markup of the current message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is "
    "running"
)
MAX_TEXT_UTF16 = 4096
MAX_CALLBACK_DATA = 64
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
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
MEMBER_STATUSES = frozenset({"creator", "administrator", "member", "left", "kicked", "restricted"})
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
    }
)


# --------------------------------------------------------------------------------------------
# Errors and records
# --------------------------------------------------------------------------------------------


class ApiError(Exception):
    """A Bot API error response."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        """Store the HTTP status, description and optional ResponseParameters."""
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def envelope(self) -> JSON:
        """Return the ``{"ok": false, ...}`` response body."""
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str) -> ApiError:
    """Build a 400 error with Telegram's ``Bad Request: `` prefix."""
    return ApiError(400, f"Bad Request: {reason}")


@dataclass(slots=True)
class Call:
    """One HTTP request the fake answered."""

    method: str
    params: JSON
    status: int
    response: JSON
    t: float

    @property
    def ok(self) -> bool:
        """Return whether the request succeeded."""
        return self.status == 200


@dataclass(slots=True)
class MessageVersion:
    """A previous state of an edited message."""

    text: str
    plain_text: str
    parse_mode: str | None
    reply_markup: JSON | None
    t: float


@dataclass(slots=True)
class SentMessage:
    """A message the bot sent; mutated in place by edits, old states kept in ``history``."""

    chat_id: int
    message_id: int
    text: str
    plain_text: str
    parse_mode: str | None
    reply_markup: JSON | None
    disable_notification: bool
    message_thread_id: int | None
    t: float
    date: int
    entities: tuple[tuple[Any, ...], ...] = ()
    history: list[MessageVersion] = field(default_factory=list)
    edit_date: int | None = None
    deleted: bool = False
    inline_message_id: str | None = None

    @property
    def edited(self) -> bool:
        """Return whether the message was edited at least once."""
        return bool(self.history)

    def to_json(self) -> JSON:
        """Return a JSON-friendly dict (used by the control API)."""
        data = asdict(self)
        data["entities"] = [list(e) for e in self.entities]
        return data


@dataclass(slots=True)
class InlineAnswer:
    """A recorded answerInlineQuery call."""

    query_id: str
    results: list[JSON]
    cache_time: int | None
    is_personal: bool
    next_offset: str | None
    button: JSON | None
    t: float


@dataclass(slots=True)
class _Fault:
    """A pending injected failure."""

    method: str
    status: int
    description: str
    count: int
    chat_id: int | str | None
    retry_after: int | None


# --------------------------------------------------------------------------------------------
# HTML parsing, as strict as Telegram's
# --------------------------------------------------------------------------------------------

_SPECIAL = re.compile(r"[<&]")
_ENTITY = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,7}));")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_START_TAG = re.compile(
    r"<([A-Za-z][A-Za-z0-9-]*)"
    r"((?:\s+[A-Za-z_:][-\w:.]*(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'=<>`]+))?)*)\s*>"
)
_ATTR = re.compile(r"([A-Za-z_:][-\w:.]*)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'=<>`]+)))?")
_END_TAG = re.compile(r"</([A-Za-z][A-Za-z0-9-]*)\s*>")
_TAG_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


class HtmlError(Exception):
    """An HTML parse error, worded like Telegram's."""

    def __init__(self, reason: str, text: str, pos: int | None) -> None:
        """Build the reason, appending the UTF-8 byte offset of pos when given."""
        if pos is not None:
            reason = f"{reason} at byte offset {len(text[:pos].encode('utf-8'))}"
        super().__init__(reason)
        self.reason = reason


def _unescape_attr(value: str) -> str:
    """Decode the entities allowed in an attribute value."""
    if "&" not in value:
        return value
    return _ENTITY.sub(lambda m: _decode_entity(m) or m.group(), value)


def _decode_entity(m: re.Match[str]) -> str | None:
    """Return the character an entity match stands for, or None when invalid."""
    named, dec, hexa = m.groups()
    if named:
        return _NAMED_ENTITIES[named]
    code = int(dec) if dec else int(hexa, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)


def parse_html(text: str) -> tuple[str, tuple[tuple[Any, ...], ...]]:
    """Parse Telegram HTML into (plain text, entities); raise HtmlError like Telegram would.

    Entities are ``(type, start, end, extra)`` with str indices, good enough for equality.
    """
    if "<" not in text and "&" not in text:
        return text, ()
    out: list[str] = []
    length = 0  # running length of the plain text, to place entities
    stack: list[tuple[str, int, int, Any]] = []  # (tag, plain start, raw pos, extra)
    entities: list[tuple[Any, ...]] = []
    i = 0
    n = len(text)
    while i < n:
        m = _SPECIAL.search(text, i)
        if m is None:
            out.append(text[i:])
            break
        j = m.start()
        if j > i:
            out.append(text[i:j])
            length += j - i
        if text[j] == "&":
            em = _ENTITY.match(text, j)
            if em is None:
                semi = text.find(";", j, j + 12)
                if semi != -1 and re.fullmatch(r"&[#A-Za-z0-9]+;", text[j : semi + 1]):
                    raise HtmlError(f'Unsupported HTML entity "{text[j : semi + 1]}"', text, j)
                raise HtmlError('Character "&" must be escaped as "&amp;"', text, j)
            ch = _decode_entity(em)
            if ch is None:
                raise HtmlError(f'Invalid HTML entity "{em.group()}"', text, j)
            out.append(ch)
            length += 1
            i = em.end()
            continue
        if text.startswith("</", j):
            em = _END_TAG.match(text, j)
            if em is None:
                raise HtmlError("Unclosed end tag", text, j)
            name = em.group(1).lower()
            if not stack:
                raise HtmlError("Unexpected end tag", text, j)
            if stack[-1][0] != name:
                raise HtmlError(
                    f'Unmatched end tag, expected "</{stack[-1][0]}>", found "</{name}>"', text, j
                )
            tag, start, _, extra = stack.pop()
            entities.append((_TAG_ENTITY[tag], start, length, extra))
            i = em.end()
            continue
        em = _START_TAG.match(text, j)
        if em is None:
            nm = _TAG_NAME.match(text, j + 1)
            if nm is None:
                raise HtmlError('Unsupported start tag ""', text, j)
            if nm.group().lower() not in _TAG_ENTITY:
                raise HtmlError(f'Unsupported start tag "{nm.group().lower()}"', text, j)
            raise HtmlError("Unclosed start tag", text, j)
        name = em.group(1).lower()
        if name not in _TAG_ENTITY:
            raise HtmlError(f'Unsupported start tag "{name}"', text, j)
        attrs = {
            a.group(1).lower(): _unescape_attr(a.group(2) or a.group(3) or a.group(4) or "")
            for a in _ATTR.finditer(em.group(2))
        }
        extra = _check_tag(name, attrs, text, j)
        stack.append((name, length, j, extra))
        i = em.end()
    if stack:
        tag, _, pos, _ = stack[-1]
        raise HtmlError(f'Can\'t find end tag corresponding to start tag "{tag}"', text, pos)
    return "".join(out), tuple(entities)


def _check_tag(name: str, attrs: dict[str, str], text: str, pos: int) -> Any:
    """Validate a start tag's attributes; return the entity's extra data."""
    if name == "a":
        href = attrs.get("href", "").strip()
        if not href:
            raise HtmlError('Tag "a" must have attribute "href"', text, pos)
        return href
    if name == "span":
        if attrs.get("class") != "tg-spoiler":
            raise HtmlError('Tag "span" must have class "tg-spoiler"', text, pos)
        return None
    if name == "tg-emoji":
        emoji_id = attrs.get("emoji-id", "")
        if not emoji_id.isdigit():
            raise HtmlError(
                "Custom emoji entity must contain a valid custom emoji identifier", text, pos
            )
        return emoji_id
    if name == "blockquote":
        return "expandable" if "expandable" in attrs else None
    if name == "code":
        return attrs.get("class")
    return None


def entities_json(plain: str, entities: tuple[tuple[Any, ...], ...]) -> list[JSON]:
    """Convert parsed entities to Bot API MessageEntity dicts with UTF-16 offsets."""
    spans = {(start, end) for kind, start, end, _ in entities if kind == "pre"}
    languages = {
        (start, end): extra
        for kind, start, end, extra in entities
        if kind == "code" and (start, end) in spans and extra
    }
    ascii_only = plain.isascii()
    result: list[JSON] = []
    for kind, start, end, extra in entities:
        if end <= start or (kind == "code" and (start, end) in spans):
            continue  # Telegram drops empty entities and folds <pre><code> into one
        if ascii_only:
            offset, length = start, end - start
        else:
            offset, length = utf16_len(plain[:start]), utf16_len(plain[start:end])
        entity: JSON = {"type": kind, "offset": offset, "length": length}
        if kind == "text_link":
            entity["url"] = extra
        elif kind == "custom_emoji":
            entity["custom_emoji_id"] = extra
        elif kind == "blockquote" and extra == "expandable":
            entity["type"] = "expandable_blockquote"
        elif kind == "pre" and (start, end) in languages:
            entity["language"] = languages[(start, end)].removeprefix("language-")
        result.append(entity)
    result.sort(key=lambda e: (e["offset"], -e["length"]))
    return result


def utf16_len(text: str) -> int:
    """Return the length in UTF-16 code units, as Telegram counts it."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def parse_text(
    text: Any, parse_mode: Any, *, empty: str = "message text is empty"
) -> tuple[str, tuple[tuple[Any, ...], ...]]:
    """Validate a message text with its parse_mode; return (plain text, entities)."""
    if text is None:
        raise bad_request(empty)
    if not isinstance(text, str):
        text = json.dumps(text) if isinstance(text, dict | list) else str(text)
    mode = parse_mode.lower() if isinstance(parse_mode, str) else parse_mode
    if mode in (None, "", "markdown", "markdownv2"):
        plain, entities = text, ()
    elif mode == "html":
        try:
            plain, entities = parse_html(text)
        except HtmlError as exc:
            raise bad_request(f"can't parse entities: {exc.reason}") from None
    else:
        raise bad_request("unsupported parse_mode")
    if not plain.strip():
        raise bad_request(empty)
    # Any string longer than 4096 chars is too long; only shorter ones need exact counting.
    if len(plain) > MAX_TEXT_UTF16 or (
        len(plain) * 2 > MAX_TEXT_UTF16 and utf16_len(plain) > MAX_TEXT_UTF16
    ):
        raise bad_request("message is too long")
    return plain, entities


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
    if "url" in actions:
        url = button["url"]
        if not isinstance(url, str) or not url.startswith(("http://", "https://", "tg://")):
            raise bad_request(f"inline keyboard button URL '{url}' is invalid")


def _decode_params(raw: Iterable[tuple[str, Any]]) -> JSON:
    """JSON-decode form/query values the way Telegram does, leaving string params alone."""
    params: JSON = {}
    for key, value in raw:
        if isinstance(value, str) and key not in STRING_PARAMS and value:
            if value[0] in '{["-0123456789tfn':
                with contextlib.suppress(ValueError):
                    value = json.loads(value)
        elif not isinstance(value, str | int | float | bool | dict | list | type(None)):
            value = getattr(value, "filename", None) or repr(value)  # uploaded file
        params[key] = value
    return params


def _as_int(value: Any, name: str) -> int:
    """Convert an integer parameter or raise a Telegram-like 400."""
    if isinstance(value, bool):
        raise bad_request(f"invalid {name} specified")
    if isinstance(value, int):
        return value
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"invalid {name} specified") from None


def _as_bool(value: Any) -> bool:
    """Interpret a Boolean parameter."""
    if isinstance(value, str):
        return value.lower() in ("true", "1")
    return bool(value)


def _infer_chat_type(chat_id: int) -> str:
    """Guess a chat type from the id's shape, as Telegram's id ranges imply."""
    if chat_id > 0:
        return "private"
    return "supergroup" if str(chat_id).startswith("-100") else "group"


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class FakeTelegram:
    """A strict fake Bot API server on 127.0.0.1 with fault injection and recording."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = BOT_USERNAME,
        bot_id: int = BOT_ID,
        flood_control: bool = False,
        open_chats: bool = False,
    ) -> None:
        """Configure the fake; nothing listens until ``start``."""
        self._token = token
        self.bot_username = bot_username
        self.bot_id = bot_id
        self.flood_control = flood_control
        self.open_chats = open_chats
        self.global_rate = 30
        self.per_chat_interval = 1.0
        self.group_per_minute = 20
        self.flood_methods: set[str] = {"sendMessage", "editMessageText", "editMessageReplyMarkup"}
        self._port = 0
        self._runner: web.AppRunner | None = None
        self._bot_user = bot_user(bot_id, bot_username)
        self._handlers: dict[str, Callable[[JSON], Any]] = {
            "getMe": self._get_me,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "logOut": self._true,
            "close": self._true,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setMyDescription": self._set_my_description,
            "setMyShortDescription": self._set_my_short_description,
            "setChatMenuButton": self._set_chat_menu_button,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "answerInlineQuery": self._answer_inline_query,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
            "getChatAdministrators": self._get_chat_administrators,
            "setMessageReaction": self._set_message_reaction,
            "sendChatAction": self._send_chat_action,
        }
        self._canonical = {name.lower(): name for name in [*self._handlers, "getUpdates"]}
        # Chat state survives reset_records(): it is the "world", not the records.
        self._chat_types: dict[int, str] = {}
        self._chat_info: dict[int, JSON] = {}
        self._usernames: dict[str, int] = {}
        self._users: dict[int, JSON] = {}
        self._forbidden: dict[int, str] = {}
        self._migrated: dict[int, int] = {}
        self._deleted_topics: set[tuple[int, int]] = set()
        self._member_status: dict[tuple[int, int], str] = {}
        self._next_message_id: dict[int, int] = {}
        self._deleted: set[tuple[int, int]] = set()
        self.messages: dict[tuple[int, int], SentMessage] = {}
        self.inline_messages: dict[str, SentMessage] = {}
        self._inline_ids: set[str] = set()
        self._open_callbacks: set[str] = set()
        self._open_inline: set[str] = set()
        self._faults: list[_Fault] = []
        self._delays: dict[str, float] = {}
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.descriptions: dict[str, str] = {}
        self.short_descriptions: dict[str, str] = {}
        self.menu_buttons: dict[int | None, JSON] = {}
        self.reactions: dict[tuple[int, int], Any] = {}
        # Update queue for getUpdates.
        self._pending: collections.deque[JSON] = collections.deque()
        self._update_ids = itertools.count(1000)
        self._allowed: frozenset[str] | None = None
        self._poller: asyncio.Future[str] | None = None
        # Flood control windows (monotonic clock).
        self._global_window: collections.deque[float] = collections.deque()
        self._chat_last: dict[int, float] = {}
        self._group_windows: dict[int, collections.deque[float]] = {}
        self._retry_until: dict[int | str, float] = {}
        self._changed: asyncio.Future[None] | None = None
        self._init_records()

    def _init_records(self) -> None:
        """Create empty recording structures."""
        self.calls: list[Call] = []
        self._calls_by_method: dict[str, list[Call]] = collections.defaultdict(list)
        self._sent: list[SentMessage] = []
        self._sent_by_chat: dict[int, list[SentMessage]] = collections.defaultdict(list)
        self.handed_out_at: dict[int, float] = {}
        self.http_429 = 0
        self.retry_after_violations: list[JSON] = []
        self.inline_answers: dict[str, InlineAnswer] = {}
        self.callback_answers: dict[str, JSON] = {}

    # ---------------------------------------------------------------- lifecycle

    @property
    def token(self) -> str:
        """Return the bot token the fake accepts."""
        return self._token

    @property
    def port(self) -> int:
        """Return the bound (or last bound) port."""
        return self._port

    @property
    def url(self) -> str:
        """Return the server root URL."""
        return f"http://127.0.0.1:{self._port}"

    @property
    def base_url(self) -> str:
        """Return the value for PTB's ``base_url``."""
        return f"{self.url}/bot"

    @property
    def running(self) -> bool:
        """Return whether the server is listening."""
        return self._runner is not None

    def _make_app(self) -> web.Application:
        """Build the aiohttp application."""
        app = web.Application(client_max_size=50 * 1024**2)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        control = [
            ("POST", "push", self._ctl_push),
            ("GET", "sent", self._ctl_sent),
            ("GET", "stats", self._ctl_stats),
            ("GET", "handed_out", self._ctl_handed_out),
            ("GET", "wait_sent", self._ctl_wait_sent),
            ("POST", "add_chats", self._ctl_add_chats),
            ("POST", "block", self._ctl_block),
            ("POST", "unblock", self._ctl_unblock),
            ("POST", "kick", self._ctl_kick),
            ("POST", "migrate", self._ctl_migrate),
            ("POST", "fail_next", self._ctl_fail_next),
            ("POST", "delay", self._ctl_delay),
            ("POST", "flood", self._ctl_flood),
            ("POST", "set_member_status", self._ctl_set_member_status),
            ("POST", "reset", self._ctl_reset),
        ]
        for verb, name, handler in control:
            app.router.add_route(verb, f"/_control/{name}", handler)
        return app

    async def start(self, port: int | None = None) -> None:
        """Listen on 127.0.0.1; port None reuses the previous port (0 the first time)."""
        if self._runner is not None:
            return
        if port is None:
            port = self._port
        runner = web.AppRunner(
            self._make_app(), access_log=None, handle_signals=False, shutdown_timeout=0.5
        )
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port, reuse_address=True)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = runner.addresses[0][1]

    async def stop(self) -> None:
        """Stop listening, ending any long poll with an empty result."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._wake_poller("shutdown")
        await runner.cleanup()

    async def __aenter__(self) -> FakeTelegram:
        """Start the server."""
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Stop the server."""
        await self.stop()

    @contextlib.asynccontextmanager
    async def outage(self) -> AsyncIterator[None]:
        """Stop the server for the duration of the block, then restart it on the same port."""
        await self.stop()
        try:
            yield
        finally:
            await self.start()

    # ---------------------------------------------------------------- world control

    def add_chats(self, ids: Iterable[int], type: str = "private") -> None:
        """Make chats known without pushing updates (cheap even for 100,000 ids)."""
        self._chat_types.update(dict.fromkeys(ids, type))

    def block(self, chat_id: int) -> None:
        """Make sends to a user fail with 403 (for groups this behaves like ``kick``)."""
        if chat_id < 0:
            self.kick(chat_id)
            return
        self._forbidden[chat_id] = "Forbidden: bot was blocked by the user"

    def kick(self, chat_id: int) -> None:
        """Make sends to a group fail with 403 as if the bot was removed."""
        kind = self._chat_types.get(chat_id) or _infer_chat_type(chat_id)
        if kind == "channel":
            self._forbidden[chat_id] = "Forbidden: bot is not a member of the channel chat"
        elif kind == "private":
            self._forbidden[chat_id] = "Forbidden: bot was blocked by the user"
        else:
            self._forbidden[chat_id] = f"Forbidden: bot was kicked from the {kind} chat"

    def deactivate(self, chat_id: int) -> None:
        """Make sends to a user fail as if their account was deleted."""
        self._forbidden[chat_id] = "Forbidden: user is deactivated"

    def unblock(self, chat_id: int) -> None:
        """Undo ``block``/``kick``/``deactivate``."""
        self._forbidden.pop(chat_id, None)

    def delete_topic(self, chat_id: int, thread_id: int) -> None:
        """Delete a forum topic: sends into it answer 400 ``message thread not found``."""
        self._deleted_topics.add((chat_id, thread_id))

    def migrate(self, old_id: int, new_id: int) -> None:
        """Upgrade a group to a supergroup: the old id answers 400 with migrate_to_chat_id."""
        self._migrated[old_id] = new_id
        info = self._chat_info.get(old_id, {})
        self._learn_chat(
            {"id": new_id, "type": "supergroup", "title": info.get("title", "Supergroup")}
        )

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """Set what getChatMember returns for a user in a chat."""
        if status not in MEMBER_STATUSES:
            raise ValueError(f"unknown status {status!r}")
        self._member_status[(chat_id, user_id)] = status

    def fail_next(
        self,
        method: str,
        status: int = 500,
        description: str = "Internal Server Error",
        count: int = 1,
        chat_id: int | str | None = None,
        retry_after: int | None = None,
    ) -> None:
        """Make the next ``count`` calls of method ("*" = any) fail (for chat_id, if given)."""
        if retry_after is not None:
            if status == 500:
                status = 429
            if description == "Internal Server Error":
                description = f"Too Many Requests: retry after {retry_after}"
        self._faults.append(_Fault(method, status, description, count, chat_id, retry_after))

    def clear_faults(self) -> None:
        """Drop all pending injected failures."""
        self._faults.clear()

    def delay(self, method: str, seconds: float | None) -> None:
        """Answer method ("*" = any) only after seconds of simulated latency; None removes."""
        if seconds:
            self._delays[method] = seconds
        else:
            self._delays.pop(method, None)

    # ---------------------------------------------------------------- updates

    def push(self, update: JSON) -> int:
        """Queue an update for getUpdates; return its update_id."""
        upd = dict(update)
        upd.pop("update_id", None)
        uid = next(self._update_ids)
        upd["update_id"] = uid
        self._absorb(upd)
        self._pending.append(upd)
        self._wake_poller("update")
        self._notify()
        return uid

    def push_many(self, updates: Iterable[JSON]) -> list[int]:
        """Queue several updates; return their update_ids."""
        return [self.push(u) for u in updates]

    @property
    def polling(self) -> bool:
        """Return whether a getUpdates long poll is currently waiting."""
        return self._poller is not None and not self._poller.done()

    @property
    def pending_updates(self) -> int:
        """Return how many updates are not yet confirmed by an offset."""
        return len(self._pending)

    def _absorb(self, upd: JSON) -> None:
        """Learn chats, allocate message ids and register query ids from a pushed update."""
        for key, payload in list(upd.items()):
            if key == "update_id" or not isinstance(payload, dict):
                continue
            payload = upd[key] = dict(payload)
            if "chat" in payload and "date" in payload and key.endswith(("message", "post")):
                self._absorb_message(payload, edited=key.startswith("edited"))
            elif key == "callback_query":
                self._open_callbacks.add(str(payload["id"]))
                self._learn_user(payload.get("from"))
                msg = payload.get("message")
                if isinstance(msg, dict):
                    payload["message"] = self._resolve_message_ref(msg)
            elif key == "inline_query":
                self._open_inline.add(str(payload["id"]))
                self._learn_user(payload.get("from"))
            elif key == "chosen_inline_result":
                if payload.get("inline_message_id"):
                    self._inline_ids.add(payload["inline_message_id"])
            elif key in ("my_chat_member", "chat_member"):
                self._learn_chat(payload["chat"])
                self._absorb_member_change(key, payload)

    def _absorb_message(self, msg: JSON, *, edited: bool) -> None:
        """Handle a pushed message: known chat, message id, migration."""
        chat = msg["chat"]
        self._learn_chat(chat)
        self._learn_user(msg.get("from"))
        chat_id = chat["id"]
        if "message_id" not in msg:
            msg["message_id"] = self._alloc_message_id(chat_id)
        elif msg["message_id"] >= self._next_message_id.get(chat_id, 1):
            self._next_message_id[chat_id] = msg["message_id"] + 1
        if not edited and "migrate_to_chat_id" in msg:
            self.migrate(chat_id, msg["migrate_to_chat_id"])

    def _resolve_message_ref(self, msg: JSON) -> JSON:
        """Replace a (chat_id, message_id) reference with the stored message."""
        ref = msg.get(MESSAGE_REF_KEY)
        if ref is None:
            msg = dict(msg)
            self._absorb_message(msg, edited=True)
            return msg
        chat_id, message_id = ref
        stored = self.messages.get((chat_id, message_id))
        if stored is not None:
            return self._message_json(stored)
        # Telegram sends an InaccessibleMessage (date 0) for messages the bot can't see.
        return {"chat": self._chat_json(chat_id), "message_id": message_id, "date": 0}

    def _absorb_member_change(self, key: str, payload: JSON) -> None:
        """Apply a pushed membership change to the world state."""
        chat_id = payload["chat"]["id"]
        new = payload["new_chat_member"]
        member_id = new["user"]["id"]
        self._member_status[(chat_id, member_id)] = new["status"]
        if key != "my_chat_member":
            return
        if new["status"] in ("kicked", "left"):
            self.kick(chat_id)
        else:
            self.unblock(chat_id)

    def _learn_chat(self, chat: JSON) -> None:
        """Remember a chat object."""
        chat_id = chat["id"]
        self._chat_types[chat_id] = chat.get("type", "private")
        self._chat_info[chat_id] = chat
        if chat.get("username"):
            self._usernames[chat["username"].lower()] = chat_id

    def _learn_user(self, user: JSON | None) -> None:
        """Remember a user object, for getChatMember answers."""
        if user is not None:
            self._users[user["id"]] = user

    def _alloc_message_id(self, chat_id: int) -> int:
        """Return the next message id of a chat (shared by bot and user messages)."""
        n = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = n + 1
        return n

    def _message_exists(self, chat_id: int, message_id: int) -> bool:
        """Return whether a message id was ever issued in the chat and not deleted."""
        return (
            0 < message_id < self._next_message_id.get(chat_id, 1)
            and (chat_id, message_id) not in self._deleted
        )

    def _wake_poller(self, reason: str) -> None:
        """Wake a waiting getUpdates long poll."""
        fut = self._poller
        if fut is not None and not fut.done():
            fut.set_result(reason)

    # ---------------------------------------------------------------- recording and waiting

    def calls_for(self, method: str) -> list[Call]:
        """Return the recorded calls of one method, oldest first."""
        return list(self._calls_by_method.get(method, ()))

    def call_count(self, method: str, **params: Any) -> int:
        """Count calls of method, optionally only those whose params match (e.g. chat_id=1)."""
        calls = self._calls_by_method.get(method, ())
        if not params:
            return len(calls)
        return sum(all(c.params.get(k) == v for k, v in params.items()) for c in calls)

    def sent(self, chat_id: int | None = None) -> list[SentMessage]:
        """Return the messages the bot sent (to chat_id), in order, in their current state."""
        if chat_id is None:
            return list(self._sent)
        return list(self._sent_by_chat.get(chat_id, ()))

    def sent_count(self, chat_id: int | None = None) -> int:
        """Return how many messages were sent (to chat_id) without copying lists."""
        if chat_id is None:
            return len(self._sent)
        return len(self._sent_by_chat.get(chat_id, ()))

    def reset_records(self) -> None:
        """Forget calls, sent messages and flood statistics; keep chats and message state."""
        self._init_records()
        self._retry_until.clear()
        self._notify()

    def _notify(self) -> None:
        """Wake ``wait_for`` callers so they re-check their predicates."""
        fut = self._changed
        if fut is not None:
            self._changed = None
            if not fut.done():
                fut.set_result(None)

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until predicate() is true, re-checking after every request and push."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                last = "\n".join(
                    f"  {c.method} {c.status} {json.dumps(c.params, ensure_ascii=False)[:200]}"
                    for c in self.calls[-10:]
                )
                raise TimeoutError(
                    f"condition not met within {timeout}s; {len(self.calls)} calls, "
                    f"{len(self._sent)} sent; last calls:\n{last or '  (none)'}"
                )
            if self._changed is None or self._changed.done():
                self._changed = loop.create_future()
            # shield: a timeout must not cancel the future other waiters share.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._changed), remaining)

    async def wait_sent(
        self, n: int, chat_id: int | None = None, timeout: float = 10.0
    ) -> list[SentMessage]:
        """Wait until at least n messages were sent (to chat_id); return them."""
        await self.wait_for(lambda: self.sent_count(chat_id) >= n, timeout)
        return self.sent(chat_id)

    def _record(
        self,
        method: str,
        params: JSON,
        status: int,
        response: JSON,
        arrived: float | None = None,
    ) -> None:
        """Record a call and wake waiters."""
        t = time.perf_counter() if arrived is None else arrived
        call = Call(method, params, status, response, t)
        self.calls.append(call)
        self._calls_by_method[method].append(call)
        if status == 429:
            self.http_429 += 1
        if self._changed is not None:
            self._notify()

    # ---------------------------------------------------------------- HTTP entry point

    async def _read_params(self, request: web.Request) -> JSON:
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
                    body = await request.json()
                except ValueError:
                    raise bad_request("can't parse JSON encoded request body") from None
                if isinstance(body, dict):
                    items.extend(body.items())
            else:
                form = await request.post()
                items.extend(form.items())
        return _decode_params(items)

    async def _handle_api(self, request: web.Request) -> web.Response:
        """Dispatch a Bot API request and record it."""
        # Timestamps say when a request reached the server, before the fake's own parsing:
        # latency figures must not include the time this fake spends validating HTML.
        arrived = time.perf_counter()
        method = request.match_info["method"]
        params: JSON = {}
        try:
            params = await self._read_params(request)
            if request.match_info["token"] != self._token:
                method = self._canonical.get(method.lower(), method)
                raise ApiError(401, "Unauthorized")
            name = self._canonical.get(method.lower())
            if name is None:
                raise ApiError(404, "Not Found")
            method = name
            delay = self._delays.get(method) or self._delays.get("*")
            if delay:
                await asyncio.sleep(delay)  # simulated latency, not a test wait
            if self._faults:
                self._apply_faults(method, params)
            if method == "getUpdates":
                result = await self._get_updates(params)
            else:
                result = self._handlers[method](params)
            status, body = 200, {"ok": True, "result": result}
            if method == "sendMessage":
                sent = self.messages.get((result["chat"]["id"], result["message_id"]))
                if sent is not None:
                    sent.t = arrived
        except ApiError as exc:
            status, body = exc.status, exc.envelope()
        self._record(method, params, status, body, arrived)
        return web.Response(
            body=json.dumps(body, ensure_ascii=False).encode(),
            status=status,
            content_type="application/json",
        )

    def _apply_faults(self, method: str, params: JSON) -> None:
        """Raise the first matching injected fault."""
        for fault in self._faults:
            if fault.method not in (method, "*"):
                continue
            if fault.chat_id is not None and str(params.get("chat_id")) != str(fault.chat_id):
                continue
            fault.count -= 1
            if fault.count <= 0:
                self._faults.remove(fault)
            parameters = None
            if fault.retry_after is not None:
                parameters = {"retry_after": fault.retry_after}
                chat = params.get("chat_id")
                key = chat if isinstance(chat, int) else GLOBAL
                self._retry_until[key] = time.monotonic() + fault.retry_after
            raise ApiError(fault.status, fault.description, parameters)

    # ---------------------------------------------------------------- chat helpers

    def _resolve_chat(self, params: JSON, *, write: bool = True, required: bool = True) -> int:
        """Resolve chat_id like Telegram: unknown, migrated and forbidden chats fail."""
        raw = params.get("chat_id")
        if raw is None or raw == "":
            if not required:
                return 0
            raise bad_request("chat_id is empty")
        if isinstance(raw, str):
            if raw.startswith("@"):
                found = self._usernames.get(raw[1:].lower())
                if found is None:
                    raise bad_request("chat not found")
                raw = found
            else:
                try:
                    raw = int(raw)
                except ValueError:
                    raise bad_request("chat not found") from None
        elif not isinstance(raw, int) or isinstance(raw, bool):
            raise bad_request("chat not found")
        chat_id: int = raw
        new_id = self._migrated.get(chat_id)
        if new_id is not None:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": new_id},
            )
        if chat_id not in self._chat_types:
            if not self.open_chats:
                raise bad_request("chat not found")
            self._chat_types[chat_id] = _infer_chat_type(chat_id)
        if write:
            denied = self._forbidden.get(chat_id)
            if denied is not None:
                raise ApiError(403, denied)
        return chat_id

    def _chat_json(self, chat_id: int) -> JSON:
        """Return the Chat object of a known chat."""
        info = self._chat_info.get(chat_id)
        if info is not None:
            return info
        kind = self._chat_types.get(chat_id) or _infer_chat_type(chat_id)
        if kind == "private":
            return {"id": chat_id, "type": kind, "first_name": f"User{chat_id}"}
        return {"id": chat_id, "type": kind, "title": f"Chat {chat_id}"}

    def _message_json(self, msg: SentMessage) -> JSON:
        """Return the Message object Telegram would return for a sent message."""
        chat = self._chat_json(msg.chat_id)
        body: JSON = {"message_id": msg.message_id, "date": msg.date, "chat": chat}
        if chat.get("type") == "channel":
            body["sender_chat"] = chat
        else:
            body["from"] = self._bot_user
        if msg.message_thread_id is not None:
            body["message_thread_id"] = msg.message_thread_id
            if chat.get("is_forum"):
                body["is_topic_message"] = True
        body["text"] = msg.plain_text
        if msg.entities:
            body["entities"] = entities_json(msg.plain_text, msg.entities)
        if msg.reply_markup is not None and "inline_keyboard" in msg.reply_markup:
            body["reply_markup"] = msg.reply_markup
        if msg.edit_date is not None:
            body["edit_date"] = msg.edit_date
        return body

    def _flood_check(self, method: str, chat_id: int) -> None:
        """Record retry_after violations and apply flood limits."""
        now = time.monotonic()
        if self._retry_until:
            for key in (chat_id, GLOBAL):
                until = self._retry_until.get(key)
                if until is None:
                    continue
                if now < until:
                    self.retry_after_violations.append(
                        {"chat_id": chat_id, "method": method, "early_by": until - now}
                    )
                else:
                    del self._retry_until[key]
        if not self.flood_control or method not in self.flood_methods:
            return
        retry_key: int | str = GLOBAL
        wait = 0.0
        window = self._global_window
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= self.global_rate:
            wait = window[0] + 1.0 - now
        if chat_id < 0:
            group = self._group_windows.get(chat_id)
            if group is None:
                group = self._group_windows[chat_id] = collections.deque()
            while group and group[0] <= now - 60.0:
                group.popleft()
            if len(group) >= self.group_per_minute and group[0] + 60.0 - now > wait:
                wait, retry_key = group[0] + 60.0 - now, chat_id
        else:
            last = self._chat_last.get(chat_id)
            if last is not None and last + self.per_chat_interval - now > wait:
                wait, retry_key = last + self.per_chat_interval - now, chat_id
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            self._retry_until[retry_key] = now + retry_after
            raise ApiError(
                429,
                f"Too Many Requests: retry after {retry_after}",
                {"retry_after": retry_after},
            )
        window.append(now)
        if chat_id < 0:
            self._group_windows[chat_id].append(now)
        else:
            self._chat_last[chat_id] = now

    # ---------------------------------------------------------------- Bot API methods

    def _true(self, params: JSON) -> bool:
        """Answer true."""
        return True

    def _get_me(self, params: JSON) -> JSON:
        """Implement getMe."""
        return {
            **self._bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _delete_webhook(self, params: JSON) -> bool:
        """Implement deleteWebhook (drop_pending_updates empties the queue)."""
        if _as_bool(params.get("drop_pending_updates", False)):
            self._pending.clear()
        return True

    def _get_webhook_info(self, params: JSON) -> JSON:
        """Implement getWebhookInfo (never a webhook)."""
        return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}

    async def _get_updates(self, params: JSON) -> list[JSON]:
        """Implement getUpdates with long polling."""
        offset = _as_int(params.get("offset", 0) or 0, "offset")
        limit = min(max(_as_int(params.get("limit", 100) or 100, "limit"), 1), 100)
        timeout = float(params.get("timeout", 0) or 0)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            # Telegram remembers the last list; an empty list means the default set.
            self._allowed = frozenset(allowed) if allowed else None
        # A newer getUpdates terminates the older one, like Telegram (409 to the old one).
        self._wake_poller("conflict")
        pending = self._pending
        if offset > 0:
            while pending and pending[0]["update_id"] < offset:
                pending.popleft()
        elif offset < 0:
            while len(pending) > -offset:
                pending.popleft()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            batch = self._take_updates(limit)
            remaining = deadline - loop.time()
            if batch or remaining <= 0 or self._runner is None:
                return batch
            fut: asyncio.Future[str] = loop.create_future()
            self._poller = fut
            self._notify()  # lets tests wait until a long poll is parked
            try:
                reason = await asyncio.wait_for(fut, remaining)
            except TimeoutError:
                return self._take_updates(limit)
            finally:
                if self._poller is fut:
                    self._poller = None
            if reason == "conflict":
                raise ApiError(409, CONFLICT)
            if reason == "shutdown":
                return []

    def _take_updates(self, limit: int) -> list[JSON]:
        """Hand out up to limit allowed updates, stamping their first hand-out time."""
        batch: list[JSON] = []
        allowed = self._allowed
        now = time.perf_counter()
        for upd in self._pending:
            kind = next(k for k in upd if k != "update_id")
            if allowed is None:
                if kind in DEFAULT_EXCLUDED_UPDATES:
                    continue
            elif kind not in allowed:
                continue
            batch.append(upd)
            self.handed_out_at.setdefault(upd["update_id"], now)
            if len(batch) >= limit:
                break
        return batch

    def _set_my_commands(self, params: JSON) -> bool:
        """Implement setMyCommands with Telegram's command format checks."""
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request('parameter "commands" can\'t be parsed as JSON')
        if len(commands) > 100:
            raise bad_request("too many commands specified")
        for cmd in commands:
            name = cmd.get("command", "") if isinstance(cmd, dict) else ""
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name.lstrip("/")):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(cmd.get("description", "").strip()) <= 256:
                raise bad_request("command description must be non-empty")
        self.commands[self._commands_key(params)] = commands
        return True

    def _commands_key(self, params: JSON) -> tuple[str, str]:
        """Return the (scope, language) key commands are stored under."""
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    def _get_my_commands(self, params: JSON) -> list[JSON]:
        """Implement getMyCommands."""
        return self.commands.get(self._commands_key(params), [])

    def _delete_my_commands(self, params: JSON) -> bool:
        """Implement deleteMyCommands."""
        self.commands.pop(self._commands_key(params), None)
        return True

    def _set_my_description(self, params: JSON) -> bool:
        """Implement setMyDescription (max 512 chars)."""
        text = str(params.get("description") or "")
        if len(text) > 512:
            raise bad_request("description is too long")
        self.descriptions[str(params.get("language_code") or "")] = text
        return True

    def _set_my_short_description(self, params: JSON) -> bool:
        """Implement setMyShortDescription (max 120 chars)."""
        text = str(params.get("short_description") or "")
        if len(text) > 120:
            raise bad_request("short description is too long")
        self.short_descriptions[str(params.get("language_code") or "")] = text
        return True

    def _set_chat_menu_button(self, params: JSON) -> bool:
        """Implement setChatMenuButton."""
        chat_id = self._resolve_chat(params, write=False, required=False) or None
        self.menu_buttons[chat_id] = params.get("menu_button") or {"type": "default"}
        return True

    def _send_message(self, params: JSON) -> JSON:
        """Implement sendMessage."""
        chat_id = self._resolve_chat(params)
        text = params.get("text")
        parse_mode = params.get("parse_mode")
        plain, entities = parse_text(text, parse_mode)
        markup = validate_reply_markup(params.get("reply_markup"))
        self._check_reply_target(chat_id, params)
        thread = params.get("message_thread_id")
        if thread is not None and (chat_id, _as_int(thread, "message_thread_id")) in (
            self._deleted_topics
        ):
            raise bad_request("message thread not found")
        self._flood_check("sendMessage", chat_id)
        msg = SentMessage(
            chat_id=chat_id,
            message_id=self._alloc_message_id(chat_id),
            text=str(text),
            plain_text=plain,
            parse_mode=parse_mode,
            reply_markup=markup,
            disable_notification=_as_bool(params.get("disable_notification", False)),
            message_thread_id=None if thread is None else _as_int(thread, "message_thread_id"),
            t=time.perf_counter(),
            date=int(time.time()),
            entities=entities,
        )
        self.messages[(chat_id, msg.message_id)] = msg
        self._sent.append(msg)
        self._sent_by_chat[chat_id].append(msg)
        return self._message_json(msg)

    def _check_reply_target(self, chat_id: int, params: JSON) -> None:
        """Fail like Telegram when replying to a message that does not exist."""
        reply = params.get("reply_parameters")
        target: Any = None
        allow = _as_bool(params.get("allow_sending_without_reply", False))
        if isinstance(reply, dict):
            target = reply.get("message_id")
            allow = allow or _as_bool(reply.get("allow_sending_without_reply", False))
            other_chat = reply.get("chat_id")
            if other_chat is not None and other_chat != chat_id:
                return  # cross-chat replies: not modelled
        elif params.get("reply_to_message_id") is not None:
            target = params["reply_to_message_id"]
        if target is None or allow:
            return
        if not self._message_exists(chat_id, _as_int(target, "message_id")):
            raise bad_request("message to be replied not found")

    def _edit_target(self, params: JSON) -> SentMessage | str:
        """Find the message an edit refers to, or the inline_message_id."""
        inline_id = params.get("inline_message_id")
        if inline_id:
            if inline_id not in self._inline_ids:
                raise bad_request("MESSAGE_ID_INVALID")
            return str(inline_id)
        if params.get("chat_id") is None and params.get("message_id") is None:
            raise bad_request("message identifier is not specified")
        chat_id = self._resolve_chat(params)
        if params.get("message_id") is None:
            raise bad_request("message identifier is not specified")
        message_id = _as_int(params["message_id"], "message_id")
        msg = self.messages.get((chat_id, message_id))
        if msg is None:
            if self._message_exists(chat_id, message_id):
                raise bad_request("message can't be edited")
            raise bad_request("message to edit not found")
        return msg

    def _apply_edit(
        self,
        target: SentMessage | str,
        method: str,
        text: str,
        plain: str,
        parse_mode: str | None,
        entities: tuple[tuple[Any, ...], ...],
        markup: JSON | None,
    ) -> JSON | bool:
        """Check "not modified", store the new state and build the result."""
        if isinstance(target, str):
            msg = self.inline_messages.get(target)
            if msg is None:
                msg = self.inline_messages[target] = SentMessage(
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
                    inline_message_id=target,
                )
                first = True
            else:
                first = False
        else:
            msg, first = target, False
        if (
            not first
            and msg.plain_text == plain
            and msg.entities == entities
            and msg.reply_markup == markup
        ):
            raise bad_request(NOT_MODIFIED[len("Bad Request: ") :])
        if isinstance(target, SentMessage):
            self._flood_check(method, msg.chat_id)
        now = time.perf_counter()
        if not first:
            msg.history.append(
                MessageVersion(msg.text, msg.plain_text, msg.parse_mode, msg.reply_markup, msg.t)
            )
        msg.text, msg.plain_text, msg.parse_mode = text, plain, parse_mode
        msg.entities, msg.reply_markup, msg.t = entities, markup, now
        msg.edit_date = int(time.time())
        if isinstance(target, str):
            return True
        return self._message_json(msg)

    def _edit_message_text(self, params: JSON) -> JSON | bool:
        """Implement editMessageText (a missing reply_markup removes the keyboard)."""
        target = self._edit_target(params)
        text = params.get("text")
        parse_mode = params.get("parse_mode")
        plain, entities = parse_text(text, parse_mode)
        markup = validate_reply_markup(params.get("reply_markup"))
        return self._apply_edit(
            target, "editMessageText", str(text), plain, parse_mode, entities, markup
        )

    def _edit_message_reply_markup(self, params: JSON) -> JSON | bool:
        """Implement editMessageReplyMarkup."""
        target = self._edit_target(params)
        markup = validate_reply_markup(params.get("reply_markup"))
        if isinstance(target, str):
            current = self.inline_messages.get(target)
            if current is None:
                return self._apply_edit(target, "editMessageReplyMarkup", "", "", None, (), markup)
        else:
            current = target
        return self._apply_edit(
            target,
            "editMessageReplyMarkup",
            current.text,
            current.plain_text,
            current.parse_mode,
            current.entities,
            markup,
        )

    def _delete_message(self, params: JSON) -> bool:
        """Implement deleteMessage."""
        chat_id = self._resolve_chat(params, write=False)
        message_id = _as_int(params.get("message_id"), "message_id")
        if not self._message_exists(chat_id, message_id):
            raise bad_request("message to delete not found")
        self._deleted.add((chat_id, message_id))
        msg = self.messages.pop((chat_id, message_id), None)
        if msg is not None:
            msg.deleted = True
        return True

    def _answer_callback_query(self, params: JSON) -> bool:
        """Implement answerCallbackQuery (each query answerable once)."""
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._open_callbacks:
            raise bad_request(QUERY_TOO_OLD[len("Bad Request: ") :])
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        self._open_callbacks.discard(query_id)
        self.callback_answers[query_id] = params
        return True

    def _answer_inline_query(self, params: JSON) -> bool:
        """Implement answerInlineQuery with Telegram's result checks."""
        query_id = str(params.get("inline_query_id") or "")
        if query_id not in self._open_inline:
            raise bad_request(QUERY_TOO_OLD[len("Bad Request: ") :])
        results = params.get("results")
        if not isinstance(results, list):
            raise bad_request("can't parse inline query results JSON object")
        if len(results) > 50:
            raise bad_request("RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            if not isinstance(result, dict):
                raise bad_request("can't parse inline query result JSON object")
            rid = result.get("id")
            if not isinstance(rid, str) or not 1 <= len(rid.encode("utf-8")) <= 64:
                raise bad_request("RESULT_ID_INVALID")
            if rid in seen:
                raise bad_request("RESULT_ID_DUPLICATE")
            seen.add(rid)
            self._check_inline_result(result)
        next_offset = params.get("next_offset")
        if next_offset is not None and len(str(next_offset).encode("utf-8")) > 64:
            raise bad_request("NEXT_OFFSET_INVALID")
        self._open_inline.discard(query_id)
        cache_time = params.get("cache_time")
        self.inline_answers[query_id] = InlineAnswer(
            query_id=query_id,
            results=results,
            cache_time=None if cache_time is None else _as_int(cache_time, "cache_time"),
            is_personal=_as_bool(params.get("is_personal", False)),
            next_offset=None if next_offset is None else str(next_offset),
            button=params.get("button"),
            t=time.perf_counter(),
        )
        return True

    def _check_inline_result(self, result: JSON) -> None:
        """Validate one InlineQueryResult."""
        kind = result.get("type")
        if not isinstance(kind, str) or not kind:
            raise bad_request("RESULT_TYPE_INVALID")
        if kind == "article":
            if not str(result.get("title") or "").strip():
                raise bad_request("RESULT_TITLE_EMPTY")
            content = result.get("input_message_content")
            if not isinstance(content, dict):
                raise bad_request("input_message_content is required for article results")
        content = result.get("input_message_content")
        if isinstance(content, dict) and "message_text" in content:
            parse_text(content["message_text"], content.get("parse_mode"))
        if "reply_markup" in result:
            validate_reply_markup(result["reply_markup"])

    def _get_chat(self, params: JSON) -> JSON:
        """Implement getChat (returns a ChatFullInfo)."""
        chat_id = self._resolve_chat(params, write=False)
        return {
            **self._chat_json(chat_id),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _member_status_of(self, chat_id: int, user_id: int) -> str:
        """Return a user's status in a chat, with the bot's channel-admin default."""
        status = self._member_status.get((chat_id, user_id))
        if status is not None:
            return status
        if user_id == self.bot_id and self._chat_types.get(chat_id) == "channel":
            return "administrator"
        return "member"

    def _user_json(self, user_id: int) -> JSON:
        """Return the User object for an id."""
        if user_id == self.bot_id:
            return self._bot_user
        return self._users.get(user_id) or {
            "id": user_id,
            "is_bot": False,
            "first_name": f"User{user_id}",
        }

    def _get_chat_member(self, params: JSON) -> JSON:
        """Implement getChatMember."""
        chat_id = self._resolve_chat(params, write=False)
        if params.get("user_id") in (None, ""):
            raise bad_request("user_id is empty")
        user_id = _as_int(params["user_id"], "user_id")
        return chat_member(self._user_json(user_id), self._member_status_of(chat_id, user_id))

    def _get_chat_administrators(self, params: JSON) -> list[JSON]:
        """Implement getChatAdministrators."""
        chat_id = self._resolve_chat(params, write=False)
        if self._chat_types.get(chat_id) == "private":
            raise bad_request("there are no administrators in the private chat")
        admins = [
            chat_member(self._user_json(uid), status)
            for (cid, uid), status in self._member_status.items()
            if cid == chat_id and status in ("creator", "administrator")
        ]
        if (chat_id, self.bot_id) not in self._member_status and (
            self._member_status_of(chat_id, self.bot_id) == "administrator"
        ):
            admins.append(chat_member(self._bot_user, "administrator"))
        return admins

    def _set_message_reaction(self, params: JSON) -> bool:
        """Implement setMessageReaction."""
        chat_id = self._resolve_chat(params)
        message_id = _as_int(params.get("message_id"), "message_id")
        if not self._message_exists(chat_id, message_id):
            raise bad_request("MESSAGE_ID_INVALID")
        reaction = params.get("reaction") or []
        if not isinstance(reaction, list):
            raise bad_request("REACTION_INVALID")
        self.reactions[(chat_id, message_id)] = reaction
        return True

    def _send_chat_action(self, params: JSON) -> bool:
        """Implement sendChatAction."""
        self._resolve_chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    # ---------------------------------------------------------------- control API

    @staticmethod
    def _ok(result: Any) -> web.Response:
        """Wrap a control result in the Bot API envelope."""
        return web.json_response({"ok": True, "result": result})

    async def _ctl_push(self, request: web.Request) -> web.Response:
        """Push one update or a list."""
        body = await request.json()
        ids = self.push_many(body) if isinstance(body, list) else [self.push(body)]
        return self._ok(ids)

    async def _ctl_sent(self, request: web.Request) -> web.Response:
        """List sent messages, optionally for one chat."""
        chat = request.query.get("chat_id")
        return self._ok([m.to_json() for m in self.sent(None if chat is None else int(chat))])

    def stats(self) -> JSON:
        """Return counters for the control API and benchmarks."""
        return {
            "calls": {m: len(c) for m, c in self._calls_by_method.items()},
            "http_429": self.http_429,
            "retry_after_violations": self.retry_after_violations,
            "sent_count": len(self._sent),
            "pending_updates": len(self._pending),
        }

    async def _ctl_stats(self, request: web.Request) -> web.Response:
        """Return stats()."""
        return self._ok(self.stats())

    async def _ctl_handed_out(self, request: web.Request) -> web.Response:
        """Return when each update was first handed out (perf_counter, system-wide clock)."""
        return self._ok({str(k): v for k, v in self.handed_out_at.items()})

    async def _ctl_wait_sent(self, request: web.Request) -> web.Response:
        """Block until n messages were sent (to chat_id); 408 on timeout."""
        q = request.query
        chat = q.get("chat_id")
        try:
            await self.wait_sent(
                int(q.get("n", "1")),
                None if chat is None else int(chat),
                float(q.get("timeout", "10")),
            )
        except TimeoutError as exc:
            return web.json_response({"ok": False, "description": str(exc)}, status=408)
        return self._ok(self.sent_count(None if chat is None else int(chat)))

    async def _ctl_add_chats(self, request: web.Request) -> web.Response:
        """Make chats known."""
        body = await request.json()
        self.add_chats(body["ids"], body.get("type", "private"))
        return self._ok(True)

    async def _ctl_block(self, request: web.Request) -> web.Response:
        """Block a chat."""
        self.block(int((await request.json())["chat_id"]))
        return self._ok(True)

    async def _ctl_unblock(self, request: web.Request) -> web.Response:
        """Unblock a chat."""
        self.unblock(int((await request.json())["chat_id"]))
        return self._ok(True)

    async def _ctl_kick(self, request: web.Request) -> web.Response:
        """Kick the bot from a chat."""
        self.kick(int((await request.json())["chat_id"]))
        return self._ok(True)

    async def _ctl_migrate(self, request: web.Request) -> web.Response:
        """Migrate a group."""
        body = await request.json()
        self.migrate(int(body["old_id"]), int(body["new_id"]))
        return self._ok(True)

    async def _ctl_fail_next(self, request: web.Request) -> web.Response:
        """Inject failures; body holds fail_next's keyword arguments."""
        self.fail_next(**(await request.json()))
        return self._ok(True)

    async def _ctl_delay(self, request: web.Request) -> web.Response:
        """Set a method's simulated latency."""
        body = await request.json()
        self.delay(body["method"], body.get("seconds"))
        return self._ok(True)

    async def _ctl_flood(self, request: web.Request) -> web.Response:
        """Configure flood control."""
        body = await request.json()
        if "on" in body:
            self.flood_control = bool(body["on"])
        for key in ("global_rate", "per_chat_interval", "group_per_minute"):
            if key in body:
                setattr(self, key, body[key])
        if "open_chats" in body:
            self.open_chats = bool(body["open_chats"])
        return self._ok(True)

    async def _ctl_set_member_status(self, request: web.Request) -> web.Response:
        """Set a chat member status."""
        body = await request.json()
        self.set_member_status(int(body["chat_id"]), int(body["user_id"]), body["status"])
        return self._ok(True)

    async def _ctl_reset(self, request: web.Request) -> web.Response:
        """Reset the records."""
        self.reset_records()
        return self._ok(True)


# --------------------------------------------------------------------------------------------
# Client for a fake running in another process
# --------------------------------------------------------------------------------------------


class FakeTelegramClient:
    """Drive a standalone fake through its ``/_control/`` API."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        """Point the client at a running fake."""
        self.root = f"http://{host}:{port}/_control"
        self._session: ClientSession | None = None

    async def __aenter__(self) -> FakeTelegramClient:
        """Open the HTTP session."""
        self._session = ClientSession(timeout=ClientTimeout(total=None))
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Close the HTTP session."""
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _call(self, verb: str, name: str, body: Any = None, **query: Any) -> Any:
        """Call a control endpoint and unwrap its result."""
        if self._session is None:
            self._session = ClientSession(timeout=ClientTimeout(total=None))
        params = {k: str(v) for k, v in query.items() if v is not None}
        async with self._session.request(
            verb, f"{self.root}/{name}", json=body, params=params
        ) as resp:
            data = await resp.json()
        if not data.get("ok"):
            if resp.status == 408:
                raise TimeoutError(data.get("description"))
            raise RuntimeError(f"control {name} failed: {data}")
        return data["result"]

    async def push(self, update: JSON | list[JSON]) -> list[int]:
        """Push one update or a list; return update_ids."""
        return await self._call("POST", "push", update)

    async def sent(self, chat_id: int | None = None) -> list[JSON]:
        """Return sent messages as dicts."""
        return await self._call("GET", "sent", chat_id=chat_id)

    async def stats(self) -> JSON:
        """Return the fake's stats."""
        return await self._call("GET", "stats")

    async def handed_out(self) -> dict[int, float]:
        """Return update_id -> perf_counter time of first hand-out."""
        return {int(k): v for k, v in (await self._call("GET", "handed_out")).items()}

    async def wait_sent(self, n: int, chat_id: int | None = None, timeout: float = 10.0) -> int:
        """Wait server-side until n messages were sent; return the count."""
        return await self._call("GET", "wait_sent", n=n, chat_id=chat_id, timeout=timeout)

    async def add_chats(self, ids: list[int], type: str = "private") -> None:
        """Make chats known."""
        await self._call("POST", "add_chats", {"ids": ids, "type": type})

    async def block(self, chat_id: int) -> None:
        """Block a chat."""
        await self._call("POST", "block", {"chat_id": chat_id})

    async def unblock(self, chat_id: int) -> None:
        """Unblock a chat."""
        await self._call("POST", "unblock", {"chat_id": chat_id})

    async def kick(self, chat_id: int) -> None:
        """Kick the bot from a group."""
        await self._call("POST", "kick", {"chat_id": chat_id})

    async def migrate(self, old_id: int, new_id: int) -> None:
        """Migrate a group to a supergroup."""
        await self._call("POST", "migrate", {"old_id": old_id, "new_id": new_id})

    async def fail_next(self, method: str, **kw: Any) -> None:
        """Inject failures (same keywords as FakeTelegram.fail_next)."""
        await self._call("POST", "fail_next", {"method": method, **kw})

    async def delay(self, method: str, seconds: float | None) -> None:
        """Set simulated latency for a method."""
        await self._call("POST", "delay", {"method": method, "seconds": seconds})

    async def flood(self, on: bool = True, **limits: Any) -> None:
        """Switch flood control and set limits (global_rate, per_chat_interval, ...)."""
        await self._call("POST", "flood", {"on": on, **limits})

    async def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """Set a chat member status."""
        body = {"chat_id": chat_id, "user_id": user_id, "status": status}
        await self._call("POST", "set_member_status", body)

    async def reset(self) -> None:
        """Reset the fake's records."""
        await self._call("POST", "reset", {})


# --------------------------------------------------------------------------------------------
# Standalone process
# --------------------------------------------------------------------------------------------


async def _serve(args: argparse.Namespace) -> None:
    """Run the fake until SIGTERM or SIGINT."""
    fake = FakeTelegram(
        args.token,
        bot_username=args.bot_username,
        bot_id=args.bot_id,
        flood_control=args.flood,
        open_chats=args.open_chats,
    )
    # A long-lived server keeps every record: rarer young-generation collections keep the
    # per-request cost flat as the heap grows.
    gc.set_threshold(50_000, 20, 100)
    await fake.start(args.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"READY {fake.port}", flush=True)
    await stop.wait()
    await fake.stop()


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and serve."""
    parser = argparse.ArgumentParser(description="Fake Telegram Bot API server")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--bot-username", default=BOT_USERNAME)
    parser.add_argument("--bot-id", type=int, default=BOT_ID)
    parser.add_argument("--flood", action="store_true", help="enable flood control")
    parser.add_argument("--open-chats", action="store_true", help="accept unknown chat ids")
    args = parser.parse_args(argv)
    asyncio.run(_serve(args))


if __name__ == "__main__":
    sys.exit(main())
