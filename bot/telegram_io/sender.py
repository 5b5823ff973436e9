"""Sending one rendered message: split to Telegram's limit, keyboard under the last part.

Handlers and the deliverer both send through here, so both follow a group that became a
supergroup, and a forum topic that was deleted, to where the chat now is.

Nothing here reads Telegram's answer beyond success or error, so the message goes out with
``Bot.do_api_request`` and its answer stays JSON: turning each answer into a ``Message``
(and each keyboard into JSON again) was a third of a paid broadcast's CPU. The request
passes through the same rate limiter, errors and transport as ``send_message``.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from telegram import Bot, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated
from telegram.warnings import PTBUserWarning

from bot.botapi.errors import is_topic_gone
from bot.botapi.text import split_message

if TYPE_CHECKING:
    from bot.render import Rendered
    from bot.services.chat_service import ChatService

# A chat can move once (group to supergroup) and lose its topic once; more is a loop.
_MOVES = 3
SEND_MESSAGE = "sendMessage"
# ``do_api_request`` suggests ``send_message`` for a method PTB knows; we call it on purpose.
WARNING_TO_IGNORE = r"Please use 'Bot\.sendMessage'"
warnings.filterwarnings("ignore", message=WARNING_TO_IGNORE, category=PTBUserWarning)
# What the application's Defaults give send_message; do_api_request inserts no defaults.
_NO_PREVIEW = json.dumps({"is_disabled": True})


@dataclass(frozen=True)
class Target:
    """Where a message goes: a chat, and the forum topic inside it if any."""

    chat_id: int
    thread_id: int | None = None


async def send(
    bot: Bot,
    target: Target,
    message: Rendered,
    *,
    quiet: bool = False,
    paid: bool = False,
    chats: ChatService | None = None,
    effect: str | None = None,
) -> Target:
    """Send ``message`` to ``target``; return where it went in the end.

    ``chats`` records a move (migration, lost topic) so later messages go there directly;
    ``paid`` sends as a paid broadcast (Telegram Stars beyond 30 messages/s); ``effect`` is
    a message effect on the last part (Telegram takes effects in private chats only).
    """

    chunks = split_message(message.text)
    for i, chunk in enumerate(chunks):
        last = i == len(chunks) - 1
        markup = message.markup if last else None
        for attempt in range(_MOVES):
            try:
                await bot.do_api_request(
                    SEND_MESSAGE,
                    {
                        "chat_id": target.chat_id,
                        "text": chunk,
                        "parse_mode": ParseMode.HTML.value,
                        "link_preview_options": _NO_PREVIEW,
                        "reply_markup": markup_json(markup) if markup is not None else None,
                        "disable_notification": quiet or None,
                        "message_thread_id": target.thread_id,
                        "allow_paid_broadcast": True if paid else None,
                        "message_effect_id": effect if last else None,
                    },
                )
                break
            except ChatMigrated as exc:
                if attempt == _MOVES - 1:
                    raise
                if chats is not None:
                    await chats.migrate(target.chat_id, exc.new_chat_id)
                target = Target(exc.new_chat_id)
            except BadRequest as exc:
                if target.thread_id is None or not is_topic_gone(exc) or attempt == _MOVES - 1:
                    raise
                if chats is not None:
                    await chats.drop_thread(target.chat_id)
                target = Target(target.chat_id)
    return target


_markups: dict[int, tuple[InlineKeyboardMarkup, str]] = {}


def markup_json(markup: InlineKeyboardMarkup) -> str:
    """Return a keyboard as Bot API JSON, once per keyboard object (digests reuse theirs)."""
    known = _markups.get(id(markup))
    if known is not None and known[0] is markup:
        return known[1]
    text = json.dumps(markup.to_dict(), ensure_ascii=False, separators=(",", ":"))
    if len(_markups) >= 256:
        _markups.clear()
    _markups[id(markup)] = (markup, text)
    return text
