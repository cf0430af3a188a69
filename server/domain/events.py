"""Committed events and how they look on the wire.

An event is numbered by its hall's gapless sequence in the same transaction as the change it
describes; it is published only after that transaction committed."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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
        """The event as every client sees it: its declared personal fields are kept in the log
        but never leave the server (every client of the stream is a screen: a display, a
        kiosk, another clerk)."""
        personal = _personal_fields().get(self.type)
        data = (
            {k: v for k, v in self.payload.items() if k not in personal}
            if personal
            else self.payload
        )
        return {
            "seq": self.seq,
            "hall_id": self.hall_id,
            "type": self.type,
            "at": self.at.isoformat(),
            "window_id": self.window_id,
            "data": data,
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


@functools.cache
def _personal_fields() -> dict[str, frozenset[str]]:
    from server.catalogue import CATALOGUE  # declared there; the domain is imported first

    return CATALOGUE.personal_fields()


PublishFn = Callable[[list[EventRecord]], Awaitable[None]]
