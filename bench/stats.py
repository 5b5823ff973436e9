"""Small helpers every section uses: log lines, medians, ratios, interleaved repetitions."""

from __future__ import annotations

import gc
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

JSON = dict[str, Any]


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def merge(reps: list[JSON]) -> JSON:
    """Median of every numeric field over repetitions (nested dicts too); keep the reps."""
    out: JSON = {}
    for key, first in reps[0].items():
        if isinstance(first, dict):
            out[key] = merge([r[key] for r in reps if key in r])
        elif isinstance(first, int | float) and not isinstance(first, bool):
            out[key] = median([r.get(key) for r in reps])
        else:
            out[key] = first
    return out


async def alternate(
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
            log(f"{label} {name} rep {rep + 1}/{reps}: {time.monotonic() - started:.1f}s")
    return results
