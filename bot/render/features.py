"""The reader features' messages: on-this-day card, finish summary, quiz board, progress bar."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup

from bot.botapi.text import esc
from bot.content import Library, MonthDay
from bot.content.scripts import Script
from bot.render import callback_data as cb
from bot.render import card_image as cards
from bot.render import keyboards, texts
from bot.render.article import day
from bot.render.keyboards import button
from bot.render.rendered import Rendered
from bot.render.texts import t
from bot.rules.finish import FinishSummary
from bot.rules.onthisday import years_ago_words
from bot.rules.quiz_questions import Standing


def on_this_day(library: Library, when: MonthDay, script: Script, years: int | None) -> Rendered:
    """The "years ago today" card: what happened on this day of the story, and its quotes."""
    card = day(library, when, script)
    if years:
        header = t(
            texts.ONTHISDAY_HEADER,
            script,
            years=t(years_ago_words(years), script),
            label=when.label,
        )
    else:
        header = t(texts.ONTHISDAY_HEADER_NO_YEAR, script, label=when.label)
    body = card.text.split("\n\n", 1)[1] if "\n\n" in card.text else ""
    return Rendered(f"{header}\n\n{body}".strip(), card.markup)


# The message effect the finish message celebrates with (🎉, one of the effects every bot may
# use; Telegram shows effects in private chats only).
CELEBRATION = "5046509860389126442"


def finish_summary(summary: FinishSummary, script: Script) -> Rendered:
    """Celebrate the end of the article: days taken, sections read, the quiz, what next."""
    quiz = (
        t(texts.FINISH_QUIZ, script, right=summary.quiz_right, answered=summary.quiz_answered)
        if summary.quiz_answered
        else t(texts.FINISH_NO_QUIZ, script)
    )
    text = t(
        texts.FINISH,
        script,
        days=summary.days_taken,
        read=summary.sections_read,
        total=summary.total,
        quiz=quiz,
    )
    rows = [[button(t(texts.BTN_QUIZ, script), cb.Quiz())]]
    if cards.available():
        rows[0].insert(0, button(t(texts.BTN_SHARE_CARD, script), cb.Card(0)))
    rows.append(
        [
            button(t(texts.BTN_RESTART, script), cb.Restart()),
            button(t(texts.BTN_TOC, script), cb.Toc()),
            button(t(texts.BTN_QUOTES, script), cb.RandomQuote()),
        ]
    )
    return Rendered(text, InlineKeyboardMarkup(rows))


def quiz_board(standings: list[Standing], script: Script) -> Rendered:
    if not standings:
        return Rendered(t(texts.QUIZ_BOARD_EMPTY, script), keyboards.quiz_again(script))
    lines = [t(texts.QUIZ_BOARD_HEADER, script)]
    for rank, s in enumerate(standings, start=1):
        name = esc(s.name) or t(texts.QUIZ_SOMEONE, script)
        lines.append(
            t(
                texts.QUIZ_BOARD_LINE,
                script,
                rank=rank,
                name=name,
                right=s.right,
                answered=s.answered,
            )
        )
    return Rendered("\n".join(lines), keyboards.quiz_again(script))


def progress_bar(done: int, total: int, width: int = 10) -> str:
    filled = round(width * done / total) if total else 0
    return "█" * filled + "░" * (width - filled)
