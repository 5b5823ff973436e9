"""Flood control: PTB's AIORateLimiter with the overall limit paced, not bursted.

AIORateLimiter's overall limit is a leaky bucket that lets a whole second's allowance out at
once; Telegram counts over a sliding second, so a burst followed by the steady rate is seen
as up to twice the limit and answered with 429s. Here every message sent to a chat takes the
next slot of an even schedule at a little under the limit, and AIORateLimiter keeps doing the
rest: the per-group limit, and waiting out any RetryAfter.
"""

from __future__ import annotations

import asyncio
from typing import Any

from telegram.ext import AIORateLimiter

# Pace at this share of the stated limit: the server sees our sends a few milliseconds
# apart from when we timed them, and a sliding window must never count one too many.
PACE_SHARE = 0.96


class Pacer:
    """Hand out send times exactly 1/rate apart; a caller waits for its own slot."""

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate
        self._next = 0.0

    async def wait(self) -> None:
        now = asyncio.get_running_loop().time()
        slot = max(now, self._next)
        self._next = slot + self._interval  # reserved before waiting: no two share a slot
        if slot > now:
            await asyncio.sleep(slot - now)


class PacedRateLimiter(AIORateLimiter):
    """AIORateLimiter whose overall limit is an even pace of ``rate`` messages per second."""

    def __init__(self, rate: float, **kwargs: Any) -> None:
        super().__init__(overall_max_rate=rate, overall_time_period=1, **kwargs)
        self._pacer = Pacer(rate * PACE_SHARE)

    async def process_request(
        self,
        callback: Any,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        # Like AIORateLimiter's own overall limit, only requests aimed at a chat count.
        if data.get("chat_id") is not None:
            await self._pacer.wait()
        return await super().process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )
