"""Time zones as readers name them: IANA names, Chinese city names, UTC offsets.

City names are matched in either script (folded to simplified); an offset such as UTC+8,
GMT-5 or +9 becomes the fixed zone Etc/GMT-8 (IANA's sign is the other way round).
"""

from __future__ import annotations

import re
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from bot.content.scripts import fold

# Cities and places readers type, in simplified script (input is folded to it).
CITIES: dict[str, str] = {
    "北京": "Asia/Shanghai",
    "上海": "Asia/Shanghai",
    "武汉": "Asia/Shanghai",
    "中国": "Asia/Shanghai",
    "台北": "Asia/Taipei",
    "台湾": "Asia/Taipei",
    "高雄": "Asia/Taipei",
    "台中": "Asia/Taipei",
    "台南": "Asia/Taipei",
    "香港": "Asia/Hong_Kong",
    "澳门": "Asia/Macau",
    "新加坡": "Asia/Singapore",
    "吉隆坡": "Asia/Kuala_Lumpur",
    "东京": "Asia/Tokyo",
    "首尔": "Asia/Seoul",
    "曼谷": "Asia/Bangkok",
    "纽约": "America/New_York",
    "洛杉矶": "America/Los_Angeles",
    "旧金山": "America/Los_Angeles",
    "温哥华": "America/Vancouver",
    "多伦多": "America/Toronto",
    "伦敦": "Europe/London",
    "巴黎": "Europe/Paris",
    "柏林": "Europe/Berlin",
    "悉尼": "Australia/Sydney",
    "雪梨": "Australia/Sydney",  # Taiwan's name for Sydney
    "新西兰": "Pacific/Auckland",
    "纽西兰": "Pacific/Auckland",  # Taiwan's name for New Zealand (紐西蘭, folded)
    "奥克兰": "Pacific/Auckland",
    "惠灵顿": "Pacific/Auckland",
    "墨尔本": "Australia/Melbourne",
}
# Offered as buttons when a name is not understood, in this order.
COMMON = (
    "Asia/Shanghai",
    "Asia/Taipei",
    "Asia/Hong_Kong",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Europe/London",
    "America/New_York",
)
_OFFSET = re.compile(r"^(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?::?(00))?$")
_SUFFIXES = ("时间", "时区", "市")


def resolve(text: str) -> ZoneInfo | None:
    """Return the zone a reader typed (``Asia/Taipei``, ``台北``, ``UTC+8``), or None."""
    typed = text.strip().translate(str.maketrans("＋－：", "+-:"))
    zone = resolve_zone(typed)
    if zone is not None:
        return zone
    name = fold(typed)
    for suffix in _SUFFIXES:
        name = name.removesuffix(suffix)
    if name in CITIES:
        return ZoneInfo(CITIES[name])
    offset = _OFFSET.match(name.replace(" ", ""))
    if offset is not None:
        hours = int(offset.group(2))
        if hours == 0:
            return ZoneInfo("UTC")
        if hours <= 14:
            sign = "-" if offset.group(1) == "+" else "+"  # Etc/GMT-8 is eight hours ahead
            return ZoneInfo(f"Etc/GMT{sign}{hours}")
    return None


def offset_name(zone: ZoneInfo) -> str | None:
    """Return ``UTC+8`` for a fixed Etc/GMT zone, else None."""
    found = re.fullmatch(r"Etc/GMT([+-])(\d{1,2})", zone.key)
    if found is None:
        return None
    return f"UTC{'-' if found.group(1) == '+' else '+'}{found.group(2)}"


def resolve_zone(name: str) -> ZoneInfo | None:
    """Return the IANA zone a user typed (any letter case, spaces for underscores), or None."""
    cleaned = name.strip().replace(" ", "_")
    if not cleaned or ".." in cleaned or cleaned.startswith("/"):
        return None  # not a zone name, and never a path into the zone database
    canonical = _zone_names().get(cleaned.lower())
    return ZoneInfo(canonical) if canonical else None


@cache
def _zone_names() -> dict[str, str]:
    """Map lower-cased IANA names to their canonical spelling (read once)."""
    return {zone.lower(): zone for zone in available_timezones()}
