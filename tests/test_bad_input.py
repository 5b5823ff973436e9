"""Bad input that used to escape: each gets a quiet answer and at most one log line."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import pytest

from bot.runtime import web
from bot.telegram_io.transport import skip_unreadable
from fake_telegram import FakeTelegram
from fake_telegram import factories as u
from tests.conftest import BotRunner, Harness, free_port
from tests.test_webhook import webhook_env


async def test_a_message_without_a_chat_is_ignored(bot: Harness) -> None:
    update = u.command("/next", 7101)
    del update["message"]["chat"]
    bot.fake.push_raw(update)
    [reply] = await bot.command("/quote 4", 7101)
    assert "細節決定成敗" in reply.plain_text


async def test_a_403_for_a_chat_not_yet_stored_is_quiet(bot: Harness) -> None:
    bot.fake.block(7102)
    await bot.processed(u.command("/quote 4", 7102))
    await bot.processed(u.command("/help", 7102))
    bot.fake.unblock(7102)
    [reply] = await bot.command("/quote 4", 7102)
    assert "細節決定成敗" in reply.plain_text


async def test_messages_without_a_chat_of_every_kind_are_ignored(bot: Harness) -> None:
    senders = iter(range(7110, 7200))  # one each: fifteen from one user would be a flood
    for key in ("message", "edited_message", "channel_post"):
        for text in ("/start", "/subscribe 08:00", "你好", "/card 3", "/stats"):
            update = u.command(text, next(senders))
            body = update.pop("message")
            del body["chat"]
            bot.fake.push_raw({key: body})
            del body["from"]
            bot.fake.push_raw({key: body})
    [reply] = await bot.command("/quote 4", 7103)
    assert "細節決定成敗" in reply.plain_text


async def test_an_update_without_an_integer_id_does_not_block_polling(bot: Harness) -> None:
    queue = bot.fake.updates
    for odd in (3.5, True):  # ones the fake can still confirm by offset
        queue.pending.append({"update_id": odd, **u.command("/next", 7105)})
    queue.wake_poller("update")
    [reply] = await bot.command("/quote 4", 7105)
    assert "細節決定成敗" in reply.plain_text
    assert bot.fake.sent_count(7105) == 1  # the odd ones were not handled


def test_updates_without_an_integer_id_are_left_out_of_a_batch() -> None:
    batch = [{"update_id": odd, **u.command("/next", 7106)} for odd in ("7", None, [1], 2.0)]
    batch.append({"update_id": 1009, **u.command("/next", 7106)})
    batch.append({"update_id": 1010, "message": {"message_id": "x"}})
    body = json.dumps({"ok": True, "result": batch}).encode()
    kept = json.loads(skip_unreadable(body))["result"]
    assert [k["update_id"] for k in kept] == [1009, 1010]
    assert kept[1] == {"update_id": 1010}


async def test_webhook_refuses_impossible_ids_and_deep_nesting_with_one_line(
    fake: FakeTelegram, run_bot: BotRunner, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    fake.webhook_targets = [f"http://127.0.0.1:{port}"]
    async with run_bot(**webhook_env(port)) as bot:
        deep = "[" * 100_000 + "]" * 100_000
        deep_update = '{"update_id": 5, "message": ' + "[" * 5000 + "]" * 5000 + "}"
        bodies = [
            json.dumps({"update_id": 2**70, **u.command("/start", 6101)}),
            json.dumps({"update_id": -1, **u.command("/start", 6101)}),
            json.dumps({"update_id": True, **u.command("/start", 6101)}),
            deep,
            deep_update,
        ]
        for body in bodies:
            caplog.clear()
            with caplog.at_level(logging.INFO, logger="bot"):
                status, _ = await fake.post_webhook(body)
            assert status == 400
            lines = [r for r in caplog.records if r.name.startswith("bot")]
            assert len(lines) == 1 and "Traceback" not in caplog.text
        assert fake.sent_count(6101) == 0
        [reply] = await bot.command("/quote 5", 6102)
        assert "市民" in reply.plain_text


async def test_a_client_that_never_finishes_its_headers_is_cut_off(
    fake: FakeTelegram, run_bot: BotRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(web, "HEADER_TIMEOUT", 0.5)
    port = free_port()
    async with run_bot(HTTP_PORT=str(port)):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
        await writer.drain()
        started = time.monotonic()
        async with asyncio.timeout(10):
            assert await reader.read() == b""  # the server hung up
        assert time.monotonic() - started < 5
        writer.close()
        # a client that sends its request in time is served as before
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        async with asyncio.timeout(10):
            answer = await reader.read()
        assert answer.startswith(b"HTTP/1.1 200")
        writer.close()


async def test_a_refused_call_is_logged_with_its_method_status_and_description(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    bot.fake.fail_next("sendMessage", 400, "Bad Request: can't parse entities", chat_id=7107)
    with caplog.at_level(logging.INFO):
        await bot.processed(u.command("/quote 4", 7107))
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.handlers.fallback"]
    assert lines == ["Telegram refused sendMessage: 400 Can't parse entities"]
    assert "in time" not in caplog.text
    bot.errors.clear()


async def test_a_call_unanswered_in_time_says_so_and_names_its_method(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    bot.fake.delay("sendMessage", 30)
    with caplog.at_level(logging.INFO):
        await bot.processed(u.command("/quote 4", 7108), timeout=60)
    bot.fake.delay("sendMessage", None)
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.handlers.fallback"]
    assert lines == ["Telegram did not answer sendMessage in time"]
    bot.errors.clear()


async def test_webhook_messages_without_a_chat_are_answered_and_ignored(
    fake: FakeTelegram, run_bot: BotRunner
) -> None:
    port = free_port()
    fake.webhook_targets = [f"http://127.0.0.1:{port}"]
    async with run_bot(**webhook_env(port)) as bot:
        for n, text in enumerate(("/start", "/next", "你好", "/subscribe 08:00")):
            update = u.command(text, 7120 + n)
            del update["message"]["chat"]
            status, _ = await fake.post_webhook({"update_id": 50_000 + n, **update})
            assert status == 200
        [reply] = await bot.command("/quote 5", 7130)
        assert "市民" in reply.plain_text
