"""What comes with a digest's section: the on-this-day card and, at the end, the finish summary."""

from __future__ import annotations

import logging
from datetime import datetime

from telegram import Bot
from telegram.error import TelegramError

from bot import render
from bot.content import Library
from bot.flood.control import digest_lane
from bot.rules.chats import ChatState, digest_script, with_section_shown
from bot.rules.onthisday import on_this_day, years_ago
from bot.services.chat_service import ChatService
from bot.services.reading import ReadingService
from bot.telegram_io import sender

log = logging.getLogger(__name__)


class Companions:
    """Send what comes with the sections a ``Deliverer`` delivers."""

    def __init__(
        self,
        chats: ChatService,
        reading: ReadingService,
        library: Library,
        *,
        paid: bool,
        story_year: int | None,
    ) -> None:
        self.chats = chats
        self.reading = reading
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
        now: datetime,
    ) -> str | None:
        """Send what comes with a section: the on-this-day card, the finish summary.

        Best effort: the section itself was delivered, so a failure here is logged and the
        delivery stands. Returns the local date an on-this-day card went out on, if one did.
        """
        script = digest_script(state)
        local_day = now.astimezone(self.chats.zone(state)).date()
        extras: list[tuple[render.Rendered, str | None]] = []
        card_day: str | None = None
        story_day = on_this_day(self.library, local_day)
        if story_day and state.onthisday and state.onthisday_last != local_day.isoformat():
            story_year = self.story_year
            years = years_ago(story_year, local_day) if story_year else None
            extras.append((render.on_this_day(self.library, story_day, script, years), None))
            card_day = local_day.isoformat()
        if finished:
            # The summary counts the section just sent: it is recorded only after this.
            after = with_section_shown(state, section)
            reader = state.chat_id if state.private else None  # a group has no one score
            summary = await self.reading.finish_summary(after, reader, now)
            # The finish message comes once, when the last section does: it celebrates.
            effect = render.CELEBRATION if state.private else None
            extras.append((render.finish_summary(summary, script), effect))
        for extra, effect in extras:
            try:
                with digest_lane():
                    await sender.send(
                        bot,
                        target,
                        extra,
                        quiet=True,
                        paid=self.paid,
                        chats=self.chats,
                        effect=effect,
                    )
            except TelegramError as exc:
                log.info("a digest's companion to chat %s failed (%s)", target.chat_id, exc)
        return card_day
