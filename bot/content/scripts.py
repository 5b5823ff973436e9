"""Simplified and traditional script: the only module that knows OpenCC."""

from __future__ import annotations

import enum
from functools import cache

import opencc

from bot.content import taiwan_wording as texts_taiwan


class Script(enum.StrEnum):
    SIMPLIFIED = "simplified"
    TRADITIONAL = "traditional"

    @property
    def other(self) -> Script:
        return Script.TRADITIONAL if self is Script.SIMPLIFIED else Script.SIMPLIFIED

    @property
    def short(self) -> str:
        """Return a one-letter code, used in compact callback data."""
        return "s" if self is Script.SIMPLIFIED else "t"

    @classmethod
    def from_short(cls, code: str) -> Script | None:
        return {"s": cls.SIMPLIFIED, "t": cls.TRADITIONAL}.get(code)


# Words a user may type to pick a script (checked after lower-casing).
_ALIASES: dict[str, Script] = {
    "simplified": Script.SIMPLIFIED,
    "simple": Script.SIMPLIFIED,
    "s": Script.SIMPLIFIED,
    "简": Script.SIMPLIFIED,
    "簡": Script.SIMPLIFIED,
    "简体": Script.SIMPLIFIED,
    "簡體": Script.SIMPLIFIED,
    "zh-hans": Script.SIMPLIFIED,
    "traditional": Script.TRADITIONAL,
    "t": Script.TRADITIONAL,
    "繁": Script.TRADITIONAL,
    "繁体": Script.TRADITIONAL,
    "繁體": Script.TRADITIONAL,
    "zh-hant": Script.TRADITIONAL,
}


def parse_script(word: str) -> Script | None:
    """Return the script a user's word names, or None."""
    return _ALIASES.get(word.strip().lower())


# Telegram language codes whose readers expect simplified characters.
_SIMPLIFIED_LANGUAGES = ("zh-hans", "zh-cn", "zh-sg", "zh-my")


def script_for_language(language_code: str | None, default: Script) -> Script:
    """Return the default script for a Telegram user's language code."""
    code = (language_code or "").lower().replace("_", "-")
    if code in _SIMPLIFIED_LANGUAGES or code.startswith(("zh-hans", "zh-cn", "zh-sg")):
        return Script.SIMPLIFIED
    return default


@cache
def _converter(config: str) -> opencc.OpenCC:
    # Building a converter loads dictionaries from disk: do it once per configuration.
    return opencc.OpenCC(config)


def to_simplified(text: str) -> str:
    """Convert article text (Taiwan-standard traditional) to simplified script.

    ``tw2s`` first maps Taiwan variants back (看著 → 看着, the aspect particle), then converts;
    plain ``t2s`` keeps 著 there, which mainland text never writes.
    """
    return _converter("tw2s").convert(text)


def to_traditional_ui(text: str) -> str:
    """Convert UI text authored in simplified to Taiwan traditional, with Taiwan wording.

    ``s2twp`` converts words as well as characters (设置 → 設定, 打开 → 開啟) and gives the
    Taiwan forms 為/眾/裡 that the article uses; the reviewed replacements of
    ``bot.content.taiwan_wording`` then fix what it leaves mainland (推送 → 推播).
    """
    return texts_taiwan.apply(_converter("s2twp").convert(text))


def echo(text: str, script: Script) -> str:
    """Return words a reader typed in the script of the reply that repeats them.

    Characters only (``s2tw`` / ``tw2s``): the reader's own words are not reworded. Text
    already in the reply's script is returned without loading a converter.
    """
    if script is Script.SIMPLIFIED:
        return to_simplified(text)
    if text.isascii():
        return text
    return _converter("s2tw").convert(text)


def ui(text: str, script: Script) -> str:
    """Return UI text (authored in simplified) in the reader's script."""
    return text if script is Script.SIMPLIFIED else to_traditional_ui(text)


# OpenCC turns 著 into 着 only where it reads the aspect particle (看著 → 看着, yet 著名 stays),
# so a word typed alone or in a context it does not know could keep 著 while the article has
# 着. Matching treats the two as one character.
_FOLD = str.maketrans({"著": "着"})


def fold(text: str) -> str:
    """Return a script-independent form of text for matching (its simplified form)."""
    return to_simplified(text).translate(_FOLD).casefold()
