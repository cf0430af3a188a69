"""Committed events and how they look on the wire.

An event is numbered by its hall's gapless sequence in the same transaction as the change it
describes; it is published only after that transaction committed."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from server import wire
from server.wire import instant


@dataclass(frozen=True, slots=True)
class EventRecord:
    hall_id: int
    seq: int
    type: str
    payload: dict[str, Any]
    window_id: int | None
    at: datetime

    def to_wire(self) -> dict[str, Any]:
        """The event as every client sees it (every client of the stream is a screen: a
        display, a kiosk, another clerk): its declared personal fields are kept in the log but
        never leave the server, and an internal event (declared with no rooms) is only a skip
        frame holding its number, so a client's sequence stays gapless."""
        internal, personal_of = _client_view()
        if self.type in internal:
            return {"seq": self.seq, "type": SKIP_FRAME}
        personal = personal_of.get(self.type)
        data = (
            {k: v for k, v in self.payload.items() if k not in personal}
            if personal
            else self.payload
        )
        return {
            "seq": self.seq,
            "hall_id": self.hall_id,
            "type": self.type,
            "at": wire.instant(self.at),
            "window_id": self.window_id,
            "data": data,
        }

    def encode(self) -> bytes:
        # Copied to its own size: orjson's output keeps a ~4 kB allocation whatever its length,
        # and frames are kept (the halls' rings hold 20,000, a resuming client's backlog up to
        # 2,000), which would cost ~9x what their bytes count.
        return bytes(memoryview(wire.dumps(self.to_wire())))

    def to_bus(self) -> dict[str, Any]:
        """The whole event, for the other server processes (they act on internal events and
        may need what screens must not see)."""
        return {
            "seq": self.seq,
            "hall_id": self.hall_id,
            "type": self.type,
            "at": instant(self.at),
            "window_id": self.window_id,
            "data": self.payload,
        }

    @classmethod
    def from_bus(cls, wire: dict[str, Any]) -> EventRecord:
        return cls(
            hall_id=wire["hall_id"],
            seq=wire["seq"],
            type=wire["type"],
            payload=wire["data"],
            window_id=wire.get("window_id"),
            at=datetime.fromisoformat(wire["at"]),
        )


SKIP_FRAME = "skip"  # the type of the frame that stands in for an internal event


@functools.cache
def _client_view() -> tuple[frozenset[str], dict[str, frozenset[str]]]:
    """(internal event types, personal fields by type), as the catalogue declares them."""
    from server.catalogue import CATALOGUE  # declared there; the domain is imported first

    return CATALOGUE.internal, CATALOGUE.personal_fields()


PublishFn = Callable[[list[EventRecord]], Awaitable[None]]
