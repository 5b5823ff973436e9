"""What a reader achieved by the end of the article: the summary behind the finish message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo

from bot.rules.chats import ChatState
from bot.rules.quiz_questions import Score

_NO_QUIZ = Score()


@dataclass(frozen=True)
class FinishSummary:
    """The numbers of a finished reading, for the handler to put into words."""

    days_taken: int
    sections_read: int
    total: int
    quiz_right: int
    quiz_answered: int


def days_taken(started: date, finished: date) -> int:
    """Return the calendar days from start to finish, both counted: same day is 1."""
    # A chat whose zone moved west can finish on a local date before its start: still 1 day.
    return max(1, (finished - started).days + 1)


def summarize(
    started: date, finished: date, sections_read: int, total: int, score: Score = _NO_QUIZ
) -> FinishSummary:
    """Return the summary of a reading from its dates, progress and quiz score."""
    return FinishSummary(
        days_taken(started, finished), sections_read, total, score.right, score.answered
    )


def summary_of(
    chat: ChatState, zone: tzinfo, now: datetime, total: int, score: Score = _NO_QUIZ
) -> FinishSummary:
    """Return the summary of a chat's reading, on the calendar of its zone.

    A start or finish the store has not recorded yet (the digest that ends the article is
    recorded after its summary is sent) is ``now``.
    """

    def local(at: int | None) -> date:
        return (datetime.fromtimestamp(at, UTC) if at else now).astimezone(zone).date()

    started, finished = local(chat.started_at), local(chat.finished_at)
    return summarize(started, finished, chat.sections_read, total, score)
