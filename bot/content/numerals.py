"""Numbers as readers write them: ASCII or full-width digits, Chinese numerals up to 99.

``str.isdigit`` accepts ``²`` and ``①``, which ``int`` then rejects; these parsers accept only
what a reader types for a section or quote number. The article's own indexes read numerals
here too, so the content and the commands agree on what 十二 means.
"""

from __future__ import annotations

import re

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


def numeral(text: str) -> int | None:
    """Return a number as readers write it: ``3``, full-width ``３``, ``三``, ``十二``."""
    cleaned = text.strip().translate(_FULL_WIDTH_DIGITS)
    return parse_number(cleaned) if cleaned.isascii() else chinese_number(cleaned)
