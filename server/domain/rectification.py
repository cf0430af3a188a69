"""整改 (issue 11): a bad review (不满意, 非常不满意) opens a rectification task for the department
that served it, due in the hall's rectification days (default 5 working days) by the hall
calendar, in the rating's own transaction; its event reaches the department's screens.

The task's life, one transition table (as case_flow and alarm_life have theirs):

    open ──verify (核实)──▶ verified ──rectify (整改)──▶ rectified ──call back (回访)──▶ called_back
                                                                     (again, if not reached) ─┘
    called_back ──close──▶ closed
    open … called_back: appeal (申诉, the department's leader, once) keeps the state; while it
    waits for a supervisor the task's work and its overdue timer hold.
    decide_appeal:upheld ──▶ excluded (rating.excluded = true: out of the statistics)
    decide_appeal:rejected keeps the state; the time the appeal waited is given back (due_at
    moves on by it), so the hold costs the department nothing and gains it nothing.

Every command locks the task, authorizes against its hall (or the city above it) and
department, asks the table, writes the row, one rectification_action line (the timeline; the
decision on an appeal is logged there) and one rectification.changed event to the department,
with no citizen identity. Refusals: 409 rectification_state naming the states allowed,
appeal_pending, appeal_decided, no_appeal.

The overdue timer (rectification.fire_overdue) raises one yellow alarm `rectification_late` on
subject `rectification:<id>` at the task's due instant when it is not closed, not excluded and
no appeal waits; once (the alarm's once-key and overdue_alarmed)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Final

import asyncpg

from db.pool import Conn
from db.queries import hall as hq
from db.queries import ratings as rq
from db.queries import rectification as q
from server.domain import cases
from server.domain.actor import Actor, system_actor
from server.domain.alarms import Alarm, hall_rules, raise_alarm
from server.domain.errors import Conflict, Invalid, NotFound
from server.domain.events import EventRecord
from server.domain.hall import HallRef, department_id, get_hall
from server.domain.permissions import Target
from server.domain.queueing import TZ
from server.domain.store import Tx
from server.wire import maybe_instant

if TYPE_CHECKING:
    from server.catalogue.spine import Call, TimerContext
    from server.domain.ratings import Subject

OPENED = "rectification.opened"
RECTIFICATION_CHANGED = "rectification.changed"

STATES: Final = ("open", "verified", "rectified", "called_back", "closed", "excluded")
ACTIVE: Final = ("open", "verified", "rectified", "called_back")
STATE_NAMES: Final[Mapping[str, str]] = {
    "open": "待核实",
    "verified": "已核实",
    "rectified": "已整改",
    "called_back": "已回访",
    "closed": "已办结",
    "excluded": "申诉成立（不计入）",
}
ACTION_NAMES: Final[Mapping[str, str]] = {
    "rectification.open": "差评生成整改",
    "rectification.verify": "核实",
    "rectification.rectify": "整改",
    "rectification.call_back": "回访",
    "rectification.close": "办结",
    "rectification.appeal": "申诉",
    "rectification.decide_appeal:upheld": "申诉成立",
    "rectification.decide_appeal:rejected": "申诉驳回",
    "rectification.fire_overdue": "整改逾期告警",
}
DECISIONS: Final = ("upheld", "rejected")
LATE_KIND: Final = "rectification_late"
LATE_LEVEL: Final = "yellow"
MAX_DAYS: Final = 30
BATCH: Final = 200
LIST_LIMIT: Final = 500


def _same(*states: str) -> dict[str, str]:
    return {s: s for s in states}


TRANSITIONS: Final[Mapping[str, Mapping[str, str]]] = {
    "rectification.verify": {"open": "verified"},
    "rectification.rectify": {"verified": "rectified"},
    # a call-back that did not reach the citizen may be tried again
    "rectification.call_back": {"rectified": "called_back", "called_back": "called_back"},
    "rectification.close": {"called_back": "closed"},
    "rectification.appeal": _same(*ACTIVE),
    "rectification.decide_appeal:upheld": {s: "excluded" for s in ACTIVE},
    "rectification.decide_appeal:rejected": _same(*ACTIVE),
}


def next_state(transition: str, state: str) -> str:
    """The state `transition` leads to from `state`; 409 rectification_state naming the states
    it is allowed from otherwise."""
    edges = TRANSITIONS[transition]
    target = edges.get(state)
    if target is None:
        allowed = "、".join(STATE_NAMES[s] for s in edges)
        raise Conflict(
            f"整改任务当前为「{STATE_NAMES.get(state, state)}」，不能执行此操作（仅限：{allowed}）",
            code="rectification_state",
            field="state",
        )
    return target


def allowed_actions(
    state: str, appeal_pending: bool, appeal_decided: bool, reached: bool = False
) -> list[str]:
    """What the screens offer on a task: the table's edges, less what a pending or decided
    appeal rules out, and a second call-back once the citizen was reached."""
    out = []
    for name, edges in TRANSITIONS.items():
        if state not in edges:
            continue
        if name == "rectification.call_back" and state == "called_back" and reached:
            continue
        if name.startswith("rectification.decide_appeal"):
            if appeal_pending:
                out.append(name)
        elif name == "rectification.appeal":
            if not appeal_pending and not appeal_decided:
                out.append(name)
        elif not appeal_pending:
            out.append(name)
    return out


def _text(value: str | None, field: str, what: str, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise Invalid(f"请填写{what}", code="reason_required", field=field)
    return text


def _target(row: asyncpg.Record) -> Target:
    return Target(
        hall_id=row["hall_id"],
        hall_parent_id=row["hall_parent_id"],
        department_id=row["department_id"],
        window_id=row["window_id"],
    )


def _pending(row: asyncpg.Record) -> bool:
    return row["appealed_at"] is not None and row["appeal_decision"] is None


def _allowed(row: asyncpg.Record) -> list[str]:
    return allowed_actions(
        row["state"],
        _pending(row),
        row["appeal_decision"] is not None,
        bool(row["callback_reached"]),
    )


# ------------------------------------------------------------------------------ opening


async def open_task(tx: Tx, rating_id: int, subject: Subject, now: datetime) -> int:
    days = await tx.conn.fetchval(q.RECTIFICATION_DAYS, subject.hall_id)
    cal = await cases.load_calendar(tx.conn, subject.hall_id, now)
    due = cal.add_working_time(now, int(days), "working_day")
    task_id = int(
        await tx.conn.fetchval(
            q.INSERT_RECTIFICATION,
            subject.hall_id,
            rating_id,
            subject.department_id,
            subject.window_id,
            now,
            due,
        )
    )
    await tx.conn.execute(
        q.INSERT_ACTION,
        task_id,
        "rectification.open",
        "system",
        None,
        subject.hall_id,
        now,
        "",
        {"to": "open", "due_at": maybe_instant(due), "days": int(days)},
    )
    tx.emit(
        OPENED,
        {
            "rectification_id": task_id,
            "rating_id": rating_id,
            "department": subject.department,
            "window_no": subject.window_no,
            "state": "open",
            "due_at": due.astimezone(TZ).isoformat(),
        },
        hall_id=subject.hall_id,
    )
    return task_id


# ------------------------------------------------------------------------------ the commands


async def _begin(call: Call, tx: Tx, task_id: int, transition: str) -> tuple[asyncpg.Record, str]:
    row = await tx.conn.fetchrow(q.TASK_FOR_UPDATE, task_id)
    if row is None:
        raise NotFound("整改任务不存在", code="unknown_rectification", field="rectification_id")
    tx.detail.update(rectification_id=task_id, rating_id=row["rating_id"])
    call.check(_target(row))
    return row, next_state(transition, row["state"])


def _no_pending_appeal(row: asyncpg.Record) -> None:
    if _pending(row):
        raise Conflict(
            "申诉正在等待监察员决定，整改暂停", code="appeal_pending", field="rectification_id"
        )


async def _log(
    tx: Tx,
    row: asyncpg.Record,
    actor: Actor,
    action: str,
    state: str,
    now: datetime,
    note: str,
    extra: Mapping[str, Any] | None = None,
) -> None:
    await tx.conn.execute(
        q.INSERT_ACTION,
        row["id"],
        action,
        actor.kind,
        actor.id,
        actor.hall_id,
        now,
        note,
        {"from": row["state"], "to": state, **(extra or {})},
    )


async def _changed(tx: Tx, task_id: int, action: str, actor: Actor, now: datetime) -> dict:
    """The task as it stands now, sent to its department (no citizen identity, no comment)."""
    row = await tx.conn.fetchrow(q.TASK, task_id)
    assert row is not None  # locked by the command
    payload = {
        "rectification_id": row["id"],
        "rating_id": row["rating_id"],
        "action": action,
        "state": row["state"],
        "state_name": STATE_NAMES[row["state"]],
        "department": row["department_code"],
        "window_no": row["window_no"],
        "due_at": maybe_instant(row["due_at"]),
        "appeal_pending": _pending(row),
        "appeal_decision": row["appeal_decision"],
        "by": actor.name if actor.kind == "staff" else "",
        "at": maybe_instant(now),
    }
    tx.emit(RECTIFICATION_CHANGED, payload, hall_id=row["hall_id"])
    tx.detail["state"] = row["state"]
    return {
        **payload,
        "allowed": _allowed(row),
    }


async def verify(call: Call, task_id: int, note: str) -> tuple[dict[str, Any], list]:
    """核实: the department has looked into the review (what happened)."""
    note = _text(note, "note", "核实情况")
    now = call.ctx.clock()
    async with call.command() as tx:
        row, state = await _begin(call, tx, task_id, "rectification.verify")
        _no_pending_appeal(row)
        await tx.conn.execute(q.VERIFY, task_id, state, now, note)
        await _log(tx, row, call.actor, call.name, state, now, note)
        out = await _changed(tx, task_id, call.name, call.actor, now)
    return out, call.records


async def rectify(call: Call, task_id: int, note: str) -> tuple[dict[str, Any], list]:
    """整改: what the department did about it."""
    note = _text(note, "note", "整改措施")
    now = call.ctx.clock()
    async with call.command() as tx:
        row, state = await _begin(call, tx, task_id, "rectification.rectify")
        _no_pending_appeal(row)
        await tx.conn.execute(q.RECTIFY, task_id, state, now, note)
        await _log(tx, row, call.actor, call.name, state, now, note)
        out = await _changed(tx, task_id, call.name, call.actor, now)
    return out, call.records


@dataclass(frozen=True)
class CallBack:
    reached: bool
    note: str = ""
    followup_level: int | None = None  # the citizen's rating of the rectification, 1–5


async def call_back(call: Call, task_id: int, cb: CallBack) -> tuple[dict[str, Any], list]:
    """回访: the department called the citizen back (reached or not); when reached, the citizen
    may rate the rectification."""
    note = _text(cb.note, "note", "回访情况", required=not cb.reached)
    if cb.followup_level is not None and not cb.reached:
        raise Invalid(
            "未联系上评价人，不能记录其对整改的评价", code="invalid_field", field="followup_level"
        )
    now = call.ctx.clock()
    async with call.command() as tx:
        row, state = await _begin(call, tx, task_id, "rectification.call_back")
        _no_pending_appeal(row)
        if row["state"] == "called_back" and row["callback_reached"]:
            raise Conflict("已回访并联系上评价人", code="rectification_state", field="state")
        await tx.conn.execute(q.CALL_BACK, task_id, state, now, cb.reached, note, cb.followup_level)
        await _log(
            tx,
            row,
            call.actor,
            call.name,
            state,
            now,
            note,
            {"reached": cb.reached, "followup_level": cb.followup_level},
        )
        out = await _changed(tx, task_id, call.name, call.actor, now)
    return out, call.records


async def close(call: Call, task_id: int, note: str) -> tuple[dict[str, Any], list]:
    note = _text(note, "note", "", required=False)
    now = call.ctx.clock()
    async with call.command() as tx:
        row, state = await _begin(call, tx, task_id, "rectification.close")
        _no_pending_appeal(row)
        late = now > row["due_at"]
        await tx.conn.execute(q.CLOSE, task_id, state, now)
        await _log(tx, row, call.actor, call.name, state, now, note, {"late": late})
        out = await _changed(tx, task_id, call.name, call.actor, now)
    return out, call.records


async def appeal(call: Call, task_id: int, reason: str) -> tuple[dict[str, Any], list]:
    """申诉: the department's leader says the review is malicious or mistaken; once. The task
    and its overdue timer hold until a supervisor decides."""
    reason = _text(reason, "reason", "申诉理由")
    now = call.ctx.clock()
    async with call.command() as tx:
        row, state = await _begin(call, tx, task_id, "rectification.appeal")
        _no_pending_appeal(row)
        if row["appeal_decision"] is not None:
            raise Conflict("该差评的申诉已有决定，不能再次申诉", code="appeal_decided")
        await tx.conn.execute(q.APPEAL, task_id, reason, now)
        await _log(tx, row, call.actor, call.name, state, now, reason)
        out = await _changed(tx, task_id, call.name, call.actor, now)
    return out, call.records


async def decide_appeal(
    call: Call, task_id: int, decision: str, note: str
) -> tuple[dict[str, Any], list]:
    """A supervisor decides: upheld, the task is excluded and the review out of the statistics;
    rejected, the task goes on where it was, its due instant moved on by the time it was held."""
    note = _text(note, "note", "决定理由")
    if decision not in DECISIONS:
        raise Invalid("决定应为 upheld 或 rejected", code="invalid_field", field="decision")
    now = call.ctx.clock()
    actor = call.actor
    async with call.command() as tx:
        row, state = await _begin(call, tx, task_id, f"rectification.decide_appeal:{decision}")
        tx.detail["decision"] = decision
        if not _pending(row):
            raise Conflict("该整改任务没有待决定的申诉", code="no_appeal", field="rectification_id")
        due = row["due_at"]
        if decision == "rejected":
            due = due + (now - row["appealed_at"])
        else:
            await tx.conn.execute(q.EXCLUDE_RATING, row["rating_id"])
        await tx.conn.execute(
            q.DECIDE,
            task_id,
            state,
            decision,
            actor.id if actor.kind == "staff" else None,
            now,
            note,
            due,
        )
        name = f"{call.name}:{decision}"
        await _log(
            tx,
            row,
            actor,
            name,
            state,
            now,
            f"{ACTION_NAMES[name]}：{note}",
            {
                "decision": decision,
                "due_at": maybe_instant(due),
                "rating_excluded": decision == "upheld",
            },
        )
        out = await _changed(tx, task_id, name, actor, now)
    return out, call.records


async def set_days(call: Call, hall_code: str, days: int) -> dict[str, Any]:
    """The hall's rectification days (working days a department has after a bad review); the
    tasks already open keep their due instant."""
    if not 1 <= days <= MAX_DAYS:
        raise Invalid(f"整改期限应为 1 至 {MAX_DAYS} 个工作日", code="invalid_field", field="days")
    async with call.command() as tx:
        hall = await get_hall(tx.conn, hall_code)
        call.check(hall.target())
        before = await tx.conn.fetchval(q.RECTIFICATION_DAYS, hall.id)
        await tx.conn.execute(q.SET_RECTIFICATION_DAYS, hall.id, days)
        tx.detail.update(hall=hall.code, days=days, before=before)
    return {"hall": hall.code, "rectification_days": days}


# ------------------------------------------------------------------------------ the reads


def _rating_view(row: asyncpg.Record, with_comment: bool) -> dict[str, Any]:
    from server.domain.ratings import LEVELS, REASONS

    out = {
        "rating_id": row["rating_id"] if "rating_id" in row else row["id"],
        "level": row["level"],
        "level_name": LEVELS[row["level"]],
        "reasons": list(row["reasons"]),
        "reason_names": [REASONS[r] for r in row["reasons"]],
        "channel": row["channel"],
        "real_name": row["real_name"],
        "rated_at": maybe_instant(row["rated_at"]),
        "excluded": row["excluded"],
    }
    if with_comment:
        out["comment"] = row["comment"]
    return out


def task_view(row: asyncpg.Record, now: datetime) -> dict[str, Any]:
    pending = _pending(row)
    active = row["state"] in ACTIVE
    return {
        "rectification_id": row["id"],
        "hall": row["hall_code"],
        "state": row["state"],
        "state_name": STATE_NAMES[row["state"]],
        "department": row["department_code"],
        "department_name": row["department_name"],
        "window_no": row["window_no"],
        "case_no": row["case_no"],
        "item_name": row["item_name"],
        "opened_at": maybe_instant(row["opened_at"]),
        "due_at": maybe_instant(row["due_at"]),
        # a held task (appeal pending) is not overdue while it waits
        "overdue": active and not pending and now >= row["due_at"],
        "overdue_alarmed": row["overdue_alarmed"],
        "verified_at": maybe_instant(row["verified_at"]),
        "verify_note": row["verify_note"],
        "rectified_at": maybe_instant(row["rectified_at"]),
        "rectify_note": row["rectify_note"],
        "callback_at": maybe_instant(row["callback_at"]),
        "callback_reached": row["callback_reached"],
        "callback_note": row["callback_note"],
        "followup_level": row["followup_level"],
        "closed_at": maybe_instant(row["closed_at"]),
        "appeal": {
            "reason": row["appeal_reason"],
            "appealed_at": maybe_instant(row["appealed_at"]),
            "pending": pending,
            "decision": row["appeal_decision"],
            "decided_at": maybe_instant(row["decided_at"]),
            "note": row["decision_note"],
        },
        "rating": _rating_view(row, with_comment=True),
        "allowed": _allowed(row),
    }


async def _callback_rate(conn: Conn, hall_id: int, dept: int | None) -> dict[str, Any]:
    r = await conn.fetchrow(q.CALLBACK_RATE, hall_id, dept)
    assert r is not None  # an aggregate has its row
    total, reached = int(r["real_name"]), int(r["reached"])
    return {
        "real_name": total,
        "reached": reached,
        "rate": round(reached / total, 4) if total else None,
    }


async def get_task(call: Call, task_id: int) -> dict[str, Any]:
    """One task with its review (level, reasons, comment: never the citizen's identity), its
    timeline and its department's call-back rate."""
    now = call.ctx.clock()
    async with call.ctx.store.read() as conn:
        row = await conn.fetchrow(q.TASK, task_id)
        if row is None:
            raise NotFound("整改任务不存在", code="unknown_rectification", field="rectification_id")
        call.check(_target(row))
        actions = await conn.fetch(q.ACTIONS, task_id)
        rate = await _callback_rate(conn, row["hall_id"], row["department_id"])
    return {
        **task_view(row, now),
        "timeline": [
            {
                "action": a["action"],
                "action_name": ACTION_NAMES.get(a["action"], a["action"]),
                "by": a["actor_name"] or ("系统" if a["actor_kind"] == "system" else ""),
                "at": maybe_instant(a["at"]),
                "note": a["note"],
                "detail": dict(a["detail"] or {}),
            }
            for a in actions
        ],
        "callback_rate": rate,
    }


async def list_tasks(
    call: Call, hall_code: str, state: str | None, department: str | None
) -> dict[str, Any]:
    """A hall's tasks: a leader's own department's, supervision's and the admin's any (or one
    department's). state: one of STATES, 'active' or 'appealed' (appeals waiting)."""
    now = call.ctx.clock()
    actor = call.actor
    async with call.ctx.store.read() as conn:
        hall = await get_hall(conn, hall_code)
        dept: int | None = None
        if department is not None:
            dept = await department_id(conn, hall, department)
        elif actor.role == "leader":
            dept = actor.department_id
        call.check(hall.target(department_id=dept))
        rows = await conn.fetch(q.LIST, hall.id, dept, state, LIST_LIMIT)
        rate = await _callback_rate(conn, hall.id, dept)
        code = await conn.fetchval(hq.DEPARTMENT_CODE, dept) if dept is not None else None
    return {
        "hall": hall.code,
        "department": code,
        "state": state,
        "tasks": [task_view(r, now) for r in rows],
        "callback_rate": rate,
    }


async def list_ratings(
    call: Call,
    hall_code: str,
    since: date | None,
    until: date | None,
    window_no: int | None,
    department: str | None,
    bad: bool | None,
) -> dict[str, Any]:
    """The hall's ratings over [from, to] (days, the hall's time; default the last 30 days):
    supervision and the admin any; a leader their department's; a clerk their own window's,
    without the comments (a comment can identify the citizen or their matter to the clerk who
    served them; the level and the reasons are what the clerk learns from)."""
    now = call.ctx.clock()
    actor = call.actor
    today = now.astimezone(TZ).date()
    until = until or today
    since = since or until - timedelta(days=29)
    if since > until:
        raise Invalid("起始日期晚于结束日期", code="invalid_field", field="from")
    async with call.ctx.store.read() as conn:
        hall: HallRef = await get_hall(conn, hall_code)
        dept: int | None = None
        if department is not None:
            dept = await department_id(conn, hall, department)
        elif actor.role == "leader":
            dept = actor.department_id
        win: int | None = None
        if window_no is not None:
            w = await conn.fetchrow(rq.WINDOW, hall.code, window_no)
            if w is None:
                raise NotFound(f"窗口 {window_no} 不存在", code="unknown_window", field="window")
            win = int(w["id"])
            if dept is None and actor.role == "leader":
                dept = actor.department_id
            if actor.role == "leader" and w["department_id"] != actor.department_id:
                dept = int(w["department_id"])  # the check below refuses it
        elif actor.role == "clerk":
            win = actor.window_id
        call.check(hall.target(department_id=dept, window_id=win))
        start = datetime.combine(since, time(0), TZ)
        end = datetime.combine(until + timedelta(days=1), time(0), TZ)
        rows = await conn.fetch(rq.RATINGS, hall.id, start, end, win, dept, bad, 2000)
    with_comment = actor.role != "clerk"
    return {
        "hall": hall.code,
        "from": since.isoformat(),
        "to": until.isoformat(),
        "comments": with_comment,
        "ratings": [
            {
                **_rating_view(r, with_comment),
                "subject": r["subject_kind"],
                "window_no": r["window_no"],
                "department": r["department"],
                "clerk_name": r["clerk_name"],
                "bad": r["level"] <= 2,
                "rectification_id": r["rectification_id"],
                "rectification_state": r["rectification_state"],
            }
            for r in rows
        ],
    }


# ------------------------------------------------------------------------------ the timer


async def fire_overdue(ctx: TimerContext, hall: Any, now: datetime) -> list[EventRecord]:
    """Timer job rectification.fire_overdue: a task not closed by its due instant (not
    excluded, no appeal waiting) raises one yellow alarm 整改逾期 on its department and window,
    once (subject 'rectification:<id>' and overdue_alarmed)."""
    async with ctx.store.read() as conn:
        if not await conn.fetchval(q.ANY_OVERDUE, hall["id"], now):
            return []  # the common tick: one probe on rectification_open, no transaction
    async with ctx.store.command(system_actor(hall["id"]), "rectification.fire_overdue") as tx:
        rows = await tx.conn.fetch(q.OVERDUE, hall["id"], now, BATCH)
        if not rows:
            return []
        rules = await hall_rules(tx.conn, hall["id"])
        raised = []
        for r in rows:
            due = r["due_at"].astimezone(TZ)
            what = f"{r['department_name']}的差评整改"
            if r["window_no"] is not None:
                what = f"{r['window_no']} 号窗口{what}"
            if r["case_no"] is not None:
                what += f"（办件 {r['case_no']}）"
            alarm_id = await raise_alarm(
                tx,
                hall["id"],
                Alarm(
                    kind=LATE_KIND,
                    level=LATE_LEVEL,
                    subject=f"rectification:{r['id']}",
                    due_at=r["due_at"],
                    summary=f"{what}逾期未办结（整改期限 {due:%m月%d日 %H:%M}）",
                    department_id=r["department_id"],
                    window_id=r["window_id"],
                    detail={"rectification_id": r["id"], "due_at": maybe_instant(r["due_at"])},
                ),
                rules.version,
                now,
            )
            await tx.conn.execute(q.MARK_ALARMED, r["id"])
            if alarm_id is None:
                continue
            raised.append(alarm_id)
            await tx.conn.execute(
                q.INSERT_ACTION,
                r["id"],
                "rectification.fire_overdue",
                "system",
                None,
                hall["id"],
                now,
                "",
                {"alarm_id": alarm_id, "to": r["state"]},
            )
        tx.detail["alarms"] = raised
    return tx.records
