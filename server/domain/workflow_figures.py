"""The figures of a workflow's joint cases (联办成效, issue 10: "measured for every such case"):
how long they took, overall and per step, how often the applicant came, and how many materials
were asked for, as averages and distributions, so a screen can say "平均 7.3 个工作小时，跑动次数
由 7 次减为 2 次".

The cases counted are the hall's joint cases (parents: `service_case.workflow_code`) of the
workflow accepted in [from, to] (local days, both included); a county hall's are its own cases
under the city's definition. For a project flow (一表通) the cases are its stage cases, and a
`projects` block counts the projects opened in the range (else it is null):
- `opened`, `completed`, `stages`: the distribution {stages accepted: projects};
- `working_days` over the completed projects: the project's clock, the working time its stage
  cases ran (the applicant's time between stages does not count), in working days;
- `visits` over the completed projects: the visits of all its stages;
- `materials_requested` per project, and `requested_twice`: the projects where one material was
  asked for by two stages (the promise of one material store is that this is 0).

- `cases`: accepted (every case counted), completed (completed or delivered), of them delivered;
  open (still being worked), withdrawn, refused.
- `elapsed`, over the completed cases, each as avg, p50, p90, max (hours, 2 decimals; the
  percentiles interpolate linearly between ranks, as PostgreSQL's percentile_cont) and a
  histogram:
  - `working_hours`: the case's clock from acceptance to completion, its pauses (补正, 报批, the
    special procedures) left out: the hall's working time between the clock's start and stop
    less the clock's `paused_s`. The acceptance day counts: a day-unit clock leaves it out of
    its limit (day 0), so its own `elapsed_s` would show a case done on the day as 0 h;
  - `calendar_hours`: completed_at − accepted_at;
  - the histograms have 8 equal buckets up to the definition's overall limit and one `over` it
    (`to` null): the limit in working hours for working hours (a working day is the hall's
    working-day length), and the limit in whole working days of 24 h for calendar hours.
    Being in `over` is not being late: a day-unit promise starts after the acceptance day;
  - `on_time`, `on_time_share`: completed with the clock's time left (or exactly on time), what
    the promise counts.
- `steps`, per step of the definition in force (then any other step code the cases have, from
  an older version): done, consented (超时默许), overruns (done after its due instant, or
  consented), and `working_hours` ready → done (done or consented) by the hall calendar.
- `visits` over the completed cases (a case completed but not yet picked up counts its visits so
  far): avg and the distribution {visits: cases}; `baseline` the definition's
  `baseline_visits` (the visits before the bundle; null when not given).
- `materials_requested` over every case counted: avg and the distribution {rows of its intake
  list (case_material): cases}.

An empty range gives zeros, nulls and empty distributions, never an error."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from db.queries import calendar as calq
from db.queries import workflow_figures as q
from server.domain import workflow_def as wd
from server.domain import workflows
from server.domain.alarm_ladder import working_day_seconds
from server.domain.calendar import HallCalendar
from server.domain.case_clock import ClockState
from server.domain.case_metrics import MAX_RANGE_DAYS
from server.domain.errors import Invalid
from server.domain.hall import get_hall
from server.domain.queueing import service_day

if TYPE_CHECKING:
    from server.catalogue.spine import Call

DEFAULT_DAYS = 30
BUCKETS = 8
_DONE = ("completed", "delivered")
_OPEN = ("accepted", "in_progress", "awaiting_signoff", "approved")
_SECOND = timedelta(seconds=1)


# ------------------------------------------------------------------------------ statistics


def percentile(ordered: Sequence[float], q: float) -> float:
    """The q-quantile of sorted values, interpolated linearly between the closest ranks."""
    rank = (len(ordered) - 1) * q
    lo = int(rank)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (rank - lo)


def _hours(seconds: float) -> float:
    return round(seconds / 3600, 2)


def summary(seconds: Iterable[int]) -> dict[str, float | None]:
    """avg, p50, p90 and max, in hours; nulls for no values."""
    ordered = sorted(seconds)
    if not ordered:
        return {"avg": None, "p50": None, "p90": None, "max": None}
    return {
        "avg": _hours(sum(ordered) / len(ordered)),
        "p50": _hours(percentile(ordered, 0.5)),
        "p90": _hours(percentile(ordered, 0.9)),
        "max": _hours(ordered[-1]),
    }


def histogram(seconds: Iterable[int], limit_s: int, buckets: int = BUCKETS) -> list[dict[str, Any]]:
    """`buckets` equal buckets [from, to) up to `limit_s`, then one from the limit on (`to`
    null); edges in hours."""
    counts = [0] * (buckets + 1)
    for s in seconds:
        counts[min(buckets, max(0, s) * buckets // limit_s)] += 1
    edges = [_hours(limit_s * i / buckets) for i in range(buckets + 1)]
    out: list[dict[str, Any]] = [
        {"from": edges[i], "to": edges[i + 1], "count": counts[i]} for i in range(buckets)
    ]
    out.append({"from": edges[-1], "to": None, "count": counts[-1]})
    return out


def distribution(values: Iterable[int]) -> dict[str, Any]:
    """avg (2 decimals; null for none) and {value: how many}, in the order of the values."""
    counted = Counter(values)
    n = sum(counted.values())
    avg = round(sum(v * c for v, c in counted.items()) / n, 2) if n else None
    return {"avg": avg, "distribution": {str(v): counted[v] for v in sorted(counted)}}


# ------------------------------------------------------------------------------ the figures


@dataclass(frozen=True)
class CaseTimes:
    working_s: int
    calendar_s: int
    on_time: bool


def case_times(row: Any, cal: HallCalendar) -> CaseTimes:
    """A completed case's elapsed times by its stopped clock (see the module docstring)."""
    clock = ClockState.from_json(row["clock"])
    stopped = clock.stopped_at or row["completed_at"]
    worked = cal.working_time_between(clock.started_at, stopped) // _SECOND
    return CaseTimes(
        working_s=max(0, worked - sum(clock.paused_s.values())),
        calendar_s=int((row["completed_at"] - row["accepted_at"]).total_seconds()),
        on_time=clock.remaining_s >= 0,
    )


def _step_defs(d: wd.WorkflowDefinition, rows: Sequence[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for stage_no, stage in enumerate(d.stages, start=1):
        for s in stage.steps:
            out.append(
                {
                    "stage_no": stage_no,
                    "code": s.code,
                    "name": s.name,
                    "department": s.department,
                    "mode": s.mode,
                    "limit": s.limit.model_dump(),
                }
            )
    known = {s["code"] for s in out}
    for r in rows:  # a step of an older version only
        if r["code"] not in known:
            known.add(r["code"])
            out.append(
                {
                    "stage_no": r["stage_no"],
                    "code": r["code"],
                    "name": r["name"],
                    "department": r["department"],
                    "mode": r["mode"],
                    "limit": None,
                }
            )
    return out


def step_figures(
    d: wd.WorkflowDefinition, rows: Sequence[Any], cal: HallCalendar
) -> list[dict[str, Any]]:
    by_code: dict[str, list[Any]] = {}
    for r in rows:
        by_code.setdefault(r["code"], []).append(r)
    out = []
    for s in _step_defs(d, rows):
        mine = by_code.get(s["code"], [])
        settled = [r for r in mine if r["state"] in ("done", "consented") and r["ready_at"]]
        overruns = sum(
            1
            for r in settled
            if r["state"] == "consented" or (r["due_at"] is not None and r["done_at"] > r["due_at"])
        )
        worked = [cal.working_time_between(r["ready_at"], r["done_at"]) // _SECOND for r in settled]
        out.append(
            {
                **s,
                "done": sum(1 for r in mine if r["state"] == "done"),
                "consented": sum(1 for r in mine if r["state"] == "consented"),
                "overruns": overruns,
                "working_hours": summary(worked),
            }
        )
    return out


def figures(
    d: wd.WorkflowDefinition,
    cases: Sequence[Any],
    steps: Sequence[Any],
    cal: HallCalendar,
) -> dict[str, Any]:
    """The figures of `cases` (rows of q.CASES) and their `steps` (rows of q.STEPS) under the
    definition in force: pure, given the hall calendar."""
    done = [c for c in cases if c["state"] in _DONE]
    times = [case_times(c, cal) for c in done]
    day_s = working_day_seconds(cal)
    limit_s = d.limit.seconds(day_s)
    span_s = -(-limit_s // day_s) * 86400  # the limit in whole working days of 24 h
    on_time = sum(1 for t in times if t.on_time)
    return {
        "cases": {
            "accepted": len(cases),
            "completed": len(done),
            "delivered": sum(1 for c in cases if c["state"] == "delivered"),
            "open": sum(1 for c in cases if c["state"] in _OPEN),
            "withdrawn": sum(1 for c in cases if c["state"] == "withdrawn"),
            "refused": sum(1 for c in cases if c["state"] == "refused"),
        },
        "elapsed": {
            "working_hours": {
                **summary(t.working_s for t in times),
                "histogram": histogram((t.working_s for t in times), limit_s),
            },
            "calendar_hours": {
                **summary(t.calendar_s for t in times),
                "histogram": histogram((t.calendar_s for t in times), span_s),
            },
            "on_time": on_time,
            "on_time_share": round(on_time / len(times), 4) if times else None,
        },
        "steps": step_figures(d, steps, cal),
        "visits": {**distribution(c["visits"] for c in done), "baseline": d.baseline_visits},
        "materials_requested": distribution(c["materials"] for c in cases),
    }


def project_figures(
    projects: Sequence[Any], stages: Sequence[Any], cal: HallCalendar
) -> dict[str, Any]:
    """The projects block (rows of q.PROJECTS and q.PROJECT_STAGES): pure, given the calendar."""
    by_project: dict[int, list[Any]] = {}
    for c in stages:
        by_project.setdefault(c["project_id"], []).append(c)
    done = [p for p in projects if p["state"] == "completed"]
    day_s = working_day_seconds(cal)
    worked = [
        sum(case_times(c, cal).working_s for c in by_project.get(p["id"], []) if c["completed_at"])
        for p in done
    ]
    days = summary(worked)
    return {
        "opened": len(projects),
        "completed": len(done),
        "stages": distribution(len(by_project.get(p["id"], [])) for p in projects),
        "working_days": {
            k: (None if v is None else round(v * 3600 / day_s, 2)) for k, v in days.items()
        },
        "visits": distribution(sum(c["visits"] for c in by_project.get(p["id"], [])) for p in done),
        "materials_requested": distribution(p["materials"] for p in projects),
        "requested_twice": sum(1 for p in projects if p["materials"] != p["distinct_materials"]),
    }


async def workflow_figures(
    call: Call, hall_code: str, code: str, start: date | None, end: date | None
) -> dict[str, Any]:
    """GET /api/halls/{hall}/workflows/{code}/figures: `to` defaults to today by the hall clock,
    `from` to 30 service days up to `to`."""
    today = service_day(call.ctx.clock())
    end = end or today
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    if end < start or (end - start) > timedelta(days=MAX_RANGE_DAYS):
        raise Invalid("日期范围不合法", code="invalid_range", field="to")
    async with call.ctx.store.read() as conn:
        hall = await get_hall(conn, hall_code)
        call.check(hall.target())
        found = await workflows.in_force(conn, hall.id, code)
        row, d = found.row, found.definition
        cases = await conn.fetch(q.CASES, hall.id, code, start, end)
        steps = await conn.fetch(q.STEPS, hall.id, code, start, end)
        projects = stages = None
        if d.kind == "project":
            projects = await conn.fetch(q.PROJECTS, hall.id, code, start, end)
            stages = await conn.fetch(q.PROJECT_STAGES, hall.id, code, start, end)
        # once per request: every case and step of the range lies between these days
        cal = await calq.load_hall_calendar(
            conn, hall.id, start - timedelta(days=1), max(end, today) + timedelta(days=1)
        )
    day_s = working_day_seconds(cal)
    return {
        "hall": hall.code,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "workflow": {
            "code": row["code"],
            "name": row["name"],
            "kind": row["kind"],
            "version": row["version"],
            "limit": d.limit.model_dump(),
            "limit_hours": _hours(d.limit.seconds(day_s)),
            "baseline_visits": d.baseline_visits,
        },
        **figures(d, cases, steps, cal),
        "projects": (
            project_figures(projects, stages, cal)
            if projects is not None and stages is not None
            else None
        ),
    }


__all__ = [
    "figures",
    "histogram",
    "percentile",
    "project_figures",
    "summary",
    "workflow_figures",
]
