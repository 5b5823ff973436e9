"""Telegram's HTML parse mode, as strict as Telegram's parser, and UTF-16 lengths."""

from __future__ import annotations

import json
import re
from typing import Any

from fake_telegram.records import JSON, Entities, bad_request

MAX_TEXT_UTF16 = 4096

_SPECIAL = re.compile(r"[<&]")
_ENTITY = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,7}));")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_START_TAG = re.compile(
    r"<([A-Za-z][A-Za-z0-9-]*)"
    r"((?:\s+[A-Za-z_:][-\w:.]*(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'=<>`]+))?)*)\s*>"
)
_ATTR = re.compile(r"([A-Za-z_:][-\w:.]*)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'=<>`]+)))?")
_END_TAG = re.compile(r"</([A-Za-z][A-Za-z0-9-]*)\s*>")
_TAG_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


class HtmlError(Exception):
    """An HTML parse error, worded like Telegram's."""

    def __init__(self, reason: str, text: str, pos: int | None) -> None:
        """Build the reason, appending the UTF-8 byte offset of pos when given."""
        if pos is not None:
            reason = f"{reason} at byte offset {len(text[:pos].encode('utf-8'))}"
        super().__init__(reason)
        self.reason = reason


def _unescape_attr(value: str) -> str:
    """Decode the entities allowed in an attribute value."""
    if "&" not in value:
        return value
    return _ENTITY.sub(lambda m: _decode_entity(m) or m.group(), value)


def _decode_entity(m: re.Match[str]) -> str | None:
    """Return the character an entity match stands for, or None when invalid."""
    named, dec, hexa = m.groups()
    if named:
        return _NAMED_ENTITIES[named]
    code = int(dec) if dec else int(hexa, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)


def parse_html(text: str) -> tuple[str, Entities]:
    """Parse Telegram HTML into (plain text, entities); raise HtmlError like Telegram would.

    Entities are ``(type, start, end, extra)`` with str indices, good enough for equality.
    """
    if "<" not in text and "&" not in text:
        return text, ()
    out: list[str] = []
    length = 0  # running length of the plain text, to place entities
    stack: list[tuple[str, int, int, Any]] = []  # (tag, plain start, raw pos, extra)
    entities: list[tuple[Any, ...]] = []
    i = 0
    n = len(text)
    while i < n:
        m = _SPECIAL.search(text, i)
        if m is None:
            out.append(text[i:])
            break
        j = m.start()
        if j > i:
            out.append(text[i:j])
            length += j - i
        if text[j] == "&":
            em = _ENTITY.match(text, j)
            if em is None:
                semi = text.find(";", j, j + 12)
                if semi != -1 and re.fullmatch(r"&[#A-Za-z0-9]+;", text[j : semi + 1]):
                    raise HtmlError(f'Unsupported HTML entity "{text[j : semi + 1]}"', text, j)
                raise HtmlError('Character "&" must be escaped as "&amp;"', text, j)
            ch = _decode_entity(em)
            if ch is None:
                raise HtmlError(f'Invalid HTML entity "{em.group()}"', text, j)
            out.append(ch)
            length += 1
            i = em.end()
            continue
        if text.startswith("</", j):
            em = _END_TAG.match(text, j)
            if em is None:
                raise HtmlError("Unclosed end tag", text, j)
            name = em.group(1).lower()
            if not stack:
                raise HtmlError("Unexpected end tag", text, j)
            if stack[-1][0] != name:
                raise HtmlError(
                    f'Unmatched end tag, expected "</{stack[-1][0]}>", found "</{name}>"', text, j
                )
            tag, start, _, extra = stack.pop()
            entities.append((_TAG_ENTITY[tag], start, length, extra))
            i = em.end()
            continue
        em = _START_TAG.match(text, j)
        if em is None:
            nm = _TAG_NAME.match(text, j + 1)
            if nm is None:
                raise HtmlError('Unsupported start tag ""', text, j)
            if nm.group().lower() not in _TAG_ENTITY:
                raise HtmlError(f'Unsupported start tag "{nm.group().lower()}"', text, j)
            raise HtmlError("Unclosed start tag", text, j)
        name = em.group(1).lower()
        if name not in _TAG_ENTITY:
            raise HtmlError(f'Unsupported start tag "{name}"', text, j)
        attrs = {
            a.group(1).lower(): _unescape_attr(a.group(2) or a.group(3) or a.group(4) or "")
            for a in _ATTR.finditer(em.group(2))
        }
        extra = _check_tag(name, attrs, text, j)
        stack.append((name, length, j, extra))
        i = em.end()
    if stack:
        tag, _, pos, _ = stack[-1]
        raise HtmlError(f'Can\'t find end tag corresponding to start tag "{tag}"', text, pos)
    return "".join(out), tuple(entities)


def _check_tag(name: str, attrs: dict[str, str], text: str, pos: int) -> Any:
    """Validate a start tag's attributes; return the entity's extra data."""
    if name == "a":
        href = attrs.get("href", "").strip()
        if not href:
            raise HtmlError('Tag "a" must have attribute "href"', text, pos)
        return href
    if name == "span":
        if attrs.get("class") != "tg-spoiler":
            raise HtmlError('Tag "span" must have class "tg-spoiler"', text, pos)
        return None
    if name == "tg-emoji":
        emoji_id = attrs.get("emoji-id", "")
        if not emoji_id.isdigit():
            raise HtmlError(
                "Custom emoji entity must contain a valid custom emoji identifier", text, pos
            )
        return emoji_id
    if name == "blockquote":
        return "expandable" if "expandable" in attrs else None
    if name == "code":
        return attrs.get("class")
    return None


def entities_json(plain: str, entities: Entities) -> list[JSON]:
    """Convert parsed entities to Bot API MessageEntity dicts with UTF-16 offsets."""
    spans = {(start, end) for kind, start, end, _ in entities if kind == "pre"}
    languages = {
        (start, end): extra
        for kind, start, end, extra in entities
        if kind == "code" and (start, end) in spans and extra
    }
    ascii_only = plain.isascii()
    result: list[JSON] = []
    for kind, start, end, extra in entities:
        if end <= start or (kind == "code" and (start, end) in spans):
            continue  # Telegram drops empty entities and folds <pre><code> into one
        if ascii_only:
            offset, length = start, end - start
        else:
            offset, length = utf16_len(plain[:start]), utf16_len(plain[start:end])
        entity: JSON = {"type": kind, "offset": offset, "length": length}
        if kind == "text_link":
            entity["url"] = extra
        elif kind == "custom_emoji":
            entity["custom_emoji_id"] = extra
        elif kind == "blockquote" and extra == "expandable":
            entity["type"] = "expandable_blockquote"
        elif kind == "pre" and (start, end) in languages:
            entity["language"] = languages[(start, end)].removeprefix("language-")
        result.append(entity)
    result.sort(key=lambda e: (e["offset"], -e["length"]))
    return result


def utf16_len(text: str) -> int:
    """Return the length in UTF-16 code units, as Telegram counts it."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def parse_entities(text: Any, parse_mode: Any) -> tuple[str, Entities]:
    """Parse a text in its parse_mode into (plain text, entities), failing like Telegram."""
    if not isinstance(text, str):
        text = json.dumps(text) if isinstance(text, dict | list) else str(text)
    mode = parse_mode.lower() if isinstance(parse_mode, str) else parse_mode
    if mode in (None, "", "markdown", "markdownv2"):
        return text, ()
    if mode != "html":
        raise bad_request("unsupported parse_mode")
    try:
        return parse_html(text)
    except HtmlError as exc:
        raise bad_request(f"can't parse entities: {exc.reason}") from None


def parse_text(
    text: Any, parse_mode: Any, *, empty: str = "message text is empty"
) -> tuple[str, Entities]:
    """Validate a message text with its parse_mode; return (plain text, entities)."""
    if text is None:
        raise bad_request(empty)
    plain, entities = parse_entities(text, parse_mode)
    if not plain.strip():
        raise bad_request(empty)
    # Any string longer than 4096 chars is too long; only shorter ones need exact counting.
    if len(plain) > MAX_TEXT_UTF16 or (
        len(plain) * 2 > MAX_TEXT_UTF16 and utf16_len(plain) > MAX_TEXT_UTF16
    ):
        raise bad_request("message is too long")
    return plain, entities
