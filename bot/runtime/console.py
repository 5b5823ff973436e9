"""``python -m bot --console``: the same bot, handlers and store, in a terminal.

A ``BaseRequest`` answers the Bot API calls locally: what the bot sends is printed as
plain text with its buttons numbered, and what you type becomes updates (a number presses
that button). A quote card is saved as a PNG file and its path printed; a quiz prints its
question and numbered options, and a number typed then is your vote.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import ContextTypes, TypeHandler
from telegram.request import BaseRequest, RequestData

from bot.config import Settings, load_settings

CONSOLE_TOKEN = "1:console"
_USER = {"id": 1, "is_bot": False, "first_name": "You", "language_code": "zh-hant"}
_CHAT = {"id": 1, "type": "private", "first_name": "You"}
_BOT = {
    "id": 2,
    "is_bot": True,
    "first_name": "Serial",
    "username": "SerialBot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": True,
}


def console_settings() -> Settings:
    environ = dict(os.environ)
    environ["TELEGRAM_BOT_TOKEN"] = CONSOLE_TOKEN
    environ.pop("TELEGRAM_BASE_URL", None)
    environ.setdefault("DATABASE_URL", "sqlite:///data/console.db")
    environ["HTTP_PORT"] = "0"  # the terminal needs no health or webhook server
    environ.pop("TELEGRAM_WEBHOOK_URL", None)
    return load_settings(environ)


def plain(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text))


class ConsoleRequest(BaseRequest):
    """Answer Bot API calls in-process; print what the bot sends."""

    def __init__(self, out: Any = None, media_dir: Path | None = None) -> None:
        self.out = out or sys.stdout
        self.media_dir = media_dir or Path("data") / "console-media"
        self.photos: dict[str, Path] = {}  # file_id -> the PNG saved for it
        self._poll: dict[str, Any] | None = None  # the quiz waiting for a typed vote
        self._poll_ids = itertools.count(1)
        self.updates: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self.buttons: list[dict[str, Any]] = []
        self._last_message: dict[str, Any] | None = None
        self._pushed = 0
        self._handled = 0
        self._progress = asyncio.Event()

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def push_text(self, text: str) -> None:
        """Turn a typed line into an update: a message, or a button press."""
        stripped = text.strip()
        poll = self._poll
        if poll is not None and stripped.isdigit() and 1 <= int(stripped) <= len(poll["options"]):
            chosen = int(stripped) - 1
            self._poll = None  # one vote a quiz, as Telegram allows
            self._push(
                {
                    "poll_answer": {
                        "poll_id": poll["id"],
                        "user": _USER,
                        "option_ids": [chosen],
                        "option_persistent_ids": [poll["options"][chosen]["persistent_id"]],
                    }
                }
            )
            return
        if stripped.isdigit() and 1 <= int(stripped) <= len(self.buttons):
            button = self.buttons[int(stripped) - 1]
            if "callback_data" in button and self._last_message is not None:
                self._push(
                    {
                        "callback_query": {
                            "id": str(next(self._update_ids)),
                            "from": _USER,
                            "chat_instance": "console",
                            "data": button["callback_data"],
                            "message": self._last_message,
                        }
                    }
                )
                return
            self._print(f"(link) {button.get('url', '')}")
            return
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": _CHAT,
            "from": _USER,
            "text": stripped,
        }
        if stripped.startswith("/"):
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(stripped.split()[0])}
            ]
        self._push({"message": message})

    def _push(self, update: dict[str, Any]) -> None:
        update["update_id"] = next(self._update_ids)
        self._pushed += 1
        self.updates.put_nowait(update)

    async def mark_handled(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Run after every other handler group: the update has been answered."""
        self._handled += 1
        self._progress.set()

    async def idle(self, timeout: float = 60.0) -> None:
        """Wait until the bot has handled every update typed so far."""
        async with asyncio.timeout(timeout):
            while self._handled < self._pushed:
                self._progress.clear()
                await self._progress.wait()

    def _print(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def _show(self, params: dict[str, Any], edited: bool = False) -> dict[str, Any]:
        prefix = "(edited) " if edited else ""
        self._print("\n" + prefix + plain(str(params.get("text", ""))))
        markup = params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        self.buttons = [b for row in (markup or {}).get("inline_keyboard", []) for b in row]
        for i, button in enumerate(self.buttons, start=1):
            self._print(f"  [{i}] {button['text']}")
        message = {
            "message_id": params.get("message_id") or next(self._message_ids),
            "date": int(time.time()),
            "chat": _CHAT,
            "from": _BOT,
            "text": plain(str(params.get("text", ""))),
        }
        if markup:
            message["reply_markup"] = markup
        self._last_message = message
        return message

    def _message(self, **content: Any) -> dict[str, Any]:
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": _CHAT,
            "from": _BOT,
            **content,
        }

    def _photo(self, params: dict[str, Any], request_data: RequestData | None) -> dict[str, Any]:
        """Save an uploaded card as a PNG and print where; a file_id reused prints it again."""
        value = str(params.get("photo", ""))
        files = request_data.multipart_data if request_data is not None else {}
        # An upload is a multipart part: named "photo", or the part an attach:// URI names.
        part = value.removeprefix("attach://") if value.startswith("attach://") else "photo"
        if part in files:
            _, content, _ = files[part]
            data = content if isinstance(content, bytes) else content.read()
            file_id = f"console-photo-{len(self.photos) + 1}"
            self.media_dir.mkdir(parents=True, exist_ok=True)
            path = self.media_dir / f"{file_id}.png"
            path.write_bytes(data)
            self.photos[file_id] = path.resolve()
        else:
            file_id = value
        caption = plain(str(params.get("caption", "")))
        where = self.photos.get(file_id)
        self._print(f"\n{caption}\n(image: {where if where else file_id})")
        self.buttons = []
        size = {"file_id": file_id, "file_unique_id": file_id, "width": 1080, "height": 1350}
        return self._message(photo=[size], caption=caption)

    def _send_poll(self, params: dict[str, Any]) -> dict[str, Any]:
        """Print a quiz's question and numbered options; the next number typed votes."""
        raw = params.get("options") or []
        if isinstance(raw, str):
            raw = json.loads(raw)
        texts = [str(o["text"]) if isinstance(o, dict) else str(o) for o in raw]
        correct = params.get("correct_option_ids") or []
        if isinstance(correct, str):
            correct = json.loads(correct)
        poll: dict[str, Any] = {
            "id": f"console-poll-{next(self._poll_ids)}",
            "question": str(params.get("question", "")),
            "options": [
                {"persistent_id": str(i), "text": text, "voter_count": 0}
                for i, text in enumerate(texts)
            ],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": bool(params.get("is_anonymous", True)),
            "type": params.get("type") or "regular",
            "allows_multiple_answers": False,
            "allows_revoting": False,
            "members_only": False,
        }
        if correct:
            poll["correct_option_ids"] = [int(i) for i in correct]
        self._print("\n" + poll["question"])
        for i, text in enumerate(texts, start=1):
            self._print(f"  ({i}) {text}")
        self._print("(type a number to answer)")
        self.buttons = []
        self._poll = poll
        return self._message(poll=poll)

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data else {}
        result: Any = True
        if name == "getMe":
            result = _BOT
        elif name == "getUpdates":
            timeout = float(str(params.get("timeout") or 0))
            try:
                first = await asyncio.wait_for(self.updates.get(), timeout=max(timeout, 0.1))
                result = [first]
            except TimeoutError:
                result = []
        elif name == "sendMessage":
            result = self._show(params)
        elif name == "sendPhoto":
            result = self._photo(params, request_data)
        elif name == "sendPoll":
            result = self._send_poll(params)
        elif name == "editMessageText":
            result = self._show(params, edited=True)
        elif name == "answerCallbackQuery":
            if params.get("text"):
                self._print(f"({params['text']})")
        elif name == "getChatMember":
            result = {"status": "member", "user": _USER}
        elif name in ("getMyCommands",):
            result = []
        return 200, json.dumps({"ok": True, "result": result}).encode()


async def run_console(settings: Settings) -> None:
    from bot.app import build_application
    from bot.runtime.lifecycle import running

    console = ConsoleRequest()
    app = build_application(settings, request=console, get_updates_request=console)
    # The last handler group sees every update after it was answered: output stays in order.
    app.add_handler(TypeHandler(Update, console.mark_handled), group=1_000)
    print(
        "Console mode: type /start, /next, /quote 4 ... ; a number presses a button; "
        "Ctrl-D quits.",
        flush=True,
    )
    loop = asyncio.get_running_loop()
    async with running(app, poll_timeout=1):
        console.push_text("/start")
        await console.idle()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            if line.strip():
                console.push_text(line)
            # Let the bot answer before reading the next line, so output stays in order.
            await console.idle()
