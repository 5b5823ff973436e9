"""``ReadingService``: a reader's way through the article, applied to the store.

Progress (/next, a section shown), the finish summary, each person's script and streak,
the quiz's questions and answers, and the quote cards already uploaded. Handlers and the
digest's companions read and change these through it, never through the store; each call
is one store transaction, and the answers are typed for the caller to put into words.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING

from bot.content.scripts import Script
from bot.rules.chats import ChatDefaults, ChatState, zone_of
from bot.rules.finish import FinishSummary, summary_of
from bot.rules.quiz_questions import Answered, Asked, Score, Standing
from bot.rules.streaks import Streak

if TYPE_CHECKING:
    from bot.store import Store


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

    # --- progress -----------------------------------------------------------------------------

    async def take_next(self, chat_id: int, kind: str, title: str) -> ChatState | None:
        """Move the chat to its next section; return its state after, or None at the end.

        One statement, creating a chat seen for the first time: two readers pressing
        "next" at once in a group get two consecutive sections.
        """
        return await self.store.chats.take_next(
            chat_id, self.defaults.sections, kind=kind, title=title
        )

    async def give_back(self, chat_id: int, number: int) -> None:
        """Undo ``take_next`` when section ``number`` could not be shown."""
        await self.store.chats.give_back(chat_id, number)

    async def shown(self, chat_id: int, kind: str, title: str, number: int) -> None:
        """Record that section ``number`` was shown to the chat; its place stays."""
        await self.store.chats.show(chat_id, kind, title, number)

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
