"""Injected failures and simulated latency."""

from __future__ import annotations

from dataclasses import dataclass

from fake_telegram.flood import FloodControl
from fake_telegram.records import JSON, ApiError


@dataclass(slots=True)
class Fault:
    """A pending injected failure."""

    method: str
    status: int
    description: str
    count: int
    chat_id: int | str | None
    retry_after: int | None


class Faults:
    """The failures and delays a test asked for, matched against each request."""

    def __init__(self, flood: FloodControl) -> None:
        """Start with none; injected 429s are noted in flood's retry_after bookkeeping."""
        self.pending: list[Fault] = []
        self.delays: dict[str, float] = {}
        self._flood = flood

    def add(self, fault: Fault) -> None:
        """Queue a failure, filling in Telegram's 429 wording when retry_after is given."""
        if fault.retry_after is not None:
            if fault.status == 500:
                fault.status = 429
            if fault.description == "Internal Server Error":
                fault.description = f"Too Many Requests: retry after {fault.retry_after}"
        self.pending.append(fault)

    def set_delay(self, method: str, seconds: float | None) -> None:
        """Delay method ("*" = any) by seconds; None or 0 removes the delay."""
        if seconds:
            self.delays[method] = seconds
        else:
            self.delays.pop(method, None)

    def latency(self, method: str) -> float | None:
        """Return the simulated latency of method, if any."""
        return self.delays.get(method) or self.delays.get("*")

    def raise_matching(self, method: str, params: JSON) -> None:
        """Raise the first pending failure that matches this request."""
        for fault in self.pending:
            if fault.method not in (method, "*"):
                continue
            if fault.chat_id is not None and str(params.get("chat_id")) != str(fault.chat_id):
                continue
            fault.count -= 1
            if fault.count <= 0:
                self.pending.remove(fault)
            parameters = None
            if fault.retry_after is not None:
                parameters = {"retry_after": fault.retry_after}
                self._flood.asked_to_wait(params.get("chat_id"), fault.retry_after)
            raise ApiError(fault.status, fault.description, parameters)
