"""Case metrics per hall, department, window, clerk, day or month: immediate rate (即办率),
on-time rate, early completion and the working time saved against the limit, visits per case
and paused time by kind. One query path (db/queries/case_metrics.py) the reports reuse.

Definitions (decided; README):
- immediate rate: completed cases that were immediate and completed on their acceptance day,
  over all completed cases;
- on-time rate: completed cases whose clock stopped with time left (or exactly on time), over
  completed cases; an immediate case (its limit is the visit itself: its clock's deadline is
  the acceptance) is on time when completed on its acceptance day;
- early share and time saved: among completed promised (and urgent, escalated) cases, those that
  finished with working time left, and the average of that time;
- visits: the average visit count of completed cases."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from db.queries import case_metrics as q
from server.domain.errors import Invalid
from server.domain.hall import department_id, get_hall
from server.domain.permissions import Target
from server.domain.queueing import service_day

if TYPE_CHECKING:
    from server.catalogue.spine import Call

MAX_RANGE_DAYS = 3 * 366


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def shape(row: Any) -> dict[str, Any]:
    completed = row["completed"]
    return {
        "key": row["key"],
        "label": row["label"],
        "cases": row["cases"],
        "accepted": row["accepted"],
        "not_accepted": row["not_accepted"],
        "withdrawn": row["withdrawn"],
        "completed": completed,
        "immediate_rate": _rate(row["immediate_done"], completed),
        "on_time_rate": _rate(row["on_time"], completed),
        "early_share": _rate(row["early"], row["promised_done"]),
        "avg_saved_hours": round(row["avg_saved_s"] / 3600, 2),
        "avg_visits": round(row["avg_visits"], 2),
        "paused_hours": {k: round(int(v) / 3600, 2) for k, v in row["paused_s"].items()},
    }


async def metrics(
    call: Call,
    hall_code: str,
    start: date | None,
    end: date | None,
    by: str,
    department: str | None,
) -> dict[str, Any]:
    today = service_day(call.ctx.clock())
    end = end or today
    start = start or end.replace(day=1)
    if end < start or (end - start) > timedelta(days=MAX_RANGE_DAYS):
        raise Invalid("日期范围不合法", code="invalid_range", field="to")
    async with call.ctx.store.read() as conn:
        hall = await get_hall(conn, hall_code)
        dept_id = await department_id(conn, hall, department) if department else None
        call.check(Target(hall.id, hall.parent_id, department_id=dept_id))
        rows = await conn.fetch(q.metrics_sql(by), hall.id, start, end, dept_id)
    return {
        "hall": hall.code,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "by": by,
        "groups": [shape(r) for r in rows],
    }
