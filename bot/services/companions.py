"""What comes with a digest's section: the on-this-day card and, at the end, the finish summary."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

from telegram import Bot
from telegram.error import TelegramError

from bot import render
from bot.content import Library
from bot.content.scripts import Script
from bot.flood.control import digest_lane
from bot.rules.chats import ChatState, digest_script
from bot.rules.finish import summarize
from bot.rules.onthisday import on_this_day, years_ago
from bot.rules.quiz_questions import Score
from bot.services.chat_service import ChatService
from bot.telegram_io import sender

log = logging.getLogger(__name__)


class Companions:
    """Send what comes with the sections a ``Deliverer`` delivers."""

    def __init__(
        self, chats: ChatService, library: Library, *, paid: bool, story_year: int | None
    ) -> None:
        self.chats = chats
        self.library = library
        self.paid = paid  # as paid broadcasts, like the section
        self.story_year = story_year

    async def send(
        self,
        bot: Bot,
        target: sender.Target,
        state: ChatState,
        section: int,
        finished: bool,
        local_day: date,
    ) -> str | None:
        """Send what comes with a section: the on-this-day card, the finish summary.

        Best effort: the section itself was delivered, so a failure here is logged and the
        delivery stands. Returns the local date an on-this-day card went out on, if one did.
        """
        script = digest_script(state)
        extras: list[render.Rendered] = []
        card_day: str | None = None
        story_day = on_this_day(self.library, local_day)
        if story_day and state.onthisday and state.onthisday_last != local_day.isoformat():
            story_year = self.story_year
            years = years_ago(story_year, local_day) if story_year else None
            extras.append(render.on_this_day(self.library, story_day, script, years))
            card_day = local_day.isoformat()
        if finished:
            extras.append(await self._finish_line(state, section, local_day, script))
        for extra in extras:
            try:
                with digest_lane():
                    await sender.send(
                        bot, target, extra, quiet=True, paid=self.paid, chats=self.chats
                    )
            except TelegramError as exc:
                log.info("a digest's companion to chat %s failed (%s)", target.chat_id, exc)
        return card_day

    async def _finish_line(
        self, state: ChatState, section: int, local_day: date, script: Script
    ) -> render.Rendered:
        zone = self.chats.zone(state)
        started = (
            datetime.fromtimestamp(state.started_at, UTC).astimezone(zone).date()
            if state.started_at
            else local_day
        )
        score = (
            await self.chats.store.quiz.score(state.chat_id, state.chat_id)
            if state.private
            else Score()
        )
        read = (state.read_mask | 1 << (section - 1)).bit_count()
        total = self.library.section_count
        return render.finish_summary(summarize(started, local_day, read, total, score), script)
