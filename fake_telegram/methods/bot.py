"""Bot API methods about the bot itself and chat members."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from fake_telegram.factories import chat_member
from fake_telegram.records import JSON, bad_request
from fake_telegram.validation import as_int

if TYPE_CHECKING:
    from fake_telegram.server import FakeTelegram


def get_me(fake: FakeTelegram, params: JSON) -> JSON:
    """Implement getMe."""
    return {
        **fake.world.bot_user,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": True,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


def set_my_commands(fake: FakeTelegram, params: JSON) -> bool:
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
    scope = params.get("scope") or {"type": "default"}
    key = json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")
    fake.commands[key] = commands
    return True


def set_my_description(fake: FakeTelegram, params: JSON) -> bool:
    """Implement setMyDescription (max 512 chars)."""
    text = str(params.get("description") or "")
    if len(text) > 512:
        raise bad_request("description is too long")
    fake.descriptions[str(params.get("language_code") or "")] = text
    return True


def set_my_short_description(fake: FakeTelegram, params: JSON) -> bool:
    """Implement setMyShortDescription (max 120 chars)."""
    text = str(params.get("short_description") or "")
    if len(text) > 120:
        raise bad_request("short description is too long")
    fake.short_descriptions[str(params.get("language_code") or "")] = text
    return True


def get_chat_member(fake: FakeTelegram, params: JSON) -> JSON:
    """Implement getChatMember."""
    world = fake.world
    chat_id = world.resolve_chat(params, write=False)
    if params.get("user_id") in (None, ""):
        raise bad_request("user_id is empty")
    user_id = as_int(params["user_id"], "user_id")
    return chat_member(world.user_json(user_id), world.member_status_of(chat_id, user_id))


def get_chat_administrators(fake: FakeTelegram, params: JSON) -> list[JSON]:
    """Implement getChatAdministrators."""
    world = fake.world
    chat_id = world.resolve_chat(params, write=False)
    if world.chat_types.get(chat_id) == "private":
        raise bad_request("there are no administrators in the private chat")
    admins = [
        chat_member(world.user_json(uid), status)
        for (cid, uid), status in world.member_status.items()
        if cid == chat_id and status in ("creator", "administrator")
    ]
    bot_id = world.bot_id
    if (chat_id, bot_id) not in world.member_status and (
        world.member_status_of(chat_id, bot_id) == "administrator"
    ):
        admins.append(chat_member(world.bot_user, "administrator"))
    return admins
