"""FakeTelegramClient: drive a fake running in another process through its control API."""

from __future__ import annotations

from typing import Any

from aiohttp import ClientSession, ClientTimeout

from fake_telegram.records import JSON


class FakeTelegramClient:
    """Drive a standalone fake through its ``/_control/`` API."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        """Point the client at a running fake."""
        self.root = f"http://{host}:{port}/_control"
        self._session: ClientSession | None = None

    async def __aenter__(self) -> FakeTelegramClient:
        """Open the HTTP session."""
        self._session = ClientSession(timeout=ClientTimeout(total=None))
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Close the HTTP session."""
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _call(self, verb: str, name: str, body: Any = None, **query: Any) -> Any:
        """Call a control endpoint and unwrap its result."""
        if self._session is None:
            self._session = ClientSession(timeout=ClientTimeout(total=None))
        params = {k: str(v) for k, v in query.items() if v is not None}
        async with self._session.request(
            verb, f"{self.root}/{name}", json=body, params=params
        ) as resp:
            data = await resp.json()
        if not data.get("ok"):
            if resp.status == 408:
                raise TimeoutError(data.get("description"))
            raise RuntimeError(f"control {name} failed: {data}")
        return data["result"]

    async def push(self, update: JSON | list[JSON]) -> list[int]:
        """Push one update or a list; return update_ids."""
        return await self._call("POST", "push", update)

    async def push_raw(self, update: JSON | list[JSON]) -> list[int]:
        """Push one update or a list exactly as given (see FakeTelegram.push_raw)."""
        return await self._call("POST", "push_raw", update)

    async def sent(self, chat_id: int | None = None) -> list[JSON]:
        """Return sent messages as dicts."""
        return await self._call("GET", "sent", chat_id=chat_id)

    async def stats(self) -> JSON:
        """Return the fake's stats."""
        return await self._call("GET", "stats")

    async def handed_out(self) -> dict[int, float]:
        """Return update_id -> perf_counter time of first hand-out."""
        return {int(k): v for k, v in (await self._call("GET", "handed_out")).items()}

    async def wait_sent(self, n: int, chat_id: int | None = None, timeout: float = 10.0) -> int:
        """Wait server-side until n messages were sent; return the count."""
        return await self._call("GET", "wait_sent", n=n, chat_id=chat_id, timeout=timeout)

    async def add_chats(self, ids: list[int], type: str = "private") -> None:
        """Make chats known."""
        await self._call("POST", "add_chats", {"ids": ids, "type": type})

    async def block(self, chat_id: int) -> None:
        """Block a chat."""
        await self._call("POST", "block", {"chat_id": chat_id})

    async def unblock(self, chat_id: int) -> None:
        """Unblock a chat."""
        await self._call("POST", "unblock", {"chat_id": chat_id})

    async def kick(self, chat_id: int) -> None:
        """Kick the bot from a group."""
        await self._call("POST", "kick", {"chat_id": chat_id})

    async def migrate(self, old_id: int, new_id: int) -> None:
        """Migrate a group to a supergroup."""
        await self._call("POST", "migrate", {"old_id": old_id, "new_id": new_id})

    async def fail_next(self, method: str, **kw: Any) -> None:
        """Inject failures (same keywords as FakeTelegram.fail_next)."""
        await self._call("POST", "fail_next", {"method": method, **kw})

    async def delay(self, method: str, seconds: float | None) -> None:
        """Set simulated latency for a method."""
        await self._call("POST", "delay", {"method": method, "seconds": seconds})

    async def flood(self, on: bool = True, **limits: Any) -> None:
        """Switch flood control and set limits (global_rate, per_chat_interval, ...)."""
        await self._call("POST", "flood", {"on": on, **limits})

    async def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """Set a chat member status."""
        body = {"chat_id": chat_id, "user_id": user_id, "status": status}
        await self._call("POST", "set_member_status", body)

    async def revoke_token(self, new_token: str | None = None) -> None:
        """Revoke the bot's token, optionally issuing new_token."""
        await self._call("POST", "revoke_token", {"new_token": new_token})

    async def reset(self) -> None:
        """Reset the fake's records."""
        await self._call("POST", "reset", {})
