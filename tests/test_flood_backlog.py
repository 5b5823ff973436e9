"""One chat sending 20,000 updates: every other chat is answered within a second of its
usual time, because the flood's excess is dropped before it is parsed."""

from __future__ import annotations

import statistics
import time

from fake_telegram import FakeTelegram
from fake_telegram import factories as u
from tests.conftest import BotRunner

FLOODER = 4501
FLOOD = 20_000


async def test_twenty_thousand_updates_from_one_chat_hold_no_other_chat_up(
    fake: FakeTelegram, run_bot: BotRunner
) -> None:
    async with run_bot(BOT_RATE_LIMIT="30", LOG_LEVEL="INFO") as bot:

        async def answered(reader: int) -> float:
            started = time.monotonic()
            [reply] = await bot.ask(u.command("/quote 4", reader), timeout=60)
            assert "細節決定成敗" in reply.plain_text
            return time.monotonic() - started

        await answered(4600)  # warm up
        baseline = statistics.median([await answered(4601 + n) for n in range(5)])

        fake.push_many(u.command("/next", FLOODER) for _ in range(FLOOD))
        behind = await answered(4610)  # queued behind all 20,000 at Telegram
        await fake.wait_for(lambda: fake.pending_updates == 0, 60)
        print(
            f"\nbaseline {baseline * 1000:.0f} ms, behind a {FLOOD} flood {behind * 1000:.0f} ms"
        )
        assert behind < baseline + 1.0
        # The excess was dropped and counted, and the flooder got only what its lane holds.
        assert bot.services.lanes.dropped >= FLOOD - 100
        assert fake.sent_count(FLOODER) <= 20
