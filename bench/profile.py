"""Where the bot's CPU time goes: cProfile of the paced fan-out and of commands on PostgreSQL.

    .venv/bin/python -m bench.profile                 # both, top 25 functions each
    .venv/bin/python -m bench.profile paid --top 40   # one of them

The bot runs as in the benchmark (a subprocess against the fake Bot API) under cProfile on
CPU time (``bench.profiled``); the top costs, by own time and by cumulative time, go to
``bench/results/profile-<name>.txt``.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import pstats
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench import databases, scenarios
from bench.databases import POSTGRES
from bot.content import Library

RESULTS = Path(__file__).resolve().parent / "results"


async def _paid(library: Library, out: Path) -> object:
    """A paid broadcast to 5,000 chats at 1,000/s (the paced path)."""
    return await scenarios.fanout_ours(5000, limited=True, paid=True, profile=out)


async def _postgres(library: Library, out: Path) -> object:
    """Commands at 200/s for 10 s on PostgreSQL (ledger, streak, chat, reply)."""
    if missing := await databases.postgres_missing():
        raise SystemExit(f"postgres: {missing}")
    return await scenarios.latency(
        "ours", library, seconds=10, warmup=1, database=POSTGRES, profile=out
    )


PROFILES: dict[str, Callable[[Library, Path], Awaitable[object]]] = {
    "paid": _paid,
    "postgres": _postgres,
}


def summary(prof: Path, top: int) -> str:
    """The top ``top`` functions by own time, then by cumulative time."""
    text = io.StringIO()
    stats = pstats.Stats(str(prof), stream=text).strip_dirs()
    total = stats.total_tt  # type: ignore[attr-defined]
    text.write(f"total CPU in profiled code: {total:.2f} s\n\n")
    for order in ("tottime", "cumulative"):
        text.write(f"=== by {order} ===\n")
        stats.sort_stats(order).print_stats(top)
    return text.getvalue()


async def _run(names: list[str], top: int) -> None:
    library = scenarios.load()
    for name in names:
        with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
            prof = Path(tmp) / f"{name}.prof"
            figures = await PROFILES[name](library, prof)
            report = summary(prof, top)
        (RESULTS / f"profile-{name}.txt").write_text(f"{figures}\n\n{report}", encoding="utf-8")
        print(f"--- {name}: {figures}\n{report}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    # No choices= here: argparse checks a nargs="*" default against them as one value.
    parser.add_argument("names", nargs="*", metavar="NAME", help=", ".join(PROFILES))
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(PROFILES))
    if unknown:
        parser.error(f"unknown profile(s) {', '.join(unknown)}; choose from {', '.join(PROFILES)}")
    asyncio.run(_run(args.names or list(PROFILES), args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
