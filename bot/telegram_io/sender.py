"""Sending one rendered message: split to Telegram's limit, keyboard under the last part.

Handlers and the deliverer both send through here, so both follow a group that became a
supergroup, and a forum topic that was deleted, to where the chat now is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated

from bot.botapi.errors import is_topic_gone
from bot.botapi.text import split_message

if TYPE_CHECKING:
    from bot.render import Rendered
    from bot.services.chat_service import ChatService

# A chat can move once (group to supergroup) and lose its topic once; more is a loop.
_MOVES = 3


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
                await bot.send_message(
                    target.chat_id,
                    chunk,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                    disable_notification=quiet,
                    message_thread_id=target.thread_id,
                    allow_paid_broadcast=True if paid else None,
                    message_effect_id=effect if last else None,
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
