"""Joint cases (联办, issue 10), the runtime: a case accepted at the lead window under a workflow
definition is the parent, and each step of the definition's version is a `joint_step` worked by
a window of its department.

    waiting ──(its waits done, and the whole stage before)──▶ ready ──claim──▶ claimed
    claimed ──complete (by the claimer)──▶ done
    ready/claimed 联审 past its due instant ──timer──▶ consented (超时默许)

A step's clock starts when it becomes ready: its due instant is its limit by the hall calendar.
Claiming is one conditional UPDATE: two clerks claiming at once, exactly one row comes back and
the other is told `step_claimed`. When every step is done (or consented) the parent case is
approved and completed (its clock stops) and the applicant gets one SMS to pick everything up at
the definition's pick-up window; delivery there (case.deliver) ends it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import asyncpg

from db.pool import Conn
from db.queries import cases as cq
from db.queries import joint_steps as q
from server.domain import alarms, cases, projects, workflows
from server.domain import workflow_def as wd
from server.domain.actor import system_actor
from server.domain.calendar import HallCalendar
from server.domain.errors import Conflict, NotFound
from server.domain.events import EventRecord
from server.domain.hall import HallRef, get_hall
from server.domain.permissions import Target
from server.domain.queueing import TZ
from server.domain.store import Tx
from server.wire import maybe_instant

if TYPE_CHECKING:
    from server.catalogue.spine import Call, TimerContext

# a step that no longer waits for anything
_SETTLED = ("done", "consented")

READY = "joint_step.ready"
CLAIMED = "joint_step.claimed"
DONE = "joint_step.done"
CONSENTED = "joint_step.consented"
OVERRUN_BATCH = 200  # steps per transaction; a backlog takes a few ticks


@dataclass(frozen=True)
class Intake:
    """The definition a case is accepted under, and which of its stages the case is: a bundle's
    one stage, or a project's next stage (projects.open_stage) with what is on file."""

    code: str
    version: int
    definition: wd.WorkflowDefinition
    stage_no: int = 1
    project_id: int | None = None
    project_no: str | None = None
    on_file: frozenset[str] = frozenset()

    @property
    def stage(self) -> wd.Stage:
        return self.definition.stages[self.stage_no - 1]

    def requested(self) -> list[dict[str, Any]]:
        """The intake's material list (the case's materials): the stage's materials not on
        file, each once; key unless the flow lets it be deferred (容缺)."""
        d = self.definition
        new = [n for n in d.stage_materials(self.stage_no) if n not in self.on_file]
        return [
            {"position": i, "name": n, "is_key": n not in d.deferrable, "copies": 1}
            for i, n in enumerate(new, start=1)
        ]


async def definition_for_intake(
    conn: Conn, hall_id: int, code: str, department_id: int | None
) -> Intake:
    """The version in force (a county hall's is its city's); accepted at a window of the lead
    department (一审制 at its window)."""
    department_code = await conn.fetchval(q.DEPARTMENT_CODE, department_id)
    found = await workflows.in_force(conn, hall_id, code, field="workflow")
    d = found.definition
    if d.lead_department != department_code:
        raise Conflict(
            f"「{d.name}」由牵头部门 {d.lead_department} 的窗口受理",
            code="workflow_lead_department",
            field="workflow",
        )
    return Intake(code, found.version, d)


def step_view(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "step_id": row["id"],
        "case_id": row["case_id"],
        "case_no": row["case_no"],
        "workflow": row["workflow_code"],
        "stage_no": row["stage_no"],
        "code": row["code"],
        "name": row["name"],
        "department": row["department_code"],
        "mode": row["mode"],
        "state": row["state"],
        "ready_at": maybe_instant(row["ready_at"]),
        "due_at": maybe_instant(row["due_at"]),
        "claimed_by": row["claimed_by_name"],
        "window_no": row["claimed_window_no"],
        "claimed_at": maybe_instant(row["claimed_at"]),
        "done_at": maybe_instant(row["done_at"]),
        # materials it waits for from the applicant (容缺), while it waits
        "blocked_by": list(row["blocked_by"]) if row["state"] == "waiting" else [],
    }


def _event(row: asyncpg.Record) -> dict[str, Any]:
    v = step_view(row)
    return {k: v[k] for k in _EVENT_FIELDS}


_EVENT_FIELDS = (
    "step_id",
    "case_id",
    "case_no",
    "workflow",
    "code",
    "name",
    "department",
    "mode",
    "state",
    "due_at",
    "claimed_by",
    "window_no",
)


def _due(cal: HallCalendar, now: datetime, amount: int, unit: str) -> datetime:
    return cal.add_working_time(now, amount, unit)  # type: ignore[arg-type]


async def start(
    tx: Tx,
    hall: HallRef,
    case_id: int,
    intake: Intake,
    now: datetime,
    cal: HallCalendar,
    missing: set[str],
) -> None:
    """One step per step of the case's stage; those without waits are ready at once, unless
    they need a material not handed in (`missing`: 容缺 blocks only what needs it). Refused
    (409) when the hall lacks a department the definition names."""
    departments = {r["code"]: r["id"] for r in await tx.conn.fetch(q.DEPARTMENT_IDS, hall.id)}
    await tx.conn.execute(
        q.SET_CASE_WORKFLOW,
        case_id,
        intake.code,
        intake.version,
        intake.project_id,
        intake.stage_no if intake.project_id is not None else None,
    )
    ready: list[int] = []
    for stage_no, stage in enumerate(intake.definition.stages, start=1):
        if stage_no != intake.stage_no:
            continue
        for s in stage.steps:
            if s.department not in departments:
                raise Conflict(
                    f"本中心没有环节「{s.name}」的部门 {s.department}，不能受理此联办事项",
                    code="workflow_department_missing",
                    field="workflow",
                )
            now_ready = not s.after and not missing.intersection(s.materials)
            step_id = await tx.conn.fetchval(
                q.INSERT_STEP,
                hall.id,
                case_id,
                stage_no,
                s.code,
                s.name,
                departments[s.department],
                s.mode,
                s.limit.amount,
                s.limit.unit,
                list(s.after),
                "ready" if now_ready else "waiting",
                now if now_ready else None,
                _due(cal, now, s.limit.amount, s.limit.unit) if now_ready else None,
                list(s.materials),
            )
            if now_ready:
                ready.append(step_id)
    for step_id in ready:
        row = await _step(tx.conn, step_id)
        tx.emit(READY, _event(row), hall_id=row["hall_id"])


def _target(row: asyncpg.Record, window_id: int | None) -> Target:
    return Target(
        hall_id=row["hall_id"],
        hall_parent_id=row["hall_parent_id"],
        department_id=row["department_id"],
        window_id=window_id,
    )


async def _step(conn: Conn, step_id: int) -> asyncpg.Record:
    row = await conn.fetchrow(q.STEP, step_id)
    if row is None:
        raise NotFound("联办环节不存在", code="unknown_step", field="step_id")
    return row


async def claim(call: Call, step_id: int) -> tuple[dict[str, Any], list]:
    """A clerk at a window of the step's department takes a ready step: one conditional UPDATE
    decides, so of two clerks claiming at once exactly one wins."""
    actor = call.actor
    now = call.ctx.clock()
    async with call.command() as tx:
        row = await _step(tx.conn, step_id)
        tx.detail.update(step_id=step_id, case_no=row["case_no"], step=row["code"])
        call.check(_target(row, actor.window_id))
        # the parent first, as a completion and the overrun timer lock it: none can deadlock
        parent = await tx.conn.fetchrow(q.LOCK_CASE, row["case_id"])
        assert parent is not None  # a step's case is never deleted
        if parent["state"] not in ("accepted", "in_progress"):
            raise Conflict("联办件已不在办理中", code="case_state", field="state")
        won = await tx.conn.fetchval(q.CLAIM, step_id, actor.id, actor.window_id, now)
        if won is None:
            fresh = await _step(tx.conn, step_id)
            if fresh["state"] == "waiting":
                raise Conflict("此环节还在等待前序环节", code="step_not_ready", field="step_id")
            who = fresh["claimed_by_name"] or "他人"
            raise Conflict(f"此环节已由{who}认领", code="step_claimed", field="step_id")
        fresh = await _step(tx.conn, step_id)
        tx.emit(CLAIMED, _event(fresh), hall_id=fresh["hall_id"])
        await _start_case(tx, row["case_id"], now)
    return step_view(fresh), tx.records


async def _start_case(tx: Tx, case_id: int, now: datetime) -> None:
    """The first step claimed puts the joint case in progress (办理中), as the applicant sees it
    on /track (the claim holds the parent's lock already)."""
    case = await cases.lock_case(tx, case_id)
    if case["state"] != "accepted":
        return
    start = await cases.step_for(tx, case, "case.start", now)
    start.detail = {"joint": True}
    await cases.finish(start)


async def complete(
    call: Call, step_id: int, note: str, issued: list[str]
) -> tuple[dict[str, Any], list]:
    """The claimer records the step done; the steps now free to go become ready (their clocks
    start), and the last step done completes the parent case and texts the applicant once."""
    actor = call.actor
    now = call.ctx.clock()
    async with call.command() as tx:
        row = await _step(tx.conn, step_id)
        tx.detail.update(step_id=step_id, case_no=row["case_no"], step=row["code"])
        call.check(_target(row, actor.window_id))
        await tx.conn.fetchrow(q.LOCK_CASE, row["case_id"])
        result = {"note": note.strip(), "issued": issued}
        if await tx.conn.fetchval(q.COMPLETE, step_id, actor.id, now, result) is None:
            fresh = await _step(tx.conn, step_id)
            if fresh["state"] == "claimed":
                raise Conflict(
                    f"此环节由{fresh['claimed_by_name']}认领，只能由认领人办结",
                    code="not_claimer",
                    field="step_id",
                )
            raise Conflict("此环节不在办理中，请先认领", code="step_state", field="step_id")
        done = await _step(tx.conn, step_id)
        tx.emit(DONE, _event(done), hall_id=done["hall_id"])
        await advance(tx, row["case_id"], now)
    return step_view(done), tx.records


async def advance(tx: Tx, case_id: int, now: datetime) -> None:
    """Makes ready what may go now (inside the caller's transaction, the parent case locked):
    a waiting step whose waits are settled and whose materials are all handed in. When nothing
    is left, completes the parent case and texts the applicant."""
    steps = await tx.conn.fetch(q.STEPS_OF_CASE, case_id)
    settled = {s["code"] for s in steps if s["state"] in _SETTLED}
    if len(settled) == len(steps):
        await _finish_case(tx, case_id, now)
        return
    hall_id = steps[0]["hall_id"]
    cal = await cases.load_calendar(tx.conn, hall_id, now)
    for s in steps:
        if s["state"] != "waiting":
            continue
        before = [o for o in steps if o["stage_no"] < s["stage_no"]]
        if s["blocked_by"]:
            continue
        if all(o["code"] in settled for o in before) and all(a in settled for a in s["after"]):
            due = _due(cal, now, s["limit_amount"], s["limit_unit"])
            await tx.conn.execute(q.MAKE_READY, s["id"], now, due)
            row = await _step(tx.conn, s["id"])
            tx.emit(READY, _event(row), hall_id=hall_id)


async def check_settled(conn: Conn, case_id: int) -> None:
    """A joint case is not approved or completed by hand while a step is still open."""
    open_steps = [
        s["name"] for s in await conn.fetch(q.STEPS_OF_CASE, case_id) if s["state"] not in _SETTLED
    ]
    if open_steps:
        raise Conflict(
            f"联办环节尚未办结：{'、'.join(open_steps)}", code="steps_open", field="state"
        )


async def _finish_case(tx: Tx, case_id: int, now: datetime) -> None:
    """Every step is done: the parent is approved and completed (its clock stops) and the
    applicant is told, once, to pick everything up at the pick-up window. A parent no longer
    being worked (withdrawn) is left as it is."""
    row = await cases.lock_case(tx, case_id)
    if row["state"] not in ("accepted", "in_progress"):
        return
    approve = await cases.step_for(tx, row, "case.decide:approve", now)
    approve.decided_at = approve.now
    approve.detail = {"joint": True}
    await cases.finish(approve)
    # the case as the approval left it
    complete = await cases.step_for(tx, await cases.lock_case(tx, case_id), "case.complete", now)
    complete.completed_at = complete.now
    complete.move_clock("stop")
    complete.detail = {"joint": True}
    await cases.finish(complete)
    await _pickup_sms(tx, row)
    await projects.stage_finished(tx, row, now)


def pickup_window(d: wd.WorkflowDefinition, case: Any) -> int:
    """Where everything is picked up: the definition's window in the hall that defines it; a
    county hall running its city's definition hands out at the window that accepted the case."""
    return d.pickup_window if case["hall_parent_id"] is None else case["window_no"]


def issued_at_pickup(d: wd.WorkflowDefinition, case: Any) -> list[str]:
    """What the pick-up window hands over: everything the case's stage's steps issue."""
    return [i for s in d.stages[(case["stage_no"] or 1) - 1].steps for i in s.issues]


async def _pickup_sms(tx: Tx, row: asyncpg.Record) -> None:
    if not row["applicant_phone"]:
        return
    definition = await workflows.definition_at(
        tx.conn, row["hall_id"], row["workflow_code"], row["workflow_version"]
    )
    stage = definition.stages[(row["stage_no"] or 1) - 1]
    issued = issued_at_pickup(definition, row)
    what = definition.name if row["project_id"] is None else f"工程项目「{stage.name}」阶段"
    body = (
        f"【{row['hall_name']}】您的{what} {row['case_no']} 已全部办结，"
        f"请持受理回执到 {pickup_window(definition, row)} 号窗口一次领取：{'、'.join(issued)}。"
    )
    await tx.conn.execute(
        cq.INSERT_SMS, row["hall_id"], f"pickup:{row['id']}", row["applicant_phone"], body
    )


# ------------------------------------------------------------------------------ supervision


async def fire_overrun(ctx: TimerContext, hall: Any, now: datetime) -> list[EventRecord]:
    """A step still open at its due instant: a 联审 step is recorded as consented (超时默许:
    liability moves to its department) and what waited for it may go; either mode raises a
    step_overrun alarm on `joint_step:<id>`, once. One small probe per look; a transaction only
    when something is due."""
    hall_id = hall["id"]
    async with ctx.store.read() as conn:
        if not await conn.fetchval(q.ANY_OVERRUN, hall_id, now):
            return []
    async with ctx.store.command(system_actor(hall_id), "joint_step.fire_overrun") as tx:
        rules = await alarms.hall_rules(tx.conn, hall_id)
        raised: list[int] = []
        for r in await tx.conn.fetch(q.DUE_OVERRUNS, hall_id, now, OVERRUN_BATCH):
            # the parent first, as a completion locks it: the two cannot deadlock
            await tx.conn.fetchrow(q.LOCK_CASE, r["case_id"])
            review = r["mode"] == "joint_review"
            if review:
                result = {"consented": True, "note": "超时默许"}
                if await tx.conn.fetchval(q.CONSENT, r["id"], now, result) is None:
                    continue  # completed meanwhile
                row = await _step(tx.conn, r["id"])
                tx.emit(CONSENTED, _event(row), hall_id=hall_id)
            elif await tx.conn.fetchval(q.MARK_OVERRUN, r["id"]) is None:
                continue
            what = "未答复，视为同意（超时默许）" if review else "尚未办结"
            alarm = alarms.Alarm(
                kind="step_overrun",
                level="warning",
                subject=f"joint_step:{r['id']}",
                due_at=r["due_at"].astimezone(TZ),
                summary=(
                    f"联办件 {r['case_no']} 的环节「{r['name']}」（{r['department_name']}）"
                    f"已过时限 {r['due_at'].astimezone(TZ):%m-%d %H:%M}，{what}"
                ),
                department_id=r["department_id"],
                window_id=r["claimed_window"],
                staff_id=r["claimed_by"],
                case_id=r["case_id"],
                case_no=r["case_no"],
                detail={"step_id": r["id"], "step": r["code"], "mode": r["mode"]},
            )
            alarm_id = await alarms.raise_alarm(tx, hall_id, alarm, rules.version, now)
            if alarm_id is not None:
                raised.append(alarm_id)
            if review:
                await advance(tx, r["case_id"], now)
        tx.detail["alarms"] = raised
    return tx.records


# ------------------------------------------------------------------------------ reads


async def inbox(call: Call, hall_code: str) -> dict[str, Any]:
    """The ready and claimed steps: a clerk's or a leader's of their department, supervision's
    and the admin's all of the hall."""
    actor = call.actor
    async with call.ctx.store.read() as conn:
        hall = await get_hall(conn, hall_code)
        call.check(hall.target())
        department = actor.department_id if actor.role in ("clerk", "leader") else None
        rows = await conn.fetch(q.INBOX, hall.id, department)
    return {"hall": hall.code, "steps": [step_view(r) for r in rows]}


async def of_case(call: Call, case_id: int) -> dict[str, Any]:
    async with call.ctx.store.read() as conn:
        row = await conn.fetchrow(q.CASE_FOR_STEPS, case_id)
        if row is None:
            raise NotFound("办件不存在", code="unknown_case", field="case_id")
        call.check(_target(row, call.actor.window_id))
        rows = await conn.fetch(q.STEPS_OF_CASE, case_id)
    return {"case_id": case_id, "steps": [step_view(r) for r in rows]}
