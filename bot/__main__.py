"""``python -m bot``: run the bot with long polling, or ``--console`` to try it offline."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from bot.config import ConfigError, Settings, load_settings
from bot.content import ArticleError


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=level, stream=sys.stderr
    )
    # httpx/aiohttp would log request URLs, and a URL holds the token.
    for noisy in ("httpx", "httpcore", "aiohttp.access", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


async def _run_polling(settings: Settings) -> None:
    from bot.app import build_application, running

    app = build_application(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with running(app):
        logging.getLogger("bot").info("bot @%s is running", app.bot.username)
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument(
        "--console", action="store_true", help="chat with the bot in this terminal, offline"
    )
    args = parser.parse_args(argv)
    try:
        if args.console:
            from bot.console import console_settings

            settings = console_settings()
        else:
            settings = load_settings()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _configure_logging(settings.log_level if not args.console else "WARNING")
    try:
        if args.console:
            from bot.console import run_console

            asyncio.run(run_console(settings))
        else:
            asyncio.run(_run_polling(settings))
    except ArticleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
