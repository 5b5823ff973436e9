"""``python -m tests.skewed_replica``: ``python -m bot`` with a clock CLOCK_OFFSET_SECONDS off.

A replica whose clock is wrong (a host whose NTP failed): its wall clock and the bot's clock
both read the offset; the monotonic clock, which measures intervals, runs true.
"""

from __future__ import annotations

import os
import runpy
import time
from datetime import UTC, datetime, timedelta

import bot.app

OFFSET = float(os.environ["CLOCK_OFFSET_SECONDS"])
_true_time = time.time


def _skewed_time() -> float:
    return _true_time() + OFFSET


def _skewed_now() -> datetime:
    return datetime.now(UTC) + timedelta(seconds=OFFSET)


time.time = _skewed_time
defaults = bot.app.build_application.__kwdefaults__
assert defaults is not None and "clock" in defaults
defaults["clock"] = _skewed_now
runpy.run_module("bot", run_name="__main__", alter_sys=True)
