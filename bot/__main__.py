"""``python -m bot``: run the bot with long polling, or ``--console`` to try it offline."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from bot.config import ConfigError, Settings, load_settings
from bot.content import ArticleError


class _RedactingFormatter(logging.Formatter):
    """Format log lines with the bot token blanked out.

    PTB logs its API URLs at DEBUG, and an URL holds the token; so may an exception's text.
    Redacting the finished line covers messages, arguments and tracebacks alike.
    """

    def __init__(self, fmt: str, secrets: list[str]) -> None:
        super().__init__(fmt)
        self._secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        for secret in self._secrets:
            line = line.replace(secret, "<token>")
        return line


def _configure_logging(level: str, token: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    # The whole token, and its secret half alone (it may appear URL-quoted or split).
    secrets = [token, token.partition(":")[2]]
    handler.setFormatter(
        _RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets)
    )
    logging.basicConfig(level=level, handlers=[handler])
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
    _configure_logging(settings.log_level if not args.console else "WARNING", settings.token)
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
