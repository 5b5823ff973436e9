"""What every handler needs: the services, the reader's script, replies and admin checks."""

from __future__ import annotations

import asyncio
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from telegram import Chat, ChatMember, Update
from telegram.constants import ChatType
from telegram.error import ChatMigrated
from telegram.ext import ContextTypes

from bot import render, texts
from bot.config import Settings
from bot.content import Library
from bot.delivery import Deliverer
from bot.scripts import Script, script_for_language
from bot.store import ChatState, Store


class _TTLCache:
    """A small bounded cache with expiry, for facts Telegram lets us keep briefly."""

    def __init__(self, ttl: float, size: int = 10_000) -> None:
        self.ttl, self.size = ttl, size
        self._data: OrderedDict[object, tuple[float, object]] = OrderedDict()

    def get(self, key: object) -> object | None:
        item = self._data.get(key)
        if item is None or item[0] < time.monotonic():
            self._data.pop(key, None)
            return None
        return item[1]

    def put(self, key: object, value: object) -> None:
        self._data[key] = (time.monotonic() + self.ttl, value)
        self._data.move_to_end(key)
        while len(self._data) > self.size:
            self._data.popitem(last=False)


@dataclass
class Services:
    settings: Settings
    library: Library
    store: Store
    deliverer: Deliverer
    clock: Callable[[], datetime]
    admins: _TTLCache = field(default_factory=lambda: _TTLCache(ttl=60))
    # Read-through cache of users' scripts; writes go to the store first.
    user_scripts: _TTLCache = field(default_factory=lambda: _TTLCache(ttl=600, size=50_000))
    # Updates run concurrently; a few read-then-write steps (greeting a group once) must not
    # interleave for the same chat. Weak values: a lock lives only while someone holds it.
    _chat_locks: weakref.WeakValueDictionary[int, asyncio.Lock] = field(
        default_factory=weakref.WeakValueDictionary
    )

    def chat_lock(self, chat_id: int) -> asyncio.Lock:
        """Return the lock that serialises membership bookkeeping for one chat."""
        lock = self._chat_locks.get(chat_id)
        if lock is None:
            lock = self._chat_locks[chat_id] = asyncio.Lock()
        return lock


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    found: Services = context.application.bot_data["services"]
    return found


def is_private(chat: Chat | None) -> bool:
    return chat is not None and chat.type == ChatType.PRIVATE


async def user_script(svc: Services, update: Update) -> Script | None:
    """Return the script the user chose, if any."""
    user = update.effective_user
    if user is None:
        return None
    cached = svc.user_scripts.get(user.id)
    if cached is None:
        stored = await svc.store.get_user_script(user.id)
        cached = stored or ""
        svc.user_scripts.put(user.id, cached)
    return Script(str(cached)) if cached else None


async def reader_script(svc: Services, update: Update, state: ChatState | None = None) -> Script:
    """Return the script to answer in: the person's choice, else the chat's, else a default."""
    chosen = await user_script(svc, update)
    if chosen is not None:
        return chosen
    chat = update.effective_chat
    if chat is not None and not is_private(chat):
        if state is None:
            state = await svc.store.get_chat(chat.id)
        if state is not None and state.script:
            return Script(state.script)
        return Script.TRADITIONAL
    user = update.effective_user
    return script_for_language(user.language_code if user else None, Script.TRADITIONAL)


async def chat_state(svc: Services, update: Update) -> ChatState:
    chat = update.effective_chat
    assert chat is not None
    return await svc.store.ensure_chat(chat.id, chat.type, chat.title or chat.full_name or "")


async def send(update: Update, message: render.Rendered, **kwargs: object) -> None:
    """Reply in the update's chat (and forum topic), split to Telegram's length limit."""
    target = update.effective_message
    assert target is not None
    chunks = render.split_message(message.text)
    moved_to: int | None = None
    for i, chunk in enumerate(chunks):
        options: dict[str, Any] = {
            "reply_markup": message.markup if i == len(chunks) - 1 else None,
            **kwargs,
        }
        if moved_to is None:
            try:
                await target.reply_text(chunk, **options)
                continue
            except ChatMigrated as exc:
                # The group became a supergroup after this command was sent: answer there
                # (the migration service message moves the chat's state in the store).
                moved_to = exc.new_chat_id
        await target.get_bot().send_message(moved_to, chunk, **options)


async def say(update: Update, text: str) -> None:
    await send(update, render.Rendered(text))


async def is_admin(svc: Services, update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Tell whether the sender may change this chat's settings."""
    chat, message, user = update.effective_chat, update.effective_message, update.effective_user
    if chat is None or is_private(chat):
        return True
    if chat.type == ChatType.CHANNEL:
        return True  # only a channel's admins can post in it
    if message is not None and message.sender_chat is not None:
        # Anonymous admins post as the group itself.
        return message.sender_chat.id == chat.id
    if user is None:
        return False
    key = (chat.id, user.id)
    cached = svc.admins.get(key)
    if cached is None:
        member = await context.bot.get_chat_member(chat.id, user.id)
        cached = member.status in (ChatMember.ADMINISTRATOR, ChatMember.OWNER)
        svc.admins.put(key, cached)
    return bool(cached)


async def admin_gate(
    svc: Services, update: Update, context: ContextTypes.DEFAULT_TYPE, script: Script
) -> bool:
    """Tell whether the sender may change this chat's settings; refuse politely if not."""
    if await is_admin(svc, update, context):
        return True
    await say(update, texts.t(texts.ADMINS_ONLY, script))
    return False
