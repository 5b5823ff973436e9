"""Scenarios at scale: replies during a digest, paid broadcasts, replicas, capacity.

Like ``bench.scenarios``, each function runs one repetition against a fake Bot API server
in this process and returns plain numbers; the bots are subprocesses over 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import socket
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bench import databases, procs
from bench.databases import POSTGRES, SQLITE
from bench.procs import BotProcess
from bench.scenarios import (
    FANOUT_CHAT_BASE,
    PAID_LIMIT,
    delivery_stats,
    push_commands,
    reply_latency,
    seeded,
    wait_delivered,
    wait_recorded,
    wait_replies,
)
from bot.content import Library
from fake_telegram import FakeTelegram

JSON = dict[str, Any]

FREE_LIMIT = 30  # Telegram's overall limit, messages/s


def _digest_chats(count: int) -> range:
    return range(FANOUT_CHAT_BASE, FANOUT_CHAT_BASE + count)


async def _stop_all(group: list[BotProcess]) -> None:
    await asyncio.gather(*(p.stop() for p in group))


# ------------------------------------------------------------------------ replies during a digest


async def interactive_during_fanout(
    library: Library,
    *,
    chats: int,
    seconds: float,
    warmup: float,
    rate: float = 5.0,
) -> JSON:
    """Reply latency of commands at ``rate``/s while ``chats`` digests wait for the 30/s limit.

    The fake enforces Telegram's limits; the bot runs at its default BOT_RATE_LIMIT=30.
    """
    async with seeded(SQLITE, chats, True, "bench-interactive-") as (tmp, url, db, fake):
        proc = procs.ours(fake, tmp, DATABASE_URL=url, BOT_RATE_LIMIT=str(FREE_LIMIT))
        await proc.start()
        try:
            await procs.wait_polling(fake, proc)
            await db.make_due_now()
            return await _replies_meanwhile(
                fake, [proc], library, chats, seconds=seconds, warmup=warmup, rate=rate
            )
        finally:
            await proc.stop()


async def interactive_baseline(
    library: Library,
    payload: JSON,
    *,
    chats: int,
    seconds: float,
    warmup: float,
    rate: float = 5.0,
) -> JSON:
    """The same load on bare PTB: an echo bot broadcasting the digest's message at 30/s
    through AIORateLimiter, where every message waits in one line (``bench.echo_bot``)."""
    with tempfile.TemporaryDirectory(prefix="bench-interactive-base-") as tmp:
        message = Path(tmp) / "message.json"
        message.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
        async with FakeTelegram(flood_control=True) as fake:
            fake.add_chats(_digest_chats(chats))
            args = [
                *("--broadcast", str(chats), "--first-chat", str(FANOUT_CHAT_BASE)),
                *("--message", str(message), "--rate-limit", str(FREE_LIMIT), "--echo"),
            ]
            proc = procs.echo(fake, Path(tmp), *args, name="before")
            await proc.start()
            try:
                line = await proc.readline(60)
                if line != "READY":
                    raise procs.BotCrashed(f"before said {line!r}\n{proc.log_tail()}")
                await procs.wait_polling(fake, proc)
                await proc.write("GO\n")
                return await _replies_meanwhile(
                    fake, [proc], library, chats, seconds=seconds, warmup=warmup, rate=rate
                )
            finally:
                await proc.stop()


async def _replies_meanwhile(
    fake: FakeTelegram,
    group: list[BotProcess],
    library: Library,
    chats: int,
    *,
    seconds: float,
    warmup: float,
    rate: float,
) -> JSON:
    """Once digests flow (a second's worth arrived), push commands; their reply latency."""
    digests = _digest_chats(chats)
    await procs.until(lambda: fake.sent_count() >= FREE_LIMIT, 60, group[0])
    started = time.perf_counter()
    load = await push_commands(
        fake, group[0], library, seconds=seconds, warmup=warmup, rate=rate, users=1000
    )
    ended = time.perf_counter()
    await wait_replies(fake, load)
    result = reply_latency(fake, load)
    del result["cpu_ms_per_update"]  # the digest's work is in it too: no figure
    window = [m for m in fake.sent() if started <= m.t <= ended]
    in_window = sum(1 for m in window if m.chat_id in digests)
    result["digests_per_s"] = in_window / (ended - started)
    result["sends_per_s"] = len(window) / (ended - started)
    result["digests_unsent_at_stop"] = chats - sum(1 for m in fake.sent() if m.chat_id in digests)
    result["http_429"] = fake.http_429
    return result


# ------------------------------------------------------------------------ paid broadcast


# ------------------------------------------------------------------------ replicas


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _get(url: str) -> tuple[int, str]:
    timeout = aiohttp.ClientTimeout(total=5)
    async with aiohttp.ClientSession(timeout=timeout) as http, http.get(url) as response:
        return response.status, await response.text()


async def _wait_ready(proc: BotProcess, port: int, timeout: float = 60) -> None:
    """Until the replica's /readyz answers 200."""
    deadline = time.monotonic() + timeout
    while True:
        if not proc.alive:
            raise procs.BotCrashed(f"{proc.name} exited before ready\n{proc.log_tail()}")
        try:
            status, _ = await _get(f"http://127.0.0.1:{port}/readyz")
            if status == 200:
                return
        except (aiohttp.ClientError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{proc.name} not ready within {timeout}s\n{proc.log_tail()}")
        await asyncio.sleep(0.1)  # another process's HTTP server: nothing to wait on here


async def _delivered_by(port: int) -> float:
    """How many digests a replica says it delivered (its /metrics)."""
    _, body = await _get(f"http://127.0.0.1:{port}/metrics")
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            if sample.name == "bot_digests_total" and sample.labels.get("result") == "delivered":
                return sample.value
    return 0.0


def _shared_budget(rate: int, paid: bool = False) -> dict[str, str]:
    """The settings of replicas that share one budget of ``rate``/s in Redis."""
    settings = {
        "BOT_RATE_LIMIT": str(rate),
        "REDIS_URL": databases.REDIS_URL,
        "REDIS_KEY_PREFIX": f"bench-{uuid.uuid4().hex[:12]}:",
    }
    if paid:
        settings["BOT_PAID_BROADCAST"] = "1"
    return settings


async def _start_replicas(
    fake: FakeTelegram, tmp: Path, url: str, replicas: int, settings: dict[str, str]
) -> tuple[list[BotProcess], list[int]]:
    """Start ``replicas`` processes on one database; return them once ready and polling."""
    ports = [_free_port() for _ in range(replicas)]
    group = [
        procs.ours(fake, tmp, name=f"r{i}", DATABASE_URL=url, HTTP_PORT=str(port), **settings)
        for i, port in enumerate(ports)
    ]
    try:
        for proc in group:
            await proc.start()
        ready = (_wait_ready(p, port) for p, port in zip(group, ports, strict=True))
        await asyncio.gather(*ready)
        # One of them polls, whichever holds the PostgreSQL lock.
        await procs.wait_polling(fake, group[0])
    except BaseException:
        await _stop_all(group)
        raise
    return group, ports


async def replicas_fanout(
    chats: int, replicas: int, *, shared_budget: bool = False, paid: bool = False
) -> JSON:
    """``chats`` digests due at once, delivered by ``replicas`` processes on one PostgreSQL.

    Polling mode: one replica polls (the PostgreSQL lock), every one delivers. Without
    ``shared_budget`` flood control is off (BOT_RATE_LIMIT=0); with it the fake enforces
    30/s and the replicas share one 30/s budget in Redis - or, ``paid``, paid broadcasts at
    1,000/s, the fake allowing that many.
    """
    limit = (PAID_LIMIT if paid else FREE_LIMIT) if shared_budget else None
    async with seeded(POSTGRES, chats, shared_budget, "bench-replicas-") as (tmp, url, db, fake):
        if paid:
            fake.paid_rate = PAID_LIMIT
        budget = _shared_budget(limit, paid) if limit else {"BOT_RATE_LIMIT": "0"}
        group, ports = await _start_replicas(fake, tmp, url, replicas, budget)
        try:
            cpu0 = [p.cpu_seconds() for p in group]
            await db.make_due_now()
            await wait_delivered(fake, group, chats, stall=20 if shared_budget else 10)
            await wait_recorded(db, group)
            cpu1 = [p.cpu_seconds() for p in group]
            split = [int(await _delivered_by(port)) for port in ports]
        finally:
            await _stop_all(group)
        result = delivery_stats(fake, FANOUT_CHAT_BASE, chats, limit)
        result["replicas"] = replicas
        result["per_replica"] = split
        result["cpu_s_per_1000"] = (sum(cpu1) - sum(cpu0)) * 1000 / max(1, result["sent"])
        result["cpu_s_per_replica"] = [b - a for a, b in zip(cpu0, cpu1, strict=True)]
        if paid:
            result["paid_sends"] = fake.paid_sends
        return result


async def replicas_interactive(
    library: Library, *, chats: int, replicas: int, seconds: float, warmup: float
) -> JSON:
    """Replies at 5/s while ``replicas`` processes send a ``chats``-chat digest at 30/s
    through one budget in Redis (the fake enforcing 30/s); one replica polls and replies."""
    async with seeded(POSTGRES, chats, True, "bench-replicas-live-") as (tmp, url, db, fake):
        group, _ = await _start_replicas(fake, tmp, url, replicas, _shared_budget(FREE_LIMIT))
        try:
            await db.make_due_now()
            result = await _replies_meanwhile(
                fake, group, library, chats, seconds=seconds, warmup=warmup, rate=5.0
            )
        finally:
            await _stop_all(group)
        result["replicas"] = replicas
        return result


# ------------------------------------------------------------------------ capacity


def users_for(rate: float) -> int:
    """Enough users that each waits 5 s between commands, so replies never overlap."""
    return max(1000, int(rate * 5))
