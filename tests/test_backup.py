"""``python -m bot backup``: a consistent SQLite copy taken while the bot runs, and restored."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bench.seed import add_subscribers
from bot.store import Store
from tests.conftest import BotRunner
from tests.replicas import ROOT


async def run_cli(tmp_path: Path, database: str, *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "backup", *args,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "DATABASE_URL": database},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_a_backup_taken_while_the_bot_answers_restores_everything(
    run_bot: BotRunner, tmp_path: Path
) -> None:
    live = tmp_path / "bot.db"
    backup = tmp_path / "backups" / "bot-1.db"
    async with run_bot() as bot:
        await add_subscribers(bot.services.store, range(1, 5001), next_due_at=1_800_000_000)
        await bot.command("/next", 6601)
        await bot.command("/next", 6601)
        # The bot keeps answering (and writing) while the copy is taken.
        talking = asyncio.gather(*(bot.command("/next", 6700 + n) for n in range(20)))
        code, out, err = await run_cli(tmp_path, f"sqlite:///{live}", "--to", str(backup))
        await talking
        assert code == 0, err
        assert "integrity checked" in out and "chats" in out
        [again] = await bot.command("/quote 4", 6601)  # still serving after the backup
        assert "細節決定成敗" in again.plain_text
    assert [p.name for p in backup.parent.iterdir()] == ["bot-1.db"]  # no partial file left

    copy = Store(f"sqlite:///{backup}")
    try:
        assert await copy.chats.count(subscribed=True) == 5000
        reader = await copy.chats.get(6601)
        assert reader is not None and reader.progress == 2
    finally:
        await copy.close()

    # Restore: the bot started on the backup carries on where the reader was.
    async with run_bot(DATABASE_URL=f"sqlite:///{backup}") as restored:
        [section] = await restored.command("/next", 6601)
        assert "3/5" in section.plain_text


async def test_backup_refuses_what_it_cannot_do_in_one_line(tmp_path: Path) -> None:
    code, _, err = await run_cli(
        tmp_path, "postgresql://u:secret@127.0.0.1:5432/bot", "--to", "x.db"
    )
    assert code == 2 and "pg_dump" in err and "secret" not in err and err.count("\n") == 1
    code, _, err = await run_cli(tmp_path, f"sqlite:///{tmp_path / 'none.db'}", "--to", "x.db")
    assert code == 2 and "does not exist" in err
    assert not (tmp_path / "none.db").exists()

    live = tmp_path / "bot.db"
    store = Store(f"sqlite:///{live}")
    await store.init()
    await store.close()
    (tmp_path / "taken.db").write_bytes(b"keep me")
    code, _, err = await run_cli(tmp_path, f"sqlite:///{live}", "--to", "taken.db")
    assert code == 2 and "exists already" in err
    assert (tmp_path / "taken.db").read_bytes() == b"keep me"
    code, out, err = await run_cli(tmp_path, f"sqlite:///{live}", "--to", "taken.db", "--force")
    assert code == 0 and "0 chats" in out, err
