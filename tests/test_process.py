"""``python -m bot`` as a real process: start-up calls, logs without the token, clean stop."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests import updates as u
from tests.fake_telegram import FakeTelegram

ROOT = Path(__file__).resolve().parents[1]


async def test_process_serves_survives_an_outage_and_never_logs_the_token(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    log = tmp_path / "bot.log"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_BASE_URL": fake.base_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "LOG_LEVEL": "DEBUG",  # the most talkative level must still keep the token out
    }
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", env=env, cwd=tmp_path, stdout=out, stderr=out
        )
    try:
        # A getUpdates is recorded when it returns; a waiting long poll shows as `polling`.
        await fake.wait_for(lambda: fake.polling or fake.call_count("getUpdates") > 0, 30)
        # Start-up registered the command menu (both scripts, private and groups) and
        # the description, generated from the same catalog as /help.
        assert fake.call_count("setMyCommands") == 4
        assert fake.call_count("setMyDescription") == 2
        commands = {c.params.get("language_code") for c in fake.calls_for("setMyCommands")}
        assert commands == {None, "zh-hant"}

        [reply] = await _answer(fake, "/quote 4")
        assert "細節決定成敗" in reply

        await fake.stop()  # an outage: polling fails, logs, and keeps trying
        await fake.start()
        [reply] = await _answer(fake, "/quote 5", timeout=60)
        assert "市民打來的每一個電話" in reply
    finally:
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), timeout=30)
    output = log.read_text()
    assert code == 0, output[-2000:]
    assert fake.token not in output
    assert fake.token.split(":", 1)[1] not in output
    assert "Traceback" not in output


async def _answer(fake: FakeTelegram, text: str, timeout: float = 20) -> list[str]:
    before = fake.sent_count(u.DEFAULT_USER_ID)
    fake.push(u.command(text))
    sent = await fake.wait_sent(before + 1, u.DEFAULT_USER_ID, timeout=timeout)
    return [m.plain_text for m in sent[before:]]
