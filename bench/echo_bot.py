"""The baseline: a bare python-telegram-bot program, run as its own process like the bot.

Two modes, both plain PTB with nothing of ours except (optionally) the transport:

* echo (default): an Application with one handler that replies with the text it got;
* ``--broadcast N``: a Bot that sends one given message to N chats once a line arrives on
  stdin: the floor any digest fan-out pays for PTB plus HTTP, to compare the bot's against
  (``--paid``: as paid broadcasts, allow_paid_broadcast);
* ``--broadcast N --echo``: both at once, the echo polling while the broadcast goes out:
  with ``--rate-limit`` every message waits in AIORateLimiter's one line, replies behind
  the broadcast's queued sends - the "before" of the bot's reply lane.

``--transport aiohttp`` uses ``bot.telegram_io.transport.AiohttpRequest`` (the bot's transport,
so a ratio isolates the bot's own work); ``--transport httpx`` is stock PTB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest, HTTPXRequest


def _request(transport: str, pool: int, read_timeout: float = 10.0) -> BaseRequest:
    if transport == "aiohttp":
        from bot.telegram_io.transport import AiohttpRequest

        return AiohttpRequest(connection_pool_size=pool, read_timeout=read_timeout)
    return HTTPXRequest(connection_pool_size=pool, read_timeout=read_timeout)


def _builder(args: argparse.Namespace) -> ApplicationBuilder:
    builder = (
        ApplicationBuilder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(os.environ["TELEGRAM_BASE_URL"])
    )
    if args.transport == "aiohttp" or args.concurrency > 1:
        # Same pool sizes as the bot, so neither side waits on connections the other has.
        builder = builder.request(_request(args.transport, args.concurrency + 8))
        builder = builder.get_updates_request(_request(args.transport, 2, read_timeout=40))
    if args.concurrent_updates > 1:
        builder = builder.concurrent_updates(args.concurrent_updates)
    if args.rate_limit > 0:
        # As the bot configures it: retry a 429 up to three times after its retry_after.
        limiter = AIORateLimiter(
            overall_max_rate=args.rate_limit,
            overall_time_period=1,
            group_max_rate=20,
            group_time_period=60,
            max_retries=3,
        )
        # The builder's type says "no rate limiter" until one is set; PTB's own stubs say so.
        builder = builder.rate_limiter(limiter)  # type: ignore[arg-type]
    return builder


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is not None and message.text:
        await message.reply_text(message.text)


def _run_echo(args: argparse.Namespace) -> None:
    app = _builder(args).build()
    app.add_handler(MessageHandler(filters.TEXT, _echo))
    # run_polling handles SIGTERM itself and shuts down cleanly.
    app.run_polling(allowed_updates=Update.ALL_TYPES, poll_interval=0, timeout=30)


async def _broadcast(args: argparse.Namespace) -> None:
    app: Application = _builder(args).build()
    payload = json.loads(Path(args.message).read_text(encoding="utf-8"))
    markup = InlineKeyboardMarkup.de_json(payload.get("markup"), None)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    if args.echo:
        app.add_handler(MessageHandler(filters.TEXT, _echo))
    async with app:
        if args.echo:
            assert app.updater is not None
            await app.start()
            await app.updater.start_polling(
                allowed_updates=Update.ALL_TYPES, poll_interval=0, timeout=30
            )
        print("READY", flush=True)
        # Wait for the go-ahead, so the driver can read our CPU time just before sending.
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        semaphore = asyncio.Semaphore(args.concurrency)

        async def one(chat_id: int) -> None:
            async with semaphore:
                await app.bot.send_message(
                    chat_id,
                    payload["text"],
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                    allow_paid_broadcast=True if args.paid else None,
                )

        first = args.first_chat
        outcomes = await asyncio.gather(
            *(one(c) for c in range(first, first + args.broadcast)), return_exceptions=True
        )
        # A failed send is a miss the driver counts at the fake; say why here.
        failed = [o for o in outcomes if isinstance(o, BaseException)]
        print(f"DONE failed={len(failed)} {failed[:1]!r}", file=sys.stderr, flush=True)
        await stop.wait()
        if args.echo:
            assert app.updater is not None
            await app.updater.stop()
            await app.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.echo_bot", description=__doc__)
    parser.add_argument("--transport", choices=("aiohttp", "httpx"), default="aiohttp")
    parser.add_argument("--concurrent-updates", type=int, default=64)
    parser.add_argument("--concurrency", type=int, default=32, help="messages in flight")
    parser.add_argument("--rate-limit", type=int, default=0, help="AIORateLimiter msgs/s")
    parser.add_argument("--broadcast", type=int, default=0, help="send to N chats and wait")
    parser.add_argument("--first-chat", type=int, default=1)
    parser.add_argument("--message", help="JSON file with text and markup to broadcast")
    parser.add_argument("--paid", action="store_true", help="broadcast with allow_paid_broadcast")
    parser.add_argument("--echo", action="store_true", help="answer messages while broadcasting")
    args = parser.parse_args(argv)
    if args.broadcast:
        asyncio.run(_broadcast(args))
    else:
        _run_echo(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
