"""Benchmarks, side by side with a bare python-telegram-bot baseline, in one command::

    .venv/bin/python -m bench.run            # full run (a few minutes), writes latest.json
    .venv/bin/python -m bench.run --quick    # short smoke run, same table and JSON shape
    .venv/bin/python -m bench.run --quick --only paid_broadcast,replicas  # some sections

Every figure is a median over repetitions, with ours and the baseline interleaved (ours,
baseline, ours, ...) so slow drift on a noisy machine hits both alike.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import psutil

from bench import scenarios, sections, sections_scale
from bench.plans import FULL, QUICK, Plan
from bench.stats import JSON, log
from bench.table import table
from bot.content import Library

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"

Section = Callable[[Plan, Library], Awaitable[JSON]]


async def _script_conversion(plan: Plan, library: Library) -> JSON:
    return sections.script_conversion(library)


# In the order they run; ``--only`` picks some of them.
SECTIONS: dict[str, Section] = {
    "script_conversion": _script_conversion,
    "startup": lambda plan, library: sections.startup(plan),
    "latency": sections.latency,
    "fanout_unlimited": sections.fanout_unlimited,
    "fanout_limited": sections.fanout_limited,
    "memory": lambda plan, library: sections.memory(plan),
    "interactive_during_fanout": sections_scale.interactive_during_fanout,
    "paid_broadcast": sections_scale.paid_broadcast,
    "paid_broadcast_replicas": sections_scale.paid_broadcast_replicas,
    "postgres": sections_scale.postgres,
    "replicas": lambda plan, library: sections_scale.replicas(plan),
    "replicas_interactive": sections_scale.replicas_interactive,
    "capacity": sections_scale.capacity,
}

METHOD = {
    "fake": "fake_telegram.FakeTelegram in the driver process, HTTP on 127.0.0.1; the "
    "driver's cyclic garbage collector is off during each section (its pauses stalled the "
    "fake)",
    "bots": "subprocesses: python -m bot; baseline python -m bench.echo_bot",
    "baseline_transport": "bot.telegram_io.transport.AiohttpRequest (same as ours); stock PTB "
    "httpx echo reported as latency.echo_stock_ptb",
    "latency": "hand-out by getUpdates (fake.handed_out_at) to the reply's arrival; "
    "ours with BOT_RATE_LIMIT=0 like the echo bot; both concurrent_updates=64",
    "fanout_baseline": "bare PTB Bot sending the digest's section-1 message to the same "
    "chats with the same concurrency (32) and, when limited, the same AIORateLimiter",
    "medians": "each figure is the median over repetitions; ours and baseline "
    "interleaved; must-be-zero counts are the worst repetition",
    "interactive_during_fanout": "the latency measure for commands at 5/s from distinct "
    "users while a digest to N chats goes out at BOT_RATE_LIMIT=30 under the fake's flood "
    "control; the first command once 30 digests arrived; before = bare PTB answering the "
    "same commands while broadcasting the same message through AIORateLimiter at 30/s",
    "paid_broadcast": "N chats due at once, BOT_PAID_BROADCAST=1 BOT_RATE_LIMIT=1000; the "
    "fake allows 1,000 paid sends per sliding second and 1/s per chat; fraction = msgs/s "
    "from first to last send over 1,000; baseline: bare PTB, same message as paid broadcasts, "
    "AIORateLimiter at 1,000/s, concurrency 32, to paid_baseline_chats chats",
    "postgres": "the latency and fan-out sections with DATABASE_URL on a fresh PostgreSQL "
    "database per run (the baselines need no database)",
    "replicas": "N processes of python -m bot on one fresh PostgreSQL database, polling "
    "mode (one polls, all deliver), the per-replica split from each one's /metrics "
    "bot_digests_total{result=delivered}; shared_budget: 3 replicas, one 30/s budget in "
    "Redis, the fake enforcing 30/s",
    "paid_broadcast_replicas": "as paid_broadcast, N replicas of python -m bot on one "
    "PostgreSQL sharing one 1,000/s budget in Redis (REDIS_URL, BOT_RATE_LIMIT=1000)",
    "replicas_interactive": "as interactive_during_fanout, N replicas on one PostgreSQL "
    "sharing one 30/s budget in Redis; one of them polls and replies, every one delivers",
    "capacity": "see capacity.search.how",
}


def _targets(report: JSON) -> JSON:
    """Each target met or not, for the sections that ran."""
    checks: dict[str, tuple[str, ...]] = {
        "latency_p50<=1.5x_echo": ("latency", "met_p50"),
        "latency_p99<=2x_echo": ("latency", "met_p99"),
        "fanout_unlimited_msgs_per_s>=1000": ("fanout_unlimited", "met"),
        "fanout_limited_>=95%_no_429_dup_miss": ("fanout_limited", "met"),
        "memory_growth<=30MB": ("memory", "met"),
        "memory_ratio_to_echo<=1.5": ("memory", "met_ratio"),
        "startup_ratio<=2": ("startup", "met"),
        "script_lookup<=1.5x": ("script_conversion", "met"),
        "interactive_during_fanout_p99<=250ms": ("interactive_during_fanout", "met"),
        "paid_broadcast_>=95%_no_429_dup_miss": ("paid_broadcast", "met"),
        "paid_broadcast_cpu_s_per_1000<=0.5": ("paid_broadcast", "met_cpu"),
        "postgres_latency_p50<=3x_echo": ("postgres", "latency", "met_p50"),
        "postgres_latency_p99<=5x_echo": ("postgres", "latency", "met_p99"),
        "postgres_cpu_ms_per_update<=2": ("postgres", "latency", "met_cpu"),
        "postgres_fanout_unlimited_msgs_per_s>=1000": ("postgres", "fanout_unlimited", "met"),
        "postgres_fanout_limited_>=95%_no_429_dup_miss": ("postgres", "fanout_limited", "met"),
        "replicas_shared_budget_>=95%_no_429_dup_miss": ("replicas", "shared_budget", "met"),
        "capacity_ours>=stock_echo": ("capacity", "met"),
        "paid_broadcast_2_replicas_>=95%_no_429_dup": ("paid_broadcast_replicas", "2", "met"),
        "replicas_interactive_3_p99<=250ms_and_2x_one": ("replicas_interactive", "met"),
    }
    targets: JSON = {}
    for name, path in checks.items():
        node: object = report
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if node is not None:
            targets[name] = node
    return targets


async def run(plan: Plan, quick: bool, only: list[str]) -> JSON:
    started = time.monotonic()
    library = scenarios.load()
    report: JSON = {
        "command": "python -m bench.run" + (" --quick" if quick else ""),
        "quick": quick,
        "finished_at": "",
        "machine": machine(),
        "method": METHOD,
    }
    durations: JSON = {}
    for name, section in SECTIONS.items():
        if only and name not in only:
            continue
        began = time.monotonic()
        # The fake Bot API runs in this process and keeps every message it received: with
        # the cyclic collector on, its full collections stall the fake for 100-400 ms at a
        # time as they grow, and each stall shows as a dip in whatever is being measured.
        # Collect between sections instead; reference counting frees the rest meanwhile.
        gc.collect()
        gc.disable()
        try:
            report[name] = await section(plan, library)
        finally:
            gc.enable()
        durations[name] = round(time.monotonic() - began, 1)
        log(f"{name} took {durations[name]}s")
    report["targets"] = _targets(report)
    report["section_durations_s"] = durations
    report["duration_s"] = round(time.monotonic() - started, 1)
    report["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    return report


def machine() -> JSON:
    return {
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": _cpu_model(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "os": platform.platform(),
        "python": platform.python_version(),
        "python_telegram_bot": metadata.version("python-telegram-bot"),
        "aiohttp": metadata.version("aiohttp"),
        "httpx": metadata.version("httpx"),
        "sqlalchemy": metadata.version("SQLAlchemy"),
        "aiosqlite": metadata.version("aiosqlite"),
        "opencc": metadata.version("opencc"),
        "psutil": metadata.version("psutil"),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short smoke run")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON")
    parser.add_argument(
        "--only",
        default="",
        metavar="NAME[,NAME]",
        help="run only these sections: " + ", ".join(SECTIONS),
    )
    args = parser.parse_args(argv)
    only = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = sorted(set(only) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    report = asyncio.run(run(QUICK if args.quick else FULL, args.quick, only))
    print(table(report))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(args.out)  # one copy of the latest run, never a half-written one
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
