"""The button protocol: what each inline button carries, built and parsed side by side.

Telegram allows 64 bytes of callback data. Each button is a small frozen dataclass with
``encode`` (used by keyboards.py) and ``parse`` (used by the button handlers registered in
app.py); ``parse`` returns None for anything that is not exactly its own shape, so forged
or stale data never reaches a handler. The strings are kept stable: buttons under old
messages keep working after an upgrade.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from typing import ClassVar, Protocol, Self

from bot.content import MonthDay
from bot.content.numerals import parse_number
from bot.content.scripts import Script
from bot.rules.schedule import parse_hhmm
from bot.rules.zones import COMMON


class Button(Protocol):
    def encode(self) -> str: ...


def _fields(data: str, prefix: str, count: int) -> list[str] | None:
    """Return the ``count`` fields after ``prefix:``, or None if data has another shape."""
    head, *rest = data.split(":")
    return rest if head == prefix and len(rest) == count else None


def _number(data: str, prefix: str) -> int | None:
    """Return the one number after ``prefix:``, or None."""
    fields = _fields(data, prefix, 1)
    return parse_number(fields[0]) if fields else None


def _day(field: str) -> MonthDay | None:
    number = parse_number(field, max_digits=4) if len(field) == 4 else None
    if number is None or not (1 <= number // 100 <= 12 and 1 <= number % 100 <= 31):
        return None
    return MonthDay(number // 100, number % 100)


@dataclass(frozen=True)
class _Plain:
    """A button without fields."""

    PREFIX: ClassVar[str] = ""

    def encode(self) -> str:
        return self.PREFIX

    @classmethod
    def parse(cls, data: str) -> Self | None:
        return cls() if data == cls.PREFIX else None


@dataclass(frozen=True)
class _Page:
    """A navigation page: sent as a new message, or (``edit``) shown in place of the old."""

    edit: bool = False
    PREFIX: ClassVar[str] = ""

    def encode(self) -> str:
        return f"{self.PREFIX}:e" if self.edit else self.PREFIX

    @classmethod
    def parse(cls, data: str) -> Self | None:
        if data == cls.PREFIX:
            return cls()
        return cls(edit=True) if data == f"{cls.PREFIX}:e" else None


@dataclass(frozen=True)
class Toc(_Page):
    PREFIX = "toc"


@dataclass(frozen=True)
class Timeline(_Page):
    PREFIX = "tl"


@dataclass(frozen=True)
class Quiz(_Plain):
    """A quiz question: which day was this said?"""

    PREFIX = "qz"


@dataclass(frozen=True)
class Restart(_Plain):
    """Start the article over (under its end): no confirmation, the reader asked."""

    PREFIX = "rs"


@dataclass(frozen=True)
class RandomQuote(_Plain):
    PREFIX = "qr"


@dataclass(frozen=True)
class Subscribe(_Plain):
    PREFIX = "sub"


@dataclass(frozen=True)
class Next:
    """The chat's next unread section; ``after``: the button under that section, whose
    script (``script``) the next one follows."""

    after: int | None = None
    script: Script | None = None
    PREFIX: ClassVar[str] = "nx"

    def encode(self) -> str:
        if self.after is None:
            return self.PREFIX
        tail = f":{self.script.short}" if self.script else ""
        return f"{self.PREFIX}:{self.after}{tail}"

    @classmethod
    def parse(cls, data: str) -> Self | None:
        if data == cls.PREFIX:
            return cls()
        head, _, code = data.partition(":")[2].partition(":")
        number = parse_number(head) if data.startswith(f"{cls.PREFIX}:") else None
        script = Script.from_short(code) if code else None
        if number is None or (code and script is None):
            return None
        return cls(number, script)


@dataclass(frozen=True)
class _Numbered:
    number: int
    PREFIX: ClassVar[str] = ""

    def encode(self) -> str:
        return f"{self.PREFIX}:{self.number}"

    @classmethod
    def parse(cls, data: str) -> Self | None:
        number = _number(data, cls.PREFIX)
        return cls(number) if number is not None else None


@dataclass(frozen=True)
class OpenSection:
    """A section: sent, or (``edit``, from the table of contents) shown in its place."""

    number: int
    edit: bool = False
    PREFIX: ClassVar[str] = "rd"

    def encode(self) -> str:
        return f"{self.PREFIX}:{self.number}" + (":e" if self.edit else "")

    @classmethod
    def parse(cls, data: str) -> Self | None:
        fields = _fields(data, cls.PREFIX, 2)
        if fields is not None and fields[1] == "e":
            number = parse_number(fields[0])
            return cls(number, edit=True) if number is not None else None
        number = _number(data, cls.PREFIX)
        return cls(number) if number is not None else None


@dataclass(frozen=True)
class OpenQuote(_Numbered):
    PREFIX = "q"


@dataclass(frozen=True)
class Card(_Numbered):
    """Quote ``number`` as an image (0: one chosen at random)."""

    PREFIX = "cd"


@dataclass(frozen=True)
class QuoteSource(_Numbered):
    """The section that narrates a quote, with the quote's sentence picked out."""

    PREFIX = "qs"


@dataclass(frozen=True)
class OpenDate:
    """A date: sent, or (``edit``, from the timeline) shown in its place."""

    day: MonthDay
    edit: bool = False
    PREFIX: ClassVar[str] = "d"

    def encode(self) -> str:
        return f"{self.PREFIX}:{self.day.compact}" + (":e" if self.edit else "")

    @classmethod
    def parse(cls, data: str) -> Self | None:
        fields = _fields(data, cls.PREFIX, 2)
        edit = fields is not None and fields[1] == "e"
        fields = fields[:1] if edit and fields else _fields(data, cls.PREFIX, 1)
        day = _day(fields[0]) if fields else None
        return cls(day, edit) if day is not None else None


@dataclass(frozen=True)
class SubscribeAt:
    """A delivery time chosen with a button; None: "other", to be typed."""

    at: time | None
    PREFIX: ClassVar[str] = "sa"

    def encode(self) -> str:
        return f"{self.PREFIX}:{self.at:%H%M}" if self.at else f"{self.PREFIX}:other"

    @classmethod
    def parse(cls, data: str) -> Self | None:
        fields = _fields(data, cls.PREFIX, 1)
        if fields is None:
            return None
        if fields[0] == "other":
            return cls(None)
        at = parse_hhmm(fields[0]) if len(fields[0]) == 4 and fields[0].isascii() else None
        return cls(at) if at is not None else None


@dataclass(frozen=True)
class SetZone:
    """A time zone chosen with a button (one of zones.COMMON)."""

    key: str
    PREFIX: ClassVar[str] = "tz"

    def encode(self) -> str:
        return f"{self.PREFIX}:{self.key}"

    @classmethod
    def parse(cls, data: str) -> Self | None:
        fields = _fields(data, cls.PREFIX, 1)
        return cls(fields[0]) if fields and fields[0] in COMMON else None


@dataclass(frozen=True)
class SwitchScript:
    """Re-render a section ("s"), quote ("q") or date ("d") message in ``target``."""

    kind: str
    ident: str
    target: Script
    PREFIX: ClassVar[str] = "sw"
    KINDS: ClassVar[tuple[str, ...]] = ("s", "q", "d")

    def encode(self) -> str:
        return f"{self.PREFIX}:{self.kind}:{self.ident}:{self.target.short}"

    @property
    def number(self) -> int | None:
        return parse_number(self.ident) if self.kind in ("s", "q") else None

    @property
    def day(self) -> MonthDay | None:
        return _day(self.ident) if self.kind == "d" else None

    @classmethod
    def parse(cls, data: str) -> Self | None:
        fields = _fields(data, cls.PREFIX, 3)
        if fields is None or fields[0] not in cls.KINDS:
            return None
        target = Script.from_short(fields[2])
        button = cls(fields[0], fields[1], target) if target else None
        if button is None or (button.number is None and button.day is None):
            return None
        return button


@dataclass(frozen=True)
class ChooseScript:
    script: Script
    PREFIX: ClassVar[str] = "scr"

    def encode(self) -> str:
        return f"{self.PREFIX}:{self.script.short}"

    @classmethod
    def parse(cls, data: str) -> Self | None:
        fields = _fields(data, cls.PREFIX, 1)
        script = Script.from_short(fields[0]) if fields else None
        return cls(script) if script else None


@dataclass(frozen=True)
class _YesNo:
    yes: bool
    PREFIX: ClassVar[str] = ""
    CODES: ClassVar[tuple[str, str]] = ("1", "0")

    def encode(self) -> str:
        return f"{self.PREFIX}:{self.CODES[0] if self.yes else self.CODES[1]}"

    @classmethod
    def parse(cls, data: str) -> Self | None:
        fields = _fields(data, cls.PREFIX, 1)
        if fields is None or fields[0] not in cls.CODES:
            return None
        return cls(fields[0] == cls.CODES[0])


@dataclass(frozen=True)
class Quiet(_YesNo):
    """Turn silent delivery on (yes) or off."""

    PREFIX = "qt"


@dataclass(frozen=True)
class ConfirmReset(_YesNo):
    PREFIX = "rst"
    CODES = ("y", "n")
