"""The hall's live state in one consistent read, for a client that starts (or resyncs)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from db.queries import events as eq
from db.queries import hall as hq
from db.queries import queueing as qq
from server.domain.hall import HallRef, window_view
from server.domain.queueing import TZ, queue_view, service_day
from server.domain.store import Store

RECENT_CALLS = 10


async def snapshot(store: Store, hall: HallRef) -> dict[str, Any]:
    """State and the sequence number it is consistent with, read in one repeatable-read
    transaction: a client applies the live events numbered after `seq`."""
    day = service_day()
    day_start = datetime.combine(day, time.min, TZ)
    async with store.read() as conn:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            seq = await eq.last_seq(conn, hall.id)
            row = await conn.fetchrow(hq.HALL_BY_ID, hall.id)
            windows = [window_view(r) for r in await conn.fetch(hq.WINDOWS, hall.id)]
            queues = [queue_view(r) for r in await conn.fetch(qq.QUEUE_STATUS, hall.id, day)]
            current = {r["window_no"]: r for r in await conn.fetch(qq.WINDOW_CURRENT, hall.id, day)}
            calls = await conn.fetch(qq.RECENT_CALLS, hall.id, day_start, RECENT_CALLS)
    for w in windows:
        t = current.get(w["window_no"])
        w["ticket"] = {"ticket_no": t["ticket_no"], "status": t["status"]} if t else None
    return {
        "seq": seq,
        "day": day.isoformat(),
        "hall": {"code": hall.code, "name": hall.name, "level": hall.level},
        "notice_line": row["notice_line"],
        "windows": windows,
        "queues": queues,
        "calls": [{**c["payload"], "at": c["at"].isoformat()} for c in calls],
    }
