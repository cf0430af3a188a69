"""The reports (issue 11, /reports): a hall's figures over a month or any range of local days,
per hall, department, window or clerk, with rankings, the chart series and the formal-talk flag.
Every figure's definition (also in docs/reports.md):

- ratings given in the range (rated_at's local day). `ratings` counts those in the statistics;
  a review excluded by an upheld appeal counts only in `excluded`. Levels: 5 非常满意, 4 满意,
  3 基本满意, 2 不满意, 1 非常不满意.
  - satisfaction_rate = (非常满意 + 满意 + 基本满意) / ratings (null without ratings);
  - bad_reviews = 不满意 + 非常不满意; their rectification by state: open (open or verified),
    rectified, called_back, closed, and overdue (not closed and past its due instant now).
- case figures: db/queries/case_metrics.py's (server/domain/case_metrics.py defines them) over
  the cases accepted in the range: immediate rate, on-time rate, early share and average working
  hours saved, visits per case.
- times, over the tickets of the range's service days, each ticket a stay in one queue, at the
  window that called it: waiting = queued → called (a transfer waits again in its new queue),
  walk = called → service started, service = started → finished; averages in seconds.
- idle: a window open with nobody called to it (window_idle: from its opening or its ticket's
  end to its next call, pause or close), spells ended in the range: `idle_s` in total,
  `avg_idle_s` per window and service day it was idle at all. A spell is a window's, so a clerk
  has none (null).
- joint cases (a workflow's parent case) accepted in the range: count, completed, and the
  average working hours of the completed ones (server/domain/workflow_figures.case_times).
- alarms issued in the range by kind, withdrawn and cancelled ones not counted (as the month's
  scoring).
- rank: by satisfaction rate (higher first), then on-time rate (higher first), then average
  waiting (shorter first); a missing figure ranks after any present one; rows equal on all
  three share a rank (1, 2, 2, 4). Rows with no rating, case or ticket are not ranked.
- formal talk (约谈): a window ranked last among the hall's windows (every window sharing the
  last rank) in a month and in the month before.
- series: the daily trend (arrivals, served, average waiting, ratings, satisfaction rate), the
  distribution of waiting times in buckets (minutes: 0–5, 5–10, 10–15, 15–20, 20–30, 30–45,
  45–60, 60+), arrivals (a visit's first ticket) by ISO weekday × hour of registration."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from db.queries import calendar as calq
from db.queries import case_metrics as mq
from db.queries import reports as q
from server.domain.alarm_kinds import KIND_NAMES
from server.domain.case_metrics import MAX_RANGE_DAYS
from server.domain.case_metrics import shape as metrics_shape
from server.domain.errors import Forbidden, Invalid
from server.domain.hall import HallRef, get_hall
from server.domain.queueing import service_day
from server.domain.supervision_views import parse_month
from server.domain.workflow_figures import case_times

if TYPE_CHECKING:
    from db.pool import Conn
    from server.catalogue.spine import Call

GROUPINGS: Final = ("hall", "department", "window", "clerk")
LEVEL_NAMES: Final = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
WEEKDAYS: Final = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _round(v: float | None, nd: int = 1) -> float | None:
    return None if v is None else round(v, nd)


def empty_row(key: str, label: str) -> dict[str, Any]:
    return {
        "key": key,
        "label": label,
        "rank": None,
        "ratings": 0,
        "excluded": 0,
        "levels": {str(lv): 0 for lv in LEVEL_NAMES},
        "satisfaction_rate": None,
        "bad_reviews": 0,
        "rectification": {
            "open": 0,
            "rectified": 0,
            "called_back": 0,
            "closed": 0,
            "overdue": 0,
        },
        "cases": 0,
        "completed": 0,
        "immediate_rate": None,
        "on_time_rate": None,
        "early_share": None,
        "avg_saved_hours": None,
        "avg_visits": None,
        "tickets": 0,
        "served": 0,
        "avg_wait_s": None,
        "avg_walk_s": None,
        "avg_service_s": None,
        "idle_s": None,
        "avg_idle_s": None,
        "joint_cases": 0,
        "joint_completed": 0,
        "joint_avg_working_hours": None,
        "alarms": 0,
        "alarms_by_kind": {},
    }


def rank_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Ranks the active rows (the module docstring's rule) and orders every row by rank."""

    def sort_key(r: dict[str, Any]) -> tuple[Any, ...]:
        sat, on_time, wait = r["satisfaction_rate"], r["on_time_rate"], r["avg_wait_s"]
        return (
            sat is None,
            -(sat or 0),
            on_time is None,
            -(on_time or 0),
            wait is None,
            wait or 0,
        )

    active = [r for r in rows if r["ratings"] or r["cases"] or r["tickets"]]
    idle = [r for r in rows if not (r["ratings"] or r["cases"] or r["tickets"])]
    active.sort(key=lambda r: (sort_key(r), r["key"]))
    previous: tuple[Any, ...] | None = None
    for i, r in enumerate(active, start=1):
        k = sort_key(r)
        r["rank"] = i if k != previous else active[i - 2]["rank"]
        previous = k
    return active + sorted(idle, key=lambda r: r["key"])


@dataclass(frozen=True)
class Scope:
    halls: list[HallRef]
    start: date
    end: date
    by: str


def check_range(start: date, end: date) -> None:
    if end < start or (end - start) > timedelta(days=MAX_RANGE_DAYS):
        raise Invalid("日期范围不合法", code="invalid_range", field="to")


async def _halls(call: Call, conn: Conn, hall: HallRef, by: str) -> list[HallRef]:
    """The hall, and for a city grouped by hall its county halls the caller may see."""
    call.check(hall.target())
    halls = [hall]
    if by == "hall" and hall.level == "city":
        for r in await conn.fetch(q.COUNTY_HALLS, hall.id):
            county = HallRef(r["id"], r["code"], r["name"], "county", hall.id)
            try:
                call.check(county.target())
            except Forbidden:
                continue
            halls.append(county)
    return halls


async def figures(conn: Conn, scope: Scope, now: datetime) -> dict[str, Any]:
    """Every group row and the chart series of the scope, one pass per table, in one read-only
    snapshot (the passes agree with each other). JIT is off: these statements' cost estimates
    pass its threshold, and compiling took ~0.9 s of a month's case-metrics pass (measured,
    docs/reports.md) against a run time of the same order. A larger work_mem lets a year's
    grouping sets hash in memory instead of sorting on disk (a month's ticket pass: 0.40 s →
    0.15 s)."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        await conn.execute("set local jit = off")
        await conn.execute("set local work_mem = '64MB'")
        return await _figures(conn, scope, now)


async def _figures(conn: Conn, scope: Scope, now: datetime) -> dict[str, Any]:
    ids = [h.id for h in scope.halls]
    by, start, end = scope.by, scope.start, scope.end
    rows: dict[str, dict[str, Any]] = {}

    def row(key: str | None, label: str | None) -> dict[str, Any] | None:
        if key is None:
            return None
        if key not in rows:
            rows[key] = empty_row(key, label or "")
        return rows[key]

    # case figures: the one path of case metrics (per hall: it takes one hall)
    for h in scope.halls:
        for r in await conn.fetch(mq.metrics_sql(by), h.id, start, end, None):
            m = metrics_shape(r)
            g = row(m["key"], m["label"])
            assert g is not None
            for f in ("cases", "completed", "immediate_rate", "on_time_rate", "early_share"):
                g[f] = m[f]
            g["avg_saved_hours"] = m["avg_saved_hours"]
            g["avg_visits"] = m["avg_visits"] if m["completed"] else None

    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    trend: dict[date, dict[str, Any]] = {
        d: {
            "day": d.isoformat(),
            "arrivals": 0,
            "served": 0,
            "avg_wait_s": None,
            "ratings": 0,
            "satisfaction_rate": None,
        }
        for d in days
    }
    waits = [0] * (len(q.WAIT_BOUNDS_MIN) + 1)
    heat: list[dict[str, int]] = []
    for r in await conn.fetch(q.tickets_sql(by), ids, start, end):
        if r["set"] == "group":
            g = row(r["key"], r["label"])
            if g is not None:
                g["tickets"] = r["called"]
                g["served"] = r["served"]
                g["avg_wait_s"] = _round(r["avg_wait_s"])
                g["avg_walk_s"] = _round(r["avg_walk_s"])
                g["avg_service_s"] = _round(r["avg_service_s"])
        elif r["set"] == "day":
            t = trend[r["day"]]
            t["arrivals"], t["served"] = r["arrivals"], r["served"]
            t["avg_wait_s"] = _round(r["avg_wait_s"])
        elif r["set"] == "heat":
            if r["arrivals"]:
                heat.append({"dow": r["dow"], "hour": r["hour"], "arrivals": r["arrivals"]})
        elif r["bucket"] is not None:
            waits[r["bucket"]] = r["called"]

    for r in await conn.fetch(q.ratings_sql(by), ids, start, end, now):
        if r["set"] == "day":
            t = trend[r["day"]]
            t["ratings"] = r["counted"]
            t["satisfaction_rate"] = _rate(r["l5"] + r["l4"] + r["l3"], r["counted"])
            continue
        g = row(r["key"], r["label"])
        if g is None:
            continue
        g["ratings"], g["excluded"] = r["counted"], r["excluded"]
        g["levels"] = {str(lv): r[f"l{lv}"] for lv in LEVEL_NAMES}
        g["satisfaction_rate"] = _rate(r["l5"] + r["l4"] + r["l3"], r["counted"])
        g["bad_reviews"] = r["l2"] + r["l1"]
        g["rectification"] = {
            "open": r["rect_open"],
            "rectified": r["rect_rectified"],
            "called_back": r["rect_called_back"],
            "closed": r["rect_closed"],
            "overdue": r["rect_overdue"],
        }

    if by != "clerk":
        for r in await conn.fetch(q.idle_sql(by), ids, start, end):
            g = row(r["key"], r["label"])
            if g is not None:
                g["idle_s"] = round(r["idle_s"])
                g["avg_idle_s"] = (
                    _round(r["idle_s"] / r["window_days"]) if r["window_days"] else None
                )

    for r in await conn.fetch(q.alarms_sql(by), ids, start, end):
        g = row(r["key"], r["label"])
        if g is not None:
            g["alarms"] += r["n"]
            g["alarms_by_kind"][r["kind"]] = r["n"]

    joint = await conn.fetch(q.joint_sql(by), ids, start, end)
    if joint:
        today = service_day(now)
        cals = {
            h.id: await calq.load_hall_calendar(
                conn, h.id, start - timedelta(days=1), max(end, today) + timedelta(days=1)
            )
            for h in scope.halls
        }
        worked: dict[str, list[int]] = defaultdict(list)
        for r in joint:
            g = row(r["key"], r["label"])
            assert g is not None
            g["joint_cases"] += 1
            if r["state"] in ("completed", "delivered") and r["completed_at"] is not None:
                g["joint_completed"] += 1
                worked[r["key"]].append(case_times(r, cals[r["hall_id"]]).working_s)
        for key, secs in worked.items():
            rows[key]["joint_avg_working_hours"] = round(sum(secs) / len(secs) / 3600, 2)

    return {
        "groups": rank_rows(list(rows.values())),
        "series": {
            "trend": list(trend.values()),
            "waits": [
                {
                    "from_min": 0 if i == 0 else q.WAIT_BOUNDS_MIN[i - 1],
                    "to_min": q.WAIT_BOUNDS_MIN[i] if i < len(q.WAIT_BOUNDS_MIN) else None,
                    "count": n,
                }
                for i, n in enumerate(waits)
            ],
            "heatmap": sorted(heat, key=lambda c: (c["dow"], c["hour"])),
        },
    }


def _range(call: Call, start: date | None, end: date | None) -> tuple[date, date]:
    today = service_day(call.ctx.clock())
    end = end or today
    start = start or end.replace(day=1)
    check_range(start, end)
    return start, end


async def report(
    call: Call, hall_code: str, start: date | None, end: date | None, by: str
) -> dict[str, Any]:
    """GET /api/halls/{hall}/reports: `to` defaults to today, `from` to its month's first day."""
    start, end = _range(call, start, end)
    now = call.ctx.clock()
    async with call.ctx.store.read() as conn:
        hall = await get_hall(conn, hall_code)
        halls = await _halls(call, conn, hall, by)
        body = await figures(conn, Scope(halls, start, end, by), now)
    return {
        "hall": {"code": hall.code, "name": hall.name, "level": hall.level},
        "halls": [{"code": h.code, "name": h.name} for h in halls],
        "from": start.isoformat(),
        "to": end.isoformat(),
        "by": by,
        "kind_names": dict(KIND_NAMES),
        **body,
    }


def _last(groups: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    ranked = [g for g in groups if g["rank"] is not None]
    if not ranked:
        return {}
    bottom = max(g["rank"] for g in ranked)
    return {g["key"]: g for g in ranked if g["rank"] == bottom}


async def talks(call: Call, hall_code: str, month_text: str | None) -> dict[str, Any]:
    """GET /api/halls/{hall}/reports/talks?month=YYYY-MM: the windows ranked last in the month
    and in the month before (约谈), with both months' figures."""
    now = call.ctx.clock()
    first, nxt = parse_month(month_text, service_day(now))
    prev_first = (first - timedelta(days=1)).replace(day=1)
    async with call.ctx.store.read() as conn:
        hall = await get_hall(conn, hall_code)
        call.check(hall.target())
        this = await figures(conn, Scope([hall], first, nxt - timedelta(days=1), "window"), now)
        before = await figures(
            conn, Scope([hall], prev_first, first - timedelta(days=1), "window"), now
        )
    last_now, last_before = _last(this["groups"]), _last(before["groups"])
    flagged = []
    for key in sorted(set(last_now) & set(last_before), key=int):
        g, p = last_now[key], last_before[key]
        flagged.append(
            {
                "window_no": int(key),
                "label": g["label"],
                "rank": g["rank"],
                "of": sum(1 for x in this["groups"] if x["rank"] is not None),
                "previous_rank": p["rank"],
                "previous_of": sum(1 for x in before["groups"] if x["rank"] is not None),
                "satisfaction_rate": g["satisfaction_rate"],
                "on_time_rate": g["on_time_rate"],
                "previous_satisfaction_rate": p["satisfaction_rate"],
                "previous_on_time_rate": p["on_time_rate"],
            }
        )
    return {
        "hall": {"code": hall.code, "name": hall.name, "level": hall.level},
        "month": first.strftime("%Y-%m"),
        "previous_month": prev_first.strftime("%Y-%m"),
        "last": sorted((int(k) for k in last_now), key=int),
        "previous_last": sorted((int(k) for k in last_before), key=int),
        "talks": flagged,
    }


__all__ = ["GROUPINGS", "LEVEL_NAMES", "WEEKDAYS", "figures", "rank_rows", "report", "talks"]
