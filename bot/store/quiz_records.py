"""Quiz questions asked, answers counted once each, and scores per chat."""

from __future__ import annotations

from sqlalchemy import and_, desc, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.rules.quiz_questions import Answered, Asked, Score, Standing
from bot.store.engine import insert_or_ignore, now
from bot.store.schema import quiz_answers, quiz_polls, quiz_scores


class Quiz:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def asked(self, question: Asked) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                insert_or_ignore(conn, quiz_polls).values(
                    poll_id=question.poll_id,
                    chat_id=question.chat_id,
                    quote=question.quote,
                    answer=question.answer,
                    asked_at=now(),
                )
            )

    async def recent(self, chat_id: int, count: int) -> list[int]:
        """Return the quotes last asked in a chat, newest first."""
        query = (
            select(quiz_polls.c.quote)
            .where(quiz_polls.c.chat_id == chat_id)
            .order_by(desc(quiz_polls.c.asked_at))
            .limit(count)
        )
        async with self.engine.connect() as conn:
            return [int(q) for q in (await conn.execute(query)).scalars()]

    async def answer(self, poll_id: str, user_id: int, choice: int, name: str) -> Answered | None:
        """Record a person's answer once; None for a poll this bot did not ask."""
        async with self.engine.begin() as conn:
            row = (
                await conn.execute(select(quiz_polls).where(quiz_polls.c.poll_id == poll_id))
            ).first()
            if row is None:
                return None
            asked = Asked(row.poll_id, row.chat_id, row.quote, row.answer)
            right = choice == asked.answer
            first = await conn.execute(
                insert_or_ignore(conn, quiz_answers)
                .values(poll_id=poll_id, user_id=user_id, right=right)
                .returning(quiz_answers.c.user_id)
            )
            counted = first.first() is not None
            key = and_(quiz_scores.c.chat_id == asked.chat_id, quiz_scores.c.user_id == user_id)
            await conn.execute(
                insert_or_ignore(conn, quiz_scores).values(
                    chat_id=asked.chat_id, user_id=user_id, name=name[:128]
                )
            )
            if counted:
                await conn.execute(
                    update(quiz_scores)
                    .where(key)
                    .values(
                        answered=quiz_scores.c.answered + 1,
                        right=quiz_scores.c.right + (1 if right else 0),
                        name=name[:128],
                    )
                )
            score = (
                await conn.execute(select(quiz_scores.c.answered, quiz_scores.c.right).where(key))
            ).one()
        return Answered(asked, right, counted, Score(score.answered, score.right))

    async def score(self, chat_id: int, user_id: int) -> Score:
        key = and_(quiz_scores.c.chat_id == chat_id, quiz_scores.c.user_id == user_id)
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(select(quiz_scores.c.answered, quiz_scores.c.right).where(key))
            ).first()
        return Score(row.answered, row.right) if row else Score()

    async def board(self, chat_id: int, limit: int = 10) -> list[Standing]:
        """Return who answered right most often in a chat, best first."""
        query = (
            select(quiz_scores.c.name, quiz_scores.c.right, quiz_scores.c.answered)
            .where(and_(quiz_scores.c.chat_id == chat_id, quiz_scores.c.answered > 0))
            .order_by(desc(quiz_scores.c.right), quiz_scores.c.answered, quiz_scores.c.name)
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            return [Standing(n, r, a) for n, r, a in (await conn.execute(query)).all()]
