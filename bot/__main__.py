"""``python -m bot``: run the bot; ``--console`` to try it offline; operator commands.

    python -m bot                   run (long polling, or webhook mode when configured)
    python -m bot --console         the same bot in this terminal, offline
    python -m bot migrate           bring the database schema up to date, then exit
    python -m bot migrate --down-to REVISION   take it back, before running an older release
    python -m bot set-webhook       register TELEGRAM_WEBHOOK_URL with Telegram, then exit
    python -m bot delete-webhook    go back to polling (pending updates are kept), then exit
    python -m bot copy-db --from URL --to URL [--force]   copy every row to another database
    python -m bot backup --to FILE [--force]   a consistent copy of the SQLite database, live

Every start-up failure is one line on stderr, secrets masked. Exit codes: 0 stopped as
asked, 2 a configuration to fix (restarting will not help), 75 (EX_TEMPFAIL) the database
does not answer at start-up (restart with back-off).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

# Opt in to PTB's timedelta RetryAfter.retry_after (delivery handles both forms) before PTB
# is imported (bot.ops.logs imports it): without it every 429 also raises a deprecation warning.
os.environ.setdefault("PTB_TIMEDELTA", "true")

from bot.config import ConfigError, Settings, load_settings, mask
from bot.content import ArticleError
from bot.ops import logs
from bot.ops.failures import EXIT_CONFIG, EXIT_TEMPFAIL, DependencyUnavailable, StartupError

log = logging.getLogger("bot")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--console", action="store_true", help="chat with the bot in this terminal, offline"
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (the default)")
    migrate = sub.add_parser("migrate", help="bring the database schema up to date, then exit")
    migrate.add_argument(
        "--down-to",
        metavar="REVISION",
        help="instead, take the schema back to REVISION (before running an older release)",
    )
    sub.add_parser("set-webhook", help="register TELEGRAM_WEBHOOK_URL with Telegram")
    sub.add_parser("delete-webhook", help="remove the webhook (pending updates are kept)")
    copy = sub.add_parser("copy-db", help="copy every row from one database to another")
    copy.add_argument("--from", dest="source", required=True, help="e.g. sqlite:///data/bot.db")
    copy.add_argument("--to", dest="target", required=True, help="e.g. postgresql://u:p@h/db")
    copy.add_argument(
        "--force", action="store_true", help="replace the target's rows even if it has some"
    )
    backup = sub.add_parser("backup", help="copy the SQLite database to FILE while it runs")
    backup.add_argument("--to", dest="target", required=True, type=Path, help="the new file")
    backup.add_argument("--force", action="store_true", help="replace FILE if it exists")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings: Settings | None = None
    try:
        if args.console:
            from bot.runtime.console import console_settings

            settings = console_settings()
        else:
            # Database commands run where the bot's token may not be (a migration job).
            settings = load_settings(
                need_token=args.command not in ("migrate", "copy-db", "backup")
            )
        level = "WARNING" if args.console else settings.log_level
        logs.configure(level, settings.log_format, settings.secrets)
        return asyncio.run(_dispatch(args, settings))
    except DependencyUnavailable as exc:
        _fail(str(exc), settings)
        return EXIT_TEMPFAIL
    except (ConfigError, StartupError, ArticleError) as exc:
        _fail(str(exc), settings)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 0


def _fail(message: str, settings: Settings | None) -> None:
    """Say why the bot stops in one line, as JSON when LOG_FORMAT asks (settings or not)."""
    fmt = settings.log_format if settings is not None else _format_asked()
    print(logs.startup_error(mask(message, settings), fmt), file=sys.stderr)


def _format_asked() -> str:
    """Return LOG_FORMAT as the environment or .env say, when the settings could not load."""
    from dotenv import dotenv_values

    env_file = Path.cwd() / ".env"
    values = dotenv_values(env_file) if env_file.is_file() else {}
    raw = os.environ.get("LOG_FORMAT") or values.get("LOG_FORMAT") or "text"
    return "json" if raw.strip().lower() == "json" else "text"


async def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.console:
        from bot.runtime.console import run_console

        await run_console(settings)
        return 0
    if args.command == "migrate":
        from bot.store import SchemaError, Store
        from bot.store.migrate import downgrade

        store = Store(settings.database_url)
        try:
            if args.down_to:
                try:
                    back = await downgrade(store.engine, args.down_to)
                except SchemaError as exc:
                    raise StartupError(str(exc)) from None
                print(f"took the database schema back from {back.before} to {back.after}")
                return 0
            done = await store.open()
        finally:
            await store.close()
        print(_describe(done.before, done.after, done.adopted))
        return 0
    if args.command in ("set-webhook", "delete-webhook"):
        from bot.runtime.webhook import delete_webhook, ensure_webhook

        if args.command == "set-webhook":
            print(await ensure_webhook(settings))
        else:
            print(await delete_webhook(settings))
        return 0
    if args.command == "copy-db":
        from bot.store.copy import copy_database

        report = await copy_database(args.source, args.target, force=args.force)
        print(report)
        return 0
    if args.command == "backup":
        from bot.store.backup import backup

        print(await backup(settings.database_url, args.target, force=args.force))
        return 0
    from bot.runtime.lifecycle import serve

    return await serve(settings)


def _describe(before: str | None, after: str, adopted: bool) -> str:
    if adopted:
        return f"adopted the first release's database and upgraded it to revision {after}"
    if before == after:
        return f"the database schema is current (revision {after})"
    return f"upgraded the database schema from {before or 'empty'} to revision {after}"


if __name__ == "__main__":
    sys.exit(main())
