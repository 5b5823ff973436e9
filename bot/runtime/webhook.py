"""Registering the webhook with Telegram: only when something differs, never dropping updates.

A rolling restart of N replicas calls this N times; Telegram holds pending updates for the
bot meanwhile, so ``drop_pending_updates`` is never sent. Telegram does not reveal the
secret a webhook was set with: a digest of the one we set is kept in the database, so a
changed secret is noticed too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from telegram import Bot

from bot.config import Settings
from bot.store import Store

_SECRET_KEY = "webhook_secret_sha256"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def register(bot: Bot, settings: Settings, store: Store, allowed: Sequence[str]) -> str:
    """Set the webhook unless Telegram already has exactly this one; say which it was."""
    assert settings.webhook_url is not None and settings.webhook_secret is not None
    info = await bot.get_webhook_info()
    same = (
        info.url == settings.webhook_url
        and sorted(info.allowed_updates or ()) == sorted(allowed)
        and info.max_connections == settings.webhook_max_connections
        and await store.get_meta(_SECRET_KEY) == _digest(settings.webhook_secret)
    )
    if same:
        return f"the webhook is registered already: {settings.webhook_url}"
    await bot.set_webhook(
        settings.webhook_url,
        secret_token=settings.webhook_secret,
        allowed_updates=list(allowed),
        max_connections=settings.webhook_max_connections,
    )
    await store.set_meta(_SECRET_KEY, _digest(settings.webhook_secret))
    return f"registered the webhook: {settings.webhook_url}"


async def ensure_webhook(settings: Settings) -> str:
    """``python -m bot set-webhook``: register TELEGRAM_WEBHOOK_URL and exit."""
    from bot.app import ALLOWED_UPDATES
    from bot.ops.failures import StartupError

    if settings.webhook_url is None:
        raise StartupError("set TELEGRAM_WEBHOOK_URL (and TELEGRAM_WEBHOOK_SECRET) first")
    store = Store(settings.database_url)
    try:
        await store.open()
        async with _bot(settings) as bot:
            return await register(bot, settings, store, ALLOWED_UPDATES)
    finally:
        await store.close()


async def delete_webhook(settings: Settings) -> str:
    """``python -m bot delete-webhook``: back to polling; Telegram keeps pending updates."""
    async with _bot(settings) as bot:
        await bot.delete_webhook(drop_pending_updates=False)
    return "deleted the webhook; python -m bot polls again (pending updates were kept)"


def _bot(settings: Settings) -> Bot:
    from bot.telegram_io.transport import AiohttpRequest

    return Bot(
        settings.token,
        base_url=settings.base_url or "https://api.telegram.org/bot",
        request=AiohttpRequest(connection_pool_size=2),
    )
