"""Run the fake as its own process.

    python -m fake_telegram --port 8081 [--flood] [--open-chats]

prints ``READY <port>`` and serves the Bot API and a control API under ``/_control/``
until SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import signal

from fake_telegram.factories import BOT_ID, BOT_USERNAME
from fake_telegram.server import DEFAULT_TOKEN, FakeTelegram


async def _serve(args: argparse.Namespace) -> None:
    """Run the fake until SIGTERM or SIGINT."""
    fake = FakeTelegram(
        args.token,
        bot_username=args.bot_username,
        bot_id=args.bot_id,
        flood_control=args.flood,
        open_chats=args.open_chats,
    )
    # A long-lived server keeps every record: rarer young-generation collections keep the
    # per-request cost flat as the heap grows.
    gc.set_threshold(50_000, 20, 100)
    await fake.start(args.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"READY {fake.port}", flush=True)
    await stop.wait()
    await fake.stop()


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and serve."""
    parser = argparse.ArgumentParser(description="Fake Telegram Bot API server")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--bot-username", default=BOT_USERNAME)
    parser.add_argument("--bot-id", type=int, default=BOT_ID)
    parser.add_argument("--flood", action="store_true", help="enable flood control")
    parser.add_argument("--open-chats", action="store_true", help="accept unknown chat ids")
    args = parser.parse_args(argv)
    asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
