"""``ReadingService``: a reader's way through the article, applied to the store.

Progress (/next, a section shown), the finish summary, each person's script and streak,
the quiz's questions and answers, and the quote cards already uploaded. Handlers and the
digest's companions read and change these through it, never through the store; each call
is one store transaction, and the answers are typed for the caller to put into words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from bot.content.scripts import Script
from bot.rules.chats import ChatDefaults, ChatState, opened, zone_of
from bot.rules.finish import FinishSummary, summary_of
from bot.rules.quiz_questions import Answered, Asked, Score, Standing
from bot.rules.schedule import caught_up
from bot.rules.streaks import Streak
from bot.store.history_log import DELIVERED, READ, FirstRead
from bot.store.saved_items import Passage, SavedItem

if TYPE_CHECKING:
    from bot.store import Store

__all__ = ["DELIVERED", "READ", "FirstRead", "Passage", "ReadingService", "SavedItem"]


@dataclass(frozen=True)
class Reading:
    """A section a chat reads now, the chat after reading it, and whether that finished it."""

    section: int
    state: ChatState
    finished: bool = False  # this reading took the chat to the end of the article


class ReadingService:
    """Read and change what readers do with the article, one transaction per call."""

    def __init__(
        self, store: Store, defaults: ChatDefaults, clock: Callable[[], datetime]
    ) -> None:
        if defaults.sections <= 0:
            raise ValueError("the reading service needs the article's length (defaults.sections)")
        self.store = store
        self.defaults = defaults
        self.clock = clock

    # --- reading: every path that shows a section comes through one of these two -----------

    async def read_next(self, chat_id: int, kind: str, title: str) -> Reading | None:
        """Move the chat to its next unread section and return it, or None at the end.

        /next, the 下一节 button under the chat's latest section, "继续" typed as text.
        """
        total = self.defaults.sections
        # One round trip on the common path: create-if-new and advance together.
        state = await self.store.chats.take_next(
            chat_id, total, kind=kind, title=title, at=int(self.clock().timestamp())
        )
        if state is None:
            return None
        number = state.progress
        if caught_up(number, state.read_mask) > number:
            # Sections after this one were read ahead: the place moves past them too.
            state = (await self.opened(chat_id, kind, title, number)).state
        return Reading(number, state, finished=state.progress >= total)

    async def opened(self, chat_id: int, kind: str, title: str, number: int) -> Reading:
        """Record that section ``number`` was shown to the chat (see chats.opened)."""
        before, after = await self.store.chats.change(
            chat_id,
            lambda current: opened(current, number, self.clock(), self.defaults),
            create=(kind, title),
        )
        await self.store.history.read(after.chat_id, number, int(self.clock().timestamp()))
        total = self.defaults.sections
        was = before.progress if before is not None else 0
        return Reading(number, after, finished=was < total <= after.progress)

    async def give_back(self, chat_id: int, number: int) -> None:
        """Undo read_next when the section could not be shown."""
        await self.store.chats.give_back(chat_id, number)

    async def finish_summary(
        self, chat: ChatState, reader: int | None, now: datetime
    ) -> FinishSummary:
        """Return the summary of the chat's reading; ``reader``: whose quiz score it counts."""
        score = (
            await self.store.quiz.score(chat.chat_id, reader) if reader is not None else Score()
        )
        zone = zone_of(chat, self.defaults)
        return summary_of(chat, zone, now, self.defaults.sections, score)

    # --- each person: script and streak ---------------------------------------------------------

    async def user_script(self, user_id: int) -> Script | None:
        return await self.store.users.script(user_id)

    async def set_user_script(self, user_id: int, script: Script) -> None:
        await self.store.users.set_script(user_id, script)

    async def streak(self, user_id: int) -> Streak:
        return await self.store.users.streak(user_id)

    async def touch(self, user_id: int, today: date) -> None:
        """Count an interaction on ``today`` (the reader's local date) in their streak."""
        await self.store.users.touch(user_id, today)

    # --- the quiz -------------------------------------------------------------------------------

    async def recent_quotes(self, chat_id: int, count: int) -> list[int]:
        """Return the quotes last asked about in a chat, newest first."""
        return await self.store.quiz.recent(chat_id, count)

    async def asked(self, question: Asked) -> None:
        await self.store.quiz.asked(question)

    async def answer(self, poll_id: str, user_id: int, choice: int, name: str) -> Answered | None:
        """Count a person's answer once; None for a poll this bot did not ask."""
        return await self.store.quiz.answer(poll_id, user_id, choice, name)

    async def board(self, chat_id: int) -> list[Standing]:
        return await self.store.quiz.board(chat_id)

    # --- quote cards ----------------------------------------------------------------------------

    async def card_file(self, quote: int, script: Script) -> str | None:
        """Return Telegram's file_id of the card already uploaded, if any."""
        return await self.store.cards.file_id(quote, script)

    async def remember_card(self, quote: int, script: Script, file_id: str) -> None:
        await self.store.cards.remember(quote, script, file_id)

    async def forget_card(self, quote: int, script: Script) -> None:
        """Drop a file_id Telegram no longer accepts: the card is drawn and uploaded anew."""
        await self.store.cards.forget(quote, script)

    # --- saved quotes, sections and passages; the reading log --------------------------------

    async def toggle_saved(
        self, user_id: int, kind: str, number: int, want: bool | None = None
    ) -> bool:
        """Save or unsave an item for a reader (``want``: whichever it was); return if saved."""
        at = int(self.clock().timestamp())
        return await self.store.saved.toggle(user_id, kind, number, at, want)

    async def remove_saved(self, user_id: int, kind: str, number: int) -> bool:
        return await self.store.saved.remove(user_id, kind, number)

    async def newest_saved(self, user_id: int, limit: int) -> tuple[list[SavedItem], int]:
        """Return a reader's newest saved items (up to ``limit``) and how many there are."""
        return await self.store.saved.newest(user_id, limit)

    async def keep_passage(self, section: int, script: Script, text: str) -> int:
        """Store a passage (once per section, script and text); return its id."""
        return await self.store.saved.keep_passage(section, script, text)

    async def passage(self, passage_id: int) -> Passage | None:
        return await self.store.saved.passage(passage_id)

    async def passages(self, ids: list[int]) -> dict[int, Passage]:
        return await self.store.saved.passages(ids)

    async def history(self, chat_id: int) -> list[FirstRead]:
        """Return when each section first reached the chat, delivered or read."""
        return await self.store.history.of(chat_id)
