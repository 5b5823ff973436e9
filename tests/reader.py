"""A reader for end-to-end tests: sends what a person types and presses what they see.

Buttons are pressed by their label, as a person finds them, never by their callback data,
so a test breaks when a reader could not find the way it takes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.content.scripts import Script
from fake_telegram import SentMessage
from fake_telegram import factories as u
from tests.conftest import Harness

TOTAL = 5


def buttons(msg: SentMessage) -> list[dict[str, Any]]:
    rows = (msg.reply_markup or {}).get("inline_keyboard", [])
    return [button for row in rows for button in row]


def labels(msg: SentMessage) -> list[str]:
    return [str(b["text"]) for b in buttons(msg)]


def section_shown(msg: SentMessage) -> int | None:
    """Return the number of the section a message shows (its "第 N/5 节" header), or None."""
    found = re.search(rf"(?:^|\n)第 (\d)/{TOTAL} [节節] · ", msg.plain_text)
    return int(found.group(1)) if found else None


def quote_shown(msg: SentMessage) -> int | None:
    """Return the number of the quote a message shows (its "语录 N（date）" line), or None."""
    found = re.search(r"(?:^|\n)[语語][录錄] (\d+)（", msg.plain_text)
    return int(found.group(1)) if found else None


def toc_marks(msg: SentMessage) -> dict[int, str]:
    """Read the contents' buttons: section number -> its mark (✓ read, ▶ next, · not yet)."""
    marks = {}
    for label in labels(msg):
        found = re.match(r"([✓▶·]) (\d)\. ", label)
        if found:
            marks[int(found.group(2))] = found.group(1)
    return marks


@dataclass
class Reader:
    """One person, in their private chat (or in a group: ``chat``)."""

    bot: Harness
    user_id: int
    script: Script
    chat: dict[str, Any] | None = None  # a group's chat object; None: the private chat
    name: str = "Reader"

    @property
    def chat_id(self) -> int:
        return int(self.chat["id"]) if self.chat else self.user_id

    def user(self) -> dict[str, Any]:
        language = "zh-hans" if self.script is Script.SIMPLIFIED else "zh-hant"
        return u.user(self.user_id, self.name, language_code=language)

    async def send(self, text: str) -> list[SentMessage]:
        """Type a message (or a command); return what the bot sent the chat in answer."""
        chat = self.chat or u.private_chat(self.user_id, self.name)
        return await self.bot.ask(u.message(chat, self.user(), text))

    async def one(self, text: str) -> SentMessage:
        replies = await self.send(text)
        assert len(replies) == 1, [m.plain_text for m in replies]
        return replies[0]

    def find(self, msg: SentMessage, label: str) -> str:
        """Return the callback data of the one button whose label contains ``label``."""
        found = [b for b in buttons(msg) if label in str(b["text"]) and "callback_data" in b]
        assert len(found) == 1, f"{label!r} among {labels(msg)}"
        return str(found[0]["callback_data"])

    async def press(self, msg: SentMessage, label: str) -> list[SentMessage]:
        """Press the button labelled ``label`` under ``msg``; return new messages it caused.

        An edit shows in ``msg`` itself (the fake changes the message in place).
        """
        update = u.callback_query(
            self.user(), (msg.chat_id, msg.message_id), self.find(msg, label)
        )
        replies = await self.bot.ask(update, chat_id=msg.chat_id)
        assert update["callback_query"]["id"] in self.bot.fake.callback_answers
        return replies

    async def progress(self) -> str:
        return (await self.one("/progress")).plain_text

    async def toc(self) -> dict[int, str]:
        return toc_marks(await self.one("/toc"))
