"""The benchmark command keeps working: a quick run writes every figure the README cites.

Targets are not asserted here (figures on a shared CI machine are noise); the full run,
``python -m bench.run``, reports them side by side with the baseline.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

KEYS: dict[str, set[str] | dict[str, set[str]]] = {
    "latency": {"ours": {"p50_ms", "p99_ms"}, "echo": {"p50_ms", "p99_ms"}},
    "fanout_unlimited": {"msgs_per_s", "cpu_s_per_1000"},
    "fanout_limited": {"fraction_of_limit", "http_429", "duplicates", "misses"},
    "memory": {"rss_mb_0", "rss_mb_100k"},
    "startup": {"ours_s", "echo_s"},
}


@pytest.mark.scale
def test_quick_benchmark_run_writes_the_contract(tmp_path: Path) -> None:
    out = tmp_path / "latest.json"
    result = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "fan-out msgs/s" in result.stdout  # the table is printed
    report = json.loads(out.read_text())
    for section, keys in KEYS.items():
        if isinstance(keys, dict):
            for side, inner in keys.items():
                assert inner <= set(report[section][side]), (section, side)
                assert all(isinstance(report[section][side][k], float) for k in inner)
        else:
            assert keys <= set(report[section]), section
    # Flood-limited fan-out must be exact even on a busy machine: nothing lost or doubled.
    assert report["fanout_limited"]["duplicates"] == 0
    assert report["fanout_limited"]["misses"] == 0
    assert report["fanout_unlimited"]["misses"] == 0
