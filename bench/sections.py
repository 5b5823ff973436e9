"""The first benchmark sections: latency, fan-out, memory, start-up, script conversion.

Each section runs its scenario's repetitions (ours and the baseline interleaved) and returns
the report's section: medians, ratios, the target and whether it was met.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench import scenarios
from bench.databases import SQLITE
from bench.plans import ECHO_SAME, ECHO_STOCK, Plan
from bench.stats import JSON, alternate, log, median, merge, ratio
from bot.content import Library

# The targets.
FANOUT_TARGET = 1000.0  # msgs/s with flood control off
LIMIT_FRACTION_TARGET = 0.95  # of 30/s with Telegram-like flood control on
MEMORY_GROWTH_TARGET_MB = 30.0  # 0 → 100,000 chats
# Ours / the aiohttp echo bot at p50 and p99: on SQLite, and on PostgreSQL (where the echo
# needs no database and ours makes its round trips), whose CPU per update has a cap too.
LATENCY_TARGETS = {"sqlite": (1.5, 2.0, None), "postgresql": (3.0, 5.0, 2.0)}
STARTUP_RATIO_TARGET = 2.0  # to the first getUpdates, ours / the echo bot
MEMORY_RATIO_TARGET = 1.5  # peak RSS after start-up and a few commands, ours / the echo bot
SCRIPT_RATIO_TARGET = 1.5  # simplified / traditional: serving the other script is a lookup
MUST_BE_ZERO = ("http_429", "duplicates", "misses", "retry_after_violations")


def script_conversion(library: Library) -> JSON:
    log("script conversion")
    conv = scenarios.script_conversion(library)
    conv["simplified_over_traditional"] = conv["simplified_us"] / conv["traditional_us"]
    conv["on_the_fly_over_simplified"] = conv["on_the_fly_t2s_us"] / conv["simplified_us"]
    conv["met"] = conv["simplified_over_traditional"] <= SCRIPT_RATIO_TARGET
    return conv


async def startup(plan: Plan) -> JSON:
    """Seconds to the first getUpdates (ours creates and migrates its database first)."""
    log("start-up")
    ups = await alternate(
        plan.startup_reps,
        {
            "ours": lambda: scenarios.startup("ours"),
            "echo": lambda: scenarios.startup("echo", ECHO_SAME),
        },
        "startup",
    )
    result: JSON = {"ours_s": median(ups["ours"]), "echo_s": median(ups["echo"]), "reps": ups}
    result["ratio"] = ratio(result["ours_s"], result["echo_s"])
    result["target_ratio"] = STARTUP_RATIO_TARGET
    result["met"] = result["ratio"] is not None and result["ratio"] <= STARTUP_RATIO_TARGET
    return result


async def latency(
    plan: Plan, library: Library, *, reps: int | None = None, database: str = SQLITE
) -> JSON:
    log(f"latency ({database})")
    runs: dict[str, Callable[[], Awaitable[Any]]] = {
        "ours": lambda: scenarios.latency(
            "ours",
            library,
            seconds=plan.latency_seconds,
            warmup=plan.latency_warmup,
            database=database,
        ),
        "echo": lambda: scenarios.latency(
            "echo",
            library,
            seconds=plan.latency_seconds,
            warmup=plan.latency_warmup,
            echo_args=ECHO_SAME,
        ),
    }
    lat = await alternate(plan.latency_reps if reps is None else reps, runs, "latency")
    result: JSON = {
        "load": {
            "updates_per_s": 200,
            "users": 1000,
            "seconds": plan.latency_seconds,
            "warmup_s": plan.latency_warmup,
            "commands": ["/quote N", "/date D", "/next"],
            "database": database,
        },
        "ours": merge(lat["ours"]),
        "echo": merge(lat["echo"]),
    }
    if plan.stock_echo and database == SQLITE:
        stock = await scenarios.latency(
            "echo_stock",
            library,
            seconds=plan.latency_seconds,
            warmup=plan.latency_warmup,
            echo_args=ECHO_STOCK,
        )
        log("latency echo_stock done")
        result["echo_stock_ptb"] = stock
    result["ratio_p50"] = ratio(result["ours"]["p50_ms"], result["echo"]["p50_ms"])
    result["ratio_p99"] = ratio(result["ours"]["p99_ms"], result["echo"]["p99_ms"])
    p50, p99, cpu_ms = LATENCY_TARGETS[database]
    result["target_ratio_p50"], result["target_ratio_p99"] = p50, p99
    for q, target in (("p50", p50), ("p99", p99)):
        value = result[f"ratio_{q}"]
        result[f"met_{q}"] = value is not None and value <= target
    if cpu_ms is not None:
        result["target_cpu_ms_per_update"] = cpu_ms
        result["met_cpu"] = result["ours"]["cpu_ms_per_update"] <= cpu_ms
    result["reps"] = lat
    return result


async def _fanout(
    library: Library, chats: int, reps: int, *, limited: bool, database: str
) -> JSON:
    """Ours and the bare-PTB baseline delivering to ``chats``, interleaved, merged to medians.

    Counts that must be zero are reported as their worst repetition, not a median.
    """
    flood = "on" if limited else "off"
    log(f"fan-out, flood control {flood}, {chats} chats ({database})")
    payload = scenarios.digest_payload(library)
    runs = await alternate(
        reps,
        {
            "ours": lambda: scenarios.fanout_ours(chats, limited=limited, database=database),
            "baseline": lambda: scenarios.fanout_baseline(chats, payload, limited=limited),
        },
        "limited" if limited else "fanout",
    )
    result: JSON = merge(runs["ours"])
    result["database"] = database
    result["baseline"] = merge(runs["baseline"])
    for key in MUST_BE_ZERO:
        result[key] = max(r[key] for r in runs["ours"])
        result["baseline"][key] = max(r[key] for r in runs["baseline"])
    result["reps"] = runs
    return result


async def fanout_unlimited(
    plan: Plan, library: Library, *, reps: int | None = None, database: str = SQLITE
) -> JSON:
    count = plan.fanout_reps if reps is None else reps
    result = await _fanout(library, plan.fanout_chats, count, limited=False, database=database)
    result["ratio_msgs_per_s"] = ratio(result["msgs_per_s"], result["baseline"]["msgs_per_s"])
    result["ratio_cpu"] = ratio(result["cpu_s_per_1000"], result["baseline"]["cpu_s_per_1000"])
    result["target_msgs_per_s"] = FANOUT_TARGET
    result["met"] = result["msgs_per_s"] >= FANOUT_TARGET and result["misses"] == 0
    return result


async def fanout_limited(
    plan: Plan, library: Library, *, reps: int | None = None, database: str = SQLITE
) -> JSON:
    count = plan.limited_reps if reps is None else reps
    result = await _fanout(library, plan.limited_chats, count, limited=True, database=database)
    result["ratio_fraction"] = ratio(
        result["fraction_of_limit"], result["baseline"]["fraction_of_limit"]
    )
    result["met"] = (
        result["fraction_of_limit"] >= LIMIT_FRACTION_TARGET
        and result["http_429"] == 0
        and result["duplicates"] == 0
        and result["misses"] == 0
    )
    return result


async def memory(plan: Plan) -> JSON:
    log(f"memory, 0 and {plan.memory_chats} chats")
    with tempfile.TemporaryDirectory(prefix="bench-memdb-") as tmp:
        big = Path(tmp) / "big.db"
        due = int(time.time()) + scenarios.FAR_FUTURE
        await scenarios.make_db(big, scenarios.MEMORY_CHAT_BASE, plan.memory_chats, due)
        mem = await alternate(
            plan.memory_reps,
            {
                "ours_0": lambda: scenarios.memory("ours", None),
                "ours_100k": lambda: scenarios.memory("ours", big),
                "echo": lambda: scenarios.memory("echo", None),
            },
            "memory",
        )
    result: JSON = {
        "rss_mb_0": median([r["peak_rss_mb"] for r in mem["ours_0"]]),
        "rss_mb_100k": median([r["peak_rss_mb"] for r in mem["ours_100k"]]),
        "echo_rss_mb": median([r["peak_rss_mb"] for r in mem["echo"]]),
        "chats": plan.memory_chats,
        "measure": "peak RSS (VmHWM) after start-up and " + ", ".join(scenarios.MEMORY_COMMANDS),
    }
    result["growth_mb"] = result["rss_mb_100k"] - result["rss_mb_0"]
    result["ratio_to_echo"] = ratio(result["rss_mb_0"], result["echo_rss_mb"])
    # A restart over a database already at head (the everyday start) loads no Alembic.
    result["ratio_to_echo_at_head"] = ratio(result["rss_mb_100k"], result["echo_rss_mb"])
    result["target_growth_mb"] = MEMORY_GROWTH_TARGET_MB
    result["met"] = result["growth_mb"] <= MEMORY_GROWTH_TARGET_MB
    result["target_ratio_to_echo"] = MEMORY_RATIO_TARGET
    result["met_ratio"] = (
        result["ratio_to_echo"] is not None and result["ratio_to_echo"] <= MEMORY_RATIO_TARGET
    )
    result["reps"] = mem
    return result
