"""One function per benchmark figure; each runs one repetition and returns plain numbers.

The fake Bot API server runs in this (the driver's) process: pushing updates and reading its
records are then plain calls, and every timestamp (hand-out, arrival of a reply) is taken by
one ``perf_counter`` in one process. The bots under test are subprocesses over HTTP on
127.0.0.1, so both sides pay the same transport and the same fake.
"""

from __future__ import annotations

import asyncio
import json
import math
import statistics
import tempfile
import time
import timeit
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import psutil

from bench import databases, procs
from bench.databases import SQLITE, Database
from bench.procs import BotProcess
from bot import render
from bot.content import Library, load_library
from bot.content.library import DEFAULT_ARTICLE
from bot.content.scripts import Script, to_simplified
from fake_telegram import FakeTelegram
from fake_telegram import factories as u

JSON = dict[str, Any]

LATENCY_USER_BASE = 200_000_000
FANOUT_CHAT_BASE = 300_000_000
MEMORY_CHAT_BASE = 400_000_000
PAID_LIMIT = 1000  # Telegram's ceiling for paid broadcasts (allow_paid_broadcast)
FAR_FUTURE = 10 * 365 * 86400  # seconds ahead: subscribed but never due during a run


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation: a p99 is a latency that really happened)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


async def _stop(proc: BotProcess) -> None:
    await proc.stop()


# ------------------------------------------------------------------------------- databases


@asynccontextmanager
async def seeded(
    database: str, chats: int, flood_control: bool, prefix: str
) -> AsyncIterator[tuple[Path, str, Database, FakeTelegram]]:
    """A work directory, a fresh database with ``chats`` subscribed private chats (not due
    yet: ``Database.make_due_now`` starts the digest) and a fake server that knows them."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        async with (
            databases.fresh(database, Path(tmp)) as url,
            Database(url) as db,
            FakeTelegram(flood_control=flood_control) as fake,
        ):
            await db.seed(FANOUT_CHAT_BASE, chats, int(time.time()) + FAR_FUTURE)
            fake.add_chats(range(FANOUT_CHAT_BASE, FANOUT_CHAT_BASE + chats))
            yield Path(tmp), url, db, fake


async def make_db(path: Path, first_chat: int, count: int, due_at: int) -> None:
    """Create the bot's schema and ``count`` subscribed private chats due at ``due_at``."""
    async with Database(f"sqlite:///{path}") as db:
        await db.seed(first_chat, count, due_at)


# ------------------------------------------------------------------------------- 1. latency


def _command(i: int, library: Library, users: int) -> tuple[str, str]:
    """The i-th command of the load: users in turn, each cycling /quote N, /date D, /next."""
    kind = ("quote", "date", "next")[i % 3]  # users is not a multiple of 3: each one rotates
    if kind == "quote":
        return kind, f"/quote {1 + (i // 3) % library.quote_count}"
    if kind == "date":
        days = library.days
        return kind, f"/date {days[(i // 3) % len(days)].label}"
    return kind, "/next"


async def latency(
    which: str,
    library: Library,
    *,
    seconds: float,
    warmup: float,
    rate: float = 200.0,
    users: int = 1000,
    echo_args: tuple[str, ...] = (),
    database: str = SQLITE,
    drain: float = 20.0,
    profile: Path | None = None,
) -> JSON:
    """Steady load of ``rate`` updates/s from ``users`` users; hand-out to reply, per update.

    ``drain``: how long the last replies may take to arrive (later ones count as unanswered).
    ``profile`` (ours only): run the bot under cProfile, its statistics written there.
    """
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp:
        async with databases.fresh(database, Path(tmp)) as url, FakeTelegram() as fake:
            # The limiter is off like the echo bot's: at 30 msg/s it could never keep up with
            # 200 updates/s, and the figure would measure its queue, not the bot.
            proc = (
                procs.ours_profiled(fake, Path(tmp), profile, BOT_RATE_LIMIT="0", DATABASE_URL=url)
                if which == "ours"
                else procs.echo(fake, Path(tmp), *echo_args, name=which)
            )
            await proc.start()
            try:
                await procs.wait_polling(fake, proc)
                load = await push_commands(
                    fake, proc, library, seconds=seconds, warmup=warmup, rate=rate, users=users
                )
                await wait_replies(fake, load, stall=min(10.0, drain), limit=drain)
                return reply_latency(fake, load)
            finally:
                await _stop(proc)


@dataclass
class Load:
    """Commands pushed at a steady rate: (update_id, chat, kind, measured) each, and the cost."""

    pushed: list[tuple[int, int, str, bool]]
    cpu_s: float  # the bot's CPU time over the measured part
    offered: float  # updates/s really pushed over the measured part

    @property
    def measured(self) -> int:
        return sum(1 for p in self.pushed if p[3])


async def push_commands(
    fake: FakeTelegram,
    proc: BotProcess,
    library: Library,
    *,
    seconds: float,
    warmup: float,
    rate: float,
    users: int,
    user_base: int = LATENCY_USER_BASE,
) -> Load:
    """Push commands at ``rate``/s for ``warmup`` + ``seconds``; the warm-up is not measured."""
    loop = asyncio.get_running_loop()
    total = int((warmup + seconds) * rate)
    warm = int(warmup * rate)
    pushed: list[tuple[int, int, str, bool]] = []
    cpu0 = 0.0
    begin = loop.time()
    for i in range(total):
        # An absolute schedule: a late wake-up catches up instead of lowering the rate.
        delay = begin + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if i == warm:
            cpu0 = proc.cpu_seconds()
        if not proc.alive:
            raise procs.BotCrashed(f"{proc.name} exited under load\n{proc.log_tail()}")
        user_id = user_base + i % users
        kind, text = _command(i, library, users)
        update_id = fake.push(u.command(text, user_id))
        pushed.append((update_id, user_id, kind, i >= warm))
    cpu1 = proc.cpu_seconds()
    offered = (total - warm) / (loop.time() - begin - warmup) if total > warm else 0.0
    return Load(pushed, cpu1 - cpu0, offered)


async def wait_replies(
    fake: FakeTelegram, load: Load, stall: float = 10, limit: float = 20
) -> None:
    """Until every command's chat got its replies, ``stall`` s pass without one, or ``limit``.

    An overloaded bot then shows as unanswered updates instead of an endless drain.
    """
    chats = {chat for _, chat, _, _ in load.pushed}

    def replies() -> int:
        return sum(fake.sent_count(chat) for chat in chats)

    last, stalled = -1, time.monotonic()
    deadline = stalled + limit
    while (
        (count := replies()) < len(load.pushed)
        and time.monotonic() - stalled < stall
        and time.monotonic() < deadline
    ):
        if count != last:
            last, stalled = count, time.monotonic()
        await asyncio.sleep(0.05)


def reply_latency(fake: FakeTelegram, load: Load) -> JSON:
    """Percentiles of hand-out (getUpdates) to the arrival of the reply, per measured command."""
    handed = fake.handed_out_at
    by_chat: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for update_id, chat, _kind, _measured in load.pushed:
        if update_id in handed:
            by_chat[chat].append((handed[update_id], update_id))
    # A reply belongs to the chat's latest update handed out before it arrived: each user
    # waits seconds between commands, far longer than any reply takes.
    replied: dict[int, float] = {}
    for chat, handed_list in by_chat.items():
        handed_list.sort()
        j = -1
        for msg in fake.sent(chat):
            while j + 1 < len(handed_list) and handed_list[j + 1][0] <= msg.t:
                j += 1
            if j >= 0:
                update_id = handed_list[j][1]
                replied[update_id] = max(replied.get(update_id, 0.0), msg.t)
    samples: dict[str, list[float]] = defaultdict(list)
    unanswered = 0
    for update_id, _chat, kind, measured in load.pushed:
        if not measured:
            continue
        if update_id not in replied:
            unanswered += 1
            continue
        ms = (replied[update_id] - handed[update_id]) * 1000
        samples[kind].append(ms)
        samples["all"].append(ms)
    measured_n = load.measured
    return {
        "p50_ms": percentile(samples["all"], 50) if samples["all"] else None,
        "p99_ms": percentile(samples["all"], 99) if samples["all"] else None,
        "updates": measured_n,
        "unanswered": unanswered,
        "offered_rate": round(load.offered, 1),
        "cpu_ms_per_update": load.cpu_s * 1000 / measured_n if measured_n else None,
        "by_command": {
            kind: {"p50_ms": percentile(v, 50), "p99_ms": percentile(v, 99), "n": len(v)}
            for kind, v in samples.items()
            if kind != "all"
        },
    }


# ------------------------------------------------------------------------------- 2./3. fan-out


def delivery_stats(fake: FakeTelegram, first: int, count: int, limit: float | None) -> JSON:
    sent = fake.sent()
    per_chat: dict[int, int] = defaultdict(int)
    for msg in sent:
        per_chat[msg.chat_id] += 1
    expected = range(first, first + count)
    times = sorted(m.t for m in sent)
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    rate = (len(times) - 1) / span if span > 0 else 0.0
    stats = fake.stats()
    result: JSON = {
        "chats": count,
        "sent": len(sent),
        "msgs_per_s": rate,
        "seconds": span,
        "duplicates": sum(n - 1 for n in per_chat.values() if n > 1),
        "misses": sum(1 for c in expected if per_chat.get(c, 0) == 0),
        "http_429": stats["http_429"],
        "retry_after_violations": len(stats["retry_after_violations"]),
    }
    if limit:
        result["fraction_of_limit"] = rate / limit
    return result


async def wait_delivered(
    fake: FakeTelegram, procs_: list[BotProcess], count: int, stall: float
) -> None:
    """Until ``count`` messages arrived, or none arrived for ``stall`` seconds."""
    last, since = -1, time.monotonic()
    while fake.sent_count() < count and time.monotonic() - since < stall:
        for proc in procs_:
            if not proc.alive:
                raise procs.BotCrashed(f"{proc.name} exited during fan-out\n{proc.log_tail()}")
        if fake.sent_count() != last:
            last, since = fake.sent_count(), time.monotonic()
        await asyncio.sleep(0.02)


async def wait_recorded(db: Database, procs_: list[BotProcess], timeout: float = 30.0) -> None:
    """Until the store shows every chat's delivery recorded (no chat left at progress 0)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in procs_:
            if not proc.alive:
                raise procs.BotCrashed(f"{proc.name} exited during fan-out\n{proc.log_tail()}")
        if await db.unrecorded() == 0:
            return
        await asyncio.sleep(0.05)  # polling another process's database: no event to wait on


def _fanout_result(
    fake: FakeTelegram, count: int, limit: int | None, cpu_s: float, driver_cpu_s: float
) -> JSON:
    result = delivery_stats(fake, FANOUT_CHAT_BASE, count, limit)
    result["cpu_s_per_1000"] = cpu_s * 1000 / max(1, result["sent"])
    result["driver_cpu_s_per_1000"] = driver_cpu_s * 1000 / max(1, result["sent"])
    return result


async def fanout_ours(
    count: int,
    *,
    limited: bool,
    concurrency: int = 32,
    database: str = SQLITE,
    paid: bool = False,
    profile: Path | None = None,
) -> JSON:
    """The bot's digest: ``count`` chats due at once, from its own store, over its own job.

    ``paid``: as paid broadcasts (BOT_PAID_BROADCAST=1), the fake allowing 1,000/s overall.
    ``profile``: run the bot under cProfile, its statistics written there.
    """
    limit = (PAID_LIMIT if paid else 30) if limited else None
    async with seeded(database, count, limited, "bench-fanout-") as (tmp, url, db, fake):
        settings = {"BOT_RATE_LIMIT": str(limit or 0), "DATABASE_URL": url}
        if paid:
            fake.paid_rate = PAID_LIMIT
            settings["BOT_PAID_BROADCAST"] = "1"
        proc = procs.ours_profiled(
            fake, tmp, profile, DELIVERY_CONCURRENCY=str(concurrency), **settings
        )
        await proc.start()
        try:
            await procs.wait_polling(fake, proc)
            me = psutil.Process()
            cpu0, fake_cpu0 = proc.cpu_seconds(), sum(me.cpu_times()[:2])
            await db.make_due_now()
            await wait_delivered(fake, [proc], count, stall=20 if limited else 10)
            # The bot's cost includes recording the last batch, just after it went out.
            await wait_recorded(db, [proc])
            cpu1, fake_cpu1 = proc.cpu_seconds(), sum(me.cpu_times()[:2])
        finally:
            await _stop(proc)
        result = _fanout_result(fake, count, limit, cpu1 - cpu0, fake_cpu1 - fake_cpu0)
        if paid:
            result["paid_sends"] = fake.paid_sends
        return result


async def fanout_baseline(
    count: int, payload: JSON, *, limited: bool, concurrency: int = 32, paid: bool = False
) -> JSON:
    """Bare PTB sending the same message to ``count`` chats, same concurrency, same limiter.

    ``paid``: as paid broadcasts, with the limiter at 1,000/s (the fake's paid limit).
    """
    rate = (PAID_LIMIT if paid else 30) if limited else 0
    with tempfile.TemporaryDirectory(prefix="bench-broadcast-") as tmp:
        message = Path(tmp) / "message.json"
        message.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
        async with FakeTelegram(flood_control=limited) as fake:
            fake.add_chats(range(FANOUT_CHAT_BASE, FANOUT_CHAT_BASE + count))
            args = [
                "--broadcast",
                str(count),
                "--first-chat",
                str(FANOUT_CHAT_BASE),
                "--message",
                str(message),
                "--concurrency",
                str(concurrency),
                "--rate-limit",
                str(rate),
                *(["--paid"] if paid else []),
            ]
            proc = procs.echo(fake, Path(tmp), *args, name="broadcast")
            await proc.start()
            try:
                line = await proc.readline(60)
                if line != "READY":
                    raise procs.BotCrashed(f"broadcast said {line!r}\n{proc.log_tail()}")
                me = psutil.Process()
                cpu0, fake_cpu0 = proc.cpu_seconds(), sum(me.cpu_times()[:2])
                await proc.write("GO\n")
                await wait_delivered(fake, [proc], count, stall=20 if limited else 10)
                cpu1, fake_cpu1 = proc.cpu_seconds(), sum(me.cpu_times()[:2])
            finally:
                await _stop(proc)
            return _fanout_result(fake, count, rate or None, cpu1 - cpu0, fake_cpu1 - fake_cpu0)


def digest_payload(library: Library) -> JSON:
    """What the digest sends a private chat for section 1, for the baseline to send too."""
    rendered = render.section(library, 1, Script.TRADITIONAL, bot_username=u.BOT_USERNAME)
    markup = rendered.markup.to_dict() if rendered.markup is not None else None
    return {"text": rendered.text, "markup": markup}


# ------------------------------------------------------------------------------- 4. memory

MEMORY_COMMANDS = ("/start", "/next", "/quote 3", "/date 2月16日", "/toc", "/help")


async def memory(which: str, template_db: Path | None) -> JSON:
    """Peak RSS after start-up and a few commands (ours: over a given database)."""
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        if template_db is not None:
            (Path(tmp) / "bot.db").write_bytes(template_db.read_bytes())
        async with FakeTelegram() as fake:
            proc = procs.ours(fake, Path(tmp)) if which == "ours" else procs.echo(fake, Path(tmp))
            await proc.start()
            try:
                await procs.wait_polling(fake, proc)
                user_id = MEMORY_CHAT_BASE - 1
                for n, text in enumerate(MEMORY_COMMANDS, start=1):
                    fake.push(u.command(text, user_id))
                    await procs.until(partial(lambda n: fake.sent_count() >= n, n), 20, proc)
                await asyncio.sleep(1.5)  # a delivery tick or two over the full table
                return {"peak_rss_mb": proc.peak_rss_mb(), "rss_mb": proc.rss_mb()}
            finally:
                await _stop(proc)


# ------------------------------------------------------------------------------- 5. start-up


async def startup(which: str, echo_args: tuple[str, ...] = ()) -> float:
    """Seconds from process start to its first getUpdates (ours with a fresh database)."""
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        async with FakeTelegram() as fake:
            proc = (
                procs.ours(fake, Path(tmp))
                if which == "ours"
                else procs.echo(fake, Path(tmp), *echo_args)
            )
            await proc.start()
            try:
                polling_at = await procs.wait_polling(fake, proc)
            finally:
                await _stop(proc)
    return polling_at - proc.started_at


# ------------------------------------------------------------------------------- 6. scripts


def script_conversion(library: Library, repeats: int = 5, number: int = 2000) -> JSON:
    """µs per call: a section rendered from each stored edition vs converted on the fly."""
    sections = range(1, library.section_count + 1)

    def lookup(script: Script) -> None:
        for n in sections:
            render.section(library, n, script)

    def on_the_fly() -> None:
        # What serving simplified would cost without the stored edition: render the
        # traditional text, then convert all of it (OpenCC tw2s; the key keeps its old name).
        for n in sections:
            to_simplified(render.section(library, n, Script.TRADITIONAL).text)

    texts = [render.section(library, n, Script.TRADITIONAL).text for n in sections]

    def t2s_only() -> None:
        for text in texts:
            to_simplified(text)

    loops = max(1, number // len(sections))
    variants = {
        "traditional_us": lambda: lookup(Script.TRADITIONAL),
        "simplified_us": lambda: lookup(Script.SIMPLIFIED),
        "on_the_fly_t2s_us": on_the_fly,
        "t2s_conversion_only_us": t2s_only,
    }
    on_the_fly()  # OpenCC loads its dictionaries on first use; not part of a call's cost
    runs: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeats):
        # Round-robin, so a noisy second on this machine does not land on one variant only.
        for name, fn in variants.items():
            runs[name].append(timeit.timeit(fn, number=loops) / (loops * len(sections)) * 1e6)
    result: JSON = {name: statistics.median(values) for name, values in runs.items()}
    result["section_chars_mean"] = statistics.mean(len(t) for t in texts)
    return result


def load() -> Library:
    return load_library(DEFAULT_ARTICLE)
