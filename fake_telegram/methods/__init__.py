"""The Bot API methods the bot uses, by name; anything else answers 404 like Telegram."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fake_telegram.methods import bot, messages, photos, polls, queries, updates
from fake_telegram.records import JSON

if TYPE_CHECKING:
    from fake_telegram.server import FakeTelegram

Method = Callable[["FakeTelegram", JSON], Any]

# getUpdates is missing on purpose: it is a long poll, served by the server itself.
METHODS: dict[str, Method] = {
    "getMe": bot.get_me,
    "setMyCommands": bot.set_my_commands,
    "setMyDescription": bot.set_my_description,
    "setMyShortDescription": bot.set_my_short_description,
    "getChatMember": bot.get_chat_member,
    "getChatAdministrators": bot.get_chat_administrators,
    "setWebhook": updates.set_webhook,
    "deleteWebhook": updates.delete_webhook,
    "getWebhookInfo": updates.get_webhook_info,
    "sendMessage": messages.send_message,
    "sendPhoto": photos.send_photo,
    "sendPoll": polls.send_poll,
    "stopPoll": polls.stop_poll,
    "editMessageText": messages.edit_message_text,
    "editMessageReplyMarkup": messages.edit_message_reply_markup,
    "answerCallbackQuery": queries.answer_callback_query,
    "answerInlineQuery": queries.answer_inline_query,
}
