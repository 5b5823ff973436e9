"""A burst of /card requests: each card drawn once, off the event loop, memory given back."""

from __future__ import annotations

import asyncio
import gc
import time

import psutil
import pytest

from bot.content.scripts import Script
from bot.render import card_image as cards
from fake_telegram import factories as u
from tests.conftest import Harness

REQUESTS = 100


@pytest.mark.skipif(not cards.available(), reason="no CJK font installed")
async def test_a_burst_for_24_cards_draws_each_once_and_keeps_other_chats_answered(
    bot: Harness,
) -> None:
    process = psutil.Process()
    # Warm up: every card drawn once outside the bot, so the baseline holds the fonts at
    # every size the cards use (a bounded cache: cards._font), as a running bot soon does.
    library = bot.services.library
    for script in Script:
        article = library.article(script)
        for n in range(1, library.quote_count + 1):
            q = library.quote(n, script)
            assert q is not None
            drawing = cards.QuoteCard(
                n, q.text, q.date.label, q.occasion, article.title, article.byline, script
            )
            await asyncio.to_thread(cards.render, drawing)
    gc.collect()
    baseline = process.memory_info().rss
    uploads = bot.fake.photo_uploads

    readers = range(9801, 9801 + REQUESTS)
    for n, reader in enumerate(readers):
        language = "zh-hant" if n % 2 else "zh-hans"
        text = f"/card {n // 2 % 12 + 1}"
        bot.fake.push(
            u.message(u.private_chat(reader), u.user(reader, language_code=language), text)
        )
    started = time.monotonic()
    # Meanwhile another reader asks for a quote: answered without waiting for the drawings.
    [quote] = await bot.command("/quote 4", 9990)
    quote_seconds = time.monotonic() - started
    assert "細節決定成敗" in quote.plain_text
    await bot.fake.wait_for(lambda: all(bot.fake.sent(r) for r in readers), 120)
    burst_seconds = time.monotonic() - started
    for reader in readers:
        [photo] = bot.fake.sent(reader)
        assert photo.photo is not None
    assert bot.fake.photo_uploads - uploads == 24  # 12 quotes x 2 scripts, each drawn once
    assert len(bot.services.card_uploads) == 0  # no lock left behind
    await asyncio.sleep(0)
    gc.collect()
    grown = (process.memory_info().rss - baseline) / 2**20
    print(
        f"\n{REQUESTS} /card for 24 cards: {burst_seconds:.2f} s, a /quote meanwhile "
        f"{quote_seconds:.2f} s, memory +{grown:.1f} MiB"
    )
    assert quote_seconds < 3.0
    assert grown < 30
