"""An alarm's life after it is raised (电子监察的处置): the one transition table, the commands that
walk it, and the timer job that raises an alarm when a 督办 goes unanswered.

    (new) ──raise──▶ issued ──supervise (督办)──▶ rectifying ──close──▶ closed
                       │                              │
                       ├── close ──▶ closed            ├── answer (the department, once)
                       ├── cancel ──▶ cancelled        ├── cancel ──▶ cancelled
                       └── decide_appeal:withdraw ─▶ withdrawn ◀── decide_appeal:withdraw
    issued / rectifying: acknowledge (once), annotate, appeal (once), decide_appeal:send_back,
    decide_appeal:escalate keep the state.

Every command locks the alarm, authorizes against its hall (or the city above it) and
department, asks the table, writes the row, one alarm_action line (the alarm's timeline) and
one alarm.changed event to the alarm's window and department, in the command's transaction
(audited under its name by the Store). Refusals: 409 alarm_state naming the states allowed, or
the rule's own code; 403 alarm_raised_by_city for the county rule.

The appeal: the department's leader appeals (text, appealed_at: pending); a supervisor
decides. withdraw -> withdrawn; send_back -> the appeal is refused, the alarm stays; escalate
-> referred to the alarm's city hall (alarm.detail escalated_to), whose supervisors decide it
then. A decision clears appealed_at (pending is `appealed_at is not null`); the appeal's text
stays on the row and the decision is in the timeline and in alarm.detail appeal_decision."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import asyncpg

from db.queries import alarm_life as q
from db.queries import calendar as cq
from server.domain.actor import Actor, system_actor
from server.domain.alarm_kinds import KIND_NAMES
from server.domain.alarm_ladder import LEVEL_NAMES, Level
from server.domain.alarms import Alarm, hall_rules, raise_alarm
from server.domain.errors import Conflict, Forbidden, Invalid, NotFound
from server.domain.events import EventRecord
from server.domain.hall import get_hall
from server.domain.permissions import Target
from server.domain.queueing import TZ
from server.domain.store import Tx
from server.wire import maybe_instant

if TYPE_CHECKING:
    from server.catalogue.spine import Call, TimerContext

NEW: Final = "new"  # before it is raised
STATES: Final = ("issued", "rectifying", "withdrawn", "cancelled", "closed")
OPEN: Final = ("issued", "rectifying")
FINAL: Final = frozenset({"withdrawn", "cancelled", "closed"})
STATE_NAMES: Final[Mapping[str, str]] = {
    "issued": "已发出",
    "rectifying": "督办中",
    "withdrawn": "已撤销",
    "cancelled": "已作废",
    "closed": "已办结",
}
DECISIONS: Final = ("withdraw", "send_back", "escalate")
DECISION_NAMES: Final = {"withdraw": "撤销告警", "send_back": "驳回申诉", "escalate": "报市级决定"}
ROLE_NAMES: Final = {"supervisor": "监察员", "leader": "带班领导", "system": "系统"}

OVERDUE_KIND: Final = "rectification_overdue"
OVERDUE_LEVEL: Final[Level] = "red"
BATCH: Final = 200


def _same(*states: str) -> dict[str, str]:
    return {s: s for s in states}


TRANSITIONS: Final[Mapping[str, Mapping[str, str]]] = {
    "alarm.raise": {NEW: "issued"},
    "alarm.acknowledge": _same(*OPEN),
    "alarm.annotate": _same(*OPEN),
    "alarm.supervise": {"issued": "rectifying"},
    "alarm.answer": {"rectifying": "rectifying"},
    "alarm.appeal": _same(*OPEN),
    "alarm.decide_appeal:withdraw": {"issued": "withdrawn", "rectifying": "withdrawn"},
    "alarm.decide_appeal:send_back": _same(*OPEN),
    "alarm.decide_appeal:escalate": _same(*OPEN),
    "alarm.close": {"issued": "closed", "rectifying": "closed"},
    "alarm.cancel": {"issued": "cancelled", "rectifying": "cancelled"},
}


def next_state(transition: str, state: str) -> str:
    """The state `transition` leads to from `state`; Conflict (409 alarm_state) naming the
    states it is allowed from when the table has no such edge."""
    edges = TRANSITIONS[transition]
    target = edges.get(state)
    if target is None:
        allowed = "、".join(STATE_NAMES[s] for s in edges if s != NEW)
        raise Conflict(
            f"告警当前为「{STATE_NAMES.get(state, state)}」，不能执行此操作（仅限：{allowed}）",
            code="alarm_state",
            field="state",
        )
    return target


def allowed_actions(state: str) -> list[str]:
    """The transitions the table allows from `state` (screens show these)."""
    return [name for name, edges in TRANSITIONS.items() if state in edges]


def required_text(value: str | None, field: str, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise Invalid(f"请填写{what}", code="reason_required", field=field)
    return text


# ------------------------------------------------------------------------------ the commands


@dataclass
class Change:
    """What a command writes on the locked alarm besides its state."""

    acknowledge: bool = False
    rectify_due_at: datetime | None = None
    answer: str | None = None
    answered_at: datetime | None = None
    appeal: str | None = None
    set_appealed_at: bool = False
    appealed_at: datetime | None = None
    closed_at: datetime | None = None
    detail: dict[str, Any] | None = None  # merged into alarm.detail


async def _lock(tx: Tx, alarm_id: int) -> asyncpg.Record:
    row = await tx.conn.fetchrow(q.ALARM_FOR_UPDATE, alarm_id)
    if row is None:
        raise NotFound("告警不存在", code="unknown_alarm", field="alarm_id")
    return row


def _target(row: asyncpg.Record) -> Target:
    return Target(
        hall_id=row["hall_id"],
        hall_parent_id=row["hall_parent_id"],
        department_id=row["department_id"],
    )


def _by(actor: Actor) -> str:
    return f"{ROLE_NAMES.get(actor.role, '')} {actor.name}".strip()


async def _write(
    tx: Tx,
    row: asyncpg.Record,
    actor: Actor,
    action: str,
    state: str,
    now: datetime,
    note: str,
    change: Change,
    action_detail: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The row, its timeline line and the alarm.changed event; returns the event's payload."""
    await tx.conn.execute(
        q.UPDATE_ALARM,
        row["id"],
        state,
        change.acknowledge,
        now,
        actor.id if actor.kind == "staff" else None,
        change.rectify_due_at,
        change.answer,
        change.answered_at,
        change.appeal,
        change.set_appealed_at,
        change.appealed_at,
        change.closed_at,
        dict(change.detail or {}),
    )
    await tx.conn.execute(
        q.INSERT_ACTION,
        row["id"],
        action,
        actor.kind,
        actor.id,
        actor.hall_id,
        now,
        note,
        {"from": row["state"], "to": state, **(action_detail or {})},
    )
    acknowledged = change.acknowledge or row["acknowledged_at"] is not None
    rectify_due_at = change.rectify_due_at or row["rectify_due_at"]
    pending = change.appealed_at is not None if change.set_appealed_at else row["appealed_at"]
    payload = {
        "alarm_id": row["id"],
        "action": action,
        "state": state,
        "department": row["department_code"],
        "window_no": row["window_no"],
        "by": _by(actor),
        "at": maybe_instant(now),
        "note": note,
        "acknowledged": acknowledged,
        "rectify_due_at": maybe_instant(rectify_due_at),
        "appeal_pending": bool(pending),
    }
    tx.emit("alarm.changed", payload, hall_id=row["hall_id"], window_id=row["window_id"])
    tx.detail.update(alarm_id=row["id"], state=state)
    return payload


async def _begin(call: Call, tx: Tx, alarm_id: int, transition: str) -> tuple[asyncpg.Record, str]:
    """Locks the alarm, authorizes the command on it and checks the table."""
    row = await _lock(tx, alarm_id)
    tx.detail.update(alarm_id=alarm_id, kind=row["kind"], level=row["level"])
    call.check(_target(row))
    return row, next_state(transition, row["state"])


def _reply(payload: dict[str, Any]) -> dict[str, Any]:
    return {**payload, "allowed": allowed_actions(payload["state"])}


async def acknowledge(call: Call, alarm_id: int) -> tuple[dict[str, Any], list[EventRecord]]:
    now = call.ctx.clock()
    async with call.command() as tx:
        row, state = await _begin(call, tx, alarm_id, "alarm.acknowledge")
        if row["acknowledged_at"] is not None:
            raise Conflict(
                f"该告警已于 {row['acknowledged_at'].astimezone(TZ):%m月%d日 %H:%M} 确认",
                code="already_acknowledged",
                field="alarm_id",
            )
        payload = await _write(
            tx, row, call.actor, call.name, state, now, "", Change(acknowledge=True)
        )
    return _reply(payload), call.records


async def annotate(call: Call, alarm_id: int, note: str) -> tuple[dict[str, Any], list]:
    note = required_text(note, "note", "批注内容")
    now = call.ctx.clock()
    async with call.command() as tx:
        row, state = await _begin(call, tx, alarm_id, "alarm.annotate")
        payload = await _write(tx, row, call.actor, call.name, state, now, note, Change())
    return _reply(payload), call.records


async def supervise(call: Call, alarm_id: int, note: str) -> tuple[dict[str, Any], list]:
    """督办: the department must answer online within the hall's answer_days working days."""
    note = required_text(note, "note", "督办要求")
    now = call.ctx.clock()
    async with call.command() as tx:
        row, state = await _begin(call, tx, alarm_id, "alarm.supervise")
        rules = await hall_rules(tx.conn, row["hall_id"])
        day = now.astimezone(TZ).date()
        cal = await cq.load_hall_calendar(
            tx.conn, row["hall_id"], day - timedelta(days=7), day + timedelta(days=120)
        )
        due = cal.add_working_time(now, rules.answer_days, "working_day")
        payload = await _write(
            tx,
            row,
            call.actor,
            call.name,
            state,
            now,
            note,
            Change(rectify_due_at=due),
            {"answer_days": rules.answer_days, "rule_version": rules.version},
        )
    return _reply(payload), call.records


async def answer(call: Call, alarm_id: int, text: str) -> tuple[dict[str, Any], list]:
    """The department's leader answers the 督办 online, once (late answers too: the overdue
    alarm stays raised)."""
    text = required_text(text, "answer", "答复内容")
    now = call.ctx.clock()
    async with call.command() as tx:
        row, state = await _begin(call, tx, alarm_id, "alarm.answer")
        if row["answered_at"] is not None:
            raise Conflict("该督办已答复", code="already_answered", field="alarm_id")
        late = row["rectify_due_at"] is not None and now > row["rectify_due_at"]
        payload = await _write(
            tx,
            row,
            call.actor,
            call.name,
            state,
            now,
            text,
            Change(answer=text, answered_at=now),
            {"late": late},
        )
    return _reply(payload), call.records


async def appeal(call: Call, alarm_id: int, reason: str) -> tuple[dict[str, Any], list]:
    """The department contests the alarm (申诉), once; it stays pending until decided."""
    reason = required_text(reason, "reason", "申诉理由")
    now = call.ctx.clock()
    async with call.command() as tx:
        row, state = await _begin(call, tx, alarm_id, "alarm.appeal")
        if row["appealed_at"] is not None:
            raise Conflict("申诉正在等待监察员决定", code="appeal_pending", field="alarm_id")
        if row["appeal"] is not None:
            raise Conflict("该告警的申诉已有决定，不能再次申诉", code="appeal_decided")
        payload = await _write(
            tx,
            row,
            call.actor,
            call.name,
            state,
            now,
            reason,
            Change(appeal=reason, set_appealed_at=True, appealed_at=now),
        )
    return _reply(payload), call.records


def _raised_by_city(actor: Actor, row: asyncpg.Record) -> None:
    """A county hall cannot withdraw (or cancel) what its city raised on it."""
    if (
        actor.role != "system"
        and actor.hall_id == row["hall_id"]
        and row["hall_parent_id"] is not None
        and row["raised_by_hall"] == row["hall_parent_id"]
    ):
        raise Forbidden("该告警由市级监察部门发出，县级不能撤销或作废", code="alarm_raised_by_city")


async def decide_appeal(
    call: Call, alarm_id: int, decision: str, note: str
) -> tuple[dict[str, Any], list]:
    note = required_text(note, "note", "决定理由")
    if decision not in DECISIONS:
        raise Invalid("决定应为 withdraw、send_back 或 escalate", code="invalid_field")
    now = call.ctx.clock()
    actor = call.actor
    async with call.command() as tx:
        row, state = await _begin(call, tx, alarm_id, f"alarm.decide_appeal:{decision}")
        tx.detail["decision"] = decision
        if row["appealed_at"] is None:
            raise Conflict("该告警没有待决定的申诉", code="no_appeal", field="alarm_id")
        escalated_to = (row["detail"] or {}).get("escalated_to")
        if escalated_to is not None and actor.hall_id != escalated_to:
            raise Forbidden("申诉已报市级监察部门决定", code="appeal_escalated")
        if decision == "withdraw":
            _raised_by_city(actor, row)
        change = Change(detail={"appeal_decision": decision})
        extra: dict[str, Any] = {"decision": decision}
        if decision == "escalate":
            if row["hall_parent_id"] in (None, actor.hall_id) or escalated_to is not None:
                raise Conflict("没有可报送的上级监察部门", code="cannot_escalate")
            # still pending: the city's supervisors decide it now
            change = Change(
                detail={"escalated_to": row["hall_parent_id"], "escalated_at": maybe_instant(now)}
            )
            extra["escalated_to"] = row["hall_parent_id"]
        else:
            change.set_appealed_at = True
            change.appealed_at = None
            if decision == "withdraw":
                change.closed_at = now
        payload = await _write(
            tx,
            row,
            actor,
            f"{call.name}:{decision}",  # the table's row: the timeline names the decision
            state,
            now,
            f"{DECISION_NAMES[decision]}：{note}",
            change,
            extra,
        )
    return _reply(payload), call.records


async def close(call: Call, alarm_id: int, note: str) -> tuple[dict[str, Any], list]:
    note = (note or "").strip()
    now = call.ctx.clock()
    async with call.command() as tx:
        row, state = await _begin(call, tx, alarm_id, "alarm.close")
        if row["appealed_at"] is not None:
            raise Conflict("申诉尚待决定，请先决定申诉", code="appeal_pending", field="alarm_id")
        payload = await _write(
            tx, row, call.actor, call.name, state, now, note, Change(closed_at=now)
        )
    return _reply(payload), call.records


async def cancel(call: Call, alarm_id: int, reason: str) -> tuple[dict[str, Any], list]:
    """Raised in error (误报): cancelled, with the reason. A pending appeal is moot."""
    reason = required_text(reason, "reason", "作废理由")
    now = call.ctx.clock()
    async with call.command() as tx:
        row, state = await _begin(call, tx, alarm_id, "alarm.cancel")
        _raised_by_city(call.actor, row)
        change = Change(closed_at=now)
        if row["appealed_at"] is not None:
            change.set_appealed_at = True
        payload = await _write(tx, row, call.actor, call.name, state, now, reason, change)
    return _reply(payload), call.records


@dataclass(frozen=True)
class ManualAlarm:
    level: Level
    note: str
    case_id: int | None = None
    window_no: int | None = None


async def raise_manual(
    call: Call, hall_code: str, m: ManualAlarm
) -> tuple[dict[str, Any], list[EventRecord]]:
    """A supervisor raises an alarm by hand (人工督办) on a case or a window of their hall, or,
    from a city, of a county hall under it (raised_by_hall: the supervisor's hall)."""
    note = required_text(m.note, "note", "告警说明")
    if m.case_id is None and m.window_no is None:
        raise Invalid("请指定办件或窗口", code="subject_required", field="case_id")
    now = call.ctx.clock()
    actor = call.actor
    next_state("alarm.raise", NEW)
    async with call.command() as tx:
        hall = await get_hall(tx.conn, hall_code)
        tx.detail.update(hall=hall.code, case_id=m.case_id, window_no=m.window_no)
        call.check(hall.target())
        stamp = f"{int(now.timestamp() * 1000)}"
        on: dict[str, Any]  # whose the alarm is
        if m.case_id is not None:
            c = await tx.conn.fetchrow(q.CASE_FOR_ALARM, m.case_id)
            if c is None or c["hall_id"] != hall.id:
                raise NotFound("办件不存在", code="unknown_case", field="case_id")
            what, subject = f"办件 {c['case_no']}（{c['item_name']}）", f"case:{c['id']}"
            on = {
                "department_id": c["department_id"],
                "window_id": c["window_id"],
                "staff_id": c["clerk_id"],
                "case_id": c["id"],
                "case_no": c["case_no"],
                "item_name": c["item_name"],
            }
        else:
            w = await tx.conn.fetchrow(q.WINDOW_FOR_ALARM, hall.id, m.window_no)
            if w is None:
                raise NotFound(f"{m.window_no} 号窗口不存在", code="unknown_window")
            what, subject = f"{w['window_no']} 号窗口", f"window:{w['id']}"
            on = {
                "department_id": w["department_id"],
                "window_id": w["id"],
                "staff_id": w["clerk_id"],
            }
        alarm = Alarm(
            kind="manual",
            level=m.level,
            subject=f"{subject}:manual:{stamp}",
            due_at=now,
            summary=f"{what}：{note}",
            detail={"note": note, "by": _by(actor)},
            **on,
        )
        rules = await hall_rules(tx.conn, hall.id)
        alarm_id = await raise_alarm(
            tx, hall.id, alarm, rules.version, now, raised_by_hall=actor.hall_id
        )
        if alarm_id is None:
            raise Conflict("同一告警刚刚发出", code="already_raised")
        await tx.conn.execute(
            q.INSERT_ACTION,
            alarm_id,
            call.name,
            actor.kind,
            actor.id,
            actor.hall_id,
            now,
            note,
            {"to": "issued", "raised_by_hall": actor.hall_id},
        )
        tx.detail.update(alarm_id=alarm_id, level=m.level)
    issued = call.records[0].payload if call.records else {}
    return {
        **issued,
        "alarm_id": alarm_id,
        "state": "issued",
        "raised_by_hall": actor.hall_id,
        "allowed": allowed_actions("issued"),
    }, call.records


# ------------------------------------------------------------------------------ the timer


async def raise_answer_overdue(ctx: TimerContext, hall: Any, now: datetime) -> list[EventRecord]:
    """Timer job alarm.answer_overdue: a 督办 not answered by its rectify_due_at raises a new
    red alarm (督办逾期未答复) on the same department and window, once (its subject
    'alarm:<id>' is its once-key: a retry, a second owner or a restart raises none again)."""
    async with ctx.store.read() as conn:
        if not await conn.fetchval(q.ANY_OVERDUE, hall["id"], now):
            return []  # the common tick: one index probe, no transaction
    async with ctx.store.command(system_actor(hall["id"]), "alarm.answer_overdue") as tx:
        rows = await tx.conn.fetch(q.OVERDUE, hall["id"], now, BATCH)
        if not rows:
            return []
        rules = await hall_rules(tx.conn, hall["id"])
        raised = []
        for r in rows:
            label = f"{LEVEL_NAMES[r['level']]}「{KIND_NAMES[r['kind']]}」"
            if r["case_no"] is not None:
                label = f"办件 {r['case_no']}（{r['item_name']}）的{label}"
            due = r["rectify_due_at"].astimezone(TZ)
            summary = f"{label}督办逾期未答复（答复期限 {due:%m月%d日 %H:%M}）"
            alarm_id = await raise_alarm(
                tx,
                hall["id"],
                Alarm(
                    kind=OVERDUE_KIND,
                    level=OVERDUE_LEVEL,
                    subject=f"alarm:{r['id']}",
                    due_at=r["rectify_due_at"],
                    summary=summary,
                    department_id=r["department_id"],
                    window_id=r["window_id"],
                    staff_id=r["staff_id"],
                    case_id=r["case_id"],
                    case_no=r["case_no"],
                    item_name=r["item_name"],
                    detail={
                        "alarm_id": r["id"],
                        "rectify_due_at": maybe_instant(r["rectify_due_at"]),
                    },
                ),
                rules.version,
                now,
            )
            if alarm_id is None:
                continue
            raised.append(alarm_id)
            await tx.conn.execute(
                q.INSERT_ACTION,
                r["id"],
                "alarm.answer_overdue",
                "system",
                None,
                hall["id"],
                now,
                "",
                {"overdue_alarm_id": alarm_id},
            )
        tx.detail["alarms"] = raised
    return tx.records
