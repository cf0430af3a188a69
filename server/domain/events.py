"""Committed events and how they look on the wire.

An event is numbered by its hall's gapless sequence in the same transaction as the change it
describes; it is published only after that transaction committed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import orjson


@dataclass(frozen=True, slots=True)
class EventRecord:
    hall_id: int
    seq: int
    type: str
    payload: dict[str, Any]
    window_id: int | None
    at: datetime

    def to_wire(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "hall_id": self.hall_id,
            "type": self.type,
            "at": self.at.isoformat(),
            "window_id": self.window_id,
            "data": self.payload,
        }

    def encode(self) -> bytes:
        # Copied to its own size: orjson's output keeps a ~4 kB allocation whatever its length,
        # and frames are kept (the halls' rings hold 20,000, a resuming client's backlog up to
        # 2,000), which would cost ~9x what their bytes count.
        return bytes(memoryview(orjson.dumps(self.to_wire())))

    @classmethod
    def from_wire(cls, wire: dict[str, Any]) -> EventRecord:
        return cls(
            hall_id=wire["hall_id"],
            seq=wire["seq"],
            type=wire["type"],
            payload=wire["data"],
            window_id=wire.get("window_id"),
            at=datetime.fromisoformat(wire["at"]),
        )


class Publisher(Protocol):
    async def publish(self, records: list[EventRecord]) -> None: ...


PublishFn = Callable[[list[EventRecord]], Awaitable[None]]
