"""A fake Telegram Bot API server that is as strict as the real one.

Run in-process (``async with FakeTelegram() as fake``) or as its own process
(``python -m fake_telegram``, see ``__main__``). Modules, by concern:

- ``server``: FakeTelegram, the HTTP entry point; its parts live in the other modules
- ``methods``: the Bot API methods the bot uses; any other answers 404 like Telegram
- ``world``: chats, users, memberships, messages and polls; ``photos``: uploaded photos
- ``polling``: the update queue and the getUpdates long poll; ``webhook``: setWebhook delivery
- ``faults``: injected failures and latency; ``recording``: calls, sent messages, waiting
- ``flood``: flood limits and the retry_after bookkeeping
- ``html``: Telegram's HTML parse mode; ``validation``: parameter decoding and checks
- ``records``: errors and what the fake records; ``control`` and ``client``: the control API
"""

from fake_telegram.client import FakeTelegramClient
from fake_telegram.html import HtmlError, entities_json, parse_html, parse_text, utf16_len
from fake_telegram.records import (
    ApiError,
    Call,
    Delivery,
    DeliveryAttempt,
    InlineAnswer,
    MessageVersion,
    SentMessage,
    Upload,
    bad_request,
)
from fake_telegram.server import DEFAULT_TOKEN, FakeTelegram
from fake_telegram.webhook import Webhook

__all__ = [
    "DEFAULT_TOKEN",
    "ApiError",
    "Call",
    "Delivery",
    "DeliveryAttempt",
    "FakeTelegram",
    "FakeTelegramClient",
    "HtmlError",
    "InlineAnswer",
    "MessageVersion",
    "SentMessage",
    "Upload",
    "Webhook",
    "bad_request",
    "entities_json",
    "parse_html",
    "parse_text",
    "utf16_len",
]
