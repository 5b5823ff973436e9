"""Settings: read once, validated, with clear messages; the token never printed."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import time
from pathlib import Path

import pytest
from PIL import Image

from bot.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def test_defaults(tmp_path: Path) -> None:
    s = load_settings({"TELEGRAM_BOT_TOKEN": TOKEN}, env_file=tmp_path / "none")
    assert s.database_url == "sqlite:///data/bot.db"
    assert s.timezone.key == "Asia/Shanghai"
    assert s.delivery_time == time(8, 0)
    assert s.base_url is None
    assert TOKEN not in repr(s)


def test_env_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text(f"TELEGRAM_BOT_TOKEN={TOKEN}\nDELIVERY_TIME=07:30\nBOT_TIMEZONE=Asia/Taipei\n")
    s = load_settings({"DELIVERY_TIME": "21:05"}, env_file=env)
    assert s.delivery_time == time(21, 5)
    assert s.timezone.key == "Asia/Taipei"


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({}, "@BotFather"),
        ({"TELEGRAM_BOT_TOKEN": "not a token"}, "does not look like"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "BOT_TIMEZONE": "Mars/Base"}, "IANA"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "DELIVERY_TIME": "25:00"}, "HH:MM"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": "ftp://x"}, "http://"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "DELIVERY_CONCURRENCY": "0"}, "at least 1"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "DATABASE_URL": "not a url"}, "not a database URL"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "DATABASE_URL": "mysql://x@h/db"}, "sqlite:///"),
    ],
)
def test_bad_settings_name_the_fix(tmp_path: Path, env: dict[str, str], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        load_settings(env, env_file=tmp_path / "none")


@pytest.mark.parametrize("token", ["", "malformed"])
def test_main_without_a_usable_token_says_how_to_get_one(tmp_path: Path, token: str) -> None:
    env = {"PATH": "/usr/bin:/bin", "TELEGRAM_BOT_TOKEN": token}
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=env | {"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "TELEGRAM_BOT_TOKEN" in lines[0] and "@BotFather" in lines[0]


def test_console_mode_answers_commands(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--console"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "TELEGRAM_BOT_TOKEN": ""},
        input="/next\n/quote 4\n",
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    # Replies print in the order the lines were typed: welcome, section 1, quote 4.
    assert 0 < out.index("你好") < out.index("1/5") < out.index("細節決定成敗")
    assert "[1]" in result.stdout  # buttons are listed
    assert (tmp_path / "data" / "console.db").exists()  # the same store as the bot


@pytest.mark.parametrize(
    ("env", "batch"),
    [
        ({}, 500),  # 30/s x 120 s lease / 2 = 1800: the largest batch fits
        ({"DELIVERY_LEASE_SECONDS": "10"}, 150),  # 30/s x 10 s / 2
        ({"DELIVERY_LEASE_SECONDS": "1", "DELIVERY_CONCURRENCY": "32"}, 32),
        ({"BOT_RATE_LIMIT": "0", "DELIVERY_LEASE_SECONDS": "1"}, 500),  # no limiter
    ],
)
def test_claim_batch_is_sent_within_its_lease(
    tmp_path: Path, env: dict[str, str], batch: int
) -> None:
    from bot.app import claim_batch

    settings = load_settings({"TELEGRAM_BOT_TOKEN": TOKEN, **env}, env_file=tmp_path / "none")
    assert claim_batch(settings) == batch


def test_console_mode_saves_cards_and_takes_a_typed_vote(tmp_path: Path) -> None:
    """The console is the same bot: /card saves the PNG and prints its path, /quiz prints
    its options, and a number typed after it votes (the bot answers the vote)."""
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--console"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "TELEGRAM_BOT_TOKEN": ""},
        input="/card 4\n/quiz\n2\n",
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "has no attribute" not in result.stderr and "Traceback" not in result.stderr
    [path] = re.findall(r"\(image: (\S+\.png)\)", out)
    with Image.open(path) as card:
        assert card.format == "PNG" and card.size == (1080, 1350)
    assert "語錄 4" in out and "start=quote_4" in out  # the caption, with its link
    assert "這句話是哪天說的" in out
    assert all(f"  ({i}) 2月" in out for i in range(1, 5))  # four dates, numbered
    # The typed 2 was a vote: the bot says whether it was right, and the score.
    assert re.search(r"(答對了|差一點).*1 題", out), out[-500:]
