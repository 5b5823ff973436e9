"""Reading what users type and what buttons carry: numbers first, one parser for all.

``str.isdigit`` accepts ``²`` and ``①``, which ``int`` then rejects; every number the bot
reads, from a command argument or from callback data, goes through ``parse_number``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import time

from bot.schedule import parse_hhmm
from bot.scripts import fold

_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def parse_number(text: str, *, max_digits: int = 6) -> int | None:
    """Return the non-negative integer in ASCII or full-width digits, or None."""
    digits = text.strip().translate(_FULL_WIDTH_DIGITS)
    if not 1 <= len(digits) <= max_digits or not (digits.isascii() and digits.isdigit()):
        return None
    return int(digits)


_CN_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4, "五": 5}
_CN_DIGITS |= {"六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUMBER = re.compile(r"[〇零一二两兩三四五六七八九十]+")


def chinese_number(text: str) -> int | None:
    """Return the value of a Chinese numeral up to 99 (三, 十, 十六, 二十, 二十三), or None."""
    if not text or _CN_NUMBER.fullmatch(text) is None:
        return None
    if "十" not in text:
        return int("".join(str(_CN_DIGITS[c]) for c in text)) if len(text) <= 2 else None
    tens, _, ones = text.partition("十")
    if len(tens) > 1 or len(ones) > 1 or "十" in ones:
        return None  # 十十, 一二十: not numbers anyone writes
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)


def chinese_numbers_to_digits(text: str) -> str:
    """Replace every Chinese numeral in text by its digits (other text stays)."""
    return _CN_NUMBER.sub(
        lambda m: str(n) if (n := chinese_number(m.group())) else m.group(), text
    )


def parse_item_number(text: str) -> int | None:
    """Return the number of a section or quote as typed: ``3``, ``#3``, ``第3节``, ``三``."""
    cleaned = text.strip().lstrip("#№第").rstrip("节節条條").strip()
    return (
        parse_number(cleaned)
        if cleaned.isascii() or cleaned[:1].isdigit()
        else (chinese_number(cleaned))
    )


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
    number = parse_number(raw) if raw[:1].isdigit() else chinese_number(raw)
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
