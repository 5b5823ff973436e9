"""Webhook mode in one process: registration only when something differs, the secret
checked, bad bodies refused, and an update Telegram delivers twice applied once."""

from __future__ import annotations

import json

from fake_telegram import FakeTelegram
from fake_telegram import factories as u
from tests.conftest import BotRunner, free_port, fresh_postgres

URL = "https://bot.example.org/telegram/hook"
SECRET = "s3cret_Token-1"


def webhook_env(port: int, **extra: str) -> dict[str, str]:
    return {
        "TELEGRAM_WEBHOOK_URL": URL,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "HTTP_PORT": str(port),
        **extra,
    }


async def test_webhook_mode_registers_once_serves_updates_and_never_polls(
    fake: FakeTelegram, run_bot: BotRunner
) -> None:
    fake.set_webhook_interval = 0
    port = free_port()
    fake.webhook_targets = [f"http://127.0.0.1:{port}"]
    async with run_bot(**webhook_env(port)) as bot:
        [reply] = await bot.command("/quote 4", 6001)
        assert "細節決定成敗" in reply.plain_text
        await fake.wait_delivered()
        delivery = fake.deliveries[max(fake.deliveries)]
        assert delivery.statuses == [200]  # answered once handled
    assert fake.call_count("getUpdates") == 0
    [registered] = fake.calls_for("setWebhook")
    assert registered.params["url"] == URL and registered.params["secret_token"] == SECRET
    assert "drop_pending_updates" not in registered.params
    assert set(registered.params["allowed_updates"]) >= {"message", "callback_query"}

    # A restart with the same settings leaves Telegram's webhook alone.
    async with run_bot(**webhook_env(port)):
        pass
    assert fake.call_count("setWebhook") == 1
    # A new secret is noticed, although Telegram never shows the old one.
    async with run_bot(**webhook_env(port, TELEGRAM_WEBHOOK_SECRET="another_secret")):
        pass
    assert fake.call_count("setWebhook") == 2


async def test_wrong_or_missing_secret_is_refused_and_nothing_is_processed(
    fake: FakeTelegram, run_bot: BotRunner
) -> None:
    port = free_port()
    fake.webhook_targets = [f"http://127.0.0.1:{port}"]
    async with run_bot(**webhook_env(port)) as bot:
        update = {"update_id": 90_001, **u.command("/next", 6002)}
        for secret in ("wrong", ""):
            status, _ = await fake.post_webhook(update, secret=secret)
            assert status == 401
        assert fake.sent_count(6002) == 0
        assert await bot.services.store.chats.get(6002) is None  # nothing was applied


async def test_malformed_bodies_get_400_and_the_server_keeps_serving(
    fake: FakeTelegram, run_bot: BotRunner
) -> None:
    port = free_port()
    fake.webhook_targets = [f"http://127.0.0.1:{port}"]
    async with run_bot(**webhook_env(port)) as bot:
        for body in ("not json", json.dumps([1, 2]), json.dumps({"message": {}})):
            status, _ = await fake.post_webhook(body)
            assert status == 400
        [reply] = await bot.command("/quote 5", 6003)
        assert "市民" in reply.plain_text


async def test_an_update_delivered_twice_is_applied_once(
    fake: FakeTelegram, run_bot: BotRunner
) -> None:
    port = free_port()
    fake.webhook_targets = [f"http://127.0.0.1:{port}"]
    async with fresh_postgres() as url, run_bot(**webhook_env(port, DATABASE_URL=url)) as bot:
        update = {"update_id": 90_100, **u.command("/next", 6004)}
        update["message"]["message_id"] = 1
        fake.add_chats([6004])  # a raw POST does not introduce the chat to the fake
        first = await fake.post_webhook(update)
        again = await fake.post_webhook(update)  # Telegram's retry after a lost answer
        assert first[0] == again[0] == 200
        state = await bot.services.store.chats.get(6004)
        assert state is not None and state.progress == 1  # one section, not two
        assert fake.sent_count(6004) == 1
