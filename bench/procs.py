"""Bot processes under test: ours (``python -m bot``) and the bare-PTB baseline.

Both run as subprocesses so each is measured as a whole process (CPU time, peak RSS, start-up)
and neither shares an event loop with the fake server or the load generator.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import psutil

from fake_telegram import FakeTelegram

PROJECT_ROOT = Path(__file__).resolve().parents[1]
_OWN_VARS = (
    "TELEGRAM_",
    "DATABASE_URL",
    "BOT_",
    "DELIVERY_",
    "LOG_",
    "ARTICLE_PATH",
    "HTTP_",
    "REDIS_",
    "WEBHOOK_",
)


class BotCrashed(RuntimeError):
    """The process under test exited or never became ready; the message holds its log."""


class BotProcess:
    """One subprocess under test, with its CPU time, peak RSS and log."""

    def __init__(self, name: str, argv: Sequence[str], env: dict[str, str], workdir: Path):
        self.name = name
        self.argv = list(argv)
        self.env = env
        self.workdir = workdir
        self.log_path = workdir / f"{name}.log"
        self.proc: asyncio.subprocess.Process | None = None
        self.ps: psutil.Process | None = None
        self.started_at = 0.0  # perf_counter just before the exec
        self.stop_timeout = 15.0  # seconds from SIGTERM to SIGKILL

    async def start(self) -> None:
        log = self.log_path.open("ab")
        self.started_at = time.perf_counter()
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv,
            env=self.env,
            cwd=self.workdir,  # away from the project's .env, which load_settings would read
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
        )
        log.close()
        self.ps = psutil.Process(self.proc.pid)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    def cpu_seconds(self) -> float:
        """User plus system CPU time of the process so far (all its threads)."""
        assert self.ps is not None
        times = self.ps.cpu_times()
        return times.user + times.system

    def rss_mb(self) -> float:
        assert self.ps is not None
        return self.ps.memory_info().rss / 2**20

    def peak_rss_mb(self) -> float:
        """High-water mark of resident memory (VmHWM): a peak no sampling can miss."""
        assert self.proc is not None
        try:
            status = Path(f"/proc/{self.proc.pid}/status").read_text()
        except OSError:
            return self.rss_mb()
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return self.rss_mb()

    async def readline(self, timeout: float) -> str:
        assert self.proc is not None and self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        if not line:
            raise BotCrashed(f"{self.name} closed its stdout\n{self.log_tail()}")
        return line.decode().strip()

    async def write(self, text: str) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(text.encode())
        await self.proc.stdin.drain()

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    async def stop(self) -> None:
        """SIGTERM, the way a service manager stops the bot; SIGKILL if it hangs."""
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), self.stop_timeout)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_VARS)}
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")) if p
    )
    return env


def ours(fake: FakeTelegram, workdir: Path, name: str = "ours", **settings: str) -> BotProcess:
    """``python -m bot`` against the fake, configured only through its environment."""
    env = _clean_env()
    env.update(
        TELEGRAM_BOT_TOKEN=fake.token,
        TELEGRAM_BASE_URL=fake.base_url,
        DATABASE_URL=f"sqlite:///{workdir / 'bot.db'}",
        # Both sides log warnings only, so neither pays for per-request log lines.
        LOG_LEVEL="WARNING",
        DELIVERY_TICK_SECONDS="1",
        HTTP_PORT="0",  # no health server: the echo bot has none either
    )
    env.update(settings)
    return BotProcess(name, [sys.executable, "-m", "bot"], env, workdir)


def ours_profiled(
    fake: FakeTelegram, workdir: Path, profile: Path | None, **settings: str
) -> BotProcess:
    """``ours``, under cProfile (``bench.profiled``) when ``profile`` says where to write."""
    proc = ours(fake, workdir, **settings)
    if profile is not None:
        proc.argv = [sys.executable, "-m", "bench.profiled", str(profile)]
        proc.stop_timeout = 120.0  # writing the statistics takes a while on a busy machine
    return proc


def echo(fake: FakeTelegram, workdir: Path, *args: str, name: str = "echo") -> BotProcess:
    """The bare-PTB baseline (see bench/echo_bot.py)."""
    env = _clean_env()
    env.update(TELEGRAM_BOT_TOKEN=fake.token, TELEGRAM_BASE_URL=fake.base_url)
    return BotProcess(name, [sys.executable, "-m", "bench.echo_bot", *args], env, workdir)


async def until(
    predicate: Callable[[], bool],
    timeout: float,
    proc: BotProcess | None = None,
    step: float = 0.01,
) -> None:
    """Wait for predicate; fail early, with the log, if the process under test died."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc is not None and not proc.alive:
            raise BotCrashed(f"{proc.name} exited\n{proc.log_tail()}")
        if time.monotonic() > deadline:
            tail = proc.log_tail() if proc is not None else ""
            raise TimeoutError(f"condition not met within {timeout}s\n{tail}")
        await asyncio.sleep(step)


async def wait_polling(fake: FakeTelegram, proc: BotProcess, timeout: float = 60) -> float:
    """Wait for the first parked getUpdates; return its perf_counter time.

    The fake records a call only when it answers, so a long poll is seen by ``fake.polling``,
    which turns true (and wakes ``wait_for``) the moment the request parks.
    """
    task = asyncio.ensure_future(fake.wait_for(lambda: fake.polling, timeout))
    try:
        while not task.done():
            if not proc.alive:
                raise BotCrashed(f"{proc.name} exited before polling\n{proc.log_tail()}")
            await asyncio.wait({task}, timeout=0.05)
        task.result()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await task
    return time.perf_counter()
