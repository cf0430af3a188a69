"""The hall's live state in one consistent read, for a client that starts (or resyncs)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any, Final

from db.queries import events as eq
from db.queries import hall as hq
from db.queries import queueing as qq
from server.domain.hall import HallRef, window_view
from server.domain.queueing import TZ, queue_view, service_day
from server.domain.store import Store
from server.wire import instant

# How many recent calls a lobby keeps. Said once, here: the snapshot carries it (`calls_kept`)
# and the browser's hall state keeps as many.
CALLS_KEPT: Final = 10
# A recall repeats a call in the log; read enough of the log to find CALLS_KEPT distinct calls
# in an ordinary day (a ticket is rarely recalled more than twice).
_CALL_EVENTS_READ: Final = CALLS_KEPT * 3


def _call(
    ticket_no: str, window_no: int, window_name: str, queue: str, at: datetime, recalled: bool
) -> dict[str, Any]:
    return {
        "ticket_no": ticket_no,
        "window_no": window_no,
        "window_name": window_name,
        "queue": queue,
        "at": instant(at),
        "recalled": recalled,
    }


async def snapshot(store: Store, hall: HallRef) -> dict[str, Any]:
    """State and the sequence number it is consistent with, read in one repeatable-read
    transaction: a client applies the live events numbered after `seq`.

    `calls` are the calls being made now: tickets still called (not yet served, gone or moved)
    at their window, newest first. `recent_calls` is the history a lobby lists, newest first,
    one entry per ticket and window, at most `calls_kept`."""
    day = service_day()
    day_start = datetime.combine(day, time.min, TZ)
    async with (
        store.read() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        seq = await eq.last_seq(conn, hall.id)
        row = await conn.fetchrow(hq.HALL_BY_ID, hall.id)
        assert row is not None  # `hall` was resolved from this table; halls are never deleted
        windows = [window_view(r) for r in await conn.fetch(hq.WINDOWS, hall.id)]
        queues = [queue_view(r) for r in await conn.fetch(qq.QUEUE_STATUS, hall.id, day)]
        at_windows = await conn.fetch(qq.WINDOW_CURRENT, hall.id, day)
        call_events = await conn.fetch(qq.RECENT_CALLS, hall.id, day_start, _CALL_EVENTS_READ)

    recent: list[dict[str, Any]] = []
    last_call_at: dict[tuple[str, int], datetime] = {}
    for e in call_events:  # newest first
        p = e["payload"]
        key = (p["ticket_no"], p["window_no"])
        if key in last_call_at:
            continue
        last_call_at[key] = e["at"]
        if len(recent) < CALLS_KEPT:
            recent.append(
                _call(
                    p["ticket_no"],
                    p["window_no"],
                    p.get("window_name") or "",
                    p["queue"],
                    e["at"],
                    (p.get("recalls") or 0) > 0,
                )
            )

    name_of = {w["window_no"]: w["name"] for w in windows}
    queue_of = {q["id"]: q["code"] for q in queues}
    ticket_at = {t["window_no"]: t for t in at_windows}
    current: list[tuple[datetime, dict[str, Any]]] = []
    for t in at_windows:
        if t["status"] != "called":
            continue
        # a recall is the ticket's latest call (the ticket keeps the time of its first)
        at = max(t["called_at"], last_call_at.get((t["ticket_no"], t["window_no"]), t["called_at"]))
        current.append(
            (
                at,
                _call(
                    t["ticket_no"],
                    t["window_no"],
                    name_of.get(t["window_no"], ""),
                    queue_of.get(t["queue_id"], ""),
                    at,
                    t["recalls"] > 0,
                ),
            )
        )
    current.sort(key=lambda c: c[0], reverse=True)

    for w in windows:
        t = ticket_at.get(w["window_no"])
        w["ticket"] = {"ticket_no": t["ticket_no"], "status": t["status"]} if t else None
    return {
        "seq": seq,
        "day": day.isoformat(),
        "hall": {"code": hall.code, "name": hall.name, "level": hall.level},
        "notice_line": row["notice_line"],
        "windows": windows,
        "queues": queues,
        "calls": [c for _, c in current],
        "recent_calls": recent,
        "calls_kept": CALLS_KEPT,
    }
