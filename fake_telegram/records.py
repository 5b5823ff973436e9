"""What the fake records and answers: API errors, calls, sent messages, injected faults."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

JSON = dict[str, Any]
Entities = tuple[tuple[Any, ...], ...]


class ApiError(Exception):
    """A Bot API error response."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        """Store the HTTP status, description and optional ResponseParameters."""
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def envelope(self) -> JSON:
        """Return the ``{"ok": false, ...}`` response body."""
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str) -> ApiError:
    """Build a 400 error with Telegram's ``Bad Request: `` prefix."""
    return ApiError(400, f"Bad Request: {reason}")


def unauthorized() -> ApiError:
    """Build the 401 Telegram answers for a wrong or revoked token."""
    return ApiError(401, "Unauthorized")


@dataclass(slots=True)
class Answer:
    """A successful result that Telegram sends with a description ("Webhook was set")."""

    result: Any
    description: str


@dataclass(slots=True)
class Upload:
    """A file sent as a multipart/form-data part."""

    filename: str | None
    content_type: str
    data: bytes = field(repr=False)


@dataclass(slots=True)
class Call:
    """One HTTP request the fake answered."""

    method: str
    params: JSON
    status: int
    response: JSON
    t: float
    client: int | None = None  # the caller's TCP port: tells bot processes apart

    @property
    def ok(self) -> bool:
        """Return whether the request succeeded."""
        return self.status == 200


@dataclass(slots=True)
class MessageVersion:
    """A previous state of an edited message."""

    text: str
    plain_text: str
    parse_mode: str | None
    reply_markup: JSON | None
    t: float


@dataclass(slots=True)
class SentMessage:
    """A message the bot sent; mutated in place by edits, old states kept in ``history``."""

    chat_id: int
    message_id: int
    text: str
    plain_text: str
    parse_mode: str | None
    reply_markup: JSON | None
    disable_notification: bool
    message_thread_id: int | None
    t: float
    date: int
    entities: Entities = ()
    history: list[MessageVersion] = field(default_factory=list)
    edit_date: int | None = None
    inline_message_id: str | None = None
    paid: bool = False  # sent with allow_paid_broadcast
    poll: JSON | None = None  # the Poll object of a sendPoll message
    photo: list[JSON] | None = None  # the PhotoSizes of a sendPhoto message; text is the caption
    effect_id: str | None = None  # the message effect it was sent with (private chats only)
    reply_to: int | None = None  # the message id it replies to, in the same chat
    quote: JSON | None = None  # the TextQuote of the part of that message it quotes

    @property
    def has_text(self) -> bool:
        """Return whether this is a text message (editMessageText applies)."""
        return self.poll is None and self.photo is None

    @property
    def edited(self) -> bool:
        """Return whether the message was edited at least once."""
        return bool(self.history)

    def to_json(self) -> JSON:
        """Return a JSON-friendly dict (used by the control API)."""
        data = asdict(self)
        data["entities"] = [list(e) for e in self.entities]
        return data


@dataclass(slots=True)
class InlineAnswer:
    """A recorded answerInlineQuery call."""

    query_id: str
    results: list[JSON]
    cache_time: int | None
    is_personal: bool
    next_offset: str | None
    button: JSON | None
    t: float


@dataclass(slots=True)
class DeliveryAttempt:
    """One POST of an update to a replica behind the webhook."""

    target: str
    status: int | None  # the HTTP status, None when no answer came
    error: str | None  # the error getWebhookInfo reports, None when delivered
    started: float  # time.perf_counter()
    finished: float


@dataclass(slots=True)
class Delivery:
    """How one update reached the bot through the webhook."""

    update_id: int
    attempts: list[DeliveryAttempt] = field(default_factory=list)
    target: str | None = None  # the replica that accepted it
    delivered_at: float | None = None  # time.perf_counter()

    @property
    def delivered(self) -> bool:
        """Return whether a replica accepted the update."""
        return self.target is not None

    @property
    def statuses(self) -> list[int | None]:
        """Return each attempt's HTTP status (None: no answer)."""
        return [a.status for a in self.attempts]
