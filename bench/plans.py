"""How much of each scenario a run does: the full run, and the quick smoke run."""

from __future__ import annotations

from dataclasses import dataclass


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
    # Replies while a digest waits for the 30/s limit.
    interactive_chats: int
    interactive_seconds: float
    interactive_warmup: float
    # Paid broadcast at 1,000/s (the bare-PTB baseline to fewer chats: its rate is the figure).
    paid_chats: int
    paid_baseline_chats: int
    paid_replica_chats: int  # two replicas, one 1,000/s budget in Redis
    # Replies while 1 or 3 replicas send a digest at 30/s through one Redis budget.
    replicas_interactive_chats: int
    # The SQLite rows again on PostgreSQL.
    postgres_latency_reps: int
    postgres_fanout_reps: int
    postgres_limited_reps: int
    # Several replicas on one PostgreSQL (and one Redis budget).
    replica_chats: int
    shared_budget_chats: int
    # The step search for the highest rate with p99 <= 100 ms.
    capacity_start: float
    capacity_factor: float
    capacity_max: float
    capacity_bisections: int
    capacity_seconds: float
    capacity_warmup: float


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
    interactive_chats=10_000,
    interactive_seconds=45,
    interactive_warmup=3,
    paid_chats=100_000,
    paid_baseline_chats=30_000,
    paid_replica_chats=30_000,
    replicas_interactive_chats=10_000,
    postgres_latency_reps=2,
    postgres_fanout_reps=2,
    postgres_limited_reps=1,
    replica_chats=30_000,
    shared_budget_chats=3_000,
    capacity_start=100,
    capacity_factor=2,
    capacity_max=6400,
    capacity_bisections=2,
    capacity_seconds=6,
    capacity_warmup=2,
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
    interactive_chats=1_500,
    interactive_seconds=12,
    interactive_warmup=2,
    paid_chats=5_000,
    paid_baseline_chats=5_000,
    paid_replica_chats=5_000,
    replicas_interactive_chats=1_500,
    postgres_latency_reps=1,
    postgres_fanout_reps=1,
    postgres_limited_reps=1,
    replica_chats=3_000,
    shared_budget_chats=600,
    capacity_start=100,
    capacity_factor=3,
    capacity_max=2700,
    capacity_bisections=0,
    capacity_seconds=3,
    capacity_warmup=1,
)
# The baselines: the echo bot on the bot's own transport, and stock PTB (httpx, sequential).
ECHO_SAME = ("--transport", "aiohttp", "--concurrent-updates", "64")
ECHO_STOCK = ("--transport", "httpx", "--concurrent-updates", "1")
