"""A first end-to-end pass: the real Application answers over HTTP on 127.0.0.1."""

from __future__ import annotations

from fake_telegram import factories as u
from tests.conftest import Harness


async def test_next_sends_first_section_then_second(bot: Harness) -> None:
    [first] = await bot.command("/next")
    assert "1/5" in first.plain_text
    [second] = await bot.command("/next")
    assert "2/5" in second.plain_text


async def test_command_for_other_bot_is_ignored(bot: Harness) -> None:
    group = u.group_chat(-100500)
    await bot.processed(u.command("/next@OtherBot", chat=group))
    assert bot.fake.sent(-100500) == []
