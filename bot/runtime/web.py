"""The bot's one HTTP server (aiohttp): the webhook, /healthz, /readyz and /metrics.

The webhook answers 200 only once the update was handled, so Telegram redelivers an update
whose replica died mid-way; one Telegram delivers twice is applied once (the update
ledger), and one another replica is handling right now gets 503, so Telegram asks again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from telegram import Update

from bot.store import Seen

if TYPE_CHECKING:
    from bot.handlers.common import BotApplication

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
LEASE = 30  # seconds another replica waits before taking over an update being handled
# A client has this long to send a request's head (a slow-loris holds a socket forever
# otherwise), and this long for a webhook body; an idle keep-alive connection is closed
# after KEEPALIVE.
HEADER_TIMEOUT = 10.0
BODY_TIMEOUT = 10.0
KEEPALIVE = 15.0
# Telegram's update ids fit a signed 64-bit column; anything else is not Telegram's.
_MAX_UPDATE_ID = 2**63 - 1


class _GuardedSite(web.TCPSite):
    """aiohttp's TCP site, closing a connection that has not sent a whole request head in
    HEADER_TIMEOUT (aiohttp has no such timeout; later requests on a kept-alive connection
    are bounded by its keep-alive timeout)."""

    async def start(self) -> None:
        await web.BaseSite.start(self)
        loop = asyncio.get_running_loop()
        server = self._runner.server
        assert server is not None

        def protocol() -> asyncio.Protocol:
            handler = server()
            loop.call_later(HEADER_TIMEOUT, _close_if_silent, handler)
            return handler

        self._server = await loop.create_server(protocol, self._host, self._port)
        self._bound_port = self._server.sockets[0].getsockname()[1]


def _close_if_silent(handler: RequestHandler) -> None:
    if handler._request_count == 0 and handler.transport is not None:
        handler.force_close()
        handler.transport.close()


class WebServer:
    def __init__(self, app: BotApplication) -> None:
        self.app = app
        self.draining = False
        settings = app.services.settings
        routes = [
            web.get("/healthz", self.healthz),
            web.get("/readyz", self.readyz),
            web.get("/metrics", self.metrics),
        ]
        if settings.webhook_mode:
            routes.append(web.post(settings.webhook_path, self.webhook))
        self._web = web.Application(client_max_size=1 << 20)
        self._web.add_routes(routes)
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> None:
        settings = self.app.services.settings
        self._runner = web.AppRunner(
            self._web, access_log=None, handle_signals=False, keepalive_timeout=KEEPALIVE
        )
        await self._runner.setup()
        site = _GuardedSite(self._runner, settings.http_host, settings.http_port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            from bot.ops.failures import StartupError

            raise StartupError(
                f"cannot serve HTTP on {settings.http_host}:{settings.http_port} ({exc.strerror});"
                " set HTTP_PORT to a free port (or 0 to turn the server off when polling)"
            ) from None
        # The port bound (HTTP_PORT=0 asks the system for a free one).
        addresses = self._runner.addresses
        self.port = addresses[0][1] if addresses else settings.http_port
        log.info("HTTP server on %s:%s", settings.http_host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(self, request: web.Request) -> web.Response:
        problems = self.app.services.health.problems()
        if self.draining:
            problems["shutdown"] = "stopping"
        if problems:
            return web.json_response({"status": "not ready", "failed": problems}, status=503)
        return web.json_response({"status": "ready"})

    async def metrics(self, request: web.Request) -> web.Response:
        body = self.app.services.metrics.render()
        return web.Response(body=body, content_type="text/plain", charset="utf-8")

    async def webhook(self, request: web.Request) -> web.Response:
        svc = self.app.services
        expected = svc.settings.webhook_secret or ""
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return web.Response(status=401, text="wrong secret")
        if self.draining or not self.app.running:
            return web.Response(status=503, text="not running")  # Telegram redelivers
        try:
            async with asyncio.timeout(BODY_TIMEOUT):
                body = await request.read()
        except TimeoutError:
            log.warning("refused a webhook body that took over %.0f s to arrive", BODY_TIMEOUT)
            return web.Response(status=408, text="too slow")
        problem = _unreadable(body)
        if problem is not None:  # refused, never a crash: Telegram would redeliver a 500
            log.warning("refused a malformed webhook body (%s)", problem)
            return web.Response(status=400, text="malformed update")
        data = json.loads(body)
        try:
            update = Update.de_json(data, self.app.bot)
        except Exception as exc:
            # An update this version cannot read: redelivering it would not help.
            log.warning("skipped update %s: it cannot be read (%s)", data["update_id"], exc)
            return web.Response(text="skipped")
        seen = await svc.store.updates.begin(update.update_id, LEASE)
        if seen is Seen.DONE:
            svc.metrics.duplicates.inc()
            return web.Response(text="ok")
        if seen is Seen.BUSY:
            return web.Response(status=503, text="being handled")  # asked again later
        renewing = asyncio.create_task(self._renew(update.update_id))
        try:
            done = await svc.lanes.submit(update, self.app.process_update(update))
            await asyncio.wait([done])
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing
        if done.cancelled():  # the bot stopped before handling it: Telegram redelivers
            await svc.store.updates.release([update.update_id])
            return web.Response(status=503, text="stopping")
        await svc.store.updates.finish(update.update_id)
        return web.Response(text="ok")

    async def _renew(self, update_id: int) -> None:
        while True:
            await asyncio.sleep(LEASE / 3)
            await self.app.services.store.updates.renew(update_id, LEASE)


# Telegram's updates nest a dozen levels at most (a reply to a message with entities).
_MAX_DEPTH = 64


def _depth(body: bytes) -> int:
    """Return how deeply a JSON text nests arrays and objects (strings skipped), in one pass.

    Asked before parsing: ``json.loads`` would recurse once per level, and a RecursionError
    raised deep in C code leaves CPython 3.11's parser counters behind for later compiles.
    """
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # closing quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
            if deepest > _MAX_DEPTH:
                return deepest  # enough to refuse it; no need to read on
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


def _unreadable(body: bytes) -> str | None:
    """Return why a webhook body is not an update Telegram could have sent, or None."""
    if _depth(body) > _MAX_DEPTH:
        return "nested too deeply"
    try:
        data = json.loads(body)
    except RecursionError:
        return "nested too deeply"
    except ValueError:
        return "not JSON"
    if not isinstance(data, dict):
        return "not an object"
    update_id = data.get("update_id")
    if type(update_id) is not int:
        return "no integer update_id"
    if not 0 <= update_id <= _MAX_UPDATE_ID:
        return "update_id out of range"
    return None
