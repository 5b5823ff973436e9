"""The quiz: 这句话是哪天说的？ — a Telegram quiz poll per question, scores, a board."""

from __future__ import annotations

import random

from telegram import Update

from bot import render
from bot.handlers import activity
from bot.handlers.common import BotContext, post, reader_script, send
from bot.render import callback_data as cb
from bot.render import keyboards, texts
from bot.render.texts import t
from bot.rules.quiz_questions import Asked, make_question
from bot.telegram_io import sender
from bot.telegram_io.sender import Target

_BOARD_WORDS = frozenset({"top", "board", "排行", "排行榜", "榜", "成绩", "成績"})
_RECENT = 4  # quotes asked lately in a chat are not asked again right away
_EXPLANATION = 200  # Telegram's limit for a quiz explanation
_QUESTION = 300


async def quiz(update: Update, context: BotContext) -> None:
    """/quiz asks a question; /quiz 排行 (or top) shows who answered right most often."""
    if context.args and context.args[0].lower() in _BOARD_WORDS:
        chat = update.effective_chat
        assert chat is not None
        script = await reader_script(context, update)
        standings = await context.services.reading.board(chat.id)
        await send(context, update, render.quiz_board(standings, script))
        return
    await ask(update, context)


async def quiz_button(update: Update, context: BotContext, button: cb.Quiz) -> None:
    await ask(update, context)


async def ask(update: Update, context: BotContext) -> None:
    """Send one quiz question as a Telegram quiz poll: a quote, four dates, one right."""
    svc = context.services
    chat = update.effective_chat
    assert chat is not None
    script = await reader_script(context, update)
    recent = await svc.reading.recent_quotes(chat.id, _RECENT)
    question = make_question(svc.library, random.Random(), avoid=recent)
    quote = svc.library.quote(question.quote, script)
    assert quote is not None
    explanation = t(
        texts.QUIZ_EXPLANATION, script, label=quote.date.label, occasion=render.esc(quote.occasion)
    )
    if len(explanation) > _EXPLANATION:
        explanation = explanation[: _EXPLANATION - 1] + "…"

    async def send_poll(target: Target) -> None:
        sent = await context.bot.send_poll(
            target.chat_id,
            t(texts.QUIZ_QUESTION, script, quote=quote.text)[:_QUESTION],
            [day.label for day in question.options],
            is_anonymous=False,  # so that each answer reaches the bot for its person
            type="quiz",
            correct_option_ids=[question.answer],  # type: ignore[list-item]  # ≤ 12 options
            explanation=explanation,
            message_thread_id=target.thread_id,
        )
        assert sent.poll is not None
        asked = Asked(sent.poll.id, target.chat_id, question.quote, question.answer)
        await svc.reading.asked(asked)

    await post(context, update, send_poll)


async def answered(update: Update, context: BotContext) -> None:
    """Count a quiz answer once; in a private chat, tell the reader their score."""
    answer = update.poll_answer
    if answer is None or not answer.option_ids or answer.user is None:
        return  # a vote taken back, or an anonymous one: nothing to count
    user = answer.user
    result = await context.services.reading.answer(
        answer.poll_id, user.id, answer.option_ids[0], user.full_name
    )
    if result is not None and result.counted:
        await activity.count_user(context, user.id)  # answering a quiz is reading too
    if result is None or not result.counted or result.asked.chat_id != user.id:
        return  # not our poll; a repeat; or a group's, whose board /quiz 排行 shows
    script = await reader_script(context, update)
    quote = context.services.library.quote(result.asked.quote, script)
    assert quote is not None
    template = texts.QUIZ_RIGHT if result.right else texts.QUIZ_WRONG
    text = t(
        template,
        script,
        label=quote.date.label,
        right=result.score.right,
        answered=result.score.answered,
    )
    reply = render.Rendered(text, keyboards.quiz_again(script))
    await sender.send(context.bot, sender.Target(user.id), reply, chats=context.services.chats)
