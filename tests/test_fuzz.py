"""Generated updates through the real Application: random commands with hostile arguments,
forged buttons, membership churn, migrations, inline queries and updates the bot cannot read.
Nothing may raise, and everything the bot sends must be accepted by the strict fake (valid
HTML, within Telegram's limits).

The default run sends a few hundred updates from a fresh seed each time, printed so that a
failure can be replayed (``FUZZ_SEED=N``); the large fixed corpus runs with the scale proofs.
"""

from __future__ import annotations

import os
import random
import secrets
from typing import Any

import pytest

from fake_telegram import factories as u
from tests.conftest import Harness

CORPUS_SEED = 20261201
COMMANDS = [
    "start", "help", "next", "toc", "read", "quote", "date", "progress", "subscribe",
    "unsubscribe", "timezone", "script", "reset", "stats", "card", "quiz", "nonsense",
]  # fmt: skip
NASTY = [
    "", "0", "-1", "²", "①", "--5", "99999999999999999999", "3.5", "1e9", "#3", "第三節",
    "<b>", "</i>", "&amp;", "<a href='x'>", "🙂", "\u200b", "\u202e", "x" * 300, "曼" * 4000,
    "2月30日", "13/45", "Feb 31", "25:99", "Asia/../etc", "UTC+99", "quiet", "繁", "simplified",
    "背水一戰", "細節", "百步亭", "/next", "@SerialBot", "null", "None", "'; DROP TABLE chats;",
]  # fmt: skip
BUTTONS = [
    "nx", "nx:1", "nx:4", "nx:9", "toc", "tl", "qr", "sub", "rd:1", "rd:5", "rd:0", "q:1",
    "q:12", "q:13", "d:0216", "d:0231", "d:9999", "sw:s:1:s", "sw:s:2:t", "sw:q:3:t",
    "sw:d:0216:s", "sw:x:1:t", "scr:s", "scr:t", "scr:x", "qt:1", "qt:0", "rst:y", "rst:n",
    "rst:maybe", "", ":", "::::", "x" * 64, "rd:²", "q:--5",
]  # fmt: skip


class Generator:
    def __init__(self, rng: random.Random, bot: Harness) -> None:
        self.rng = rng
        self.bot = bot
        self.users = list(range(9_000, 9_300))
        self.groups = [u.group_chat(-9_000 - i, f"群{i}") for i in range(6)]
        self.supergroups = [u.supergroup_chat(-1_009_000 - i, f"超{i}") for i in range(4)]
        self.forum = u.supergroup_chat(-1_009_100, "論壇", is_forum=True)
        self.channel = u.channel_chat(-1_009_200, "頻道")
        self.next_group = -9_100

    def chat(self) -> dict[str, Any]:
        kind = self.rng.random()
        if kind < 0.6:
            return u.private_chat(self.rng.choice(self.users))
        if kind < 0.8:
            return self.rng.choice(self.groups)
        if kind < 0.95:
            return self.rng.choice(self.supergroups)
        return self.forum

    def text(self) -> str:
        if self.rng.random() < 0.75:
            command = "/" + self.rng.choice(COMMANDS)
            if self.rng.random() < 0.2:
                command += self.rng.choice(["@SerialBot", "@OtherBot", "@serialbot"])
            args = [self.rng.choice(NASTY) for _ in range(self.rng.randint(0, 3))]
            return " ".join([command, *args])[:4096]
        return self.rng.choice(NASTY)[:4096] or "你好"

    def update(self) -> tuple[str, dict[str, Any]]:
        roll = self.rng.random()
        user = self.rng.choice(self.users)
        if roll < 0.55:
            chat = self.chat()
            extra: dict[str, Any] = {}
            if chat is self.forum and self.rng.random() < 0.7:
                extra["message_thread_id"] = self.rng.choice([3, 5])
                extra["is_topic_message"] = True
            return "push", u.message(
                chat, u.user(user, language_code=self.language()), self.text(), **extra
            )
        if roll < 0.75:
            return "push", self.press(user)
        if roll < 0.80:
            return "push", u.inline_query(user, self.rng.choice(NASTY)[:256])
        if roll < 0.86:
            chat = self.rng.choice([*self.groups, *self.supergroups, self.channel])
            was, now = self.rng.sample(["left", "member", "administrator", "kicked"], 2)
            return "push", u.my_chat_member(chat, user, was, now)
        if roll < 0.89:
            chat = self.rng.choice(self.groups + self.supergroups)
            status = self.rng.choice(["member", "administrator", "creator"])
            self.bot.fake.set_member_status(chat["id"], user, status)
            return "push", u.chat_member_updated(chat, 1, user, "member", status)
        if roll < 0.92:
            return "push", u.channel_post(self.channel, self.text())
        if roll < 0.94:
            return "push", u.sticker_message(u.private_chat(user), user)
        if roll < 0.95:
            old = self.rng.choice(self.groups)
            new_id = -1_009_500 + self.next_group
            self.next_group -= 1
            self.bot.fake.migrate(old["id"], new_id)
            return "push", u.migrate_message(old, new_id)
        if roll < 0.97:
            return "raw", {"message": {"message_id": "not a number", "text": "/next"}}
        return "raw", {"callback_query": {"id": "x", "data": self.rng.choice(BUTTONS)}}

    def press(self, user: int) -> dict[str, Any]:
        sent = self.bot.fake.sent()
        data = self.rng.choice(BUTTONS)
        if sent and self.rng.random() < 0.9:
            target = self.rng.choice(sent[-200:])
            return u.callback_query(u.user(user), (target.chat_id, target.message_id), data)
        return u.callback_query(u.user(user), None, data, inline_message_id="AgAAAFuzz")

    def language(self) -> str | None:
        return self.rng.choice(["zh-hans", "zh-hant", "zh-cn", "en", None, "xx-YY"])


async def test_generated_updates_from_a_fresh_seed_raise_nothing(bot: Harness) -> None:
    seed = int(os.environ.get("FUZZ_SEED") or secrets.randbelow(2**32))
    print(f"fuzz seed {seed} (replay: FUZZ_SEED={seed} pytest tests/test_fuzz.py)")
    await fuzz(bot, seed, updates=400, answered=100)


@pytest.mark.scale
async def test_three_thousand_generated_updates_of_the_fixed_corpus_raise_nothing(
    bot: Harness,
) -> None:
    await fuzz(bot, CORPUS_SEED, updates=3000, answered=1000)


async def fuzz(bot: Harness, seed: int, *, updates: int, answered: int) -> None:
    """Send generated updates in batches; assert nothing raised and Telegram refused nothing."""
    rng = random.Random(seed)
    generator = Generator(rng, bot)
    fake = bot.fake
    for group in generator.groups + generator.supergroups:
        fake.set_member_status(group["id"], generator.users[0], "administrator")
    sent_before = fake.sent_count()
    for start in range(0, updates, 100):
        for _ in range(min(100, updates - start)):
            how, update = generator.update()
            if how == "raw":
                fake.push_raw(update)
            else:
                fake.push(update)
        # Let the bot take this batch before the next (presses refer to its replies).
        await fake.wait_for(lambda: fake.pending_updates == 0, 60)
        await fake.wait_for(lambda: bot.services.lanes.held == 0, 60)
    assert not bot.errors, (seed, bot.errors[:5])
    assert fake.sent_count() - sent_before > answered  # it answered, not merely survived
    # Telegram may refuse a send only because the chat moved or vanished meanwhile, or an
    # edit because the pressed message is a photo or a poll (forged presses; the bot then
    # sends instead): never for what the bot wrote (bad HTML, too long, bad buttons).
    expected = (
        "chat not found",
        "upgraded to a supergroup",
        "bot was kicked",
        "not a member",
        "no text in the message",
        "message is not modified",  # a press that asks for what the message already shows
    )
    refused = [c for c in fake.calls if c.status >= 400 and c.method.startswith(("send", "edit"))]
    unexpected = [c for c in refused if not any(k in str(c.response) for k in expected)]
    assert unexpected == [], (seed, unexpected[:3])
