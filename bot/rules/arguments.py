"""Reading what users type and what buttons carry: numbers first, one parser for all.

``str.isdigit`` accepts ``²`` and ``①``, which ``int`` then rejects; every number the bot
reads, from a command argument or from callback data, goes through ``parse_number``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import time

from bot.content.numerals import chinese_number, numeral, parse_number
from bot.content.scripts import fold
from bot.rules.schedule import EVERY_DAY, WEEKDAYS, WEEKEND, parse_hhmm


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
    """What ``/subscribe`` was given: a time, silent or not, reading days, and the first word
    not read."""

    at: time | None = None
    quiet: bool | None = None
    unreadable: str | None = None
    days: int | None = None  # a weekday mask (bot.rules.schedule); None: unchanged


def parse_subscribe(args: Sequence[str]) -> SubscribeArgs:
    """Read ``/subscribe [HH:MM] [quiet|loud] [days]`` in any order."""
    at: time | None = None
    quiet: bool | None = None
    days: int | None = None
    for arg in args:
        word = arg.lower()
        if word in _QUIET_WORDS:
            quiet = True
        elif word in _LOUD_WORDS:
            quiet = False
        elif (parsed := parse_hhmm(arg)) is not None:
            at = parsed
        elif (chosen := parse_days(arg)) is not None:
            days = chosen
        else:
            return SubscribeArgs(at, quiet, arg, days)
    return SubscribeArgs(at, quiet, days=days)


# --- reading days and pauses (/subscribe's days, /pause N) -------------------------------------

# Words for the usual sets of days (simplified and lower-cased; input is folded first).
_DAY_SETS: dict[str, int] = {
    "每天": EVERY_DAY,
    "每日": EVERY_DAY,
    "天天": EVERY_DAY,
    "daily": EVERY_DAY,
    "everyday": EVERY_DAY,
    "工作日": WEEKDAYS,
    "平日": WEEKDAYS,
    "weekdays": WEEKDAYS,
    "周末": WEEKEND,
    "weekend": WEEKEND,
    "weekends": WEEKEND,
}
# 一 is Monday ... 六 Saturday; 日, 天 and 七 are Sunday.
_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
_DAY_PREFIXES = ("每周", "每星期", "星期", "礼拜", "周")
_DAY_SEPARATORS = str.maketrans("", "", "、，,/ 和及")
_DAY_RANGE = re.compile(r"^(?P<a>\S)(?:至|到|-|~|～)(?P<b>\S)$")


def parse_days(text: str) -> int | None:
    """Return the weekday mask of reading days as typed (每天, 一至五, 周末, 一三五), or None.

    Digits are never days here: ``/subscribe 7`` means seven o'clock.
    """
    word = fold(text.strip().lower())
    if word in _DAY_SETS:
        return _DAY_SETS[word]
    for prefix in _DAY_PREFIXES:
        word = word.replace(prefix, "")
    word = word.translate(_DAY_SEPARATORS)
    if not word:
        return None
    span = _DAY_RANGE.match(word)
    if span is not None:
        first, last = _WEEKDAY.get(span["a"]), _WEEKDAY.get(span["b"])
        if first is None or last is None or first > last:
            return None
        return sum(1 << d for d in range(first, last + 1))
    if any(c not in _WEEKDAY for c in word):
        return None
    return sum({1 << _WEEKDAY[c] for c in word})


# "Until I come back" (folded): a pause of 0 days, as the button carries it.
_UNTIL_BACK = frozenset({"直到我回来", "直到回来", "一直", "无限期", "forever", "0"})


def parse_pause_days(text: str) -> int | None:
    """Return the days of a pause as typed (3, 三, 3天, 两周, 1w; 0 for 直到我回来), or None."""
    word = fold(text.strip().lower())
    if word in _UNTIL_BACK:
        return 0
    weeks = word.endswith(("周", "星期", "礼拜", "w", "week", "weeks"))
    for unit in ("星期", "礼拜", "weeks", "week", "days", "day", "周", "天", "日", "w", "d"):
        if word.endswith(unit):
            word = word.removesuffix(unit).strip()
            break
    word = word.removesuffix("个")
    number = parse_number(word) if word[:1].isdigit() else chinese_number(word)
    if number is None:
        return None
    return number * 7 if weeks else number
