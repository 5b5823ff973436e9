"""What every renderer returns, a message's HTML text and keyboard; bold in escaped text."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardMarkup

from bot.botapi.text import esc


@dataclass(frozen=True)
class Rendered:
    text: str
    markup: InlineKeyboardMarkup | None = None


def mark(text: str, start: int, end: int) -> str:
    """Return text escaped, with text[start:end] in bold."""
    return f"{esc(text[:start])}<b>{esc(text[start:end])}</b>{esc(text[end:])}"
