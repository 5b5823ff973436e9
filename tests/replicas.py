"""Several ``python -m bot`` processes on one PostgreSQL and one Redis, for replica tests."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp

from fake_telegram import FakeTelegram
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[1]
WEBHOOK_URL = "https://bot.example.org/telegram/hook"
WEBHOOK_SECRET = "replica_secret_1"


@dataclass
class Replica:
    name: str
    port: int
    proc: asyncio.subprocess.Process
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.proc.returncode is None

    async def kill(self) -> None:
        """SIGKILL: the process dies wherever it is, as in a crash."""
        self.proc.kill()
        await self.proc.wait()

    async def stop(self, timeout: float = 15) -> int:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.proc.wait(), timeout)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


class Replicas:
    """Start N replicas; stop them all (and show their logs on failure) at the end."""

    def __init__(
        self,
        fake: FakeTelegram,
        workdir: Path,
        database_url: str,
        *,
        count: int = 3,
        webhook: bool = True,
        redis_url: str | None = None,
        **env: str,
    ) -> None:
        self.fake = fake
        self.workdir = workdir
        self.count = count
        self.webhook = webhook
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(ROOT),
            "PTB_TIMEDELTA": "true",
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_BASE_URL": fake.base_url,
            "DATABASE_URL": database_url,
            "LOG_LEVEL": "INFO",
            "DELIVERY_TICK_SECONDS": "1",
            "REDIS_KEY_PREFIX": f"test-{uuid.uuid4().hex[:12]}:",
            **({"REDIS_URL": redis_url} if redis_url else {}),
            **(
                {"TELEGRAM_WEBHOOK_URL": WEBHOOK_URL, "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET}
                if webhook
                else {}
            ),
            **env,
        }
        self.replicas: list[Replica] = []

    async def __aenter__(self) -> Replicas:
        self.fake.set_webhook_interval = 0
        await asyncio.gather(*(self.start(f"r{i}") for i in range(self.count)))
        if self.webhook:
            self.fake.webhook_targets = [r.url for r in self.replicas]
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        codes = await asyncio.gather(
            *(r.stop() for r in self.replicas if r.alive), return_exceptions=True
        )
        if kind is None:
            bad = [c for c in codes if c != 0]
            assert not bad, f"replicas exited with {codes}:\n{self.tails()}"

    async def start(self, name: str, module: str = "bot", **env: str) -> Replica:
        """Start one more replica (``module``: what ``python -m`` runs, the bot by default)."""
        port = free_port()
        log = self.workdir / f"{name}.log"
        with log.open("ab") as out:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                module,
                env={**self.env, "HTTP_PORT": str(port), **env},
                cwd=self.workdir,
                stdout=out,
                stderr=out,
            )
        replica = Replica(name, port, proc, log)
        await self.wait_ready(replica)
        self.replicas.append(replica)
        return replica

    async def wait_ready(self, replica: Replica, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while True:
                assert replica.alive, f"{replica.name} exited:\n{replica.output()[-3000:]}"
                try:
                    async with http.get(f"{replica.url}/readyz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                assert time.monotonic() < deadline, replica.output()[-3000:]
                await asyncio.sleep(0.1)

    def tails(self) -> str:
        return "\n".join(f"--- {r.name}\n{r.output()[-2000:]}" for r in self.replicas)


async def post(replica: Replica, update: dict[str, Any], secret: str = WEBHOOK_SECRET) -> int:
    """POST one update straight to a replica's webhook, as Telegram would."""
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{replica.url}/telegram/hook",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": secret},
        ) as response,
    ):
        return response.status
