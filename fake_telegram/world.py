"""The world the bot lives in: chats, users, memberships and the messages in each chat.

It survives ``FakeTelegram.reset_records``: records are what the bot did, the world is
what it did it to.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from fake_telegram.factories import MESSAGE_REF_KEY
from fake_telegram.html import entities_json, utf16_len
from fake_telegram.records import JSON, ApiError, SentMessage, bad_request

MAX_QUOTE = 1024  # a reply's quote, in characters once entities are parsed
MEMBER_STATUSES = frozenset({"creator", "administrator", "member", "left", "kicked", "restricted"})


def infer_chat_type(chat_id: int) -> str:
    """Guess a chat type from the id's shape, as Telegram's id ranges imply."""
    if chat_id > 0:
        return "private"
    return "supergroup" if str(chat_id).startswith("-100") else "group"


class World:
    """Chats, users and messages as Telegram knows them."""

    def __init__(self, bot_user: JSON, *, open_chats: bool = False) -> None:
        """Start with no known chats; ``open_chats`` accepts any chat id."""
        self.bot_user = bot_user
        self.bot_id: int = bot_user["id"]
        self.open_chats = open_chats
        self.chat_types: dict[int, str] = {}
        self.chat_info: dict[int, JSON] = {}
        self.usernames: dict[str, int] = {}
        self.users: dict[int, JSON] = {}
        self.forbidden: dict[int, str] = {}
        self.migrated: dict[int, int] = {}
        self.deleted_topics: set[tuple[int, int]] = set()
        self.member_status: dict[tuple[int, int], str] = {}
        self.next_message_id: dict[int, int] = {}
        self.messages: dict[tuple[int, int], SentMessage] = {}
        self.user_messages: dict[tuple[int, int], JSON] = {}  # pushed messages, for replies
        self.inline_messages: dict[str, SentMessage] = {}
        self.inline_ids: set[str] = set()
        self.open_callbacks: set[str] = set()
        self.open_inline: set[str] = set()
        self.polls: dict[str, SentMessage] = {}  # by poll id
        self.votes: dict[str, dict[int, list[int]]] = {}  # poll id -> user id -> option ids
        self._poll_ids = itertools.count(5_100_000_000_000_000_001)

    # ---------------------------------------------------------------- changes a test makes

    def add_chats(self, ids: Iterable[int], type: str = "private") -> None:
        """Make chats known without pushing updates (cheap even for 100,000 ids)."""
        self.chat_types.update(dict.fromkeys(ids, type))

    def block(self, chat_id: int) -> None:
        """Make sends to a user fail with 403 (for groups this behaves like ``kick``)."""
        if chat_id < 0:
            self.kick(chat_id)
            return
        self.forbidden[chat_id] = "Forbidden: bot was blocked by the user"

    def kick(self, chat_id: int) -> None:
        """Make sends to a group fail with 403 as if the bot was removed."""
        kind = self.chat_types.get(chat_id) or infer_chat_type(chat_id)
        if kind == "channel":
            self.forbidden[chat_id] = "Forbidden: bot is not a member of the channel chat"
        elif kind == "private":
            self.forbidden[chat_id] = "Forbidden: bot was blocked by the user"
        else:
            self.forbidden[chat_id] = f"Forbidden: bot was kicked from the {kind} chat"

    def deactivate(self, chat_id: int) -> None:
        """Make sends to a user fail as if their account was deleted."""
        self.forbidden[chat_id] = "Forbidden: user is deactivated"

    def unblock(self, chat_id: int) -> None:
        """Undo ``block``/``kick``/``deactivate``."""
        self.forbidden.pop(chat_id, None)

    def delete_topic(self, chat_id: int, thread_id: int) -> None:
        """Delete a forum topic: sends into it answer 400 ``message thread not found``."""
        self.deleted_topics.add((chat_id, thread_id))

    def migrate(self, old_id: int, new_id: int) -> None:
        """Upgrade a group to a supergroup: the old id answers 400 with migrate_to_chat_id."""
        self.migrated[old_id] = new_id
        info = self.chat_info.get(old_id, {})
        self.learn_chat(
            {"id": new_id, "type": "supergroup", "title": info.get("title", "Supergroup")}
        )

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """Set what getChatMember returns for a user in a chat."""
        if status not in MEMBER_STATUSES:
            raise ValueError(f"unknown status {status!r}")
        self.member_status[(chat_id, user_id)] = status

    # ---------------------------------------------------------------- pushed updates

    def absorb(self, upd: JSON) -> None:
        """Learn chats, allocate message ids and register query ids from a pushed update."""
        for key, payload in list(upd.items()):
            if key == "update_id" or not isinstance(payload, dict):
                continue
            payload = upd[key] = dict(payload)
            if "chat" in payload and "date" in payload and key.endswith(("message", "post")):
                self._absorb_message(payload, edited=key.startswith("edited"))
            elif key == "callback_query":
                self.open_callbacks.add(str(payload["id"]))
                self.learn_user(payload.get("from"))
                msg = payload.get("message")
                if isinstance(msg, dict):
                    payload["message"] = self._resolve_message_ref(msg)
            elif key == "inline_query":
                self.open_inline.add(str(payload["id"]))
                self.learn_user(payload.get("from"))
            elif key == "chosen_inline_result":
                if payload.get("inline_message_id"):
                    self.inline_ids.add(payload["inline_message_id"])
            elif key in ("my_chat_member", "chat_member"):
                self.learn_chat(payload["chat"])
                self._absorb_member_change(key, payload)
            elif key == "poll_answer":
                self._absorb_vote(payload)

    def _absorb_message(self, msg: JSON, *, edited: bool) -> None:
        """Handle a pushed message: known chat, message id, migration."""
        chat = msg["chat"]
        self.learn_chat(chat)
        self.learn_user(msg.get("from"))
        chat_id = chat["id"]
        if "message_id" not in msg:
            msg["message_id"] = self.alloc_message_id(chat_id)
        elif msg["message_id"] >= self.next_message_id.get(chat_id, 1):
            self.next_message_id[chat_id] = msg["message_id"] + 1
        if not edited and "migrate_to_chat_id" in msg:
            self.migrate(chat_id, msg["migrate_to_chat_id"])
        replied = msg.get("reply_to_message")
        if isinstance(replied, dict) and MESSAGE_REF_KEY in replied:
            msg["reply_to_message"] = self._resolve_message_ref(replied)
        quote = msg.get("quote")
        if isinstance(quote, dict):
            target = msg.get("reply_to_message")
            if not isinstance(target, dict) or target.get("date") == 0:
                raise ValueError("a quote needs a reply_to_message the user can see")
            try:
                msg["quote"] = self.text_quote(
                    chat_id, target["message_id"], quote.get("text"), quote.get("position"), True
                )
            except ApiError as exc:  # Telegram's apps let a user quote only what is there
                raise ValueError(f"quote {quote.get('text')!r}: {exc.description}") from None
        self.user_messages[(chat_id, msg["message_id"])] = {
            k: v for k, v in msg.items() if k not in ("reply_to_message", "quote")
        }

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
            return self.message_json(stored)
        # Telegram sends an InaccessibleMessage (date 0) for messages the bot can't see.
        return {"chat": self.chat_json(chat_id), "message_id": message_id, "date": 0}

    def _absorb_member_change(self, key: str, payload: JSON) -> None:
        """Apply a pushed membership change to the world state."""
        chat_id = payload["chat"]["id"]
        new = payload["new_chat_member"]
        self.member_status[(chat_id, new["user"]["id"])] = new["status"]
        if key != "my_chat_member":
            return
        if new["status"] in ("kicked", "left"):
            self.kick(chat_id)
        else:
            self.unblock(chat_id)

    def _absorb_vote(self, answer: JSON) -> None:
        """Count a pushed vote; refuse votes Telegram would never report to the bot."""
        poll_id = str(answer["poll_id"])
        msg = self.polls.get(poll_id)
        if msg is None or msg.poll is None:
            raise ValueError(f"poll {poll_id} was not sent by the bot: Telegram reports no votes")
        poll = msg.poll
        if poll["is_anonymous"]:
            raise ValueError(f"poll {poll_id} is anonymous: Telegram reports no votes")
        if poll["is_closed"]:
            raise ValueError(f"poll {poll_id} is closed")
        chosen = list(answer["option_ids"])
        options = poll["options"]
        if any(not 0 <= i < len(options) for i in chosen) or len(set(chosen)) < len(chosen):
            raise ValueError(f"invalid option_ids {chosen} for poll {poll_id}")
        if len(chosen) > 1 and not poll["allows_multiple_answers"]:
            raise ValueError(f"poll {poll_id} takes one answer")
        votes = self.votes.setdefault(poll_id, {})
        user_id = answer["user"]["id"]
        if user_id in votes and not poll["allows_revoting"]:
            raise ValueError(f"poll {poll_id} does not allow changing a vote")
        answer["option_persistent_ids"] = [options[i]["persistent_id"] for i in chosen]
        for i in votes.pop(user_id, []):
            options[i]["voter_count"] -= 1
        if chosen:
            votes[user_id] = chosen
            for i in chosen:
                options[i]["voter_count"] += 1
        poll["total_voter_count"] = len(votes)

    def learn_chat(self, chat: JSON) -> None:
        """Remember a chat object."""
        chat_id = chat["id"]
        self.chat_types[chat_id] = chat.get("type", "private")
        self.chat_info[chat_id] = chat
        if chat.get("username"):
            self.usernames[chat["username"].lower()] = chat_id

    def learn_user(self, user: JSON | None) -> None:
        """Remember a user object, for getChatMember answers."""
        if user is not None:
            self.users[user["id"]] = user

    # ---------------------------------------------------------------- messages

    def alloc_message_id(self, chat_id: int) -> int:
        """Return the next message id of a chat (shared by bot and user messages)."""
        n = self.next_message_id.get(chat_id, 1)
        self.next_message_id[chat_id] = n + 1
        return n

    def new_poll_id(self) -> str:
        """Return a fresh poll id, a long number as a string like Telegram's."""
        return str(next(self._poll_ids))

    def message_text(self, chat_id: int, message_id: int) -> str | None:
        """Return the text (or caption) of a message in the chat, the bot's or a user's."""
        sent = self.messages.get((chat_id, message_id))
        if sent is not None:
            return sent.plain_text if sent.poll is None else None
        pushed = self.user_messages.get((chat_id, message_id))
        if pushed is None:
            return None
        return pushed.get("text", pushed.get("caption"))

    def text_quote(
        self, chat_id: int, message_id: int, quote: object, position: object, manual: bool = False
    ) -> JSON:
        """Return the TextQuote of ``quote`` in a message, as Telegram checks it.

        The quote must be words of that message (at ``position`` in UTF-16 units if given,
        else where they first occur): anything else is refused with QUOTE_TEXT_INVALID.
        """
        text = self.message_text(chat_id, message_id)
        if not isinstance(quote, str) or not quote.strip() or len(quote) > MAX_QUOTE:
            raise bad_request("QUOTE_TEXT_INVALID")
        if text is None:
            raise bad_request("QUOTE_TEXT_INVALID")
        found = -1
        if isinstance(position, int) and not isinstance(position, bool):
            units = text.encode("utf-16-le")
            at = units[2 * position : 2 * position + 2 * utf16_len(quote)]
            if at.decode("utf-16-le", "replace") == quote:
                found = len(units[: 2 * position].decode("utf-16-le", "replace"))
        if found < 0:
            found = text.find(quote)
        if found < 0:
            raise bad_request("QUOTE_TEXT_INVALID")
        result: JSON = {"text": quote, "position": utf16_len(text[:found])}
        if manual:
            result["is_manual"] = True
        return result

    def message_exists(self, chat_id: int, message_id: int) -> bool:
        """Return whether a message id was ever issued in the chat."""
        return 0 < message_id < self.next_message_id.get(chat_id, 1)

    def message_json(self, msg: SentMessage) -> JSON:
        """Return the Message object Telegram would return for a sent message."""
        chat = self.chat_json(msg.chat_id)
        body: JSON = {"message_id": msg.message_id, "date": msg.date, "chat": chat}
        if chat.get("type") == "channel":
            body["sender_chat"] = chat
        else:
            body["from"] = self.bot_user
        if msg.message_thread_id is not None:
            body["message_thread_id"] = msg.message_thread_id
            if chat.get("is_forum"):
                body["is_topic_message"] = True
        if msg.poll is not None:
            body["poll"] = msg.poll
        elif msg.photo is not None:
            body["photo"] = msg.photo
            if msg.plain_text:
                body["caption"] = msg.plain_text
            if msg.entities:
                body["caption_entities"] = entities_json(msg.plain_text, msg.entities)
        else:
            body["text"] = msg.plain_text
            if msg.entities:
                body["entities"] = entities_json(msg.plain_text, msg.entities)
        if msg.reply_markup is not None and "inline_keyboard" in msg.reply_markup:
            body["reply_markup"] = msg.reply_markup
        if msg.edit_date is not None:
            body["edit_date"] = msg.edit_date
        if msg.effect_id is not None:
            body["effect_id"] = msg.effect_id
        if msg.reply_to is not None:
            replied = self.messages.get((msg.chat_id, msg.reply_to))
            pushed = self.user_messages.get((msg.chat_id, msg.reply_to))
            if replied is not None:
                # One level deep, as Telegram nests replies.
                nested = self.message_json(replied)
                nested.pop("reply_to_message", None)
                nested.pop("quote", None)
                body["reply_to_message"] = nested
            elif pushed is not None:
                body["reply_to_message"] = pushed
        if msg.quote is not None:
            body["quote"] = msg.quote
        return body

    # ---------------------------------------------------------------- chats and users

    def resolve_chat(self, params: JSON, *, write: bool = True, required: bool = True) -> int:
        """Resolve chat_id like Telegram: unknown, migrated and forbidden chats fail."""
        raw = params.get("chat_id")
        if raw is None or raw == "":
            if not required:
                return 0
            raise bad_request("chat_id is empty")
        if isinstance(raw, str):
            if raw.startswith("@"):
                found = self.usernames.get(raw[1:].lower())
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
        new_id = self.migrated.get(chat_id)
        if new_id is not None:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": new_id},
            )
        if chat_id not in self.chat_types:
            if not self.open_chats:
                raise bad_request("chat not found")
            self.chat_types[chat_id] = infer_chat_type(chat_id)
        if write:
            denied = self.forbidden.get(chat_id)
            if denied is not None:
                raise ApiError(403, denied)
        return chat_id

    def chat_json(self, chat_id: int) -> JSON:
        """Return the Chat object of a known chat."""
        info = self.chat_info.get(chat_id)
        if info is not None:
            return info
        kind = self.chat_types.get(chat_id) or infer_chat_type(chat_id)
        if kind == "private":
            return {"id": chat_id, "type": kind, "first_name": f"User{chat_id}"}
        return {"id": chat_id, "type": kind, "title": f"Chat {chat_id}"}

    def member_status_of(self, chat_id: int, user_id: int) -> str:
        """Return a user's status in a chat, with the bot's channel-admin default."""
        status = self.member_status.get((chat_id, user_id))
        if status is not None:
            return status
        if user_id == self.bot_id and self.chat_types.get(chat_id) == "channel":
            return "administrator"
        return "member"

    def user_json(self, user_id: int) -> JSON:
        """Return the User object for an id."""
        if user_id == self.bot_id:
            return self.bot_user
        return self.users.get(user_id) or {
            "id": user_id,
            "is_bot": False,
            "first_name": f"User{user_id}",
        }
