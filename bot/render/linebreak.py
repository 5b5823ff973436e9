"""Line breaking for Chinese text: per character, with kinsoku rules; no Pillow, no Telegram."""

from __future__ import annotations

from collections.abc import Callable

# Returns a string's width in whatever unit the caller lays out in (pixels for a font).
Measure = Callable[[str], float]

# Kinsoku: marks that may not start a line, and marks that may not end one. A space may not
# start a line either, so that it trails the line before, where it cannot be seen.
NO_LINE_START = frozenset("，。、．：；！？）］｝〕〉》」』】〗”’…‥·・％‰々ー ")
NO_LINE_END = frozenset("（［｛〔〈《「『【〖“‘")
ELLIPSIS = "…"


def can_break(before: str, after: str) -> bool:
    """Return whether a line may end with ``before`` and the next start with ``after``."""
    if before in NO_LINE_END or after in NO_LINE_START:
        return False
    if before == after and before in "—…":  # a doubled dash or ellipsis is one mark
        return False
    return not (before.isascii() and before.isalnum() and after.isascii() and after.isalnum())


def _cut(chars: str, width: float, measure: Measure) -> int:
    # The latest allowed break whose carried-over tail still fits. When the rules allow none
    # (a run of punctuation longer than half a line), break plainly rather than overflow.
    for cut in range(len(chars) - 1, 0, -1):
        if measure(chars[cut:]) > width:
            break
        if can_break(chars[cut - 1], chars[cut]):
            return cut
    return len(chars) - 1


def wrap(text: str, width: float, measure: Measure) -> list[str]:
    """Break text into lines no wider than width, per character, keeping kinsoku rules."""
    lines: list[str] = []
    line = ""
    for char in text:
        if not line or measure(line + char) <= width:
            line += char
            continue
        chars = line + char
        cut = _cut(chars, width, measure)
        lines.append(chars[:cut])
        line = chars[cut:]
    if line:
        lines.append(line)
    return lines


def shorten(text: str, width: float, measure: Measure) -> str:
    """Return text, or its longest head that fits width with an ellipsis after it."""
    if measure(text) <= width:
        return text
    head = ""
    for char in text:  # grow from the front: only short strings get measured
        if measure(head + char + ELLIPSIS) > width:
            break
        head += char
    # "，…" or "“…" reads as a typo: drop such marks before the ellipsis.
    return head.rstrip("".join(NO_LINE_END) + "，、：； ") + ELLIPSIS


def wrap_at_most(text: str, width: float, measure: Measure, limit: int) -> list[str]:
    """Wrap text into at most ``limit`` lines, the last shortened with an ellipsis if need be."""
    lines = wrap(text, width, measure)
    if len(lines) > limit:
        lines[limit - 1 :] = [shorten("".join(lines[limit - 1 :]), width, measure)]
    return lines


# The last line of a balanced block holds at least this many characters that are read
# (ideographs, letters, digits): a lone 控 under three full lines looks like a mistake.
MIN_LAST_LINE = 3


def readable(line: str) -> int:
    """Return how many characters of a line are read rather than punctuation."""
    return sum(1 for char in line if char.isalnum())


def balanced(text: str, width: float, measure: Measure) -> list[str]:
    """Break text into as many lines as ``wrap`` needs, spread as evenly as they go.

    The greedy wrap fills every line but the last, which may keep one character (控。”).
    The narrowest width that still gives the same number of lines spreads the characters
    evenly; a last line still shorter than MIN_LAST_LINE takes characters from the line
    before it (narrower again), as long as the count of lines stays.
    """
    lines = wrap(text, width, measure)
    if len(lines) < 2:
        return lines
    count = len(lines)
    low, high = max(measure(char) for char in text), width
    # Bisect the narrowest width with the same count (to half a unit: a pixel here).
    while high - low > 0.5:
        middle = (low + high) / 2
        if len(wrap(text, middle, measure)) <= count:
            high = middle
        else:
            low = middle
    best = wrap(text, high, measure)
    narrower = high
    while readable(best[-1]) < MIN_LAST_LINE:
        narrower -= max(measure("字") / 2, 0.5)
        if narrower <= 0:
            break
        tried = wrap(text, narrower, measure)
        if len(tried) != count:
            break
        best = tried
    return best
