"""Benchmarks, side by side with a bare python-telegram-bot baseline, in one command::

    .venv/bin/python -m bench.run            # full run (a few minutes), writes latest.json
    .venv/bin/python -m bench.run --quick    # short smoke run, same table and JSON shape

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
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

from bench import scenarios

JSON = dict[str, Any]
RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"

# The targets.
FANOUT_TARGET = 1000.0  # msgs/s with flood control off
LIMIT_FRACTION_TARGET = 0.95  # of 30/s with Telegram-like flood control on
MEMORY_GROWTH_TARGET_MB = 30.0  # 0 → 100,000 chats
STARTUP_RATIO_TARGET = 1.5  # ours / echo
LATENCY_RATIO_TARGET = 1.5  # ours / echo, for p50 and for p99
SCRIPT_RATIO_TARGET = 1.5  # simplified / traditional: serving the other script is a lookup


@dataclass(frozen=True)
class Plan:
    latency_reps: int
    latency_seconds: float
    latency_warmup: float
    fanout_chats: int
    fanout_reps: int
    limited_chats: int
    limited_reps: int
    memory_chats: int
    memory_reps: int
    startup_reps: int
    stock_echo: bool


FULL = Plan(
    latency_reps=5,
    latency_seconds=20,
    latency_warmup=3,
    fanout_chats=10_000,
    fanout_reps=3,
    limited_chats=750,
    limited_reps=2,
    memory_chats=100_000,
    memory_reps=2,
    startup_reps=7,
    stock_echo=True,
)
QUICK = Plan(
    latency_reps=1,
    latency_seconds=5,
    latency_warmup=1,
    fanout_chats=2_000,
    fanout_reps=1,
    limited_chats=120,
    limited_reps=1,
    memory_chats=100_000,
    memory_reps=1,
    startup_reps=2,
    stock_echo=False,
)
ECHO_SAME = ("--transport", "aiohttp", "--concurrent-updates", "64")
ECHO_STOCK = ("--transport", "httpx", "--concurrent-updates", "1")


def _log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _merge(reps: list[JSON]) -> JSON:
    """Median of every numeric field over repetitions (nested dicts too); keep the reps."""
    out: JSON = {}
    for key, first in reps[0].items():
        if isinstance(first, dict):
            out[key] = _merge([r[key] for r in reps if key in r])
        elif isinstance(first, int | float) and not isinstance(first, bool):
            out[key] = _median([r.get(key) for r in reps])
        else:
            out[key] = first
    return out


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


async def _alternate(
    reps: int, runs: dict[str, Callable[[], Awaitable[Any]]], label: str
) -> dict[str, list[Any]]:
    """Run each variant ``reps`` times, interleaved, and collect the results per variant."""
    results: dict[str, list[Any]] = {name: [] for name in runs}
    for rep in range(reps):
        for name, run in runs.items():
            # The fake lives in this process: freeze what earlier runs left behind, so a full
            # collection cannot pause the fake mid-run and bunch requests (a false 429).
            gc.collect()
            gc.freeze()
            started = time.monotonic()
            results[name].append(await run())
            _log(f"{label} {name} rep {rep + 1}/{reps}: {time.monotonic() - started:.1f}s")
    return results


async def run(plan: Plan, quick: bool) -> JSON:
    started = time.monotonic()
    library = scenarios.load()
    report: JSON = {
        "command": "python -m bench.run" + (" --quick" if quick else ""),
        "quick": quick,
        "finished_at": "",
        "machine": machine(),
        "method": {
            "fake": "tests.fake_telegram.FakeTelegram in the driver process, HTTP on 127.0.0.1",
            "bots": "subprocesses: python -m bot; baseline python -m bench.echo_bot",
            "baseline_transport": "bot.transport.AiohttpRequest (same as ours); stock PTB "
            "httpx echo reported as latency.echo_stock_ptb",
            "latency": "hand-out by getUpdates (fake.handed_out_at) to the reply's arrival; "
            "ours with BOT_RATE_LIMIT=0 like the echo bot; both concurrent_updates=64",
            "fanout_baseline": "bare PTB Bot sending the digest's section-1 message to the same "
            "chats with the same concurrency (32) and, when limited, the same AIORateLimiter",
            "medians": "each figure is the median over repetitions; ours and baseline "
            "interleaved; must-be-zero counts are the worst repetition",
        },
    }

    _log("script conversion")
    conv = scenarios.script_conversion(library)
    conv["simplified_over_traditional"] = conv["simplified_us"] / conv["traditional_us"]
    conv["on_the_fly_over_simplified"] = conv["on_the_fly_t2s_us"] / conv["simplified_us"]
    conv["met"] = conv["simplified_over_traditional"] <= SCRIPT_RATIO_TARGET
    report["script_conversion"] = conv

    _log("start-up")
    ups = await _alternate(
        plan.startup_reps,
        {
            "ours": lambda: scenarios.startup("ours"),
            "echo": lambda: scenarios.startup("echo", ECHO_SAME),
        },
        "startup",
    )
    startup: JSON = {
        "ours_s": _median(ups["ours"]),
        "echo_s": _median(ups["echo"]),
        "reps": ups,
    }
    startup["ratio"] = _ratio(startup["ours_s"], startup["echo_s"])
    startup["met"] = startup["ratio"] is not None and startup["ratio"] <= STARTUP_RATIO_TARGET
    report["startup"] = startup

    _log("latency")
    lat_runs: dict[str, Callable[[], Awaitable[Any]]] = {
        "ours": lambda: scenarios.latency(
            "ours", library, seconds=plan.latency_seconds, warmup=plan.latency_warmup
        ),
        "echo": lambda: scenarios.latency(
            "echo",
            library,
            seconds=plan.latency_seconds,
            warmup=plan.latency_warmup,
            echo_args=ECHO_SAME,
        ),
    }
    lat = await _alternate(plan.latency_reps, lat_runs, "latency")
    latency: JSON = {
        "load": {
            "updates_per_s": 200,
            "users": 1000,
            "seconds": plan.latency_seconds,
            "warmup_s": plan.latency_warmup,
            "commands": ["/quote N", "/date D", "/next"],
        },
        "ours": _merge(lat["ours"]),
        "echo": _merge(lat["echo"]),
    }
    if plan.stock_echo:
        stock = await scenarios.latency(
            "echo_stock",
            library,
            seconds=plan.latency_seconds,
            warmup=plan.latency_warmup,
            echo_args=ECHO_STOCK,
        )
        _log("latency echo_stock done")
        latency["echo_stock_ptb"] = stock
    latency["ratio_p50"] = _ratio(latency["ours"]["p50_ms"], latency["echo"]["p50_ms"])
    latency["ratio_p99"] = _ratio(latency["ours"]["p99_ms"], latency["echo"]["p99_ms"])
    latency["target_ratio"] = LATENCY_RATIO_TARGET
    latency["met_p50"] = (
        latency["ratio_p50"] is not None and latency["ratio_p50"] <= LATENCY_RATIO_TARGET
    )
    latency["met_p99"] = (
        latency["ratio_p99"] is not None and latency["ratio_p99"] <= LATENCY_RATIO_TARGET
    )
    latency["reps"] = lat
    report["latency"] = latency

    payload = scenarios.digest_payload(library)
    _log(f"fan-out, flood control off, {plan.fanout_chats} chats")
    fan = await _alternate(
        plan.fanout_reps,
        {
            "ours": lambda: scenarios.fanout_ours(plan.fanout_chats, limited=False),
            "baseline": lambda: scenarios.fanout_baseline(
                plan.fanout_chats, payload, limited=False
            ),
        },
        "fanout",
    )
    unlimited: JSON = _merge(fan["ours"])
    unlimited["baseline"] = _merge(fan["baseline"])
    unlimited["ratio_msgs_per_s"] = _ratio(
        unlimited["msgs_per_s"], unlimited["baseline"]["msgs_per_s"]
    )
    unlimited["ratio_cpu"] = _ratio(
        unlimited["cpu_s_per_1000"], unlimited["baseline"]["cpu_s_per_1000"]
    )
    unlimited["target_msgs_per_s"] = FANOUT_TARGET
    unlimited["met"] = unlimited["msgs_per_s"] >= FANOUT_TARGET and unlimited["misses"] == 0
    unlimited["reps"] = fan
    report["fanout_unlimited"] = unlimited

    _log(f"fan-out, flood control on, {plan.limited_chats} chats")
    lim = await _alternate(
        plan.limited_reps,
        {
            "ours": lambda: scenarios.fanout_ours(plan.limited_chats, limited=True),
            "baseline": lambda: scenarios.fanout_baseline(
                plan.limited_chats, payload, limited=True
            ),
        },
        "limited",
    )
    limited: JSON = _merge(lim["ours"])
    # Counts that must be zero are reported as their worst repetition, not a median.
    for key in ("http_429", "duplicates", "misses", "retry_after_violations"):
        limited[key] = max(r[key] for r in lim["ours"])
    limited["baseline"] = _merge(lim["baseline"])
    for key in ("http_429", "duplicates", "misses", "retry_after_violations"):
        limited["baseline"][key] = max(r[key] for r in lim["baseline"])
    limited["ratio_fraction"] = _ratio(
        limited["fraction_of_limit"], limited["baseline"]["fraction_of_limit"]
    )
    limited["met"] = (
        limited["fraction_of_limit"] >= LIMIT_FRACTION_TARGET
        and limited["http_429"] == 0
        and limited["duplicates"] == 0
        and limited["misses"] == 0
    )
    limited["reps"] = lim
    report["fanout_limited"] = limited

    _log(f"memory, 0 and {plan.memory_chats} chats")
    with tempfile.TemporaryDirectory(prefix="bench-memdb-") as tmp:
        big = Path(tmp) / "big.db"
        due = int(time.time()) + scenarios.FAR_FUTURE
        await scenarios.make_db(big, scenarios.MEMORY_CHAT_BASE, plan.memory_chats, due)
        mem = await _alternate(
            plan.memory_reps,
            {
                "ours_0": lambda: scenarios.memory("ours", None),
                "ours_100k": lambda: scenarios.memory("ours", big),
                "echo": lambda: scenarios.memory("echo", None),
            },
            "memory",
        )
    memory: JSON = {
        "rss_mb_0": _median([r["peak_rss_mb"] for r in mem["ours_0"]]),
        "rss_mb_100k": _median([r["peak_rss_mb"] for r in mem["ours_100k"]]),
        "echo_rss_mb": _median([r["peak_rss_mb"] for r in mem["echo"]]),
        "chats": plan.memory_chats,
        "measure": "peak RSS (VmHWM) after start-up and " + ", ".join(scenarios.MEMORY_COMMANDS),
    }
    memory["growth_mb"] = memory["rss_mb_100k"] - memory["rss_mb_0"]
    memory["ratio_to_echo"] = _ratio(memory["rss_mb_0"], memory["echo_rss_mb"])
    memory["target_growth_mb"] = MEMORY_GROWTH_TARGET_MB
    memory["met"] = memory["growth_mb"] <= MEMORY_GROWTH_TARGET_MB
    memory["reps"] = mem
    report["memory"] = memory

    report["targets"] = {
        "latency_p50<=1.5x_echo": latency["met_p50"],
        "latency_p99<=1.5x_echo": latency["met_p99"],
        "fanout_unlimited_msgs_per_s>=1000": unlimited["met"],
        "fanout_limited_>=95%_no_429_dup_miss": limited["met"],
        "memory_growth<=30MB": memory["met"],
        "startup<=1.5x_echo": startup["met"],
        "script_lookup<=1.5x": conv["met"],
    }
    report["duration_s"] = round(time.monotonic() - started, 1)
    report["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    return report


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def table(report: JSON) -> str:
    """One table: figure, ours, baseline, ratio, target, met."""
    lat, fu, fl = report["latency"], report["fanout_unlimited"], report["fanout_limited"]
    mem, up, sc = report["memory"], report["startup"], report["script_conversion"]
    rows: list[tuple[str, str, str, str, str, str]] = []

    def row(
        name: str,
        ours: Any,
        base: Any,
        ratio: Any,
        target: str = "",
        met: Any = "",
        digits: int = 1,
    ) -> None:
        cells = (_fmt(ours, digits), _fmt(base, digits), _fmt(ratio, 2), target, _fmt(met))
        rows.append((name, *cells))

    row(
        "latency p50 ms (all)",
        lat["ours"]["p50_ms"],
        lat["echo"]["p50_ms"],
        lat["ratio_p50"],
        "<= 1.5x",
        lat.get("met_p50", ""),
    )
    row(
        "latency p99 ms (all)",
        lat["ours"]["p99_ms"],
        lat["echo"]["p99_ms"],
        lat["ratio_p99"],
        "<= 1.5x",
        lat.get("met_p99", ""),
    )
    for kind in ("quote", "date", "next"):
        cmd = lat["ours"]["by_command"].get(kind, {})
        row(
            f"  /{kind} p50 / p99 ms",
            f"{_fmt(cmd.get('p50_ms'))} / {_fmt(cmd.get('p99_ms'))}",
            "",
            "",
        )
    row(
        "CPU ms per update",
        lat["ours"]["cpu_ms_per_update"],
        lat["echo"]["cpu_ms_per_update"],
        _ratio(lat["ours"]["cpu_ms_per_update"], lat["echo"]["cpu_ms_per_update"]),
    )
    if "echo_stock_ptb" in lat:
        stock = lat["echo_stock_ptb"]
        row(
            "  stock PTB echo p50/p99 ms",
            "",
            f"{_fmt(stock['p50_ms'])} / {_fmt(stock['p99_ms'])}",
            "",
        )
    row(
        "fan-out msgs/s (no flood ctl)",
        fu["msgs_per_s"],
        fu["baseline"]["msgs_per_s"],
        fu["ratio_msgs_per_s"],
        ">= 1,000",
        fu["met"],
    )
    row(
        "  CPU s per 1,000 msgs",
        fu["cpu_s_per_1000"],
        fu["baseline"]["cpu_s_per_1000"],
        fu["ratio_cpu"],
    )
    row(
        "  fake+driver CPU s per 1,000",
        fu["driver_cpu_s_per_1000"],
        fu["baseline"]["driver_cpu_s_per_1000"],
        "",
    )
    row(
        "limited: fraction of 30/s",
        fl["fraction_of_limit"],
        fl["baseline"]["fraction_of_limit"],
        fl["ratio_fraction"],
        ">= 0.95",
        fl["met"],
        digits=3,
    )
    for key in ("http_429", "duplicates", "misses", "retry_after_violations"):
        row(
            f"  {key}",
            fl[key],
            fl["baseline"][key],
            "",
            "0" if key != "retry_after_violations" else "",
        )
    row("peak RSS MB, 0 chats", mem["rss_mb_0"], mem["echo_rss_mb"], mem["ratio_to_echo"])
    row(
        f"peak RSS MB, {mem['chats']:,} chats",
        mem["rss_mb_100k"],
        "",
        "",
    )
    row("  growth MB", mem["growth_mb"], "", "", "<= 30", mem["met"])
    row("start-up s to getUpdates", up["ours_s"], up["echo_s"], up["ratio"], "<= 1.5x", up["met"])
    row(
        "section µs: traditional",
        sc["traditional_us"],
        "",
        "",
    )
    row(
        "section µs: simplified",
        sc["simplified_us"],
        "",
        sc["simplified_over_traditional"],
        "<= 1.5x trad",
        sc["met"],
    )
    row(
        "section µs: on-the-fly t2s", sc["on_the_fly_t2s_us"], "", sc["on_the_fly_over_simplified"]
    )
    header = ("figure (median)", "ours", "baseline", "ratio", "target", "met")
    widths = [max(len(r[i]) for r in [*rows, header]) for i in range(6)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        cells = [r[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells))
    m = report["machine"]
    lines.append(
        f"machine: {m['cpu_count']} cores ({m['cpu_model']}), Python {m['python']}, "
        f"PTB {m['python_telegram_bot']}, aiohttp {m['aiohttp']}; run took {report['duration_s']}s"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short smoke run")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON")
    args = parser.parse_args(argv)
    report = asyncio.run(run(QUICK if args.quick else FULL, args.quick))
    print(table(report))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(args.out)  # one copy of the latest run, never a half-written one
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
