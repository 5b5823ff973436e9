"""The HTTP transport between python-telegram-bot and the Bot API, built on aiohttp.

PTB's default ``HTTPXRequest`` costs about 3-4 ms of CPU per request on our machines;
aiohttp about 0.6-0.8 ms, which is what lets a digest fan-out feed 1,000 messages/s.
The choice lives here only: ``build_application`` takes any ``BaseRequest``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

import aiohttp
from telegram import Update
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.telegram_io.lanes import raw_lane_key

log = logging.getLogger(__name__)

_DEFAULT = BaseRequest.DEFAULT_NONE
# PTB declares each timeout ODVInput[float] (a private type): seconds, None (no limit), or
# DEFAULT_NONE where the caller set none. ``object`` accepts all three.
Timeout = object
# Told of every answer: (Bot API method, HTTP status, or None and "timeout"/"network",
# seconds from asking to the answer or the failure).
Observer = Callable[[str, int | None, str, float], None]
# Which of a batch's updates (by chat or user id, None: neither) their lanes will take.
Admit = Callable[[list[int | None]], list[bool]]
# The Bot API method this task called last and the HTTP status it got (None: no answer),
# so an error logged later names the call that failed: PTB's errors do not say.
last_call: ContextVar[tuple[str, int | None]] = ContextVar("last_call", default=("", None))


def _seconds(given: Timeout, ours: float | None) -> float | None:
    """Return the timeout a call asked for, or ours where it set none (PTB's DEFAULT_NONE)."""
    if given is None or isinstance(given, int | float):
        return given
    return ours


class AiohttpRequest(BaseRequest):
    """A ``BaseRequest`` that sends JSON bodies over a pooled aiohttp session."""

    def __init__(
        self,
        *,
        connection_pool_size: int = 64,
        read_timeout: float | None = 10.0,
        connect_timeout: float | None = 10.0,
        observer: Observer | None = None,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._session: aiohttp.ClientSession | None = None
        self._observer = observer

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT}
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Timeout = _DEFAULT,
        write_timeout: Timeout = _DEFAULT,
        connect_timeout: Timeout = _DEFAULT,
        pool_timeout: Timeout = _DEFAULT,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        read = _seconds(read_timeout, self._read_timeout)
        connect = _seconds(connect_timeout, self._connect_timeout)
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=connect, sock_read=read, connect=None
        )
        kwargs: dict[str, object] = {"timeout": timeout}
        if request_data is not None:
            if request_data.contains_files:
                form = aiohttp.FormData()
                for name, value in request_data.json_parameters.items():
                    form.add_field(name, value)
                for name, part in request_data.multipart_data.items():
                    filename, content, mime = part if len(part) == 3 else (None, part[0], None)
                    form.add_field(name, content, filename=filename, content_type=mime)
                kwargs["data"] = form
            else:
                kwargs["data"] = json.dumps(request_data.parameters).encode()
                kwargs["headers"] = {"Content-Type": "application/json"}
        name = url.rsplit("/", 1)[-1]
        last_call.set((name, None))
        started = time.perf_counter()
        try:
            async with self._session.request(method, url, **kwargs) as response:  # type: ignore[arg-type]
                body = await response.read()
        except TimeoutError as exc:
            self._observe(name, None, "timeout", started)
            raise TimedOut from exc
        except asyncio.CancelledError:
            raise
        except aiohttp.ClientError as exc:
            self._observe(name, None, "network", started)
            raise NetworkError(f"aiohttp.{exc.__class__.__name__}: {exc}") from exc
        last_call.set((name, response.status))
        self._observe(name, response.status, "", started)
        return response.status, body

    def _observe(self, method: str, status: int | None, failure: str, started: float) -> None:
        if self._observer is not None:
            self._observer(method, status, failure, time.perf_counter() - started)


class UpdatesRequest(AiohttpRequest):
    """The transport for getUpdates: an update this version cannot read is skipped.

    python-telegram-bot parses a batch of updates at once; one it cannot parse (a field of
    a newer Bot API, say) fails the whole batch, and polling would fetch the same batch
    forever. Such an update is replaced by a bare one with its id: no handler matches it,
    and the offset moves past it. ``admit`` (the update lanes') says which updates their
    chats' lanes will take: the others (a flooding chat's excess) are made bare before
    anything parses them.
    """

    def __init__(self, *, admit: Admit | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._admit = admit

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Timeout = _DEFAULT,
        write_timeout: Timeout = _DEFAULT,
        connect_timeout: Timeout = _DEFAULT,
        pool_timeout: Timeout = _DEFAULT,
    ) -> tuple[int, bytes]:
        status, body = await super().do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        if status != 200 or not url.endswith("/getUpdates"):
            return status, body
        return status, skip_unreadable(body, self._admit)


def skip_unreadable(body: bytes, admit: Admit | None = None) -> bytes:
    """Return a getUpdates answer with every update PTB cannot parse reduced to its id.

    An update without an integer id cannot be confirmed by getUpdates' offset (and PTB
    would fail computing the next offset from it): it is left out; the next update's id
    confirms it with the rest.
    """
    try:
        answer = json.loads(body)
        updates = answer["result"]
    except (ValueError, KeyError, TypeError, RecursionError):
        return body  # not ours to judge: PTB reports a malformed answer itself
    if not isinstance(updates, list):
        return body
    kept: list[object] = []
    changed = False
    taken = admit([raw_lane_key(d) for d in updates]) if admit else [True] * len(updates)
    last = len(updates) - 1
    for i, (data, wanted) in enumerate(zip(updates, taken, strict=True)):
        update_id = data.get("update_id") if isinstance(data, dict) else None
        if type(update_id) is not int:
            log.warning("skipped an update without an integer update_id (%r)", update_id)
            changed = True
            continue
        if not wanted:  # its chat's lane is full: dropped (and counted) already
            if i == last:  # the batch's last id moves getUpdates' offset: keep it, bare
                kept.append({"update_id": update_id})
            changed = True
            continue
        try:
            Update.de_json(data, None)
        except Exception as exc:
            log.warning("skipped update %s: it cannot be read (%s)", update_id, type(exc).__name__)
            data = {"update_id": update_id}
            changed = True
        kept.append(data)
    if not changed:
        return body
    answer["result"] = kept
    return json.dumps(answer).encode()
