"""A PostgreSQL cluster of a test's own (initdb + pg_ctl on a free port), to stop and restart.

Fault tests restart the database under the bot; the machine's own server is never touched.
Run as root, the cluster belongs to the ``postgres`` user (initdb refuses root).
"""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from tests.conftest import free_port


def _binaries() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(versions[-1]).parent if versions else None


class Cluster:
    """One private PostgreSQL server: ``url`` to connect, ``stop()`` and ``start()``."""

    def __init__(self, bin_dir: Path, root: Path, port: int, owner: str | None) -> None:
        self.bin_dir = bin_dir
        self.root = root
        self.port = port
        self._owner = owner
        self.data = root / "data"
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    async def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin_dir / tool), *args]
        if self._owner is not None:
            command = ["runuser", "-u", self._owner, "--", *command]
        proc = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, f"{tool} failed:\n{out.decode(errors='replace')}"

    async def init(self) -> None:
        await self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-N")

    async def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=200"
        )
        await self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "log"),
            "-w",
            "start",
        )

    async def stop(self) -> None:
        """Stop at once (fast shutdown): every client's connection is cut, as in a restart."""
        await self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def log(self) -> str:
        path = self.root / "log"
        return path.read_text(errors="replace") if path.exists() else ""


@asynccontextmanager
async def private_postgres() -> AsyncIterator[Cluster]:
    """Run a fresh cluster for one test; skip, saying why, where none can be made."""
    bin_dir = _binaries()
    if bin_dir is None or not (bin_dir / "pg_ctl").exists():
        pytest.skip("no initdb/pg_ctl found (PATH or /usr/lib/postgresql/*/bin)")
    owner = None
    if os.geteuid() == 0:  # initdb refuses to run as root
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and no postgres user to own a private cluster")
        owner = account.pw_name
    root = Path(tempfile.mkdtemp(prefix="bot-pg-"))
    if owner is not None:
        os.chown(root, account.pw_uid, account.pw_gid)
    cluster = Cluster(bin_dir, root, free_port(), owner)
    try:
        await cluster.init()
        await cluster.start()
        yield cluster
    finally:
        if (cluster.data / "postmaster.pid").exists():
            await cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
