"""The article model, its parser and its indexes; no Telegram imports."""

from bot.content.library import Library, load_article, load_library
from bot.content.model import Article, DateEntry, Event, MonthDay, Quote, Section, SectionKind
from bot.content.parser import ArticleError, parse

__all__ = [
    "Article",
    "ArticleError",
    "DateEntry",
    "Event",
    "Library",
    "MonthDay",
    "Quote",
    "Section",
    "SectionKind",
    "load_article",
    "load_library",
    "parse",
]
