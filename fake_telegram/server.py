"""FakeTelegram: the HTTP server, its lifecycle, the world it controls and fault injection."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Iterable
from typing import Any

from aiohttp import web

from fake_telegram.control import add_control_routes
from fake_telegram.factories import BOT_ID, BOT_USERNAME, bot_user
from fake_telegram.faults import Fault, Faults
from fake_telegram.flood import FloodControl
from fake_telegram.methods import METHODS
from fake_telegram.photos import PhotoStore
from fake_telegram.polling import WEBHOOK_ACTIVE, UpdateQueue
from fake_telegram.recording import Recorder
from fake_telegram.records import JSON, Answer, ApiError, SentMessage, unauthorized
from fake_telegram.validation import read_params
from fake_telegram.webhook import Webhook, WebhookDelivery
from fake_telegram.world import World

DEFAULT_TOKEN = "123456:TEST-token"


class Delegate:
    """Expose an attribute of one of the server's parts as an attribute of the server."""

    def __init__(self, part: str, name: str | None = None) -> None:
        """Point at ``server.<part>.<name>`` (name defaults to the attribute's own name)."""
        self.part = part
        self.name = name or ""

    def __set_name__(self, owner: type, name: str) -> None:
        """Default the target name to the attribute name."""
        self.name = self.name or name

    def __get__(self, obj: Any, objtype: type | None = None) -> Any:
        """Read the part's attribute."""
        if obj is None:
            return self
        return getattr(getattr(obj, self.part), self.name)

    def __set__(self, obj: Any, value: Any) -> None:
        """Write the part's attribute."""
        setattr(getattr(obj, self.part), self.name, value)


class FakeTelegram(Recorder):
    """A strict fake Bot API server on 127.0.0.1 with fault injection and recording."""

    # Settings and records that live in the server's parts, under their familiar names.
    flood_control = Delegate("flood", "enabled")
    global_rate = Delegate("flood")
    paid_rate = Delegate("flood")
    per_chat_interval = Delegate("flood")
    group_per_minute = Delegate("flood")
    retry_after_violations = Delegate("flood")
    flood_rejections = Delegate("flood", "rejections")
    open_chats = Delegate("world")
    polls = Delegate("world")
    handed_out_at = Delegate("updates")
    webhook_timeout = Delegate("delivery", "timeout")
    webhook_retry_delay = Delegate("delivery", "retry_delay")
    set_webhook_interval = Delegate("delivery", "set_interval")
    deliveries = Delegate("delivery")
    photo_uploads = Delegate("photos", "uploads")
    photo_reuses = Delegate("photos", "reuses")

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = BOT_USERNAME,
        bot_id: int = BOT_ID,
        flood_control: bool = False,
        open_chats: bool = False,
    ) -> None:
        """Configure the fake; nothing listens until ``start``."""
        super().__init__()
        self._token = token
        self._revoked: set[str] = set()
        self.bot_username = bot_username
        self.bot_id = bot_id
        self.world = World(bot_user(bot_id, bot_username), open_chats=open_chats)
        self.flood = FloodControl(flood_control)
        self.updates = UpdateQueue(self._notify)
        self.delivery = WebhookDelivery(self.updates, self._notify)
        self.photos = PhotoStore()
        self.faults = Faults(self.flood)
        self._canonical = {name.lower(): name for name in [*METHODS, "getUpdates"]}
        self._port = 0
        self._runner: web.AppRunner | None = None
        self.arrived = 0.0  # when the request being handled reached the server
        self.messages = self.world.messages  # by (chat_id, message_id)
        self.inline_messages = self.world.inline_messages
        # The bot's own settings, as setMyCommands and friends left them.
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.descriptions: dict[str, str] = {}
        self.short_descriptions: dict[str, str] = {}

    # ---------------------------------------------------------------- lifecycle

    @property
    def token(self) -> str:
        """Return the bot's token; after ``revoke_token`` without a new one, a revoked token."""
        return self._token

    def revoke_token(self, new_token: str | None = None) -> None:
        """Revoke the bot's token like BotFather's /revoke, optionally issuing new_token.

        From now on every request with the old token answers 401 Unauthorized, as a wrong
        token does, and a getUpdates long poll waiting with it ends at once with that 401.
        """
        if new_token is not None and (new_token in self._revoked or new_token == self._token):
            raise ValueError(f"{new_token!r} cannot be the new token: it is being revoked")
        self._revoked.add(self._token)
        if new_token is not None:
            self._token = new_token
        # Only the revoked token could have started the waiting poll.
        self.updates.wake_poller("revoked")

    def _authorize(self, token: str) -> None:
        """Answer 401 to a request whose token is not (or no longer) the bot's."""
        if token != self._token or token in self._revoked:
            raise unauthorized()

    @property
    def port(self) -> int:
        """Return the bound (or last bound) port."""
        return self._port

    @property
    def url(self) -> str:
        """Return the server root URL."""
        return f"http://127.0.0.1:{self._port}"

    @property
    def base_url(self) -> str:
        """Return the value for PTB's ``base_url``."""
        return f"{self.url}/bot"

    @property
    def running(self) -> bool:
        """Return whether the server is listening."""
        return self._runner is not None

    async def start(self, port: int | None = None) -> None:
        """Listen on 127.0.0.1; port None reuses the previous port (0 the first time)."""
        if self._runner is not None:
            return
        if port is None:
            port = self._port
        app = web.Application(client_max_size=50 * 1024**2)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        add_control_routes(app, self)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port, reuse_address=True)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = runner.addresses[0][1]
        self.updates.open = True
        self.delivery.start()

    async def stop(self) -> None:
        """Stop listening, ending any long poll with an empty result."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self.updates.open = False
        self.updates.wake_poller("shutdown")
        await self.delivery.close()
        await runner.cleanup()

    async def __aenter__(self) -> FakeTelegram:
        """Start the server."""
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Stop the server."""
        await self.stop()

    @contextlib.asynccontextmanager
    async def outage(self) -> AsyncIterator[None]:
        """Stop the server for the duration of the block, then restart it on the same port."""
        await self.stop()
        try:
            yield
        finally:
            await self.start()

    # ---------------------------------------------------------------- world control

    def add_chats(self, ids: Iterable[int], type: str = "private") -> None:
        """Make chats known without pushing updates (cheap even for 100,000 ids)."""
        self.world.add_chats(ids, type)

    def block(self, chat_id: int) -> None:
        """Make sends to a user fail with 403 (for groups this behaves like ``kick``)."""
        self.world.block(chat_id)

    def kick(self, chat_id: int) -> None:
        """Make sends to a group fail with 403 as if the bot was removed."""
        self.world.kick(chat_id)

    def deactivate(self, chat_id: int) -> None:
        """Make sends to a user fail as if their account was deleted."""
        self.world.deactivate(chat_id)

    def unblock(self, chat_id: int) -> None:
        """Undo ``block``/``kick``/``deactivate``."""
        self.world.unblock(chat_id)

    def delete_topic(self, chat_id: int, thread_id: int) -> None:
        """Delete a forum topic: sends into it answer 400 ``message thread not found``."""
        self.world.delete_topic(chat_id, thread_id)

    def migrate(self, old_id: int, new_id: int) -> None:
        """Upgrade a group to a supergroup: the old id answers 400 with migrate_to_chat_id."""
        self.world.migrate(old_id, new_id)

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """Set what getChatMember returns for a user in a chat."""
        self.world.set_member_status(chat_id, user_id, status)

    # ---------------------------------------------------------------- faults and latency

    def fail_next(
        self,
        method: str,
        status: int = 500,
        description: str = "Internal Server Error",
        count: int = 1,
        chat_id: int | str | None = None,
        retry_after: int | None = None,
    ) -> None:
        """Make the next ``count`` calls of method ("*" = any) fail (for chat_id, if given)."""
        self.faults.add(Fault(method, status, description, count, chat_id, retry_after))

    def clear_faults(self) -> None:
        """Drop all pending injected failures."""
        self.faults.pending.clear()

    def delay(self, method: str, seconds: float | None) -> None:
        """Answer method ("*" = any) only after seconds of simulated latency; None removes."""
        self.faults.set_delay(method, seconds)

    # ---------------------------------------------------------------- updates

    def push(self, update: JSON) -> int:
        """Queue an update for the bot; return its update_id."""
        upd = dict(update)
        upd.pop("update_id", None)
        self.world.absorb(upd)
        return self._queue(upd)

    def push_raw(self, update: JSON) -> int:
        """Queue an update exactly as given, e.g. one PTB cannot parse; return its update_id.

        Nothing is derived, checked or learnt: only a missing update_id is assigned, and one
        given must be above every earlier id. allowed_updates applies to its first key.
        """
        if not isinstance(update, dict):
            raise TypeError(f"an update is a JSON object, not {type(update).__name__}")
        # A deep copy of what the wire will carry: later changes to the test's dict do not
        # leak in, and a value JSON cannot encode fails here, not in a getUpdates answer.
        return self._queue(json.loads(json.dumps(update, ensure_ascii=False)))

    def _queue(self, update: JSON) -> int:
        """Queue an update for getUpdates or the webhook; return its update_id."""
        uid = self.updates.add(update)
        self.delivery.kick()
        self._notify()
        return uid

    def push_many(self, updates: Iterable[JSON]) -> list[int]:
        """Queue several updates; return their update_ids."""
        return [self.push(u) for u in updates]

    @property
    def polling(self) -> bool:
        """Return whether a getUpdates long poll is currently waiting."""
        return self.updates.polling

    @property
    def poller(self) -> int | None:
        """Return the client (TCP port) whose getUpdates long poll is waiting, if any."""
        return self.updates.poller

    @property
    def pending_updates(self) -> int:
        """Return how many updates are not yet confirmed by an offset or delivered."""
        return len(self.updates.pending) + self.delivery.undelivered

    # ---------------------------------------------------------------- webhook

    @property
    def webhook(self) -> Webhook | None:
        """Return the webhook setWebhook registered, if any."""
        return self.delivery.webhook

    @property
    def webhook_targets(self) -> list[str]:
        """Return the replicas' base URLs that webhook updates are POSTed to."""
        return self.delivery.targets

    @webhook_targets.setter
    def webhook_targets(self, targets: list[str]) -> None:
        """Put replicas (base URLs such as ``http://127.0.0.1:8443``) behind the webhook."""
        self.delivery.set_targets(targets)

    async def wait_delivered(self, timeout: float = 10.0) -> None:
        """Wait until a replica accepted every update pushed so far."""
        await self.wait_for(lambda: self.pending_updates == 0, timeout)

    async def post_webhook(
        self,
        body: bytes | str | JSON,
        *,
        target: str | None = None,
        secret: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        """POST a raw body to a replica (default: the first target) at the webhook path.

        secret None sends the registered secret token, "" sends none; return (status, text).
        """
        return await self.delivery.post_raw(body, target=target, secret=secret, headers=headers)

    # ---------------------------------------------------------------- records

    def add_sent(self, msg: SentMessage) -> None:
        """Store and record a message the bot just sent."""
        self.world.messages[(msg.chat_id, msg.message_id)] = msg
        self.record_sent(msg)

    def photo_bytes(self, file_id: str) -> bytes:
        """Return the bytes the bot uploaded for a photo, by any of its sizes' file_id."""
        return self.photos.data(file_id)

    def stats(self) -> JSON:
        """Return counters for the control API and benchmarks."""
        return {
            "calls": {m: len(c) for m, c in self._calls_by_method.items()},
            "http_429": self.http_429,
            "conflicts": self.conflicts,
            "paid_sends": self.paid_sends,
            "retry_after_violations": self.retry_after_violations,
            "sent_count": len(self._sent),
            "pending_updates": self.pending_updates,
        }

    def reset_records(self) -> None:
        """Forget calls, sent messages and flood statistics; keep chats and message state."""
        self.flood.reset_records()
        self.updates.reset_records()
        self.delivery.reset_records()
        self.photos.reset_records()
        super().reset_records()

    # ---------------------------------------------------------------- HTTP entry point

    async def _handle_api(self, request: web.Request) -> web.Response:
        """Dispatch a Bot API request and record it."""
        # Timestamps say when a request reached the server, before the fake's own parsing:
        # latency figures must not include the time this fake spends validating HTML.
        arrived = time.perf_counter()
        peer = request.transport.get_extra_info("peername") if request.transport else None
        client = peer[1] if peer else None
        method = request.match_info["method"]
        params: JSON = {}
        try:
            params = await read_params(request)
            name = self._canonical.get(method.lower())
            method = name or method
            self._authorize(request.match_info["token"])
            if name is None:
                raise ApiError(404, "Not Found")
            delay = self.faults.latency(method)
            if delay:
                await asyncio.sleep(delay)  # simulated latency, not a test wait
            if self.faults.pending:
                self.faults.raise_matching(method, params)
            if method == "getUpdates":
                if self.delivery.webhook is not None:
                    raise ApiError(409, WEBHOOK_ACTIVE)
                result = await self.updates.get_updates(params, client)
            else:
                self.arrived = arrived  # handlers are synchronous: nothing interleaves
                result = METHODS[method](self, params)
            if isinstance(result, Answer):
                status, body = 200, {"ok": True, "result": result.result}
                body["description"] = result.description
            else:
                status, body = 200, {"ok": True, "result": result}
        except ApiError as exc:
            status, body = exc.status, exc.envelope()
        self.record_call(method, params, status, body, arrived, client)
        return web.Response(
            body=json.dumps(body, ensure_ascii=False).encode(),
            status=status,
            content_type="application/json",
        )
