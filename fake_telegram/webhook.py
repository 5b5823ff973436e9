"""Webhooks: the registration Telegram keeps, and delivery to the bot's replicas.

The fake plays Telegram and a load balancer in front of the bot: tests give it the
replicas' real addresses (``targets``); it POSTs each update to a target plus the path of
the registered URL, whose host is never contacted. Like Telegram, it sends one update at a
time per chat (per user for queries), up to ``max_connections`` requests in flight, and
retries a failed update, here on the next target in the rotation.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, ServerDisconnectedError

from fake_telegram.factories import update_type
from fake_telegram.polling import UpdateQueue
from fake_telegram.records import JSON, ApiError, Delivery, DeliveryAttempt

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
Lane = tuple[str, Any]


@dataclass(slots=True)
class Webhook:
    """A webhook as setWebhook registered it."""

    url: str
    path: str  # path and query of the URL: where updates are POSTed on each target
    secret_token: str
    max_connections: int
    has_custom_certificate: bool = False


# Telegram sends updates in order per chat or per user: where each type names its lane.
LANE_KEYS: dict[str, tuple[str, tuple[str, ...]]] = {
    "message": ("chat", ("chat", "id")),
    "edited_message": ("chat", ("chat", "id")),
    "channel_post": ("chat", ("chat", "id")),
    "edited_channel_post": ("chat", ("chat", "id")),
    "my_chat_member": ("my_chat_member", ("chat", "id")),
    "chat_member": ("chat_member", ("new_chat_member", "user", "id")),
    "callback_query": ("callback_query", ("from", "id")),
    "inline_query": ("inline_query", ("from", "id")),
    "chosen_inline_result": ("chosen_inline_result", ("from", "id")),
    "poll": ("poll", ("id",)),
    "poll_answer": ("poll", ("poll_id",)),
}


def lane_of(update: JSON) -> Lane:
    """Return the queue Telegram sends an update in: in order, one request at a time."""
    kind = update_type(update)
    lane, path = LANE_KEYS.get(kind or "", ("update", ()))
    key: Any = update.get(kind) if kind else None
    for field in path:
        key = key.get(field) if isinstance(key, dict) else None
    # A raw update may lack the field or hold something unhashable there: its own lane.
    if path and isinstance(key, int | str) and not isinstance(key, bool):
        return (lane, key)
    return ("update", update["update_id"])


class WebhookDelivery:
    """Hold the webhook registration and push pending updates to the replicas."""

    def __init__(self, queue: UpdateQueue, notify: Callable[[], None]) -> None:
        """Deliver from queue; notify() wakes tests waiting for a change."""
        self.queue = queue
        self.webhook: Webhook | None = None
        self.targets: list[str] = []
        self.timeout = 10.0  # seconds a replica may take to answer
        self.retry_delay = 0.2  # seconds before a failed update is sent again
        self.set_interval = 1.0  # Telegram takes a new webhook URL at most once a second
        self._next_set = 0.0
        self.last_error_date: int | None = None
        self.last_error_message: str | None = None
        self.deliveries: dict[int, Delivery] = {}
        self._notify = notify
        self._lanes: dict[Lane, collections.deque[JSON]] = {}
        self._busy: set[Lane] = set()  # lanes with a request in flight
        self._ready_at: dict[Lane, float] = {}  # loop time a failed lane may retry
        self._turn = 0  # round-robin position over the targets
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._in_flight: set[asyncio.Task[None]] = set()
        self._session: ClientSession | None = None

    @property
    def undelivered(self) -> int:
        """Return how many updates were taken from the queue but not delivered yet."""
        return sum(len(lane) for lane in self._lanes.values())

    def reset_records(self) -> None:
        """Forget the delivery records."""
        self.deliveries = {}

    # ---------------------------------------------------------------- registration

    def check_set_rate(self) -> None:
        """Answer 429 to a setWebhook (with a URL) that comes too soon after the last one."""
        now = time.monotonic()
        if now < self._next_set:
            raise ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        self._next_set = now + self.set_interval

    def register(self, webhook: Webhook) -> None:
        """Set or replace the webhook; requests in flight for the old one are abandoned."""
        self._halt()
        self.webhook = webhook
        self.last_error_date = self.last_error_message = None
        self.start()

    def unregister(self) -> None:
        """Remove the webhook; undelivered updates go back to the queue for getUpdates."""
        self._halt()
        self.webhook = None
        self.last_error_date = self.last_error_message = None
        returned = [update for lane in self._lanes.values() for update in lane]
        self._lanes.clear()
        self._ready_at.clear()
        if returned:
            merged = sorted([*returned, *self.queue.pending], key=lambda u: u["update_id"])
            self.queue.pending.clear()
            self.queue.pending.extend(merged)

    def drop_pending(self) -> None:
        """Drop every update not yet delivered (drop_pending_updates)."""
        self.queue.pending.clear()
        self._lanes.clear()
        self._ready_at.clear()

    def info(self) -> JSON:
        """Return the WebhookInfo object for getWebhookInfo."""
        hook = self.webhook
        pending = sum(1 for u in self.queue.pending if self.queue.is_allowed(u))
        body: JSON = {
            "url": hook.url if hook else "",
            "has_custom_certificate": bool(hook and hook.has_custom_certificate),
            "pending_update_count": pending + self.undelivered,
        }
        if self.last_error_date is not None:
            body["last_error_date"] = self.last_error_date
            body["last_error_message"] = self.last_error_message
        if hook is not None:
            body["max_connections"] = hook.max_connections
            body["ip_address"] = "127.0.0.1"
        if self.queue.allowed is not None:
            body["allowed_updates"] = sorted(self.queue.allowed)
        return body

    # ---------------------------------------------------------------- running

    def set_targets(self, targets: list[str]) -> None:
        """Put these replica base URLs behind the load balancer."""
        self.targets = [t.rstrip("/") for t in targets]
        self.kick()

    def kick(self) -> None:
        """Wake the dispatcher: there are new updates, targets or free connections."""
        self._wake.set()

    def start(self) -> None:
        """Start delivering, if a webhook is set and the server is open."""
        if self.webhook is not None and self.queue.open and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._dispatch_forever())

    async def close(self) -> None:
        """Stop delivering and close the HTTP session (the server stops)."""
        tasks = [t for t in (self._task, *self._in_flight) if t is not None]
        self._halt()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _halt(self) -> None:
        """Cancel the dispatcher and every request in flight; the updates stay queued."""
        for task in [self._task, *self._in_flight]:
            if task is not None:
                task.cancel()
        self._task = None
        self._in_flight.clear()
        self._busy.clear()

    async def _dispatch_forever(self) -> None:
        """Move queued updates into lanes and start requests until cancelled."""
        loop = asyncio.get_running_loop()
        while True:
            self._wake.clear()
            self._take_from_queue()
            wait = self._dispatch(loop.time())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    def _take_from_queue(self) -> None:
        """Move allowed updates from the queue into their lanes; drop the others."""
        queue = self.queue
        dropped = False
        for update in queue.pending:
            if queue.is_allowed(update):
                self._lanes.setdefault(lane_of(update), collections.deque()).append(update)
            else:
                dropped = True
        queue.pending.clear()
        if dropped:
            self._notify()  # fewer updates pending: wait_delivered may be done

    def _dispatch(self, now: float) -> float | None:
        """Start a request for each idle, ready lane; return seconds until a retry is due."""
        hook = self.webhook
        if hook is None or not self.targets:
            return None
        wait: float | None = None
        for lane, updates in self._lanes.items():
            if len(self._busy) >= hook.max_connections:
                break
            if lane in self._busy:
                continue
            ready = self._ready_at.get(lane, 0.0)
            if ready > now:
                wait = ready - now if wait is None else min(wait, ready - now)
                continue
            self._busy.add(lane)
            task = asyncio.get_running_loop().create_task(self._deliver(hook, lane, updates[0]))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        return wait

    async def _deliver(self, hook: Webhook, lane: Lane, update: JSON) -> None:
        """POST one update to the next target and record how it went."""
        target = self.targets[self._turn % len(self.targets)]
        self._turn += 1
        uid = update["update_id"]
        record = self.deliveries.setdefault(uid, Delivery(uid))
        started = time.perf_counter()
        self.queue.handed_out_at.setdefault(uid, started)
        headers = {"Content-Type": "application/json"}
        if hook.secret_token:
            headers[SECRET_HEADER] = hook.secret_token
        body = json.dumps(update, ensure_ascii=False).encode()
        status, error = await self._post(target + hook.path, body, headers)
        finished = time.perf_counter()
        record.attempts.append(DeliveryAttempt(target, status, error, started, finished))
        self._busy.discard(lane)
        if error is None:
            record.target, record.delivered_at = target, finished
            updates = self._lanes[lane]
            updates.popleft()
            if not updates:
                del self._lanes[lane]
                self._ready_at.pop(lane, None)
        else:
            self.last_error_date, self.last_error_message = int(time.time()), error
            self._ready_at[lane] = asyncio.get_running_loop().time() + self.retry_delay
        self.kick()
        self._notify()

    async def _post(
        self, url: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int | None, str | None]:
        """POST to a replica; return (status, error worded like getWebhookInfo's)."""
        if self._session is None:
            self._session = ClientSession()
        try:
            async with self._session.post(
                url, data=body, headers=headers, timeout=ClientTimeout(total=self.timeout)
            ) as resp:
                await resp.read()
        except TimeoutError:
            return None, "Read timeout expired"
        except ServerDisconnectedError:
            return None, "Webhook connection closed"
        except ClientError:
            return None, "Connection refused"
        if 200 <= resp.status <= 299:
            return resp.status, None
        return resp.status, f"Wrong response from the webhook: {resp.status} {resp.reason}"

    async def post_raw(
        self,
        body: bytes | str | JSON,
        *,
        target: str | None = None,
        secret: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        """POST any body to a replica at the webhook path, outside the delivery queue.

        secret None sends the registered secret token, "" sends none. Return (status, text).
        """
        hook = self.webhook
        path = hook.path if hook is not None else "/"
        secret = (hook.secret_token if hook else "") if secret is None else secret
        sent_headers = {"Content-Type": "application/json"}
        if secret:
            sent_headers[SECRET_HEADER] = secret
        sent_headers.update(headers or {})
        if isinstance(body, dict):
            body = json.dumps(body, ensure_ascii=False)
        data = body.encode() if isinstance(body, str) else body
        url = (target or self.targets[0]).rstrip("/") + path
        if self._session is None:
            self._session = ClientSession()
        timeout = ClientTimeout(total=self.timeout)
        async with self._session.post(url, data=data, headers=sent_headers, timeout=timeout) as r:
            return r.status, await r.text()
