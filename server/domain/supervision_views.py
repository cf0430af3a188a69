"""The supervision wall's reads (电子监察大屏): alarms (a clerk sees their window's, a leader
their department's, supervision every one), one alarm with its timeline, the hall live (open
alarms, overdue and near-due cases, the longest waits, windows, waiting sign-offs, today's
rates; a city's county halls in totals) and the month's scoring per department and window.

The scoring (shown on the page with its figures):
    score = clamp(100 - 1 x 预警 - 3 x 黄牌 - 10 x 红牌 - 5 x 逾期未答复 + bonus, 0, 100)
    bonus = round(5 x the department's early-completion share of the month)
Alarms withdrawn or cancelled (an appeal upheld, raised in error) count nothing; the
rectification_overdue alarms are the overdue answers themselves, counted once as such (an
answer is overdue when it came after its 督办 date, or has not come and the date has passed).
A warning costs little (it comes before the deadline: the department can still act), a red card
much (the deadline and the 督办 period both passed)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import asyncpg

from db.queries import case_metrics as mq
from db.queries import hall as hq
from db.queries import queueing as qq
from db.queries import supervision_views as q
from server.domain import case_clock as clock
from server.domain import case_flow as flow
from server.domain.alarm_kinds import KIND_NAMES
from server.domain.alarm_ladder import LEVEL_NAMES, LEVELS, working_day_seconds
from server.domain.alarms import hall_rules
from server.domain.case_metrics import shape as metrics_shape
from server.domain.cases import load_calendar
from server.domain.errors import Invalid, NotFound
from server.domain.hall import HallRef, department_id, get_hall
from server.domain.permissions import Target
from server.domain.queueing import TZ, service_day
from server.wire import instant, maybe_instant

if TYPE_CHECKING:
    from server.catalogue.spine import Call

WALL_ALARMS: Final = 300  # open alarms the wall lists (the counts are of all)
WALL_CASES: Final = 50
WALL_WAITS: Final = 10
WALL_SIGNOFFS: Final = 50
LIST_LIMIT: Final = 200

WEIGHTS: Final = {"warning": 1, "yellow": 3, "red": 10, "overdue_answer": 5}
BONUS_MAX: Final = 5
FORMULA: Final = (
    "得分 = 100 − 1×预警 − 3×黄牌 − 10×红牌 − 5×督办逾期未答复 + 5×提前办结率（取整），"
    "最低 0 分、最高 100 分；已撤销、已取消的告警不扣分"
)

STATE_NAMES: Final = {
    "pending": "待发出",
    "issued": "已发出",
    "rectifying": "督办中",
    "withdrawn": "已撤销",
    "cancelled": "已作废",
    "closed": "已关闭",
}
ACTION_NAMES: Final = {
    "alarm.acknowledge": "签收",
    "alarm.annotate": "批注",
    "alarm.supervise": "督办",
    "alarm.answer": "部门答复",
    "alarm.appeal": "部门申诉",
    "alarm.decide_appeal:withdraw": "申诉成立，撤销告警",
    "alarm.decide_appeal:send_back": "申诉不成立，退回",
    "alarm.decide_appeal:escalate": "申诉提请上级裁定",
    "alarm.close": "关闭",
    "alarm.cancel": "作废（误报）",
    "alarm.raise": "人工督办",
    "alarm.answer_overdue": "督办逾期未答复",
}


def _summary(row: asyncpg.Record) -> str:
    """The alarm's line as its trigger worded it, or one built from what it is about."""
    detail = row["detail"] or {}
    if detail.get("summary"):
        return str(detail["summary"])
    kind = KIND_NAMES.get(row["kind"], row["kind"])
    if row["case_no"]:
        return f"{kind}：办件 {row['case_no']}（{row['item_name']}）"
    if row["ticket_no"]:
        return f"{kind}：{row['ticket_no']} 号"
    if row["window_no"]:
        return f"{kind}：{row['window_no']} 号窗口"
    if detail.get("note"):
        return f"{kind}：{detail['note']}"
    return kind


def alarm_view(row: asyncpg.Record) -> dict[str, Any]:
    """An alarm as the contract's alarm dict (docs: issue 9's HTTP contract)."""
    return {
        "alarm_id": row["id"],
        "kind": row["kind"],
        "kind_name": KIND_NAMES.get(row["kind"], row["kind"]),
        "level": row["level"],
        "level_name": LEVEL_NAMES.get(row["level"], row["level"]),
        "subject": row["subject"],
        "summary": _summary(row),
        "state": row["state"],
        "state_name": STATE_NAMES.get(row["state"], row["state"]),
        "hall": row["hall_code"],
        "case_id": row["case_id"],
        "case_no": row["case_no"],
        "item_name": row["item_name"],
        "ticket_no": row["ticket_no"],
        "department": row["department_code"],
        "department_name": row["department_name"],
        "window_no": row["window_no"],
        "due_at": maybe_instant(row["due_at"]),
        "issued_at": maybe_instant(row["issued_at"]),
        "acknowledged": row["acknowledged_at"] is not None,
        "acknowledged_at": maybe_instant(row["acknowledged_at"]),
        "acknowledged_by": row["acknowledged_by_name"],
        "rectify_due_at": maybe_instant(row["rectify_due_at"]),
        "answer": row["answer"],
        "answered_at": maybe_instant(row["answered_at"]),
        "appeal": row["appeal"],
        "appealed_at": maybe_instant(row["appealed_at"]),
        "appeal_pending": bool(row["appeal_pending"]),
        "closed_at": maybe_instant(row["closed_at"]),
        "rule_version": row["rule_version"],
        "raised_by_hall": row["raised_by_hall"],
    }


def _alarm_target(row: asyncpg.Record) -> Target:
    return Target(
        hall_id=row["hall_id"],
        hall_parent_id=row["hall_parent_id"],
        department_id=row["department_id"],
        window_id=row["window_id"],
    )


# ------------------------------------------------------------------------------ alarms


async def list_alarms(
    call: Call,
    hall_code: str,
    state: str,
    department: str | None,
    window_no: int | None,
    kind: str | None,
    case_id: int | None,
    limit: int | None,
) -> dict[str, Any]:
    """The hall's alarms, newest first, filtered. A clerk sees their own window's only, a leader
    their department's only: asking for another's is refused, asking for none narrows to theirs."""
    actor = call.actor
    async with call.ctx.store.read() as conn:
        hall = await get_hall(conn, hall_code)
        dept_id = await department_id(conn, hall, department) if department else None
        window_id: int | None = None
        if window_no is not None:
            w = await conn.fetchrow(qq.WINDOW_ID, hall.id, window_no)
            if w is None:
                raise NotFound(f"窗口 {window_no} 不存在", code="unknown_window", field="window_no")
            window_id = w["id"]
            if dept_id is None and actor.role == "leader":
                dept_id = w["department_id"]
        if actor.role == "leader" and dept_id is None:
            dept_id = actor.department_id
        if actor.role == "clerk" and window_id is None:
            window_id = actor.window_id
        call.check(hall.target(department_id=dept_id, window_id=window_id))
        rows = await conn.fetch(
            q.ALARMS,
            hall.id,
            state == "open",
            dept_id,
            window_id,
            kind,
            case_id,
            limit or LIST_LIMIT,
        )
    return {"hall": hall.code, "state": state, "alarms": [alarm_view(r) for r in rows]}


async def get_alarm(call: Call, alarm_id: int) -> dict[str, Any]:
    """An alarm with its timeline: issued, then every action on it, in order."""
    async with call.ctx.store.read() as conn:
        row = await conn.fetchrow(q.ALARM_BY_ID, alarm_id)
        if row is None:
            raise NotFound("告警不存在", code="unknown_alarm", field="alarm_id")
        call.check(_alarm_target(row))
        actions = await conn.fetch(q.ALARM_ACTIONS, alarm_id)
    timeline = [
        {
            "action": "alarm.issued",
            "label": f"发出{LEVEL_NAMES.get(row['level'], '')}",
            "at": maybe_instant(row["issued_at"]),
            "by": "电子监察系统" if row["kind"] != "manual" else "",
            "note": _summary(row),
        }
    ] + [
        {
            "action": x["action"],
            "label": ACTION_NAMES.get(x["action"], x["action"]),
            "at": maybe_instant(x["at"]),
            "by": x["actor_name"] or ("电子监察系统" if x["actor_kind"] == "system" else ""),
            "by_hall": x["actor_hall"],
            "note": x["note"],
            "detail": x["detail"],
        }
        for x in actions
    ]
    return {**alarm_view(row), "detail": row["detail"], "timeline": timeline}


# ------------------------------------------------------------------------------ the wall


def _case_entry(r: asyncpg.Record, now: datetime, cal: Any) -> dict[str, Any]:
    view = clock.view(clock.ClockState.from_json(r["clock"]), now, cal).to_json()
    return {
        "case_id": r["id"],
        "case_no": r["case_no"],
        "item_name": r["item_name"],
        "kind": r["kind"],
        "state": r["state"],
        "state_name": flow.STATE_NAMES.get(r["state"], r["state"]),
        "department": r["department_code"],
        "department_name": r["department_name"],
        "window_no": r["window_no"],
        "clerk_name": r["clerk_name"],
        "accepted_at": maybe_instant(r["accepted_at"]),
        "deadline": maybe_instant(r["deadline"]),
        "next_alarm_at": maybe_instant(r["next_alarm_at"]),
        "next_alarm_level": r["next_alarm_level"],
        "remaining_s": view["remaining_s"],
        "overdue_s": view["overdue_s"],
        "unit": view["unit"],
    }


def _seconds(since: datetime | None, now: datetime) -> int | None:
    return max(0, int((now - since).total_seconds())) if since else None


def _window_entry(
    r: asyncpg.Record, now: datetime, pause_limit_s: int, unattended_limit_s: int
) -> dict[str, Any]:
    unattended = r["status"] == "open" and r["clerk_name"] is None
    paused_s = _seconds(r["paused_since"], now)
    unattended_s = _seconds(r["unattended_since"], now) if unattended else None
    if unattended:
        state = "unattended"
    elif r["status"] == "paused" and paused_s is not None and paused_s > pause_limit_s:
        state = "paused_too_long"
    else:
        state = r["status"]
    return {
        "window_no": r["window_no"],
        "name": r["display_name"],
        "status": r["status"],
        "state": state,  # open | paused | closed | unattended | paused_too_long
        "department": r["department_code"],
        "department_name": r["department_name"],
        "clerk_name": r["clerk_name"],
        "paused_since": maybe_instant(r["paused_since"]),
        "paused_s": paused_s,
        "unattended_since": maybe_instant(r["unattended_since"]) if unattended else None,
        "unattended_s": unattended_s,
        "unattended_too_long": bool(
            unattended and unattended_s is not None and unattended_s > unattended_limit_s
        ),
    }


def _level_counts() -> dict[str, int]:
    return {"warning": 0, "yellow": 0, "red": 0, "total": 0, "unacknowledged": 0}


async def wall(call: Call, hall_code: str) -> dict[str, Any]:
    """The hall live, as one snapshot the wall then keeps up from the events."""
    now = call.ctx.clock()
    today = service_day(now)
    async with call.ctx.store.read() as conn:
        hall = await get_hall(conn, hall_code)
        call.check(hall.target())
        rules = await hall_rules(conn, hall.id)
        cal = await load_calendar(conn, hall.id, now - timedelta(days=60))
        departments = await conn.fetch(hq.DEPARTMENTS, hall.id)

        alarms = [
            alarm_view(r)
            for r in await conn.fetch(q.ALARMS, hall.id, True, None, None, None, None, WALL_ALARMS)
        ]
        counts = _level_counts()
        by_dept: dict[str | None, dict[str, int]] = defaultdict(_level_counts)
        for r in await conn.fetch(q.OPEN_ALARM_COUNTS, hall.id):
            for into in (counts, by_dept[r["department"]]):
                into[r["level"]] += r["n"]
                into["total"] += r["n"]
                into["unacknowledged"] += r["unacknowledged"]

        overdue = [
            _case_entry(r, now, cal)
            for r in await conn.fetch(q.OVERDUE_CASES, hall.id, now, WALL_CASES)
        ]
        near_due = [
            _case_entry(r, now, cal)
            for r in await conn.fetch(q.NEAR_DUE_CASES, hall.id, now, WALL_CASES)
        ]
        case_counts = {
            r["department"]: dict(r) for r in await conn.fetch(q.CASE_COUNTS, hall.id, now)
        }

        wait_limit_s = rules.ticket_wait_minutes * 60
        waits = [
            {
                "ticket_id": r["id"],
                "ticket_no": r["ticket_no"],
                "queue": r["queue"],
                "queue_name": r["queue_name"],
                "department": r["department_code"],
                "queued_at": maybe_instant(r["queued_at"]),
                "waited_s": _seconds(r["queued_at"], now),
                "over_limit": (_seconds(r["queued_at"], now) or 0) > wait_limit_s,
            }
            for r in await conn.fetch(q.LONGEST_WAITS, hall.id, today, WALL_WAITS)
        ]
        waiting = await conn.fetchrow(
            q.WAITING_COUNTS, hall.id, today, now - timedelta(seconds=wait_limit_s)
        )

        windows = [
            _window_entry(r, now, rules.window_pause_minutes * 60, rules.unattended_minutes * 60)
            for r in await conn.fetch(q.WINDOWS, hall.id)
        ]

        signoff_limit = int(await conn.fetchval(q.SIGNOFF_WAIT_MINUTES, hall.id)) * 60
        signoffs = [
            {
                "signoff_id": r["id"],
                "case_id": r["case_id"],
                "case_no": r["case_no"],
                "item_name": r["item_name"],
                "purpose": r["purpose"],
                "department": r["department_code"],
                "department_name": r["department_name"],
                "window_no": r["window_no"],
                "requested_by": r["requested_by"],
                "requested_at": maybe_instant(r["requested_at"]),
                "waited_s": _seconds(r["requested_at"], now),
                "too_long": (_seconds(r["requested_at"], now) or 0) > signoff_limit,
            }
            for r in await conn.fetch(q.WAITING_SIGNOFFS, hall.id, WALL_SIGNOFFS)
        ]

        # today's rates: case_metrics' own query, for the hall and per department
        hall_rates = await conn.fetch(mq.metrics_sql("hall"), hall.id, today, today, None)
        dept_rates = {
            r["key"]: metrics_shape(r)
            for r in await conn.fetch(mq.metrics_sql("department"), hall.id, today, today, None)
        }

        counties = []
        if hall.level == "city":
            counties = [dict(r) for r in await conn.fetch(q.COUNTY_TOTALS, hall.id, now, today)]

    dept_windows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for w in windows:
        dept_windows[w["department"]].append(w)
    return {
        "hall": {"code": hall.code, "name": hall.name, "level": hall.level},
        "now": instant(now),
        "day": today.isoformat(),
        "rule_version": rules.version,
        "limits": {
            "ticket_wait_minutes": rules.ticket_wait_minutes,
            "window_pause_minutes": rules.window_pause_minutes,
            "unattended_minutes": rules.unattended_minutes,
            "signoff_wait_minutes": signoff_limit // 60,
        },
        "working_day_s": working_day_seconds(cal),
        "alarms": {"open": alarms, "counts": counts, "truncated": counts["total"] > len(alarms)},
        "cases": {
            "overdue": overdue,
            "near_due": near_due,
            "overdue_total": sum(c["overdue"] for c in case_counts.values()),
            "near_due_total": sum(c["near_due"] for c in case_counts.values()),
        },
        "waits": {
            "longest": waits,
            "waiting": waiting["waiting"] if waiting else 0,
            "over_limit": waiting["over_limit"] if waiting else 0,
        },
        "windows": windows,
        "signoffs": signoffs,
        "rates": metrics_shape(hall_rates[0]) if hall_rates else None,
        "departments": [
            {
                "code": d["code"],
                "name": d["name"],
                "alarms": by_dept.get(d["code"], _level_counts()),
                "overdue": case_counts.get(d["code"], {}).get("overdue", 0),
                "near_due": case_counts.get(d["code"], {}).get("near_due", 0),
                "windows_open": sum(1 for w in dept_windows[d["code"]] if w["status"] == "open"),
                "windows_unattended": sum(
                    1 for w in dept_windows[d["code"]] if w["state"] == "unattended"
                ),
                "rates": dept_rates.get(d["code"]),
            }
            for d in departments
        ],
        "counties": counties,
    }


# ------------------------------------------------------------------------------ the month


def parse_month(text: str | None, today: date) -> tuple[date, date]:
    """The month's first day and the next month's ('YYYY-MM'; none: this month)."""
    if text is None:
        first = today.replace(day=1)
    else:
        try:
            year, month = (int(p) for p in text.split("-"))
            first = date(year, month, 1)
        except ValueError:
            raise Invalid("月份格式应为 YYYY-MM", code="invalid_month", field="month") from None
    nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, nxt


def score(counts: dict[str, int], early_share: float | None) -> dict[str, Any]:
    """A department's month score (the formula in the module docstring), with its parts."""
    deductions = {k: WEIGHTS[k] * counts.get(k, 0) for k in WEIGHTS}
    bonus = round(BONUS_MAX * (early_share or 0))
    raw = 100 - sum(deductions.values()) + bonus
    return {
        "score": max(0, min(100, raw)),
        "deductions": deductions,
        "bonus": bonus,
    }


def _empty_row() -> dict[str, Any]:
    return {
        "alarms": 0,
        "by_level": {lv: 0 for lv in LEVELS},
        "by_kind": {},
        "outcomes": {"closed": 0, "withdrawn": 0, "cancelled": 0, "open": 0},
        "supervised": 0,
        "overdue_answers": 0,
        "acknowledged": 0,
        "answered": 0,
        "_ack_s": 0.0,
        "_answer_s": 0.0,
        "_scored": {lv: 0 for lv in LEVELS},
    }


def _add(into: dict[str, Any], r: asyncpg.Record) -> None:
    into["alarms"] += r["n"]
    into["by_level"][r["level"]] = into["by_level"].get(r["level"], 0) + r["n"]
    into["by_kind"][r["kind"]] = into["by_kind"].get(r["kind"], 0) + r["n"]
    for k in ("closed", "withdrawn", "cancelled", "open"):
        into["outcomes"][k] += r[k]
    into["supervised"] += r["supervised"]
    into["overdue_answers"] += r["overdue_answers"]
    into["acknowledged"] += r["acknowledged"]
    into["answered"] += r["answered"]
    into["_ack_s"] += r["ack_s"]
    into["_answer_s"] += r["answer_s"]
    if r["kind"] != "rectification_overdue":
        into["_scored"][r["level"]] += r["n"] - r["withdrawn"] - r["cancelled"]


def _finish(row: dict[str, Any]) -> dict[str, Any]:
    ack_s, answer_s = row.pop("_ack_s"), row.pop("_answer_s")
    row.pop("_scored", None)
    row["avg_ack_s"] = round(ack_s / row["acknowledged"]) if row["acknowledged"] else None
    row["avg_answer_s"] = round(answer_s / row["answered"]) if row["answered"] else None
    return row


async def month(call: Call, hall_code: str, month_text: str | None) -> dict[str, Any]:
    now = call.ctx.clock()
    first, nxt = parse_month(month_text, service_day(now))
    start = datetime.combine(first, datetime.min.time(), TZ)
    end = datetime.combine(nxt, datetime.min.time(), TZ)
    async with call.ctx.store.read() as conn:
        hall = await get_hall(conn, hall_code)
        call.check(hall.target())
        departments = await conn.fetch(hq.DEPARTMENTS, hall.id)
        windows = await conn.fetch(q.WINDOW_NAMES, hall.id)
        rows = await conn.fetch(q.MONTH_ALARMS, hall.id, start, end, now)
        rates = {
            r["key"]: metrics_shape(r)
            for r in await conn.fetch(
                mq.metrics_sql("department"), hall.id, first, nxt - timedelta(days=1), None
            )
        }
    return _month_view(hall, first, departments, windows, rows, rates)


def _month_view(
    hall: HallRef,
    first: date,
    departments: list[asyncpg.Record],
    windows: list[asyncpg.Record],
    rows: list[asyncpg.Record],
    rates: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    per_dept: dict[str | None, dict[str, Any]] = defaultdict(_empty_row)
    per_window: dict[int, dict[str, Any]] = defaultdict(_empty_row)
    for r in rows:
        _add(per_dept[r["department"]], r)
        if r["window_no"] is not None:
            _add(per_window[r["window_no"]], r)
    out_depts = []
    for d in departments:
        row = per_dept.get(d["code"]) or _empty_row()
        scored = row["_scored"]
        rate = rates.get(d["code"])
        parts = score(
            {**scored, "overdue_answer": row["overdue_answers"]},
            rate["early_share"] if rate else None,
        )
        out_depts.append(
            {
                "code": d["code"],
                "name": d["name"],
                **_finish(row),
                "counted": scored,
                "on_time_rate": rate["on_time_rate"] if rate else None,
                "early_share": rate["early_share"] if rate else None,
                "completed": rate["completed"] if rate else 0,
                **parts,
            }
        )
    out_windows = [
        {
            "window_no": w["window_no"],
            "name": w["display_name"],
            "department": w["department_code"],
            **_finish(per_window[w["window_no"]]),
        }
        for w in windows
        if w["window_no"] in per_window
    ]
    return {
        "hall": {"code": hall.code, "name": hall.name, "level": hall.level},
        "month": first.strftime("%Y-%m"),
        "formula": FORMULA,
        "weights": dict(WEIGHTS),
        "bonus_max": BONUS_MAX,
        "kind_names": dict(KIND_NAMES),
        "departments": sorted(out_depts, key=lambda d: (-d["score"], d["code"])),
        "windows": out_windows,
    }
