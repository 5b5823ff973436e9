"""The sections at scale: replies during a digest, paid broadcast, PostgreSQL, replicas,
capacity. Each returns its report section with the target and whether it was met; a
section that needs PostgreSQL or Redis when it is absent says ``{"skipped": why}``.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial

from bench import databases, scale, scenarios, sections
from bench.databases import POSTGRES
from bench.plans import ECHO_SAME, ECHO_STOCK, Plan
from bench.stats import JSON, alternate, log, ratio
from bot.content import Library

INTERACTIVE_P99_TARGET_MS = 250.0  # replies while 10,000 digests wait for the 30/s limit
PAID_FRACTION_TARGET = 0.95  # of 1,000/s
PAID_CPU_TARGET = 0.5  # CPU seconds per 1,000 paid broadcasts, one process
SHARED_FRACTION_TARGET = 0.95  # of one 30/s budget over three replicas
CAPACITY_P99_MS = 100.0  # a rate is sustained when p99 stays at or under this
REPLICA_COUNTS = (1, 2, 3)
PAID_REPLICA_COUNTS = (2,)
INTERACTIVE_REPLICA_COUNTS = (1, 3)


async def interactive_during_fanout(plan: Plan, library: Library) -> JSON:
    chats = plan.interactive_chats
    log(f"replies at 5/s during a digest to {chats} chats at 30/s")
    payload = scenarios.digest_payload(library)
    times = {"seconds": plan.interactive_seconds, "warmup": plan.interactive_warmup}
    runs = await alternate(
        1,
        {
            "ours": partial(scale.interactive_during_fanout, library, chats=chats, **times),
            "before": partial(scale.interactive_baseline, library, payload, chats=chats, **times),
        },
        "interactive",
    )
    ours, before = runs["ours"][0], runs["before"][0]
    result: JSON = {
        "load": {
            "commands_per_s": 5,
            "digest_chats": chats,
            "bot_rate_limit": 30,
            "seconds": plan.interactive_seconds,
            "warmup_s": plan.interactive_warmup,
            "before": "bare PTB (bench.echo_bot --broadcast --echo): AIORateLimiter at 30/s, "
            "replies in one line with the broadcast's queued sends",
        },
        "ours": ours,
        "before": before,
        "ratio_p99": ratio(ours["p99_ms"], before["p99_ms"]),
        "target_p99_ms": INTERACTIVE_P99_TARGET_MS,
    }
    result["met"] = (
        ours["p99_ms"] is not None
        and ours["p99_ms"] <= INTERACTIVE_P99_TARGET_MS
        and ours["unanswered"] == 0
        and ours["http_429"] == 0
    )
    return result


async def paid_broadcast(plan: Plan, library: Library) -> JSON:
    chats, base_chats = plan.paid_chats, plan.paid_baseline_chats
    log(f"paid broadcast to {chats} chats at 1,000/s (baseline: {base_chats} chats)")
    payload = scenarios.digest_payload(library)
    runs = await alternate(
        1,
        {
            "ours": partial(scenarios.fanout_ours, chats, limited=True, paid=True),
            "baseline": partial(
                scenarios.fanout_baseline, base_chats, payload, limited=True, paid=True
            ),
        },
        "paid",
    )
    result: JSON = runs["ours"][0]
    result["baseline"] = runs["baseline"][0]
    result["ratio_fraction"] = ratio(
        result["fraction_of_limit"], result["baseline"]["fraction_of_limit"]
    )
    result["ratio_cpu"] = ratio(result["cpu_s_per_1000"], result["baseline"]["cpu_s_per_1000"])
    result["limit_per_s"] = scenarios.PAID_LIMIT
    result["target_fraction"] = PAID_FRACTION_TARGET
    result["target_cpu_s_per_1000"] = PAID_CPU_TARGET
    result["met_cpu"] = result["cpu_s_per_1000"] <= PAID_CPU_TARGET
    result["met"] = (
        result["fraction_of_limit"] >= PAID_FRACTION_TARGET
        and result["http_429"] == 0
        and result["duplicates"] == 0
        and result["misses"] == 0
    )
    return result


async def paid_broadcast_replicas(plan: Plan, library: Library) -> JSON:
    """Paid broadcasts from two replicas sharing one 1,000/s budget in Redis."""
    missing = await databases.postgres_missing() or await databases.redis_missing()
    if missing:
        log(f"paid broadcast replicas: skipped, {missing}")
        return {"skipped": missing}
    chats = plan.paid_replica_chats
    result: JSON = {}
    for count in PAID_REPLICA_COUNTS:
        log(f"paid broadcast: {count} replicas, one 1,000/s budget in Redis, {chats} chats")
        run = partial(scale.replicas_fanout, chats, count, shared_budget=True, paid=True)
        figures: JSON = (await alternate(1, {str(count): run}, "paid replicas"))[str(count)][0]
        figures["target_fraction"] = PAID_FRACTION_TARGET
        figures["met"] = (
            figures["fraction_of_limit"] >= PAID_FRACTION_TARGET
            and figures["http_429"] == 0
            and figures["duplicates"] == 0
            and figures["misses"] == 0
        )
        result[str(count)] = figures
    return result


async def replicas_interactive(plan: Plan, library: Library) -> JSON:
    """Replies at 5/s while 1 or 3 replicas send a digest at 30/s through one Redis budget."""
    missing = await databases.postgres_missing() or await databases.redis_missing()
    if missing:
        log(f"replicas interactive: skipped, {missing}")
        return {"skipped": missing}
    chats = plan.replicas_interactive_chats
    runs: dict[str, Callable[[], Awaitable[JSON]]] = {
        str(n): partial(
            scale.replicas_interactive,
            library,
            chats=chats,
            replicas=n,
            seconds=plan.interactive_seconds,
            warmup=plan.interactive_warmup,
        )
        for n in INTERACTIVE_REPLICA_COUNTS
    }
    log(f"replies at 5/s while 1 and 3 replicas send {chats} digests at 30/s via Redis")
    figures = await alternate(1, runs, "replicas interactive")
    result: JSON = {n: figures[n][0] for n in runs}
    one, three = result["1"]["p99_ms"], result["3"]["p99_ms"]
    result["ratio_p99_3_to_1"] = ratio(three, one)
    result["target_p99_ms"] = INTERACTIVE_P99_TARGET_MS
    result["met"] = (
        three is not None
        and one is not None
        and three <= INTERACTIVE_P99_TARGET_MS
        and three <= 2 * one
        and all(result[n]["unanswered"] == 0 and result[n]["http_429"] == 0 for n in runs)
    )
    return result


async def postgres(plan: Plan, library: Library) -> JSON:
    missing = await databases.postgres_missing()
    if missing:
        log(f"postgres: skipped, {missing}")
        return {"skipped": missing}
    return {
        "latency": await sections.latency(
            plan, library, reps=plan.postgres_latency_reps, database=POSTGRES
        ),
        "fanout_unlimited": await sections.fanout_unlimited(
            plan, library, reps=plan.postgres_fanout_reps, database=POSTGRES
        ),
        "fanout_limited": await sections.fanout_limited(
            plan, library, reps=plan.postgres_limited_reps, database=POSTGRES
        ),
    }


async def replicas(plan: Plan) -> JSON:
    missing = await databases.postgres_missing()
    if missing:
        log(f"replicas: skipped, {missing}")
        return {"skipped": missing}
    result: JSON = {}
    for count in REPLICA_COUNTS:
        log(f"replicas: {count} delivering {plan.replica_chats} chats, flood control off")
        runs = await alternate(
            1, {str(count): partial(scale.replicas_fanout, plan.replica_chats, count)}, "replicas"
        )
        result[str(count)] = runs[str(count)][0]
    one = result["1"]["msgs_per_s"]
    result["speedup"] = {str(n): ratio(result[str(n)]["msgs_per_s"], one) for n in REPLICA_COUNTS}
    missing = await databases.redis_missing()
    if missing:
        log(f"replicas: shared budget skipped, {missing}")
        result["shared_budget"] = {"skipped": missing}
        return result
    chats = plan.shared_budget_chats
    log(f"replicas: 3 sharing one 30/s budget in Redis, {chats} chats")
    runs = await alternate(
        1, {"shared": partial(scale.replicas_fanout, chats, 3, shared_budget=True)}, "replicas"
    )
    shared: JSON = runs["shared"][0]
    shared["target_fraction"] = SHARED_FRACTION_TARGET
    shared["met"] = (
        shared["fraction_of_limit"] >= SHARED_FRACTION_TARGET
        and shared["http_429"] == 0
        and shared["duplicates"] == 0
        and shared["misses"] == 0
    )
    result["shared_budget"] = shared
    return result


# ------------------------------------------------------------------------ capacity


@dataclass
class StepSearch:
    """The highest offered rate that still passes: double until a step fails, then bisect.

    A first step that fails halves the rate until one passes (down to ``floor``); after the
    first failure above a pass, ``bisections`` steps halve the gap between the two.
    """

    start: float
    factor: float
    maximum: float
    bisections: int
    floor: float = 10.0
    passed: float = 0.0  # highest rate that passed
    failed: float = math.inf  # lowest rate that failed
    steps: list[JSON] = field(default_factory=list)

    def next_rate(self) -> float | None:
        if not self.steps:
            return self.start
        if math.isinf(self.failed):
            rate = self.passed * self.factor
            return rate if rate <= self.maximum else None
        if not self.passed:
            rate = self.failed / self.factor
            return round(rate) if rate >= self.floor else None
        bisected = sum(1 for s in self.steps if s.get("bisection"))
        if bisected >= self.bisections:
            return None
        return round((self.passed + self.failed) / 2)

    def record(self, rate: float, figures: JSON) -> bool:
        ok = (
            figures["p99_ms"] is not None
            and figures["p99_ms"] <= CAPACITY_P99_MS
            and figures["unanswered"] == 0
            # The driver must really have offered the rate, or the step proves nothing.
            and figures["offered_rate"] >= 0.95 * rate
        )
        bisection = bool(self.passed) and not math.isinf(self.failed)
        if ok:
            self.passed = max(self.passed, rate)
        else:
            self.failed = min(self.failed, rate)
        self.steps.append(
            {
                "rate": rate,
                "ok": ok,
                "bisection": bisection,
                "p50_ms": figures["p50_ms"],
                "p99_ms": figures["p99_ms"],
                "unanswered": figures["unanswered"],
                "offered_rate": figures["offered_rate"],
                "cpu_ms_per_update": figures["cpu_ms_per_update"],
            }
        )
        return ok


CAPACITY_VARIANTS = {
    "ours": ("ours", ()),
    "stock_echo": ("echo_stock", ECHO_STOCK),
    "aiohttp_echo": ("echo", ECHO_SAME),
}


async def capacity(plan: Plan, library: Library) -> JSON:
    """Step searches for ours and both echo bots, one step of each in turn (drift hits all)."""
    log("capacity: highest rate with p99 <= 100 ms")
    searches = {
        name: StepSearch(
            plan.capacity_start, plan.capacity_factor, plan.capacity_max, plan.capacity_bisections
        )
        for name in CAPACITY_VARIANTS
    }
    while True:
        pending = {n: r for n, s in searches.items() if (r := s.next_rate()) is not None}
        if not pending:
            break
        for name, rate in pending.items():
            which, echo_args = CAPACITY_VARIANTS[name]
            figures = await scenarios.latency(
                which,
                library,
                seconds=plan.capacity_seconds,
                warmup=plan.capacity_warmup,
                rate=rate,
                users=scale.users_for(rate),
                echo_args=echo_args,
                drain=5.0,
            )
            ok = searches[name].record(rate, figures)
            verdict = "passes" if ok else "fails"
            log(f"capacity {name} at {rate:g}/s: p99 {figures['p99_ms']} ms, {verdict}")
    result: JSON = {f"{name}_updates_per_s": search.passed for name, search in searches.items()}
    result["ratio_to_stock_echo"] = ratio(
        result["ours_updates_per_s"], result["stock_echo_updates_per_s"]
    )
    result["met"] = result["ours_updates_per_s"] >= result["stock_echo_updates_per_s"]
    result["p99_limit_ms"] = CAPACITY_P99_MS
    result["search"] = {
        "start": plan.capacity_start,
        "factor": plan.capacity_factor,
        "maximum": plan.capacity_max,
        "bisections": plan.capacity_bisections,
        "seconds": plan.capacity_seconds,
        "warmup_s": plan.capacity_warmup,
        "how": "each step a fresh process under a steady load (the latency scenario) at one "
        "rate; a step passes with p99 <= 100 ms, every update answered and the rate really "
        "offered; rates multiply by the factor until a step fails, then bisect between the "
        "highest pass and the lowest failure; the figure is the highest rate that passed",
    }
    result["steps"] = {name: search.steps for name, search in searches.items()}
    return result
