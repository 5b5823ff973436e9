"""The report as one table: figure, ours, baseline, ratio, target, met."""

from __future__ import annotations

from typing import Any

from bench.stats import JSON, ratio

Row = tuple[str, str, str, str, str, str]
HEADER: Row = ("figure (median)", "ours", "baseline", "ratio", "target", "met")


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


class Rows:
    def __init__(self) -> None:
        self.rows: list[Row] = []

    def add(
        self,
        name: str,
        ours: Any,
        base: Any,
        ratio: Any,
        target: str = "",
        met: Any = "",
        digits: int = 1,
    ) -> None:
        cells = (_fmt(ours, digits), _fmt(base, digits), _fmt(ratio, 2), target, _fmt(met))
        self.rows.append((name, *cells))

    def skipped(self, name: str, section: JSON) -> None:
        self.rows.append((f"{name}: skipped, {section['skipped']}", "", "", "", "", ""))


def _pair(a: Any, b: Any) -> str:
    return f"{_fmt(a)} / {_fmt(b)}"


def _latency(t: Rows, lat: JSON, label: str = "latency") -> None:
    for q in ("p50", "p99"):
        t.add(
            f"{label} {q} ms (all)",
            lat["ours"][f"{q}_ms"],
            lat["echo"][f"{q}_ms"],
            lat[f"ratio_{q}"],
            f"<= {_fmt(lat.get(f'target_ratio_{q}'), 1)}x",
            lat.get(f"met_{q}", ""),
        )
    for kind in ("quote", "date", "next"):
        cmd = lat["ours"]["by_command"].get(kind, {})
        t.add(f"  /{kind} p50 / p99 ms", _pair(cmd.get("p50_ms"), cmd.get("p99_ms")), "", "")
    cap = lat.get("target_cpu_ms_per_update")
    t.add(
        "  CPU ms per update",
        lat["ours"]["cpu_ms_per_update"],
        lat["echo"]["cpu_ms_per_update"],
        ratio(lat["ours"]["cpu_ms_per_update"], lat["echo"]["cpu_ms_per_update"]),
        f"<= {_fmt(cap)}" if cap is not None else "",
        lat.get("met_cpu", ""),
    )
    if "echo_stock_ptb" in lat:
        stock = lat["echo_stock_ptb"]
        t.add("  stock PTB echo p50/p99 ms", "", _pair(stock["p50_ms"], stock["p99_ms"]), "")


def _fanout(t: Rows, fu: JSON, fl: JSON, label: str = "") -> None:
    t.add(
        f"{label}fan-out msgs/s (no flood ctl)",
        fu["msgs_per_s"],
        fu["baseline"]["msgs_per_s"],
        fu["ratio_msgs_per_s"],
        ">= 1,000",
        fu["met"],
    )
    t.add(
        "  CPU s per 1,000 msgs",
        fu["cpu_s_per_1000"],
        fu["baseline"]["cpu_s_per_1000"],
        fu["ratio_cpu"],
    )
    t.add(
        "  fake+driver CPU s per 1,000",
        fu["driver_cpu_s_per_1000"],
        fu["baseline"]["driver_cpu_s_per_1000"],
        "",
    )
    t.add(
        f"{label}limited: fraction of 30/s",
        fl["fraction_of_limit"],
        fl["baseline"]["fraction_of_limit"],
        fl["ratio_fraction"],
        ">= 0.95",
        fl["met"],
        digits=3,
    )
    for key in ("http_429", "duplicates", "misses", "retry_after_violations"):
        target = "0" if key != "retry_after_violations" else ""
        t.add(f"  {key}", fl[key], fl["baseline"][key], "", target)


def _interactive(t: Rows, it: JSON) -> None:
    ours, before = it["ours"], it["before"]
    chats = it["load"]["digest_chats"]
    t.add(
        f"replies during {chats:,}-chat digest p50 ms",
        ours["p50_ms"],
        before["p50_ms"],
        ratio(ours["p50_ms"], before["p50_ms"]),
    )
    t.add(
        "  p99 ms (baseline: bare PTB, one line)",
        ours["p99_ms"],
        before["p99_ms"],
        it["ratio_p99"],
        "<= 250 ms",
        it["met"],
    )
    t.add("  digests/s meanwhile", ours["digests_per_s"], before["digests_per_s"], "")
    t.add("  http_429 / unanswered", _pair(ours["http_429"], ours["unanswered"]), "", "", "0")


def _paid(t: Rows, pb: JSON) -> None:
    base = pb["baseline"]
    t.add(
        f"paid broadcast {pb['chats']:,} chats: of 1,000/s",
        pb["fraction_of_limit"],
        base["fraction_of_limit"],
        pb["ratio_fraction"],
        ">= 0.95",
        pb["met"],
        digits=3,
    )
    t.add("  msgs/s", pb["msgs_per_s"], base["msgs_per_s"], "")
    for key in ("http_429", "duplicates", "misses"):
        t.add(f"  {key}", pb[key], base[key], "", "0")
    t.add(
        "  CPU s per 1,000 msgs",
        pb["cpu_s_per_1000"],
        base["cpu_s_per_1000"],
        pb["ratio_cpu"],
        "<= 0.5",
        pb.get("met_cpu", ""),
    )


def _replicas(t: Rows, rp: JSON) -> None:
    one = rp["1"]
    for n in ("1", "2", "3"):
        r = rp[n]
        t.add(
            f"replicas: {n} on PostgreSQL, {r['chats']:,} chats msgs/s",
            r["msgs_per_s"],
            one["msgs_per_s"] if n != "1" else "",
            rp["speedup"][n] if n != "1" else "",
        )
        t.add(
            "  per replica / dup / miss",
            f"{'+'.join(str(c) for c in r['per_replica'])} / {r['duplicates']} / {r['misses']}",
            "",
            "",
            "dup, miss 0",
        )
    sb = rp["shared_budget"]
    if "skipped" in sb:
        t.skipped("replicas: shared budget", sb)
        return
    t.add(
        f"3 replicas, one 30/s budget: of 30/s ({sb['chats']:,})",
        sb["fraction_of_limit"],
        "",
        "",
        ">= 0.95",
        sb["met"],
        digits=3,
    )
    t.add(
        "  per replica / 429 / dup / miss",
        "+".join(str(c) for c in sb["per_replica"])
        + f" / {sb['http_429']} / {sb['duplicates']} / {sb['misses']}",
        "",
        "",
        "0 / 0 / 0",
    )


def _paid_replicas(t: Rows, pr: JSON) -> None:
    for n, r in pr.items():
        t.add(
            f"paid broadcast, {n} replicas via Redis ({r['chats']:,}): of 1,000/s",
            r["fraction_of_limit"],
            "",
            "",
            ">= 0.95",
            r["met"],
            digits=3,
        )
        t.add(
            "  per replica / 429 / dup / miss",
            "+".join(str(c) for c in r["per_replica"])
            + f" / {r['http_429']} / {r['duplicates']} / {r['misses']}",
            "",
            "",
            "0 / 0 / 0",
        )
        t.add("  CPU s per 1,000 msgs (all replicas)", r["cpu_s_per_1000"], "", "")


def _replicas_interactive(t: Rows, ri: JSON) -> None:
    one, three = ri["1"], ri["3"]
    t.add(
        "replies during digest, 3 replicas via Redis p99 ms",
        three["p99_ms"],
        one["p99_ms"],
        ri["ratio_p99_3_to_1"],
        "<= 250, <= 2x 1",
        ri["met"],
    )
    t.add("  p50 ms (baseline: 1 replica)", three["p50_ms"], one["p50_ms"], "")
    t.add("  digests/s meanwhile", three["digests_per_s"], one["digests_per_s"], "")
    t.add(
        "  http_429 / unanswered",
        _pair(three["http_429"], three["unanswered"]),
        _pair(one["http_429"], one["unanswered"]),
        "",
        "0",
    )


def _capacity(t: Rows, cap: JSON) -> None:
    t.add(
        "capacity: updates/s at p99 <= 100 ms",
        cap["ours_updates_per_s"],
        cap["stock_echo_updates_per_s"],
        cap["ratio_to_stock_echo"],
        ">= stock echo",
        cap["met"],
        digits=0,
    )
    t.add("  aiohttp echo (same transport)", "", cap["aiohttp_echo_updates_per_s"], "", digits=0)


def table(report: JSON) -> str:
    """One table of every section in the report."""
    t = Rows()
    if "latency" in report:
        _latency(t, report["latency"])
    if "fanout_unlimited" in report and "fanout_limited" in report:
        _fanout(t, report["fanout_unlimited"], report["fanout_limited"])
    if "interactive_during_fanout" in report:
        _interactive(t, report["interactive_during_fanout"])
    if "paid_broadcast" in report:
        _paid(t, report["paid_broadcast"])
    if "paid_broadcast_replicas" in report:
        if "skipped" in report["paid_broadcast_replicas"]:
            t.skipped("paid broadcast replicas", report["paid_broadcast_replicas"])
        else:
            _paid_replicas(t, report["paid_broadcast_replicas"])
    if "postgres" in report:
        pg = report["postgres"]
        if "skipped" in pg:
            t.skipped("postgres", pg)
        else:
            _latency(t, pg["latency"], "PostgreSQL latency")
            _fanout(t, pg["fanout_unlimited"], pg["fanout_limited"], "PostgreSQL ")
    if "replicas" in report:
        if "skipped" in report["replicas"]:
            t.skipped("replicas", report["replicas"])
        else:
            _replicas(t, report["replicas"])
    if "replicas_interactive" in report:
        if "skipped" in report["replicas_interactive"]:
            t.skipped("replicas interactive", report["replicas_interactive"])
        else:
            _replicas_interactive(t, report["replicas_interactive"])
    if "capacity" in report:
        _capacity(t, report["capacity"])
    if "memory" in report:
        mem = report["memory"]
        t.add(
            "peak RSS MB, first start",
            mem["rss_mb_0"],
            mem["echo_rss_mb"],
            mem["ratio_to_echo"],
            "<= 1.5x",
            mem.get("met_ratio", ""),
        )
        t.add(
            f"peak RSS MB, {mem['chats']:,} chats (at head)",
            mem["rss_mb_100k"],
            mem["echo_rss_mb"],
            mem.get("ratio_to_echo_at_head"),
        )
        t.add("  growth MB", mem["growth_mb"], "", "", "<= 30", mem["met"])
    if "startup" in report:
        up = report["startup"]
        t.add(
            "start-up s to getUpdates",
            up["ours_s"],
            up["echo_s"],
            up["ratio"],
            "<= 2.0x",
            up.get("met", ""),
        )
    if "script_conversion" in report:
        sc = report["script_conversion"]
        t.add("section µs: traditional", sc["traditional_us"], "", "")
        t.add(
            "section µs: simplified",
            sc["simplified_us"],
            "",
            sc["simplified_over_traditional"],
            "<= 1.5x trad",
            sc["met"],
        )
        t.add(
            "section µs: on-the-fly t2s",
            sc["on_the_fly_t2s_us"],
            "",
            sc["on_the_fly_over_simplified"],
        )
    return _render(t.rows, report)


def _render(rows: list[Row], report: JSON) -> str:
    widths = [max(len(r[i]) for r in [*rows, HEADER]) for i in range(6)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(HEADER, widths, strict=True))]
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
