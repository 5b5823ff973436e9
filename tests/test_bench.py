"""The benchmark command keeps working: a quick run writes every figure the README cites.

Targets are not asserted here (figures on a shared CI machine are noise); the full run,
``python -m bench.run``, reports them side by side with the baseline. What must hold even
on a busy machine is asserted: no digest lost or doubled wherever deliveries are counted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]

Keys = set[str] | dict[str, "Keys"]
LATENCY: Keys = {"ours": {"p50_ms", "p99_ms"}, "echo": {"p50_ms", "p99_ms"}}
FANOUT_UNLIMITED: Keys = {"msgs_per_s", "cpu_s_per_1000", "duplicates", "misses"}
FANOUT_LIMITED: Keys = {"fraction_of_limit", "http_429", "duplicates", "misses"}
REPLICA_FANOUT: Keys = {"msgs_per_s", "per_replica", "duplicates", "misses"}
KEYS: dict[str, Keys] = {
    "latency": LATENCY,
    "fanout_unlimited": FANOUT_UNLIMITED,
    "fanout_limited": FANOUT_LIMITED,
    "memory": {"rss_mb_0", "rss_mb_100k"},
    "startup": {"ours_s", "echo_s"},
    "interactive_during_fanout": {"ours": {"p50_ms", "p99_ms"}, "before": {"p50_ms", "p99_ms"}},
    "paid_broadcast": {"fraction_of_limit", "http_429", "duplicates", "misses", "cpu_s_per_1000"},
    "postgres": {
        "latency": LATENCY,
        "fanout_unlimited": FANOUT_UNLIMITED,
        "fanout_limited": FANOUT_LIMITED,
    },
    "replicas": {
        "1": REPLICA_FANOUT,
        "2": REPLICA_FANOUT,
        "3": REPLICA_FANOUT,
        "shared_budget": {"fraction_of_limit", "http_429", "duplicates", "misses"},
    },
    "capacity": {"ours_updates_per_s", "stock_echo_updates_per_s", "aiohttp_echo_updates_per_s"},
    "paid_broadcast_replicas": {
        "2": {"fraction_of_limit", "http_429", "duplicates", "misses", "per_replica"}
    },
    "replicas_interactive": {
        "1": {"p50_ms", "p99_ms", "http_429", "unanswered"},
        "3": {"p50_ms", "p99_ms", "http_429", "unanswered"},
    },
}
# The table: every key the performance doc's targets are read from.
TARGET_KEYS: Keys = {
    "paid_broadcast": {"fraction_of_limit", "cpu_s_per_1000"},
    "paid_broadcast_replicas": {"2": {"fraction_of_limit"}},
    "replicas_interactive": {"1": {"p99_ms"}, "3": {"p99_ms"}},
    "postgres": {"latency": {"ratio_p50", "ratio_p99", "met_cpu"}},
    "capacity": {"ours_updates_per_s", "stock_echo_updates_per_s"},
    "latency": {"ratio_p50", "ratio_p99"},
    "startup": {"ratio", "met"},
    "memory": {"ratio_to_echo", "met_ratio"},
}
# Where deliveries are counted: nothing may be lost or sent twice, even on a busy machine.
EXACT = [
    ("fanout_unlimited",),
    ("fanout_limited",),
    ("paid_broadcast",),
    ("postgres", "fanout_unlimited"),
    ("postgres", "fanout_limited"),
    ("replicas", "1"),
    ("replicas", "2"),
    ("replicas", "3"),
    ("replicas", "shared_budget"),
    ("paid_broadcast_replicas", "2"),
]
# Where the fake enforces Telegram's limits: the bot never draws a 429.
NO_429 = [
    ("fanout_limited",),
    ("paid_broadcast",),
    ("postgres", "fanout_limited"),
    ("replicas", "shared_budget"),
    ("paid_broadcast_replicas", "2"),
    ("interactive_during_fanout", "ours"),
    ("replicas_interactive", "1"),
    ("replicas_interactive", "3"),
]


def section_at(report: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        report = report[key]
    return report


def missing_keys(report: Any, keys: Keys, where: str = "") -> list[str]:
    """Return every expected key (as a dotted path) absent from the report."""
    if not isinstance(report, dict):
        return [where or "(report)"]
    if isinstance(keys, set):
        return [f"{where}{k}" for k in sorted(keys) if k not in report]
    missing: list[str] = []
    for key, inner in keys.items():
        if key not in report:
            missing.append(f"{where}{key}")
        else:
            missing += missing_keys(report[key], inner, f"{where}{key}.")
    return missing


@pytest.mark.scale
def test_quick_benchmark_run_writes_the_contract(tmp_path: Path) -> None:
    out = tmp_path / "latest.json"
    result = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "fan-out msgs/s" in result.stdout  # the table is printed
    assert "capacity: updates/s" in result.stdout
    report = json.loads(out.read_text())
    # PostgreSQL and Redis run on this project's machines: no section may be skipped here.
    assert "skipped" not in report["postgres"], report["postgres"]
    assert "skipped" not in report["replicas"], report["replicas"]
    assert "skipped" not in report["replicas"]["shared_budget"]
    for name in ("paid_broadcast_replicas", "replicas_interactive"):
        assert "skipped" not in report[name], report[name]
    assert missing_keys(report, KEYS) == []
    assert missing_keys(report, TARGET_KEYS) == []
    assert isinstance(report["postgres"]["latency"]["ours"]["cpu_ms_per_update"], float)
    for path in NO_429:
        assert section_at(report, path)["http_429"] == 0, path
    for count in ("1", "3"):
        assert report["replicas_interactive"][count]["unanswered"] == 0, count
        assert isinstance(report["replicas_interactive"][count]["p99_ms"], float), count
    paid = report["paid_broadcast_replicas"]["2"]
    assert len(paid["per_replica"]) == 2
    assert sum(paid["per_replica"]) == paid["chats"]
    for side in ("ours", "echo"):
        assert all(isinstance(report["latency"][side][k], float) for k in ("p50_ms", "p99_ms"))
    for side in ("ours", "before"):
        figures = report["interactive_during_fanout"][side]
        assert figures["unanswered"] == 0, side
        assert isinstance(figures["p99_ms"], float), side
    for path in EXACT:
        section = section_at(report, path)
        assert section["duplicates"] == 0, path
        assert section["misses"] == 0, path
    for count in ("1", "2", "3"):
        replicas = report["replicas"][count]
        assert len(replicas["per_replica"]) == int(count)
        assert sum(replicas["per_replica"]) == replicas["chats"]  # each counted by one replica
