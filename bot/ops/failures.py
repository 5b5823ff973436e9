"""Errors the bot reports to its operator as one line (no traceback)."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

# Exit codes an init system can act on (sysexits.h): fix the configuration and do not
# restart, or restart with back-off because something the bot needs is not there yet.
EXIT_CONFIG = 2
EXIT_TEMPFAIL = 75


class StartupError(Exception):
    """The bot cannot start; the message says what is wrong and how to fix it (exit 2)."""


class DependencyUnavailable(StartupError):
    """Something the bot needs (its database) does not answer at start-up (exit 75):
    nothing to fix in the configuration; starting again later may well work."""


class Stopping(Exception):
    """A send gave up waiting for its turn because the bot is stopping."""


def describe_db_error(error: BaseException) -> str:
    """Return a database error as one short line (the driver's own words, first line)."""
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    text = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    return text[:200]
