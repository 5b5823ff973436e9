"""Telegram's text mechanics: UTF-16 length, splitting at sentence ends, HTML escaping."""

from __future__ import annotations

import html
import re

MAX_UTF16 = 4096  # Telegram's limit for one message's text, in UTF-16 code units
_SENTENCE_BREAK = re.compile(r"(?<=[。！？；!?;])")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def esc(text: str) -> str:
    """Escape text for Telegram's HTML parse mode."""
    return html.escape(text, quote=False)


def split_message(text: str, limit: int = MAX_UTF16) -> list[str]:
    """Split text at paragraphs, then Chinese sentence ends, so each part fits the limit."""
    if utf16_len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for paragraph in text.split("\n\n"):
        pieces = [paragraph] if utf16_len(paragraph) <= limit else _sentences(paragraph, limit)
        for piece in pieces:
            candidate = f"{current}\n\n{piece}" if current else piece
            if utf16_len(candidate) <= limit:
                current = candidate
            else:
                parts.append(current)
                current = piece
    if current:
        parts.append(current)
    return parts


def _sentences(paragraph: str, limit: int) -> list[str]:
    out: list[str] = []
    current = ""
    for sentence in filter(None, _SENTENCE_BREAK.split(paragraph)):
        while utf16_len(sentence) > limit:  # a single sentence longer than a message
            cut = limit
            while utf16_len(sentence[:cut]) > limit:
                cut -= 1
            out.append(sentence[:cut])
            sentence = sentence[cut:]
        if utf16_len(current + sentence) <= limit:
            current += sentence
        else:
            out.append(current)
            current = sentence
    if current:
        out.append(current)
    return [p for p in out if p]
