"""Reading what users type and what buttons carry: numbers first, one parser for all.

``str.isdigit`` accepts ``²`` and ``①``, which ``int`` then rejects; every number the bot
reads, from a command argument or from callback data, goes through ``parse_number``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import time

from bot.content.numerals import numeral
from bot.content.scripts import fold
from bot.rules.schedule import parse_hhmm


def parse_item_number(text: str) -> int | None:
    """Return the number of a section or quote as typed: ``3``, ``#3``, ``第3节``, ``第十二條``.

    The one reading of a number for /read, /quote, /card and plain messages.
    """
    cleaned = text.strip().lstrip("#№").strip()
    if cleaned.startswith("第") and cleaned.endswith(("节", "節", "条", "條")):
        cleaned = cleaned[1:-1]
    elif cleaned.startswith("第"):
        cleaned = cleaned[1:]
    return numeral(cleaned)


@dataclass(frozen=True)
class ItemRef:
    """A section or quote a reader named by its number: 第三节, 语录十, 3."""

    kind: str  # "section", "quote", or "any" (a bare number)
    number: int


_ITEM = re.compile(
    r"^(?:第\s*(?P<sec>\S+?)\s*[节節]"
    r"|(?:(?:语录|語錄)\s*(?P<quote>\S+?)|第\s*(?P<nth>\S+?)\s*[条條])"
    r"|[#第]?(?P<any>\S+?))$"
)


def parse_item(text: str) -> ItemRef | None:
    """Read a plain message naming a section or quote by number, or return None."""
    found = _ITEM.match(text.strip().rstrip("。.！!"))
    if found is None:
        return None
    kind = next(k for k in ("sec", "quote", "nth", "any") if found.group(k))
    raw = found.group(kind)
    kind = {"sec": "section", "nth": "quote"}.get(kind, kind)
    number = numeral(raw)
    return ItemRef(kind, number) if number else None


# What readers type instead of a command (simplified; input is folded to it first).
INTENTS: dict[str, str] = {
    "下一节": "next",
    "下一章": "next",
    "继续": "next",
    "继续读": "next",
    "继续阅读": "next",
    "目录": "toc",
    "语录": "quote",
    "随机语录": "quote",
    "时间线": "timeline",
    "时间轴": "timeline",
    "进度": "progress",
    "帮助": "help",
    "订阅": "subscribe",
}
GREETINGS = frozenset(
    {
        "你好",
        "您好",
        "哈喽",
        "哈啰",
        "嗨",
        "早",
        "早安",
        "早上好",
        "晚上好",
        "在吗",
        "hi",
        "hello",
        "hey",
    }
)
_TRAILING = "。.！!～~？?，, "


def intent(text: str) -> str | None:
    """Return what a plain message asks for: a navigation word, a greeting, or None."""
    word = fold(text.strip().rstrip(_TRAILING))
    if word in GREETINGS:
        return "greeting"
    return INTENTS.get(word)


_QUIET_WORDS = frozenset({"quiet", "silent", "静音", "靜音", "安静", "安靜", "q"})
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
