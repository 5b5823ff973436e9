"""Errors the bot reports to its operator as one line (no traceback)."""

from __future__ import annotations


class StartupError(Exception):
    """The bot cannot start; the message says what is wrong and how to fix it."""


class TokenRevoked(Exception):
    """Telegram answered 401: the token was revoked or replaced."""


class Stopping(Exception):
    """A send gave up waiting for its turn because the bot is stopping."""
