"""The button protocol: what each inline button carries, built and parsed side by side.

Telegram allows 64 bytes of callback data. Each button is a small frozen dataclass: its
prefix and a codec per field say its whole shape (``prefix:field:field``), and the base
``_Shape`` builds (``encode``, used by keyboards.py) and reads (``parse``, used by the
button handlers registered in app.py) every one the same way. ``parse`` returns None for
anything that is not exactly its own shape, so forged or stale data never reaches a
handler. A trailing field left at its default is left out ("toc", not "toc:"). The strings
are kept stable: buttons under old messages keep working after an upgrade. The deep links
(``/start`` payloads, ``kind_value``) are at the end, in the same form.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, dataclass, fields
from datetime import time
from typing import Any, ClassVar, Protocol, Self

from bot.content import MonthDay
from bot.content.numerals import parse_number
from bot.content.scripts import Script
from bot.rules.schedule import parse_hhmm
from bot.rules.zones import COMMON


class Button(Protocol):
    def encode(self) -> str: ...


@dataclass(frozen=True)
class Codec:
    """How one field is written in callback data; ``read`` raises ValueError on bad text."""

    write: Callable[[Any], str]
    read: Callable[[str], Any]


def _checked(value: Any) -> Any:
    if value is None:
        raise ValueError("not this field's shape")
    return value


def _day(text: str) -> MonthDay | None:
    number = parse_number(text, max_digits=4) if len(text) == 4 else None
    return _month_day(number)


def _month_day(number: int | None) -> MonthDay | None:
    if number is None or not (1 <= number // 100 <= 12 and 1 <= number % 100 <= 31):
        return None
    return MonthDay(number // 100, number % 100)


def _time(text: str) -> time | None:
    if text == "other":
        return None  # "other": the time is to be typed
    return _checked(parse_hhmm(text) if len(text) == 4 and text.isascii() else None)


def _one_of(codes: tuple[str, ...]) -> Codec:
    return Codec(str, lambda text: text if text in codes else _checked(None))


NUMBER = Codec(str, lambda text: _checked(parse_number(text)))
DAY = Codec(lambda day: day.compact, lambda text: _checked(_day(text)))
SCRIPT = Codec(lambda script: script.short, lambda text: _checked(Script.from_short(text)))
EDIT = Codec(lambda _: "e", lambda text: text == "e" or _checked(None))  # shown in place
TIME = Codec(lambda at: f"{at:%H%M}" if at else "other", _time)
ZONE = _one_of(COMMON)
TEXT = Codec(str, str)  # checked by the button as a whole (see SwitchScript.valid)


def yes_no(yes: str, no: str) -> Codec:
    """A boolean written as one of two codes."""
    codes = _one_of((yes, no))
    return Codec(lambda value: yes if value else no, lambda text: codes.read(text) == yes)


@dataclass(frozen=True)
class _Shape:
    """``PREFIX`` then each field by its codec in ``CODECS`` (in field order), ``SEP`` apart.

    A button names them in its class line: ``class Toc(_Shape, prefix="toc", codecs=(EDIT,))``.
    """

    PREFIX: ClassVar[str] = ""
    CODECS: ClassVar[tuple[Codec, ...]] = ()
    SEP: ClassVar[str] = ":"

    def __init_subclass__(
        cls, *, prefix: str, codecs: tuple[Codec, ...] = (), sep: str = ":", **kwargs: Any
    ) -> None:
        super().__init_subclass__(**kwargs)
        cls.PREFIX, cls.CODECS, cls.SEP = prefix, codecs, sep

    def encode(self) -> str:
        parts = [self.PREFIX]
        for field, codec in zip(fields(self), self.CODECS, strict=True):
            value = getattr(self, field.name)
            if field.default is not MISSING and value == field.default:
                break  # a field left at its default ends the data: the rest are defaults too
            parts.append(codec.write(value))
        return self.SEP.join(parts)

    @classmethod
    def parse(cls, data: str) -> Self | None:
        head, *parts = data.split(cls.SEP)
        shape = fields(cls)
        if head != cls.PREFIX or len(parts) > len(shape):
            return None
        if any(field.default is MISSING for field in shape[len(parts) :]):
            return None  # a field that must be written is missing
        try:
            values = [codec.read(text) for codec, text in zip(cls.CODECS, parts, strict=False)]
        except ValueError:
            return None
        make: Callable[..., Self] = cls
        button = make(*values)
        return button if button.valid() else None

    def valid(self) -> bool:
        """Tell whether the fields, each of its own shape, make a button together."""
        return True


@dataclass(frozen=True)
class Toc(_Shape, prefix="toc", codecs=(EDIT,)):
    """The table of contents: sent as a new message, or (``edit``) shown in place of the old."""

    edit: bool = False


@dataclass(frozen=True)
class Timeline(_Shape, prefix="tl", codecs=(EDIT,)):
    """The timeline of the story's dates, sent or (``edit``) shown in place."""

    edit: bool = False


@dataclass(frozen=True)
class Quiz(_Shape, prefix="qz"):
    """A quiz question: which day was this said?"""


@dataclass(frozen=True)
class Restart(_Shape, prefix="rs"):
    """Start the article over (under its end): no confirmation, the reader asked."""


@dataclass(frozen=True)
class RandomQuote(_Shape, prefix="qr"):
    """A quote drawn at random."""


@dataclass(frozen=True)
class Subscribe(_Shape, prefix="sub"):
    """Daily delivery: the times to choose from."""


@dataclass(frozen=True)
class Next(_Shape, prefix="nx", codecs=(NUMBER, SCRIPT)):
    """The chat's next unread section; ``after``: the button under that section, whose
    script (``script``) the next one follows."""

    after: int | None = None
    script: Script | None = None


@dataclass(frozen=True)
class OpenSection(_Shape, prefix="rd", codecs=(NUMBER, EDIT)):
    """A section: sent, or (``edit``, from the table of contents) shown in its place."""

    number: int
    edit: bool = False


@dataclass(frozen=True)
class OpenQuote(_Shape, prefix="q", codecs=(NUMBER,)):
    """Quote ``number``, with its date and occasion."""

    number: int


@dataclass(frozen=True)
class Card(_Shape, prefix="cd", codecs=(NUMBER,)):
    """Quote ``number`` as an image (0: one chosen at random)."""

    number: int


@dataclass(frozen=True)
class QuoteSource(_Shape, prefix="qs", codecs=(NUMBER,)):
    """The section that narrates a quote, with the quote's sentence picked out."""

    number: int


@dataclass(frozen=True)
class OpenDate(_Shape, prefix="d", codecs=(DAY, EDIT)):
    """A date: sent, or (``edit``, from the timeline) shown in its place."""

    day: MonthDay
    edit: bool = False


@dataclass(frozen=True)
class SubscribeAt(_Shape, prefix="sa", codecs=(TIME,)):
    """A delivery time chosen with a button; None: "other", to be typed."""

    at: time | None


@dataclass(frozen=True)
class SetZone(_Shape, prefix="tz", codecs=(ZONE,)):
    """A time zone chosen with a button (one of zones.COMMON)."""

    key: str


@dataclass(frozen=True)
class SwitchScript(_Shape, prefix="sw", codecs=(_one_of(("s", "q", "d")), TEXT, SCRIPT)):
    """Re-render a section ("s"), quote ("q") or date ("d") message in ``target``."""

    kind: str
    ident: str
    target: Script

    @property
    def number(self) -> int | None:
        return parse_number(self.ident) if self.kind in ("s", "q") else None

    @property
    def day(self) -> MonthDay | None:
        return _day(self.ident) if self.kind == "d" else None

    def valid(self) -> bool:
        return self.number is not None or self.day is not None


@dataclass(frozen=True)
class ChooseScript(_Shape, prefix="scr", codecs=(SCRIPT,)):
    """The script the person (and, for an admin, the group) reads in."""

    script: Script


@dataclass(frozen=True)
class Quiet(_Shape, prefix="qt", codecs=(yes_no("1", "0"),)):
    """Turn silent delivery on (yes) or off."""

    yes: bool


@dataclass(frozen=True)
class ConfirmReset(_Shape, prefix="rst", codecs=(yes_no("y", "n"),)):
    """The answer to "start the article over?" (admins only)."""

    yes: bool


# --- reading features, round two: pause, reading days, saving, passage cards -----------------

ITEM_KIND = _one_of(("q", "s", "p"))  # a quote, a section, or a stored passage
ITEM_ID = Codec(str, lambda text: _checked(parse_number(text, max_digits=9) or None))


@dataclass(frozen=True)
class Pause(_Shape, prefix="ps", codecs=(NUMBER,)):
    """Pause the digests ``number`` days (0: until the reader comes back)."""

    number: int


@dataclass(frozen=True)
class Resume(_Shape, prefix="rsm"):
    """End a pause at once."""


@dataclass(frozen=True)
class SetDays(_Shape, prefix="dy", codecs=(NUMBER,)):
    """Reading days chosen with a button: a weekday mask (bot.rules.schedule), 1 to 127."""

    number: int

    def valid(self) -> bool:
        return 1 <= self.number <= 127


@dataclass(frozen=True)
class Save(_Shape, prefix="sv", codecs=(ITEM_KIND, ITEM_ID)):
    """☆: save a quote ("q"), section ("s") or passage ("p", by its stored id) for the
    reader who pressed it; pressed again, unsave it."""

    kind: str
    number: int


@dataclass(frozen=True)
class Unsave(_Shape, prefix="us", codecs=(ITEM_KIND, ITEM_ID)):
    """Remove an item from the reader's saved list (a button of /saved)."""

    kind: str
    number: int


@dataclass(frozen=True)
class PassageCard(_Shape, prefix="pc", codecs=(ITEM_ID,)):
    """A stored passage (by id) as an image card."""

    number: int


@dataclass(frozen=True)
class SectionCard(_Shape, prefix="sc", codecs=(NUMBER,)):
    """Section ``number``'s opening sentence as an image card."""

    number: int


# --- deep links ------------------------------------------------------------------------------
# ``t.me/<bot>?start=<payload>`` opens a private chat with /start <payload>: a section shared
# from a group, a quote or a day. Telegram allows 1-64 of [A-Za-z0-9_-]; ours are kind_value,
# and, like the buttons, they stay the same across releases (links live on in old messages).


def _link_number(text: str) -> int:
    return (
        int(text) if 1 <= len(text) <= 4 and text.isascii() and text.isdigit() else _checked(None)
    )


LINK_NUMBER = Codec(str, _link_number)
# MMDD; the month's leading zero may be left out (date_216).
LINK_DAY = Codec(lambda day: day.compact, lambda text: _checked(_month_day(_link_number(text))))


@dataclass(frozen=True)
class SectionLink(_Shape, prefix="section", codecs=(LINK_NUMBER,), sep="_"):
    """Section ``number``, shared from a group to be read in private."""

    number: int


@dataclass(frozen=True)
class QuoteLink(_Shape, prefix="quote", codecs=(LINK_NUMBER,), sep="_"):
    """Quote ``number``."""

    number: int


@dataclass(frozen=True)
class DateLink(_Shape, prefix="date", codecs=(LINK_DAY,), sep="_"):
    """A day of the story."""

    day: MonthDay


Link = SectionLink | QuoteLink | DateLink


def parse_link(payload: str) -> Link | None:
    """Return the deep link a /start payload names, or None (not a link: plain /start)."""
    for kind in (SectionLink, QuoteLink, DateLink):
        link = kind.parse(payload)
        if link is not None:
            return link
    return None
