"""Reading time of a section (interim; the reader-feature rules will extend this module)."""

from __future__ import annotations

import math

from bot.content.model import Section

READING_SPEED = 400  # characters a minute: a typical adult pace for Chinese text (300-500)


def reading_minutes(section: Section, chars_per_minute: int = READING_SPEED) -> int:
    """Return the minutes a section takes to read (letters and digits only), at least 1."""
    count = sum(1 for ch in section.text if ch.isalnum())
    return max(1, math.ceil(count / chars_per_minute))
