"""Operator commands: /stats for the user ids in BOT_ADMIN_IDS, in a private chat only.

Everyone else gets the ordinary unknown-command reply, and the command is in no menu.
"""

from __future__ import annotations

import html
import time

from telegram import Update

from bot.handlers.common import BotContext, is_private, reader_script, say
from bot.handlers.membership import unknown_command
from bot.ops.metrics import bot_version
from bot.render import texts

_STARTED = time.monotonic()


async def stats(update: Update, context: BotContext) -> None:
    svc = context.services
    user = update.effective_user
    if not is_private(update) or user is None or user.id not in svc.settings.admin_ids:
        await unknown_command(update, context)
        return
    now = int(svc.clock().timestamp())
    figures = await svc.chats.stats(now)
    kinds, digests = figures.chats_by_kind, figures.digests
    uptime = int(time.monotonic() - _STARTED)
    script = await reader_script(context, update)
    text = texts.t(
        texts.STATS,
        script,
        private=kinds.get("private", 0),
        group=kinds.get("group", 0),
        supergroup=kinds.get("supergroup", 0),
        channel=kinds.get("channel", 0),
        subscribers=figures.subscribers,
        delivered=digests.get("delivered", 0),
        failed=digests.get("failed", 0),
        repeated=digests.get("repeated", 0),
        backlog=figures.backlog,
        lag=now - figures.oldest_due if figures.oldest_due is not None else 0,
        database={"postgresql": "PostgreSQL", "sqlite": "SQLite"}.get(figures.database, "?"),
        revision=figures.revision,
        version=bot_version(),
        uptime=texts.t(
            texts.STATS_UPTIME, script, hours=uptime // 3600, minutes=uptime % 3600 // 60
        ),
    )
    parked, reason = await svc.chats.parked()
    text += "\n" + texts.t(texts.STATS_PARKED, script, parked=parked)
    if reason:
        text += "\n" + texts.t(texts.STATS_PARKED_REASON, script, reason=html.escape(reason))
    await say(context, update, text)
