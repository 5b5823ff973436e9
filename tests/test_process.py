"""``python -m bot`` as a real process: start-up, logs (text and JSON) without secrets,
one-line start-up failures with exit code 2, a revoked token, and SIGTERM draining."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from bench.seed import add_subscribers
from fake_telegram import FakeTelegram
from fake_telegram import factories as u
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[1]
# ISO 8601 with milliseconds and the UTC offset: 2026-12-04T23:40:00.123+00:00
OFFSET_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d")


def environment(fake: FakeTelegram, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_BASE_URL": fake.base_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "HTTP_PORT": "0",
        "LOG_LEVEL": "DEBUG",  # the most talkative level must still keep secrets out
        **extra,
    }


async def start(env: dict[str, str], cwd: Path, log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", env=env, cwd=cwd, stdout=out, stderr=out
        )


async def run_to_end(env: dict[str, str], cwd: Path, *args: str) -> tuple[int, str]:
    """Run ``python -m bot`` (at INFO) until it exits; return its code and its output."""
    env = {**env, "LOG_LEVEL": "INFO"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def answer(fake: FakeTelegram, text: str, timeout: float = 20) -> list[str]:
    before = fake.sent_count(u.DEFAULT_USER_ID)
    fake.push(u.command(text))
    sent = await fake.wait_sent(before + 1, u.DEFAULT_USER_ID, timeout=timeout)
    return [m.plain_text for m in sent[before:]]


async def test_process_serves_survives_an_outage_and_never_logs_the_token(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    log = tmp_path / "bot.log"
    proc = await start(environment(fake, tmp_path), tmp_path, log)
    try:
        await fake.wait_for(lambda: fake.polling or fake.call_count("getUpdates") > 0, 30)
        # Start-up registered the command menu (both scripts, private and groups) and
        # the description, generated from the same catalog as /help, while polling began.
        await fake.wait_for(lambda: fake.call_count("setMyDescription") == 2, 30)
        assert fake.call_count("setMyCommands") == 4
        assert fake.call_count("setMyDescription") == 2
        commands = {c.params.get("language_code") for c in fake.calls_for("setMyCommands")}
        assert commands == {None, "zh-hant"}

        [reply] = await answer(fake, "/quote 4")
        assert "細節決定成敗" in reply

        await fake.stop()  # an outage: polling fails, logs, and keeps trying
        await fake.start()
        [reply] = await answer(fake, "/quote 5", timeout=60)
        assert "市民打來的每一個電話" in reply
    finally:
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), timeout=30)
    output = log.read_text()
    assert code == 0, output[-2000:]
    assert fake.token not in output
    assert fake.token.split(":", 1)[1] not in output
    assert "Traceback" not in output
    assert "upgraded the database schema" in output  # start-up migrates, and says so


async def test_json_logs_are_one_object_per_line_with_the_update_and_no_secrets(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    log = tmp_path / "bot.log"
    proc = await start(environment(fake, tmp_path, LOG_FORMAT="json"), tmp_path, log)
    try:
        await fake.wait_for(lambda: fake.polling, 30)
        await answer(fake, "/quote 4")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), timeout=30) == 0
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    assert lines and all({"time", "level", "logger", "message"} <= set(e) for e in lines)
    assert all(OFFSET_TIME.fullmatch(e["time"]) for e in lines), lines[0]["time"]
    handled = [e for e in lines if e.get("command") == "quote"]
    assert handled and handled[0]["chat_id"] == u.DEFAULT_USER_ID and "update_id" in handled[0]
    # The command itself is logged at INFO, as the README says.
    assert any(e["level"] == "INFO" and "/quote" in e["message"] for e in handled)


async def test_start_up_errors_are_json_too_when_asked(fake: FakeTelegram, tmp_path: Path) -> None:
    for extra in ({"BOT_TIMEZONE": "Mars/Olympus"}, {"HTTP_PORT": "99999"}):
        env = environment(fake, tmp_path, LOG_FORMAT="json", **extra)
        code, output = await run_to_end(env, tmp_path)
        assert code == 2 and output.count("\n") == 1, output
        entry = json.loads(output)
        assert entry["level"] == "ERROR" and OFFSET_TIME.fullmatch(entry["time"])
        assert next(iter(extra)) in entry["message"] or "IANA" in entry["message"]


async def test_text_logs_carry_their_utc_offset(fake: FakeTelegram, tmp_path: Path) -> None:
    env = environment(fake, tmp_path)
    log = tmp_path / "text.log"
    proc = await start(env, tmp_path, log)
    try:
        await fake.wait_for(lambda: fake.polling, 30)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), timeout=30) == 0
    first = log.read_text().splitlines()[0]
    assert OFFSET_TIME.fullmatch(first.split(" ", 1)[0]), first
    text = log.read_text()
    assert fake.token.split(":", 1)[1] not in text
    assert "細節決定成敗" not in text  # what people read is not logged


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            {"DATABASE_URL": "postgresql://reader:s3cretpass@127.0.0.1:5432/no_such_db_x"},
            "cannot be used",
        ),
        ({"DATABASE_URL": "mysql://reader:s3cretpass@host/db"}, "sqlite:///"),
        ({"TELEGRAM_BASE_URL": "ftp://x/bot{token}"}, "http://"),
        ({"BOT_TIMEZONE": "Mars/Olympus"}, "IANA"),
        ({"TELEGRAM_WEBHOOK_URL": "https://bot.example/hook"}, "TELEGRAM_WEBHOOK_SECRET"),
        ({"BOT_RATE_LIMIT": "100"}, "BOT_PAID_BROADCAST"),
        ({"HTTP_PORT": "99999"}, "HTTP_PORT must be at most 65535"),
        ({"DATABASE_URL": "sqlite:////proc/no-such-folder/bot.db"}, "cannot create the database"),
    ],
)
async def test_a_bad_setting_is_one_line_exit_2_secrets_masked(
    fake: FakeTelegram, tmp_path: Path, extra: dict[str, str], expected: str
) -> None:
    env = environment(fake, tmp_path, **extra)
    env = {k: v.replace("{token}", fake.token) for k, v in env.items()}
    code, output = await run_to_end(env, tmp_path)
    assert code == 2, output
    assert output.startswith("error: ") and output.count("\n") == 1, output
    assert expected in output
    assert "s3cretpass" not in output and fake.token not in output
    assert fake.token.split(":", 1)[1] not in output


async def test_a_database_that_does_not_answer_at_start_exits_75_to_be_restarted(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    url = f"postgresql://reader:s3cretpass@127.0.0.1:{free_port()}/db"
    for args in ((), ("migrate",)):
        code, output = await run_to_end(
            environment(fake, tmp_path, DATABASE_URL=url), tmp_path, *args
        )
        assert code == 75, output
        assert output.startswith("error: ") and output.count("\n") == 1, output
        assert "does not answer" in output and "s3cretpass" not in output


async def test_a_token_telegram_refuses_is_one_line_at_start(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    fake.revoke_token()
    code, output = await run_to_end(environment(fake, tmp_path), tmp_path)
    assert code == 2 and "Traceback" not in output
    assert "refused TELEGRAM_BOT_TOKEN" in output.splitlines()[-1]
    assert fake.token.split(":", 1)[1] not in output


async def test_a_token_revoked_while_running_stops_the_process_loudly(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    log = tmp_path / "bot.log"
    proc = await start(environment(fake, tmp_path), tmp_path, log)
    await fake.wait_for(lambda: fake.polling, 30)
    fake.revoke_token()
    code = await asyncio.wait_for(proc.wait(), timeout=20)
    output = log.read_text()
    assert code == 2, output[-2000:]
    assert "Traceback" not in output
    assert "refused TELEGRAM_BOT_TOKEN" in output.splitlines()[-1]


async def test_broken_or_busy_databases_are_one_line_at_start(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"this is not a database" * 100)
    code, output = await run_to_end(
        environment(fake, tmp_path, DATABASE_URL=f"sqlite:///{corrupt}"), tmp_path
    )
    assert code == 2 and output.count("\n") == 1 and "not a database" in output, output

    readonly = tmp_path / "readonly.db"
    sqlite3.connect(readonly).close()
    url = f"sqlite:///file:{readonly}?mode=ro&uri=true"
    code, output = await run_to_end(environment(fake, tmp_path, DATABASE_URL=url), tmp_path)
    assert code == 2 and output.count("\n") == 1 and "readonly" in output, output

    log = tmp_path / "first.log"
    first = await start(environment(fake, tmp_path), tmp_path, log)
    try:
        await fake.wait_for(lambda: fake.polling, 30)
        code, output = await run_to_end(environment(fake, tmp_path), tmp_path)
        assert code == 2 and "already running" in output, output
    finally:
        first.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(first.wait(), timeout=30) == 0


async def test_migrate_command_upgrades_and_says_so(fake: FakeTelegram, tmp_path: Path) -> None:
    # A migration job needs the database, not the bot's token.
    env = {k: v for k, v in environment(fake, tmp_path).items() if k != "TELEGRAM_BOT_TOKEN"}
    code, output = await run_to_end(env, tmp_path, "migrate")
    assert code == 0 and "upgraded the database schema from empty" in output, output
    code, output = await run_to_end(env, tmp_path, "migrate")
    assert code == 0 and "is current" in output, output


async def test_sigterm_mid_fan_out_drains_in_time_and_the_rest_goes_out_once(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    from bot.store import Store

    chats = list(range(600_000, 600_400))
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    store = Store(url)
    await store.init()
    await add_subscribers(store, chats, next_due_at=int(time.time()) - 60)
    await store.close()
    fake.add_chats(chats)
    env = environment(fake, tmp_path, BOT_RATE_LIMIT="30", DELIVERY_TICK_SECONDS="1")
    log = tmp_path / "bot.log"
    proc = await start(env, tmp_path, log)
    await fake.wait_for(lambda: fake.sent_count() >= 40, 60)
    stopped_at = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    code = await asyncio.wait_for(proc.wait(), timeout=15)
    took = time.monotonic() - stopped_at
    assert code == 0 and took < 10, (code, took, log.read_text()[-2000:])
    store = Store(url)
    try:
        async with store.engine.connect() as conn:
            from sqlalchemy import text

            held = (
                await conn.execute(
                    text("SELECT count(*) FROM chats WHERE claim_token IS NOT NULL")
                )
            ).scalar()
        assert held == 0  # every unsent claim was handed back
    finally:
        await store.close()
    sent_before = fake.sent_count()
    assert sent_before < len(chats)
    second = await start(env, tmp_path, log)
    try:
        await fake.wait_for(lambda: all(fake.sent_count(c) >= 1 for c in chats), 60)
    finally:
        second.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(second.wait(), timeout=15) == 0
    assert {c: fake.sent_count(c) for c in chats} == dict.fromkeys(chats, 1)


async def test_http_port_in_use_is_one_line(fake: FakeTelegram, tmp_path: Path) -> None:
    port = free_port()
    blocker = await asyncio.start_server(lambda r, w: None, "127.0.0.1", port)
    try:
        code, output = await run_to_end(environment(fake, tmp_path, HTTP_PORT=str(port)), tmp_path)
    finally:
        blocker.close()
    assert code == 2 and output.count("\n") == 1 and "HTTP_PORT" in output, output
