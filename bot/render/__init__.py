"""Turn article items and chat state into Telegram messages: HTML text and keyboards.

Every piece of article text is HTML-escaped in this package, and every message that ends a
path offers the next step as buttons (``bot.render.keyboards``). Its modules split by what they
show; callers use the names below, as ``render.X``.
"""

from bot.botapi.text import esc
from bot.render.article import (
    day,
    deep_link,
    group_welcome,
    quote,
    quote_text,
    recap_block,
    section,
    section_title,
    timeline,
    toc,
    unknown_day,
)
from bot.render.features import (
    CELEBRATION,
    finish_summary,
    on_this_day,
    progress_bar,
    quiz_board,
)
from bot.render.rendered import Rendered
from bot.render.search_results import quote_matches, search_results
from bot.render.setting_choices import (
    blocked_return,
    day_label,
    days_label,
    reset_confirm,
    script_choice,
    zone_label,
)

__all__ = [
    "CELEBRATION",
    "Rendered",
    "blocked_return",
    "day",
    "day_label",
    "days_label",
    "deep_link",
    "esc",
    "finish_summary",
    "group_welcome",
    "on_this_day",
    "progress_bar",
    "quiz_board",
    "quote",
    "quote_matches",
    "quote_text",
    "recap_block",
    "reset_confirm",
    "script_choice",
    "search_results",
    "section",
    "section_title",
    "timeline",
    "toc",
    "unknown_day",
    "zone_label",
]
