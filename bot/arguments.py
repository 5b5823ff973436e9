"""Reading what users type and what buttons carry: numbers first, one parser for all.

``str.isdigit`` accepts ``²`` and ``①``, which ``int`` then rejects; every number the bot
reads, from a command argument or from callback data, goes through ``parse_number``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import time

from bot.schedule import parse_hhmm

_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def parse_number(text: str, *, max_digits: int = 6) -> int | None:
    """Return the non-negative integer in ASCII or full-width digits, or None."""
    digits = text.strip().translate(_FULL_WIDTH_DIGITS)
    if not 1 <= len(digits) <= max_digits or not (digits.isascii() and digits.isdigit()):
        return None
    return int(digits)


def parse_item_number(text: str) -> int | None:
    """Return the number of a section or quote as typed: ``3``, ``#3``, ``第3节``, ``３``."""
    cleaned = text.strip().lstrip("#№第").rstrip("节節条條").strip()
    return parse_number(cleaned)


_QUIET_WORDS = frozenset({"quiet", "silent", "静音", "靜音", "q"})
_LOUD_WORDS = frozenset({"loud", "sound", "有声", "有聲"})


@dataclass(frozen=True)
class SubscribeArgs:
    """What ``/subscribe`` was given: a time, silent or not, and the first word not read."""

    at: time | None = None
    quiet: bool | None = None
    unreadable: str | None = None


def parse_subscribe(args: Sequence[str]) -> SubscribeArgs:
    """Read ``/subscribe [HH:MM] [quiet|loud]`` in any order."""
    at: time | None = None
    quiet: bool | None = None
    for arg in args:
        word = arg.lower()
        if word in _QUIET_WORDS:
            quiet = True
        elif word in _LOUD_WORDS:
            quiet = False
        elif (parsed := parse_hhmm(arg)) is not None:
            at = parsed
        else:
            return SubscribeArgs(at, quiet, arg)
    return SubscribeArgs(at, quiet)
