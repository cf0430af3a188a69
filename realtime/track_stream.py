"""The citizen's live /track: an anonymous Socket.IO /hall connection that follows one case.

The handshake's auth is {"track": "<code>", "since": N} with no session: the code is looked up
exactly as GET /api/track/{code} looks it up (case_views.tracked_case: the case's query code or
the registration notice's, never the sequential reg_no), counted against the same per-address budget
(Context.track_limit, one bucket for both), and a wrong code is refused with the same answer
whether or not it exists. The connection then gets its case's events only (rooms.case_filter).

What it gets of each event is its position and type, never its payload: the page reads the
case's masked view again (GET /api/track/{code}) on any event, and the payloads carry what an
anonymous reader has no business with (the clerk's note, the leader's comment and name). Nor
does it ever get the hall's snapshot: it resumes from its `since` when the log still holds what
came after, else from the head of the log (the page reads the view on going live anyway)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import orjson

from db.queries import events as eq
from server.domain.case_views import tracked_case
from server.domain.context import Limiter
from server.domain.errors import NotFound, RateLimited
from server.domain.store import Store

TRACK_AUTH: Final = "track"  # the handshake key that asks for this mode
MAX_CODE: Final = 40  # as GET /api/track/{code} accepts
# Open track connections per client address, at most: the rate limit bounds how fast they
# come, this how many one address may hold (a hall's guest Wi-Fi is one address to us).
MAX_PER_ADDRESS: Final = 50


@dataclass(frozen=True)
class TrackTarget:
    hall_id: int
    case_id: int
    head: int  # the hall's last sequence number when the code was looked up


def _unknown() -> NotFound:
    # the same refusal as case_views.tracked_case's, for a code not even well formed
    return NotFound(
        "查询码不正确或办件不存在，请核对告知单", code="unknown_query_code", field="code"
    )


async def track_target(
    store: Store, limit: Limiter | None, client: str | None, code: Any
) -> TrackTarget:
    """The case a track handshake follows; RateLimited past the client's budget (counted
    first, as the HTTP view does, so a wrong guess costs the same as a right one), NotFound
    for any code that leads to no case."""
    if limit is not None:
        limit.check(f"track:{client or '-'}")
    if not isinstance(code, str) or not 4 <= len(code.strip()) <= MAX_CODE:
        raise _unknown()
    async with store.read() as conn:
        row = await tracked_case(conn, code)
        head = await conn.fetchval(eq.LAST_SEQ, row["hall_id"])
    return TrackTarget(row["hall_id"], row["id"], head or 0)


def resume_from(since: int | None, head: int, limit: int) -> int:
    """Where a track connection starts: its own `since` when the backlog after it is short
    enough to send, else the head (the fan-out would answer with the hall's snapshot)."""
    if since is None or since > head or head - since > limit:
        return head
    return since


def event_frame(frame: bytes) -> bytes:
    """An event as a track connection gets it: {"seq", "type"}."""
    ev = orjson.loads(frame)
    return orjson.dumps({"seq": ev["seq"], "type": ev["type"]})


def snapshot_frame(frame: bytes) -> bytes:
    """The live marker as it is; a snapshot (only if the log moved on by more than the resume
    limit while the connection attached) without the hall's data."""
    msg = orjson.loads(frame)
    if msg.get("type") == "snapshot":
        return orjson.dumps({"type": "snapshot", "seq": msg["seq"], "data": None})
    return frame


class AddressCount:
    """Open track connections per client address."""

    def __init__(self, limit: int = MAX_PER_ADDRESS):
        self.limit = limit
        self._open: dict[str, int] = {}

    def take(self, address: str) -> None:
        n = self._open.get(address, 0)
        if n >= self.limit:
            raise RateLimited("连接过多，请关闭其他查询页面后再试", code="rate_limited")
        self._open[address] = n + 1

    def give_back(self, address: str) -> None:
        n = self._open.get(address, 0) - 1
        if n > 0:
            self._open[address] = n
        else:
            self._open.pop(address, None)
