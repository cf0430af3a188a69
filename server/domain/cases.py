"""Cases (办件): acceptance at the window and every command after it.

Each command locks the case, asks the transition table (case_flow) whether it may happen,
moves the clock (case_clock, a pure function kept on the case and replayable from its
history), writes one history row and one `case.changed` event, all in the command's
transaction. Nothing here knows the transport: handlers hand in plain data."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Final

import asyncpg

from db.pool import Conn
from db.queries import alarms as aq
from db.queries import calendar as cq
from db.queries import cases as q
from db.queries import hall as hq
from server.domain import alarms, credit, joint_steps, projects, ratings
from server.domain import case_clock as clock
from server.domain import case_flow as flow
from server.domain import workflow_def as wd
from server.domain.actor import Actor
from server.domain.alarm_ladder import working_day_seconds
from server.domain.calendar import HallCalendar
from server.domain.errors import Conflict, Invalid, NotFound
from server.domain.hall import HallRef, get_hall
from server.domain.identity import mask_name, validate_id_number, validate_phone
from server.domain.permissions import Target
from server.domain.queueing import TZ
from server.domain.store import Tx
from server.wire import instant

if TYPE_CHECKING:
    from server.catalogue.spine import Call

# Query codes: 10 characters of an alphabet without look-alikes (~49 bits): guessing one is
# hopeless at the per-client rate /track allows.
_CODE_ALPHABET: Final = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
QUERY_CODE_LENGTH: Final = 10
# Overrides loaded around a case's clock: limits run to a few hundred working days at most.
_CAL_BEFORE: Final = timedelta(days=30)
_CAL_AFTER: Final = timedelta(days=900)


def new_query_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(QUERY_CODE_LENGTH))


async def load_calendar(conn: Conn, hall_id: int, around: datetime) -> HallCalendar:
    day = around.astimezone(TZ).date()
    return await cq.load_hall_calendar(conn, hall_id, day - _CAL_BEFORE, day + _CAL_AFTER)


def case_target(row: asyncpg.Record, actor: Actor) -> Target:
    """What a command on this case is authorized against: the case's hall and department, at
    the window the actor works from."""
    return Target(
        hall_id=row["hall_id"],
        hall_parent_id=row["hall_parent_id"],
        department_id=row["department_id"],
        window_id=actor.window_id,
    )


# ------------------------------------------------------------------------------ acceptance


@dataclass(frozen=True)
class Applicant:
    name: str
    phone: str | None = None
    id_number: str | None = None


@dataclass(frozen=True)
class MaterialNote:
    position: int
    status: str  # submitted | missing | faulty
    problem: str = ""


@dataclass(frozen=True)
class Acceptance:
    """What the clerk keys in at the window."""

    item_code: str | None
    # a later stage of a project needs none: its applicant is the project's
    applicant: Applicant | None
    ticket_id: int | None = None
    reg_no: str | None = None
    urgent: bool = False
    materials: tuple[MaterialNote, ...] = ()
    # 容缺受理: the applicant signed the commitment; the deferred materials are due by then
    deficiency_due: date | None = None
    commitment_signed: bool = False
    # 不予受理 at the window: the reason (then nothing else is checked but the item)
    refusal: str | None = None
    # a joint case (联办): the workflow definition's code; the case is the parent of its stage's
    # steps (a bundle's one stage), promised within the stage's limit (a bundle's: the overall)
    workflow: str | None = None
    # 一表通: a project's later stage names the project; its first stage names the new project
    project: str | None = None
    project_name: str | None = None


async def accept(call: Call, hall_code: str, a: Acceptance) -> tuple[dict[str, Any], list]:
    """Accepts an application at the clerk's window (or records that it was not accepted),
    from the ticket being served there or a registration scanned by its barcode."""
    actor = call.actor
    now = call.ctx.clock()
    transition = "case.not_accept" if a.refusal is not None else "case.accept"
    async with call.command() as tx:
        hall = await get_hall(tx.conn, hall_code)
        tx.detail.update(hall=hall.code, ticket_id=a.ticket_id, reg_no=a.reg_no)
        call.check(hall.target(window_id=actor.window_id, department_id=actor.department_id))
        assert actor.window_id is not None  # own_window: signed in
        source = await _source(tx.conn, hall, actor, a)
        applicant = _applicant(a.applicant, now.date()) if a.applicant is not None else None
        if applicant is not None:
            # what the citizen gave at the kiosk, unless the clerk typed it in
            applicant = replace(
                applicant,
                phone=applicant.phone or source.get("phone"),
                id_number=applicant.id_number or source.get("id_number"),
            )
        cal = await load_calendar(tx.conn, hall.id, now)
        intake = None
        if a.workflow is not None and a.refusal is None:
            intake, applicant = await _intake(tx, hall, actor, a, applicant, now)
        elif a.project is not None or a.project_name is not None:
            raise Invalid("工程项目须按一表通流程受理", code="invalid_field", field="project")
        # a workflow stage may name the item its case is (一窗受理: the lead window accepts it
        # on the owning department's behalf)
        stage_item = intake.stage.item if intake is not None else None
        item_code = stage_item or a.item_code or source.get("item_code")
        if not item_code:
            raise Invalid("请选择办理事项", code="invalid_field", field="item")
        item = await tx.conn.fetchrow(q.ITEM_FOR_CASE, hall.id, item_code)
        if item is None or not item["active"]:
            raise NotFound(f"事项 {item_code} 不存在", code="unknown_item", field="item")
        if item["department_id"] != actor.department_id and stage_item is None:
            raise Conflict(
                f"「{item['name']}」由{item['department_name']}受理，不属于本窗口",
                code="item_other_department",
                field="item",
            )
        state = flow.next_state(transition, flow.NEW)

        kind, amount = _kind_and_limit(item, a.urgent)
        unit = item["limit_unit"]
        if intake is not None:
            # the promise made to the applicant is the bundle's (a project's stage's), not the
            # lead item's
            limit = wd.stage_limit(intake.definition, intake.stage_no, working_day_seconds(cal))
            kind, amount, unit = "promised", limit.amount, limit.unit
        if applicant is None:
            raise Invalid("请填写申请人姓名或单位名称", code="invalid_field", field="applicant")
        if a.deficiency_due is not None or a.commitment_signed:
            await credit.check_deficiency(tx.conn, hall.id, applicant.name, applicant.id_number)
        start = clock.ClockEvent(at=now, op="start", amount=amount, unit=unit)
        state_clock = clock.step(None, start, cal)
        events: list[clock.ClockEvent] = [start]
        if state == "not_accepted":
            stop = clock.ClockEvent(at=now, op="stop")
            state_clock = clock.step(state_clock, stop, cal)
            events.append(stop)

        listed = (
            intake.requested()
            if intake is not None
            else [dict(r) for r in await tx.conn.fetch(hq.ITEM_MATERIALS, item["id"])]
        )
        # a joint case is promised (its stage's limit) whatever the lead item is
        materials = _materials(
            listed, "promised" if intake else item["kind"], a, now, state_clock.deadline
        )
        number = await tx.conn.fetchval(q.NEXT_CASE_NUMBER, hall.id, now.date())
        case_no = f"{hall.code.upper()}-{now:%Y%m%d}-{number:05d}"
        case_id = await tx.conn.fetchval(
            q.INSERT_CASE,
            hall.id,
            case_no,
            new_query_code(),
            item["id"],
            item["version"],
            # a joint case belongs to the lead department, whose window took it and hands out
            actor.department_id if intake is not None else item["department_id"],
            kind,
            state,
            applicant.name,
            applicant.phone,
            applicant.id_number,
            source.get("ticket_id"),
            source.get("registration_id"),
            actor.window_id,
            actor.id,
            now,
            amount,
            unit,
            item["statutory_limit"],
            state_clock.to_json(),
            state_clock.status,
            state_clock.deadline,
            _due_instant(a.deficiency_due, cal) if a.deficiency_due else None,
            a.refusal,
            now.date(),
        )
        await tx.conn.execute(
            q.INSERT_MATERIALS,
            case_id,
            now,
            [m["position"] for m in materials],
            [m["name"] for m in materials],
            [m["is_key"] for m in materials],
            [m["copies"] for m in materials],
            [m["status"] for m in materials],
            [m["deferred"] for m in materials],
            [m["problem"] for m in materials],
        )
        for ev in events:
            await _history(
                tx,
                case_id,
                now,
                transition,
                None if ev.op == "start" else state,
                state,
                ev,
                a.refusal or "",
                {"kind": kind, "item_version": item["version"]} if ev.op == "start" else {},
            )
        if intake is not None:
            missing = {m["name"] for m in materials if m["status"] != "submitted"}
            await joint_steps.start(tx, hall, case_id, intake, now, cal, missing)
            if intake.project_id is not None:
                await projects.announce(
                    tx, intake.project_id, "stage_accepted", case_id, intake.definition
                )
        await alarms.schedule(tx.conn, case_id, hall.id, cal)
        if a.refusal is not None:
            await alarms.check_refusal_reason(tx, case_id, a.refusal, False, actor.id, now)
        tx.detail.update(case_id=case_id, case_no=case_no, state=state)
        row = await _case(tx.conn, case_id)
        payload = await case_payload(tx.conn, row, transition, None, cal, now)
        tx.emit("case.accepted", payload, hall_id=hall.id, window_id=actor.window_id)
    reply = {**payload, "query_code": row["query_code"]}
    if intake is not None and intake.project_no is not None:
        reply.update(project_no=intake.project_no, stage_no=intake.stage_no)
    return reply, tx.records


async def _intake(
    tx: Tx,
    hall: HallRef,
    actor: Actor,
    a: Acceptance,
    applicant: Applicant | None,
    now: datetime,
) -> tuple[joint_steps.Intake, Applicant | None]:
    """The workflow stage this acceptance takes: a bundle's one stage, or a project's (a new
    project's first, or an open project's next, whose applicant it is)."""
    assert a.workflow is not None
    intake = await joint_steps.definition_for_intake(
        tx.conn, hall.id, a.workflow, actor.department_id
    )
    if a.urgent:
        raise Invalid(
            "联办件按套餐总时限办理，不走绿色通道", code="no_urgent_limit", field="urgent"
        )
    if intake.definition.kind == "project":
        opening = await projects.open_stage(
            tx, hall, intake, a.project, a.project_name, applicant, now
        )
        return opening.intake, opening.applicant
    if a.project is not None or a.project_name is not None:
        raise Invalid("联办套餐没有工程项目编号", code="invalid_field", field="project")
    return intake, applicant


async def _source(conn: Conn, hall: HallRef, actor: Actor, a: Acceptance) -> dict[str, Any]:
    """The ticket served at this window, or the registration scanned: where the case comes
    from (one of the two, or neither for a walk-in without a ticket)."""
    if a.ticket_id is not None and a.reg_no is not None:
        raise Invalid("请只给出排队号或登记条码之一", code="invalid_field", field="ticket_id")
    if a.ticket_id is not None:
        t = await conn.fetchrow(q.SERVING_TICKET, a.ticket_id, hall.id)
        if t is None:
            raise NotFound("排队号不存在", code="unknown_ticket", field="ticket_id")
        if t["window_id"] != actor.window_id or t["status"] not in ("called", "serving"):
            raise Conflict(
                f"{t['ticket_no']} 号不在本窗口办理中", code="ticket_not_here", field="ticket_id"
            )
        if t["registration_id"] is not None:
            # its registration may be scanned at a window meanwhile, or was already
            await conn.execute(q.LOCK_REGISTRATION, t["registration_id"])
        existing = await conn.fetchrow(q.CASE_OF_SOURCE, t["id"], t["registration_id"])
        if existing is not None:
            raise _accepted_already(f"{t['ticket_no']} 号", existing, "ticket_id")
        return {
            "ticket_id": t["id"],
            "registration_id": t["registration_id"],
            "item_code": t["item_code"],
            "phone": t["phone"],
            "id_number": t["id_number"],
        }
    if a.reg_no is not None:
        r = await conn.fetchrow(q.REGISTRATION_FOR_CASE, hall.id, a.reg_no.strip())
        if r is None:
            raise NotFound("登记条码不存在", code="unknown_registration", field="reg_no")
        existing = await conn.fetchrow(q.CASE_OF_SOURCE, None, r["id"])
        if existing is not None:
            raise _accepted_already(f"登记 {r['reg_no']} ", existing, "reg_no")
        # its ticket, when it is the one being served here, is the case's too
        here = r["ticket_window_id"] == actor.window_id and r["ticket_status"] in (
            "called",
            "serving",
        )
        return {
            "ticket_id": r["ticket_id"] if here else None,
            "registration_id": r["id"],
            "item_code": r["item_code"],
            "phone": r["phone"],
            "id_number": r["id_number"],
        }
    return {}


def _accepted_already(what: str, existing: asyncpg.Record, field: str) -> Conflict:
    return Conflict(
        f"{what}已受理为办件 {existing['case_no']}", code="already_accepted", field=field
    )


def _applicant(a: Applicant, today: date) -> Applicant:
    name = a.name.strip()
    if not 1 <= len(name) <= 60:
        raise Invalid("请填写申请人姓名或单位名称", code="invalid_field", field="applicant.name")
    try:
        phone = validate_phone(a.phone) if a.phone else None
        id_no = validate_id_number(a.id_number, today) if a.id_number else None
    except Invalid as exc:
        # the body has them under applicant: the terminal marks the field named
        raise Invalid(exc.message, code=exc.code, field=f"applicant.{exc.field}") from None
    return Applicant(name, phone, id_no)


def _kind_and_limit(item: asyncpg.Record, urgent: bool) -> tuple[str, int]:
    if item["kind"] == "immediate":
        if urgent:
            raise Invalid("即办件无需走绿色通道", code="no_urgent_limit", field="urgent")
        return "immediate", 0
    if urgent:
        if item["urgent_limit"] is None:
            raise Invalid(f"「{item['name']}」没有急办时限", code="no_urgent_limit", field="urgent")
        return "urgent", int(item["urgent_limit"])
    return "promised", int(item["promised_limit"])


def _due_instant(day: date, cal: HallCalendar) -> datetime:
    """A due date is due at the close of that day's work (the last period's end)."""
    return datetime.combine(day, cal.work_periods[-1][1], tzinfo=cal.tz)


def _materials(
    listed: list[dict[str, Any]],
    kind: str,
    a: Acceptance,
    now: datetime,
    deadline: datetime | None,
) -> list[dict[str, Any]]:
    """The list (the item's, or a workflow stage's) as this application brought it; 容缺
    checked against it."""
    by_pos = {m["position"]: m for m in listed}
    notes: dict[int, MaterialNote] = {}
    for n in a.materials:
        if n.position not in by_pos:
            raise Invalid(
                f"材料序号 {n.position} 不在事项材料清单中",
                code="unknown_material",
                field="materials",
            )
        if n.status not in ("submitted", "missing", "faulty"):
            raise Invalid(
                "材料状态应为 已交、缺少 或 有误", code="invalid_field", field="materials"
            )
        notes[n.position] = n
    lacking = [p for p, n in notes.items() if n.status != "submitted"]
    deferred = False
    if a.deficiency_due is not None or a.commitment_signed:
        if kind != "promised":
            raise Invalid(
                "只有承诺件可以容缺受理", code="deficiency_not_allowed", field="deficiency"
            )
        if not a.commitment_signed:
            raise Invalid(
                "容缺受理须申请人签署承诺书", code="commitment_missing", field="deficiency"
            )
        if a.deficiency_due is None:
            raise Invalid("请填写容缺材料的补交期限", code="invalid_field", field="deficiency")
        if not lacking:
            raise Invalid(
                "没有缺少的材料，无需容缺受理", code="nothing_deferred", field="materials"
            )
        keys = [by_pos[p]["name"] for p in lacking if by_pos[p]["is_key"]]
        if keys:
            raise Invalid(
                f"关键材料不能容缺：{'、'.join(keys)}", code="key_material", field="materials"
            )
        if a.deficiency_due < now.astimezone(TZ).date():
            raise Invalid("补交期限已过", code="deficiency_due", field="deficiency")
        if deadline is not None and a.deficiency_due > deadline.astimezone(TZ).date():
            raise Invalid(
                f"补交期限不能晚于办结期限 {deadline.astimezone(TZ):%Y-%m-%d}",
                code="deficiency_due",
                field="deficiency",
            )
        deferred = True
    return [
        {
            "position": m["position"],
            "name": m["name"],
            "is_key": m["is_key"],
            "copies": m["copies"],
            "status": notes[m["position"]].status if m["position"] in notes else "submitted",
            "deferred": deferred and m["position"] in lacking,
            "problem": notes[m["position"]].problem if m["position"] in notes else "",
        }
        for m in listed
    ]


# ------------------------------------------------------------------------------ the case's life


@dataclass
class Step:
    """One command on a locked case: what it found and what it will write."""

    tx: Tx
    row: asyncpg.Record
    now: datetime
    cal: HallCalendar
    transition: str
    state: str
    kind: str
    clock_state: clock.ClockState
    visits: int
    last_visit_day: date
    decided_at: datetime | None
    completed_at: datetime | None
    delivered_at: datetime | None
    reason: str | None = None
    clock_events: list[clock.ClockEvent] | None = None
    detail: dict[str, Any] | None = None

    def move_clock(self, op: str, **kw: Any) -> None:
        ev = clock.ClockEvent(at=self.now, op=op, **kw)  # type: ignore[arg-type]
        self.clock_state = clock.step(self.clock_state, ev, self.cal)
        self.clock_events = [*(self.clock_events or []), ev]

    def visit(self) -> None:
        """The applicant came back to the hall for this case (a new day counts once)."""
        today = self.now.astimezone(TZ).date()
        if today > self.last_visit_day:
            self.visits += 1
            self.last_visit_day = today


async def _case(conn: Conn, case_id: int) -> asyncpg.Record:
    row = await conn.fetchrow(q.CASE_BY_ID, case_id)
    if row is None:
        raise NotFound("办件不存在", code="unknown_case", field="case_id")
    return row


async def lock_case(tx: Tx, case_id: int) -> asyncpg.Record:
    row = await tx.conn.fetchrow(q.CASE_FOR_UPDATE, case_id)
    if row is None:
        raise NotFound("办件不存在", code="unknown_case", field="case_id")
    return row


async def begin(
    call: Call, tx: Tx, case_id: int, transition: str, row: asyncpg.Record | None = None
) -> Step:
    """Locks the case (unless the command locked it already: `row`), authorizes the command on
    it and checks the transition table."""
    row = row if row is not None else await lock_case(tx, case_id)
    tx.detail.update(case_id=case_id, case_no=row["case_no"])
    call.check(case_target(row, call.actor))
    return await step_for(tx, row, transition, call.ctx.clock())


async def step_for(tx: Tx, row: asyncpg.Record, transition: str, now: datetime) -> Step:
    """The step of `transition` on the locked case `row` (once authorized): the transition
    table says what follows; a joint case's parent is approved or completed only when all its
    steps are settled, whoever moves it (the lead window, a leader's sign-off, its last step)."""
    state = flow.next_state(transition, row["state"])
    if row["workflow_code"] and state in ("approved", "completed"):
        await joint_steps.check_settled(tx.conn, row["id"])
    # a clock set back never moves a case into its own past
    now = max(now, row["accepted_at"])
    cal = await load_calendar(tx.conn, row["hall_id"], row["accepted_at"])
    return Step(
        tx=tx,
        row=row,
        now=now,
        cal=cal,
        transition=transition,
        state=state,
        kind=row["kind"],
        clock_state=clock.ClockState.from_json(row["clock"]),
        visits=row["visits"],
        last_visit_day=row["last_visit_day"],
        decided_at=row["decided_at"],
        completed_at=row["completed_at"],
        delivered_at=row["delivered_at"],
    )


# The refusals whose reason supervision reads, and whether each refuses the permit (§38) or
# only the application (不予受理).
_REFUSALS: Final = {
    "case.not_accept": False,
    "case.decide:refuse": True,
    "case.signoff:reject": True,
}


async def finish(step: Step, call: Call | None = None) -> dict[str, Any]:
    """Writes the step: the case row, its history row(s) and the case.changed event. The actor
    is the transaction's (a joint case's last step completes it without a call on the case)."""
    tx, row = step.tx, step.row
    cs = step.clock_state
    await tx.conn.execute(
        q.UPDATE_CASE,
        row["id"],
        step.state,
        step.kind,
        cs.to_json(),
        cs.status,
        cs.deadline,
        step.visits,
        step.last_visit_day,
        step.reason,
        step.decided_at,
        step.completed_at,
        step.delivered_at,
    )
    action = step.transition.split(":")[0]
    events: list[clock.ClockEvent | None] = list(step.clock_events or []) or [None]
    for i, ev in enumerate(events):
        await _history(
            tx,
            row["id"],
            step.now,
            step.transition,
            row["state"],
            step.state,
            ev,
            step.reason or "",
            (step.detail or {}) if i == 0 else {},
        )
    # every command may change a rung: the clock, the step, the materials, a notice, a pause
    await alarms.schedule(tx.conn, row["id"], row["hall_id"], step.cal)
    if step.state == "completed" and row["state"] != "completed":
        # 好差评: the applicant is invited to rate the case, once, by SMS
        await ratings.invite(tx, row, step.now)
    if step.transition in _REFUSALS and step.reason:
        await alarms.check_refusal_reason(
            tx, row["id"], step.reason, _REFUSALS[step.transition], tx.actor.id, step.now
        )
    tx.detail.update(state=step.state, previous=row["state"])
    fresh = await _case(tx.conn, row["id"])
    payload = await case_payload(tx.conn, fresh, step.transition, row["state"], step.cal, step.now)
    payload["action"] = action
    tx.emit("case.changed", payload, hall_id=row["hall_id"], window_id=row["window_id"])
    return payload


async def _history(
    tx: Tx,
    case_id: int,
    at: datetime,
    transition: str,
    from_state: str | None,
    to_state: str,
    ev: clock.ClockEvent | None,
    reason: str,
    detail: dict[str, Any],
) -> None:
    actor = tx.actor
    await tx.conn.execute(
        q.INSERT_HISTORY,
        case_id,
        at,
        transition,
        actor.kind,
        actor.id,
        actor.window_id,
        from_state,
        to_state,
        ev.to_json() if ev is not None else None,
        reason,
        detail,
    )


async def case_payload(
    conn: Conn,
    row: asyncpg.Record,
    transition: str,
    previous: str | None,
    cal: HallCalendar,
    now: datetime,
) -> dict[str, Any]:
    """The live event's view of a case: no personal data (the applicant's name masked)."""
    materials = await conn.fetch(q.MATERIALS_OF_CASE, row["id"])
    view = clock.view(clock.ClockState.from_json(row["clock"]), now, cal)
    return {
        "case_id": row["id"],
        "case_no": row["case_no"],
        "transition": transition,
        "state": row["state"],
        "previous": previous,
        "kind": row["kind"],
        "item": row["item_code"],
        "item_name": row["item_name"],
        "department": row["department_code"],
        "window_no": row["window_no"],
        "applicant": mask_name(row["applicant_name"]),
        "reason": row["reason"],
        "clock": view.to_json(),
        "missing": [m["name"] for m in materials if m["status"] in ("missing", "faulty")],
        "deficiency_due": instant(row["deficiency_due"]) if row["deficiency_due"] else None,
        "visits": row["visits"],
    }


def require_reason(reason: str | None, field: str = "reason") -> str:
    text = (reason or "").strip()
    if not text:
        raise Invalid("请填写理由", code="reason_required", field=field)
    if len(text) > 500:
        raise Invalid("理由不能超过 500 字", code="too_long", field=field)
    return text


async def transition(
    call: Call, case_id: int, name: str, reason: str | None = None
) -> tuple[dict[str, Any], list]:
    """The plain transitions: start, decide (approve/refuse), complete, deliver, withdraw,
    not accept (after acceptance)."""
    async with call.command() as tx:
        step = await begin(call, tx, case_id, name)
        if name in flow.NEEDS_REASON:
            step.reason = require_reason(reason)
        if name.startswith("case.decide:"):
            if step.row["requires_signoff"]:
                raise Conflict(
                    "此事项须领导签批，请先提交签批", code="signoff_required", field="decision"
                )
            if step.clock_state.status != "running":
                raise Conflict(
                    "办件计时暂停中，请先恢复计时（补正材料补齐或特别程序结束）",
                    code="clock_paused",
                    field="clock",
                )
            step.decided_at = step.now
        if name == "case.complete":
            await _check_complete(tx.conn, step)
            step.completed_at = step.now
            step.move_clock("stop")
            await _sms(tx, step, "completed", _completed_text(step))
        if name == "case.deliver":
            step.visit()
            step.delivered_at = step.now
        if name in ("case.withdraw", "case.not_accept"):
            step.move_clock("stop")
        data = await finish(step, call)
    return data, tx.records


async def _check_complete(conn: Conn, step: Step) -> None:
    """A case with deferred (容缺) or other missing materials cannot complete when approved."""
    if step.row["state"] != "approved":
        return
    missing = [
        m["name"]
        for m in await conn.fetch(q.MATERIALS_OF_CASE, step.row["id"])
        if m["status"] in ("missing", "faulty")
    ]
    if missing:
        raise Conflict(
            f"材料尚未补齐，不能办结：{'、'.join(missing)}",
            code="materials_outstanding",
            field="materials",
        )


def _completed_text(step: Step) -> str:
    row = step.row
    verdict = "已办结" if row["state"] == "approved" else "已办结（不予许可）"
    return (
        f"【{row['hall_name']}】您的办件 {row['case_no']}（{row['item_name']}）{verdict}，"
        f"请持受理回执到 {row['window_no']} 号窗口领取结果。"
    )


async def _sms(tx: Tx, step: Step, kind: str, body: str, key: str | None = None) -> None:
    """Through the outbox, after commit, once per key."""
    phone = step.row["applicant_phone"]
    if phone:
        dedupe = key or f"case-{kind}:{step.row['id']}"
        await tx.conn.execute(q.INSERT_SMS, step.row["hall_id"], dedupe, phone, body)


# ------------------------------------------------------------------------------ materials


async def set_materials(
    call: Call, case_id: int, notes: list[MaterialNote]
) -> tuple[dict[str, Any], list]:
    """Records materials as submitted, missing or faulty (the review at the window)."""
    async with call.command() as tx:
        step = await begin(call, tx, case_id, "case.materials")
        positions = await _known_positions(tx.conn, case_id, [n.position for n in notes])
        # What the open supplement notice asked for arrives by supplement_receive, which closes
        # the notice and restarts the clock: marked submitted here, the clock would stay paused
        # with nothing left to receive.
        notice = await tx.conn.fetchrow(q.OPEN_SUPPLEMENT, case_id)
        asked = {m["position"] for m in notice["materials"]} if notice is not None else set()
        for n in notes:
            mat = positions[n.position]
            due = mat["status"] in ("missing", "faulty")
            if n.status == "submitted" and n.position in asked and due:
                raise Conflict(
                    f"材料「{mat['name']}」在补正告知中，请登记补交材料",
                    code="supplement_open",
                    field="materials",
                )
        for n in notes:
            if n.status not in ("submitted", "missing", "faulty"):
                raise Invalid(
                    "材料状态应为 已交、缺少 或 有误", code="invalid_field", field="materials"
                )
            await tx.conn.execute(
                q.SET_MATERIAL, case_id, n.position, n.status, n.problem, step.now
            )
        step.detail = {"materials": {str(n.position): n.status for n in notes}}
        data = await finish(step, call)
        await _unblock_steps(tx, step)
    return data, tx.records


async def _known_positions(conn: Conn, case_id: int, positions: list[int]) -> dict[int, Any]:
    rows = {m["position"]: m for m in await conn.fetch(q.MATERIALS_OF_CASE, case_id)}
    if not positions:
        raise Invalid("请选择材料", code="invalid_field", field="materials")
    for p in positions:
        if p not in rows:
            raise Invalid(f"材料序号 {p} 不在此办件中", code="unknown_material", field="materials")
    return rows


async def request_supplement(
    call: Call, case_id: int, notes: list[MaterialNote]
) -> tuple[dict[str, Any], list]:
    """补正: one notice listing every missing or faulty material; the clock pauses until they
    arrive, and the applicant gets it by SMS (the terminal prints it)."""
    async with call.command() as tx:
        step = await begin(call, tx, case_id, "case.supplement_request")
        if await tx.conn.fetchrow(q.OPEN_SUPPLEMENT, case_id) is not None:
            raise Conflict("已有未补齐的补正告知", code="supplement_open", field="materials")
        if step.clock_state.status != "running":
            raise Conflict("办件计时已暂停，不能再发补正告知", code="clock_paused", field="clock")
        rows = await _known_positions(tx.conn, case_id, [n.position for n in notes])
        for n in notes:
            if n.status not in ("missing", "faulty"):
                raise Invalid("补正材料应为 缺少 或 有误", code="invalid_field", field="materials")
            await tx.conn.execute(
                q.SET_MATERIAL, case_id, n.position, n.status, n.problem, step.now
            )
        listed = [
            {
                "position": n.position,
                "name": rows[n.position]["name"],
                "status": n.status,
                "problem": n.problem,
            }
            for n in sorted(notes, key=lambda n: n.position)
        ]
        # 一次性告知: everything else still missing goes on the same notice
        named = {x["position"] for x in listed}
        for p, m in rows.items():
            if m["status"] in ("missing", "faulty") and not m["deferred"] and p not in named:
                listed.append(
                    {
                        "position": p,
                        "name": m["name"],
                        "status": m["status"],
                        "problem": m["problem"],
                    }
                )
        listed.sort(key=lambda x: x["position"])
        notice_id = await tx.conn.fetchval(
            q.INSERT_SUPPLEMENT, case_id, step.now, call.actor.id, call.actor.window_id, listed
        )
        step.move_clock("pause", kind="supplement")
        step.detail = {"notice_id": notice_id, "materials": listed}
        names = "、".join(x["name"] for x in listed)
        await _sms(
            tx,
            step,
            "supplement",
            f"【{step.row['hall_name']}】您的办件 {step.row['case_no']} 需补正材料：{names}。"
            f"请备齐后到 {step.row['window_no']} 号窗口一次提交，补齐前办理时限暂停。",
            key=f"supplement:{notice_id}",
        )
        data = await finish(step, call)
    return {**data, "notice_id": notice_id, "materials": listed}, tx.records


async def receive_supplement(
    call: Call, case_id: int, positions: list[int] | None
) -> tuple[dict[str, Any], list]:
    """Materials handed in: marked supplemented; when nothing on the open notice is missing any
    more, the notice closes and the clock runs again. Also how 容缺 materials arrive."""
    async with call.command() as tx:
        step = await begin(call, tx, case_id, "case.supplement_receive")
        rows = {m["position"]: m for m in await tx.conn.fetch(q.MATERIALS_OF_CASE, case_id)}
        outstanding = [p for p, m in rows.items() if m["status"] in ("missing", "faulty")]
        wanted = positions if positions else outstanding
        if not wanted:
            raise Conflict("没有待补交的材料", code="nothing_missing", field="materials")
        for p in wanted:
            if p not in rows:
                raise Invalid(
                    f"材料序号 {p} 不在此办件中", code="unknown_material", field="materials"
                )
            if rows[p]["status"] not in ("missing", "faulty"):
                raise Conflict(
                    f"材料「{rows[p]['name']}」无需补交", code="not_missing", field="materials"
                )
            await tx.conn.execute(q.SET_MATERIAL, case_id, p, "supplemented", "", step.now)
        step.visit()
        notice = await tx.conn.fetchrow(q.OPEN_SUPPLEMENT, case_id)
        left = [p for p in outstanding if p not in wanted and not rows[p]["deferred"]]
        if notice is not None and not left:
            await tx.conn.execute(q.CLOSE_SUPPLEMENT, notice["id"], step.now)
            if step.clock_state.status == "paused" and step.clock_state.pause_kind == "supplement":
                step.move_clock("resume")
        step.detail = {"materials": sorted(wanted)}
        data = await finish(step, call)
        await _unblock_steps(tx, step)
    return data, tx.records


async def _unblock_steps(tx: Tx, step: Step) -> None:
    """A joint case's steps that waited for these materials (容缺) may go now."""
    if step.row["workflow_code"] and step.state in ("accepted", "in_progress"):
        await joint_steps.advance(tx, step.row["id"], step.now)


# ------------------------------------------------------------------------------ pauses


async def pause(
    call: Call, case_id: int, kind: str, reason: str | None
) -> tuple[dict[str, Any], list]:
    """Special procedures (§45: hearing, testing, inspection, expert review) do not count
    toward the limit; 报批 (escalation) forwards the case to a higher authority."""
    if kind not in clock.SPECIAL_PROCEDURES and kind != "escalation":
        raise Invalid("暂停类型不正确", code="invalid_field", field="kind")
    name = "case.escalate" if kind == "escalation" else "case.pause"
    async with call.command() as tx:
        step = await begin(call, tx, case_id, name)
        step.reason = require_reason(reason)
        if step.clock_state.status != "running":
            raise Conflict("办件计时已暂停", code="clock_paused", field="clock")
        if kind == "escalation":
            step.kind = "escalated"
        step.move_clock("pause", kind=kind)
        step.detail = {"kind": kind, "approved_by": call.actor.name}
        data = await finish(step, call)
    return data, tx.records


async def resume(call: Call, case_id: int, note: str | None) -> tuple[dict[str, Any], list]:
    async with call.command() as tx:
        step = await begin(call, tx, case_id, "case.resume")
        cs = step.clock_state
        if cs.status != "paused":
            raise Conflict("办件计时没有暂停", code="clock_running", field="clock")
        if cs.pause_kind == "supplement":
            raise Conflict("补正暂停在材料补齐后自动恢复", code="supplement_pause", field="clock")
        step.reason = (note or "").strip()[:500] or None
        step.move_clock("resume")
        step.detail = {"kind": cs.pause_kind}
        data = await finish(step, call)
    return data, tx.records


# ------------------------------------------------------------------------------ fees


@dataclass(frozen=True)
class Fee:
    fee_id: int
    amount_cents: int
    receipt_no: str


class FeeRefused(Conflict):
    """A fee outside the item's published list: refused, and recorded for supervision."""

    def __init__(self, message: str, code: str, detail: dict[str, Any]):
        super().__init__(message, code=code, field="fee_id")
        self.detail = detail


async def collect_fee(call: Call, case_id: int, fee: Fee) -> tuple[dict[str, Any], list]:
    receipt = fee.receipt_no.strip()
    if not 1 <= len(receipt) <= 40:
        raise Invalid("请填写票据号", code="invalid_field", field="receipt_no")
    try:
        async with call.command() as tx:
            step = await begin(call, tx, case_id, "case.fee")
            listed = {f["id"]: f for f in await tx.conn.fetch(hq.ITEM_FEES, step.row["item_id"])}
            item_fee = listed.get(fee.fee_id)
            if item_fee is None:
                raise FeeRefused(
                    "此收费不在事项公示的收费清单中，不能收取",
                    "fee_not_listed",
                    {"fee_id": fee.fee_id, "amount_cents": fee.amount_cents},
                )
            if fee.amount_cents > item_fee["amount_cents"]:
                raise FeeRefused(
                    f"收费金额超过公示标准（{item_fee['amount_cents'] / 100:.2f} 元）",
                    "fee_above_list",
                    {
                        "fee_id": fee.fee_id,
                        "amount_cents": fee.amount_cents,
                        "listed_cents": item_fee["amount_cents"],
                    },
                )
            fee_id = await tx.conn.fetchval(
                q.INSERT_FEE,
                case_id,
                step.row["hall_id"],
                fee.fee_id,
                item_fee["name"],
                fee.amount_cents,
                receipt,
                call.actor.window_id,
                call.actor.id,
                step.now,
            )
            if fee_id is None:
                raise Conflict("票据号已使用", code="receipt_used", field="receipt_no")
            step.detail = {
                "fee": item_fee["name"],
                "amount_cents": fee.amount_cents,
                "receipt_no": receipt,
            }
            data = await finish(step, call)
            tx.emit(
                "case.fee_collected",
                {
                    "case_id": case_id,
                    "case_no": step.row["case_no"],
                    "fee": item_fee["name"],
                    "amount_cents": fee.amount_cents,
                    "receipt_no": receipt,
                    "window_no": call.actor.window_no,
                    "department": step.row["department_code"],
                },
                hall_id=step.row["hall_id"],
                window_id=step.row["window_id"],
            )
    except FeeRefused as exc:
        await record_irregularity(call, case_id, exc.code, exc.detail)
        raise
    return data, tx.records


async def record_irregularity(
    call: Call, case_id: int | None, kind: str, detail: dict[str, Any]
) -> None:
    """On its own, after the refused command rolled back: supervision must still see it, and
    its fee_irregular alarm is raised with it. Audited as the refused command."""
    actor = call.actor
    now = call.ctx.clock()
    async with call.ctx.store.command(actor, call.name) as tx:
        tx.outcome = "refused"
        tx.detail.update({**detail, "code": kind})
        hall_id = (
            await tx.conn.fetchval(q.HALL_OF_CASE, case_id) if case_id is not None else None
        ) or actor.hall_id
        irregularity_id = await tx.conn.fetchval(
            q.INSERT_IRREGULARITY,
            hall_id,
            case_id,
            kind,
            detail,
            actor.id,
            actor.window_id,
            now,
        )
        await alarms.fee_irregular(tx, hall_id, irregularity_id, case_id, kind, detail, actor, now)


# ------------------------------------------------------------------------------ calendar


async def reprice_open_cases(conn: Conn, hall_id: int, since: date | None = None) -> int:
    """The calendar changed (from the day `since` on): every case whose clock is not stopped is
    recomputed from its history with the new calendar (the property tests prove replay = the
    incremental state), and every case is planned again whose clock moved or whose alarm plan
    has an instant from `since` on: a 督办 period or a step's limit can move while the deadline
    does not."""
    rows = await conn.fetch(q.CLOCKED_CASES, hall_id)
    if not rows:
        return 0
    first = min(clock.ClockState.from_json(r["clock"]).started_at for r in rows)
    cal = await load_calendar(conn, hall_id, first)
    rules = await alarms.hall_rules(conn, hall_id)
    changed = 0
    planned: set[int] = set()
    for r in rows:
        state = clock.replay((clock.ClockEvent.from_json(e) for e in r["events"]), cal)
        if state.to_json() != r["clock"]:
            await conn.execute(q.REPRICE_CASE, r["id"], state.to_json(), state.deadline)
            await alarms.schedule(conn, r["id"], hall_id, cal, rules)
            planned.add(r["id"])
            changed += 1
    if since is not None:
        start = datetime.combine(since, time.min, tzinfo=TZ)
        for case_id in await conn.fetchval(aq.PLANNED_FROM, hall_id, start):
            if case_id not in planned:
                await alarms.schedule(conn, case_id, hall_id, cal, rules)
    return changed
