"""The HTTP control API under ``/_control/``, for a fake running in another process."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from fake_telegram.server import FakeTelegram

# (HTTP verb, endpoint); each endpoint is the _ControlApi method of the same name.
ROUTES = [
    ("POST", "push"),
    ("POST", "push_raw"),
    ("GET", "sent"),
    ("GET", "stats"),
    ("GET", "handed_out"),
    ("GET", "wait_sent"),
    ("POST", "add_chats"),
    ("POST", "block"),
    ("POST", "unblock"),
    ("POST", "kick"),
    ("POST", "migrate"),
    ("POST", "fail_next"),
    ("POST", "delay"),
    ("POST", "flood"),
    ("POST", "set_member_status"),
    ("POST", "revoke_token"),
    ("POST", "reset"),
]
FLOOD_SETTINGS = ("global_rate", "paid_rate", "per_chat_interval", "group_per_minute")


def add_control_routes(app: web.Application, fake: FakeTelegram) -> None:
    """Serve the control API for fake on app."""
    api = _ControlApi(fake)
    for verb, name in ROUTES:
        app.router.add_route(verb, f"/_control/{name}", getattr(api, name))


def _ok(result: Any) -> web.Response:
    """Wrap a control result in the Bot API envelope."""
    return web.json_response({"ok": True, "result": result})


class _ControlApi:
    """Request handlers that drive one FakeTelegram."""

    def __init__(self, fake: FakeTelegram) -> None:
        """Drive fake."""
        self.fake = fake

    async def push(self, request: web.Request) -> web.Response:
        """Push one update or a list."""
        body = await request.json()
        fake = self.fake
        return _ok(fake.push_many(body) if isinstance(body, list) else [fake.push(body)])

    async def push_raw(self, request: web.Request) -> web.Response:
        """Push one update or a list exactly as given."""
        body = await request.json()
        updates = body if isinstance(body, list) else [body]
        return _ok([self.fake.push_raw(update) for update in updates])

    async def sent(self, request: web.Request) -> web.Response:
        """List sent messages, optionally for one chat."""
        chat = request.query.get("chat_id")
        return _ok([m.to_json() for m in self.fake.sent(None if chat is None else int(chat))])

    async def stats(self, request: web.Request) -> web.Response:
        """Return the fake's counters."""
        return _ok(self.fake.stats())

    async def handed_out(self, request: web.Request) -> web.Response:
        """Return when each update was first handed out (perf_counter, system-wide clock)."""
        return _ok({str(k): v for k, v in self.fake.handed_out_at.items()})

    async def wait_sent(self, request: web.Request) -> web.Response:
        """Block until n messages were sent (to chat_id); 408 on timeout."""
        q = request.query
        chat = None if q.get("chat_id") is None else int(q["chat_id"])
        try:
            await self.fake.wait_sent(int(q.get("n", "1")), chat, float(q.get("timeout", "10")))
        except TimeoutError as exc:
            return web.json_response({"ok": False, "description": str(exc)}, status=408)
        return _ok(self.fake.sent_count(chat))

    async def add_chats(self, request: web.Request) -> web.Response:
        """Make chats known."""
        body = await request.json()
        self.fake.add_chats(body["ids"], body.get("type", "private"))
        return _ok(True)

    async def block(self, request: web.Request) -> web.Response:
        """Block a chat."""
        self.fake.block(int((await request.json())["chat_id"]))
        return _ok(True)

    async def unblock(self, request: web.Request) -> web.Response:
        """Unblock a chat."""
        self.fake.unblock(int((await request.json())["chat_id"]))
        return _ok(True)

    async def kick(self, request: web.Request) -> web.Response:
        """Kick the bot from a chat."""
        self.fake.kick(int((await request.json())["chat_id"]))
        return _ok(True)

    async def migrate(self, request: web.Request) -> web.Response:
        """Migrate a group."""
        body = await request.json()
        self.fake.migrate(int(body["old_id"]), int(body["new_id"]))
        return _ok(True)

    async def fail_next(self, request: web.Request) -> web.Response:
        """Inject failures; body holds fail_next's keyword arguments."""
        self.fake.fail_next(**(await request.json()))
        return _ok(True)

    async def delay(self, request: web.Request) -> web.Response:
        """Set a method's simulated latency."""
        body = await request.json()
        self.fake.delay(body["method"], body.get("seconds"))
        return _ok(True)

    async def flood(self, request: web.Request) -> web.Response:
        """Configure flood control."""
        body = await request.json()
        if "on" in body:
            self.fake.flood_control = bool(body["on"])
        for key in FLOOD_SETTINGS:
            if key in body:
                setattr(self.fake, key, body[key])
        if "open_chats" in body:
            self.fake.open_chats = bool(body["open_chats"])
        return _ok(True)

    async def set_member_status(self, request: web.Request) -> web.Response:
        """Set a chat member status."""
        body = await request.json()
        self.fake.set_member_status(int(body["chat_id"]), int(body["user_id"]), body["status"])
        return _ok(True)

    async def revoke_token(self, request: web.Request) -> web.Response:
        """Revoke the bot's token, optionally issuing a new one."""
        body = await request.json()
        self.fake.revoke_token(body.get("new_token"))
        return _ok(True)

    async def reset(self, request: web.Request) -> web.Response:
        """Reset the records."""
        self.fake.reset_records()
        return _ok(True)
