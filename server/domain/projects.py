"""一表通 projects (issue 10): a construction project is the main thread, with its own number,
through the serial stages of a project flow (建设用地规划许可 → 建设工程规划许可 → 施工许可 →
竣工验收备案).

- Each stage is accepted at the lead window as a joint case of its own (case.accept with the
  workflow and, after the first stage, the project number): its steps, its clock (the stage's
  limit), its fees. A stage is taken once the stage before it is completed.
- The project runs the definition version it was opened under, in the hall that opened it (a
  county hall runs its city's definitions: 市县联动).
- **One material store.** The store is what the project's stage cases hold as handed in. A
  stage's intake asks only for its materials not on file, so nothing is handed in twice.
- The project's clock counts the government's time: the working time its stage cases ran, against
  the flow's overall limit. The applicant's time between stages does not count.
- Every stage accepted or completed is told as `project.changed` to the project's hall and, for a
  county hall, to its city, whose supervision follows county projects live."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import asyncpg

from db.pool import Conn
from db.queries import joint_steps as jq
from db.queries import projects as q
from server.domain import case_clock as clock
from server.domain import cases, joint_steps, workflows
from server.domain import workflow_def as wd
from server.domain.alarm_ladder import working_day_seconds
from server.domain.errors import Conflict, Invalid, NotFound
from server.domain.hall import HallRef, get_hall
from server.domain.identity import mask_name
from server.domain.permissions import Target
from server.domain.queueing import TZ
from server.domain.store import Tx
from server.wire import maybe_instant

if TYPE_CHECKING:
    from server.catalogue.spine import Call

CHANGED = "project.changed"
LIST_LIMIT = 200
# materials as handed in: what the store holds
_ON_FILE = ("submitted", "supplemented")


@dataclass(frozen=True)
class StageOpening:
    """A stage about to be accepted: which project and stage, and who applies."""

    intake: joint_steps.Intake
    applicant: cases.Applicant


async def open_stage(
    tx: Tx,
    hall: HallRef,
    intake: joint_steps.Intake,
    project_no: str | None,
    project_name: str | None,
    applicant: cases.Applicant | None,
    now: datetime,
) -> StageOpening:
    """The stage this intake takes: a new project's first stage (its number drawn here), or the
    next stage of an open project, whose earlier stage must be completed. Raises a clear 4xx
    when it cannot be taken; nothing is kept then (the caller's transaction rolls back)."""
    if project_no is None:
        name = (project_name or "").strip()
        if not name:
            raise Invalid("请填写工程项目名称", code="invalid_field", field="project_name")
        if applicant is None:
            raise Invalid("请填写申请人（建设单位）", code="invalid_field", field="applicant")
        year = now.astimezone(TZ).year
        number = await tx.conn.fetchval(q.NEXT_PROJECT_NUMBER, hall.id, year)
        no = f"XM-{hall.code.upper()}-{year}-{number:05d}"
        actor = tx.actor
        project_id = await tx.conn.fetchval(
            q.INSERT_PROJECT,
            hall.id,
            no,
            name[:120],
            intake.code,
            intake.version,
            applicant.name,
            applicant.phone,
            applicant.id_number,
            now,
            actor.id,
            actor.window_id,
        )
        tx.detail.update(project_no=no)
        return StageOpening(replace(intake, project_id=project_id, project_no=no), applicant)
    if project_name:
        raise Invalid("已有项目编号，无需再填项目名称", code="invalid_field", field="project_name")
    await tx.conn.fetchrow(q.LOCK_PROJECT, project_no)
    p = await tx.conn.fetchrow(q.PROJECT_BY_NO, project_no)
    if p is None or p["hall_id"] != hall.id:
        raise NotFound(f"本中心没有工程项目 {project_no}", code="unknown_project", field="project")
    tx.detail.update(project_no=project_no)
    if p["workflow_code"] != intake.code:
        raise Conflict(
            f"项目 {project_no} 不是「{intake.definition.name}」的项目",
            code="project_workflow",
            field="project",
        )
    if p["state"] != "active":
        raise Conflict(f"项目 {project_no} 已全部办结", code="project_complete", field="project")
    if applicant is not None and applicant.name.strip() != p["applicant_name"]:
        raise Conflict(
            f"申请人与项目 {project_no} 的建设单位不一致",
            code="project_applicant",
            field="applicant",
        )
    d = await definition_of(tx.conn, p)
    stages = await tx.conn.fetch(q.STAGE_CASES, p["id"])
    last = stages[-1] if stages else None
    if last is not None and last["state"] not in ("completed", "delivered"):
        raise Conflict(
            f"第 {last['stage_no']} 阶段「{d.stages[last['stage_no'] - 1].name}」尚未办结，"
            "不能受理下一阶段",
            code="stage_not_ready",
            field="project",
        )
    stage_no = last["stage_no"] + 1 if last is not None else 1
    on_file = frozenset(m["name"] for m in await tx.conn.fetch(q.STORE, p["id"]))
    opened = replace(
        intake,
        version=p["workflow_version"],
        definition=d,
        stage_no=stage_no,
        project_id=p["id"],
        project_no=project_no,
        on_file=on_file,
    )
    who = cases.Applicant(p["applicant_name"], p["applicant_phone"], p["applicant_id_no"])
    return StageOpening(opened, who)


async def definition_of(conn: Conn, p: asyncpg.Record) -> wd.WorkflowDefinition:
    """The version the project was opened under (a county hall's: its city's)."""
    return await workflows.definition_at(
        conn, p["hall_id"], p["workflow_code"], p["workflow_version"]
    )


async def announce(
    tx: Tx,
    project_id: int,
    transition: str,
    case_id: int,
    d: wd.WorkflowDefinition | None = None,
) -> None:
    """project.changed to the project's hall and, for a county hall, to its city (`d`: its
    definition, when the caller has it)."""
    p = await tx.conn.fetchrow(q.PROJECT_BY_ID, project_id)
    assert p is not None
    d = d or await definition_of(tx.conn, p)
    case = await tx.conn.fetchrow(q.STAGE_CASE, case_id)
    assert case is not None
    payload = {
        "project_id": p["id"],
        "project_no": p["project_no"],
        "hall": p["hall_code"],
        "name": p["name"],
        "workflow": p["workflow_code"],
        "department": d.lead_department,
        "state": p["state"],
        "transition": transition,
        "stage_no": case["stage_no"],
        "stage_name": d.stages[case["stage_no"] - 1].name,
        "stages_total": len(d.stages),
        "case_id": case_id,
        "case_no": case["case_no"],
        "case_state": case["state"],
    }
    tx.emit(CHANGED, payload, hall_id=p["hall_id"])
    if p["hall_parent_id"] is not None:
        tx.emit(CHANGED, payload, hall_id=p["hall_parent_id"])


async def stage_finished(tx: Tx, case: asyncpg.Record, now: datetime) -> None:
    """A stage case completed: the project completes with its last stage."""
    if case["project_id"] is None:
        return
    p = await tx.conn.fetchrow(q.PROJECT_BY_ID, case["project_id"])
    assert p is not None
    d = await definition_of(tx.conn, p)
    last = case["stage_no"] == len(d.stages)
    if last:
        await tx.conn.execute(q.SET_COMPLETED, p["id"], now)
    await announce(tx, p["id"], "completed" if last else "stage_completed", case["id"], d)


# ------------------------------------------------------------------------------ reads


def _target(p: asyncpg.Record) -> Target:
    return Target(hall_id=p["hall_id"], hall_parent_id=p["hall_parent_id"])


def _summary(p: asyncpg.Record) -> dict[str, Any]:
    return {
        "project_id": p["id"],
        "project_no": p["project_no"],
        "hall": p["hall_code"],
        "hall_name": p["hall_name"],
        "name": p["name"],
        "workflow": p["workflow_code"],
        "version": p["workflow_version"],
        "applicant": mask_name(p["applicant_name"]),
        "state": p["state"],
        "opened_at": maybe_instant(p["opened_at"]),
        "window_no": p["window_no"],
        "completed_at": maybe_instant(p["completed_at"]),
    }


async def view(conn: Conn, p: asyncpg.Record, now: datetime) -> dict[str, Any]:
    """The project page's record: its stages with their cases, steps and clocks, the material
    store, the fees, the overall clock and what the next stage's intake will ask for."""
    d = await definition_of(conn, p)
    cal = await cases.load_calendar(conn, p["hall_id"], p["opened_at"])
    day_s = working_day_seconds(cal)
    standing = {c["stage_no"]: c for c in await conn.fetch(q.STAGE_CASES, p["id"])}
    store = await conn.fetch(q.STORE, p["id"])
    elapsed = 0
    stages = []
    for no, stage in enumerate(d.stages, start=1):
        c = standing.get(no)
        entry: dict[str, Any] = {
            "stage_no": no,
            "code": stage.code,
            "name": stage.name,
            "limit": wd.stage_limit(d, no, day_s).model_dump(),
            "issues": [i for s in stage.steps for i in s.issues],
            "case": None,
            "steps": [
                {"code": s.code, "name": s.name, "department": s.department, "state": None}
                for s in stage.steps
            ],
        }
        if c is not None:
            v = clock.view(clock.ClockState.from_json(c["clock"]), now, cal)
            elapsed += v.elapsed_s
            entry["case"] = {
                "case_id": c["id"],
                "case_no": c["case_no"],
                "state": c["state"],
                "accepted_at": maybe_instant(c["accepted_at"]),
                "completed_at": maybe_instant(c["completed_at"]),
                "clock": v.to_json(),
            }
            entry["steps"] = [
                joint_steps.step_view(r) for r in await conn.fetch(jq.STEPS_OF_CASE, c["id"])
            ]
        stages.append(entry)
    limit_s = d.limit.seconds(day_s)
    fees = await conn.fetch(q.FEES, p["id"])
    last = max(standing) if standing else 0
    next_stage = None
    if p["state"] == "active" and (
        last == 0 or standing[last]["state"] in ("completed", "delivered")
    ):
        next_stage = intake_lists(d, last + 1, {m["name"] for m in store})
    return {
        **_summary(p),
        "workflow_name": d.name,
        "lead_department": d.lead_department,
        "pickup_window": d.pickup_window,
        "stages": stages,
        "materials": [
            {
                "name": m["name"],
                "stage_no": m["stage_no"],
                "case_no": m["case_no"],
                "status": m["status"],
                "deferred": m["deferred"],
                "on_file": m["status"] in _ON_FILE,
                "at": maybe_instant(m["updated_at"]),
            }
            for m in store
        ],
        "fees": [
            {
                "case_no": f["case_no"],
                "stage_no": f["stage_no"],
                "name": f["name"],
                "amount_cents": f["amount_cents"],
                "receipt_no": f["receipt_no"],
                "window_no": f["window_no"],
                "paid_at": maybe_instant(f["paid_at"]),
            }
            for f in fees
        ],
        "fees_total_cents": sum(f["amount_cents"] for f in fees),
        "clock": {
            "limit": d.limit.model_dump(),
            "elapsed_s": elapsed,
            "remaining_s": max(0, limit_s - elapsed),
            "overdue_s": max(0, elapsed - limit_s),
        },
        "next_stage": next_stage,
    }


def intake_lists(d: wd.WorkflowDefinition, stage_no: int, on_file: set[str]) -> dict[str, Any]:
    """What a stage's intake shows: what is on file (not asked again) and what is new, each new
    one numbered as the acceptance's material positions, key unless the flow lets it be
    deferred (容缺)."""
    stage = d.stages[stage_no - 1]
    wanted = d.stage_materials(stage_no)
    new = [n for n in wanted if n not in on_file]
    return {
        "stage_no": stage_no,
        "code": stage.code,
        "name": stage.name,
        "on_file": [n for n in wanted if n in on_file],
        "materials": [
            {"position": i, "name": n, "is_key": n not in d.deferrable}
            for i, n in enumerate(new, start=1)
        ],
    }


async def get(call: Call, project_no: str) -> dict[str, Any]:
    async with call.ctx.store.read() as conn:
        p = await conn.fetchrow(q.PROJECT_BY_NO, project_no)
        if p is None:
            raise NotFound(f"工程项目 {project_no} 不存在", code="unknown_project", field="project")
        call.check(_target(p))
        return await view(conn, p, call.ctx.clock())


async def list_projects(call: Call, hall_code: str, state: str | None) -> dict[str, Any]:
    """A hall's projects, newest first; a city's supervision and admin see its county halls'
    too (市县联动), each with its hall."""
    actor = call.actor
    async with call.ctx.store.read() as conn:
        hall = await get_hall(conn, hall_code)
        call.check(hall.target())
        halls = [hall.id]
        if hall.parent_id is None and actor.role in ("supervisor", "admin"):
            halls += [r["id"] for r in await conn.fetch(q.COUNTY_HALLS, hall.id)]
        rows = await conn.fetch(q.LIST, halls, state, LIST_LIMIT)
        # a list holds a few definition versions, not one per project
        versions: dict[tuple[int, str, int], wd.WorkflowDefinition] = {}
        out = []
        for p in rows:
            key = (p["hall_id"], p["workflow_code"], p["workflow_version"])
            if key not in versions:
                versions[key] = await definition_of(conn, p)
            d, no = versions[key], p["cur_stage_no"]
            out.append(
                {
                    **_summary(p),
                    "stages_total": len(d.stages),
                    "stage_no": no,
                    "stage_name": d.stages[no - 1].name if no else None,
                    "case_no": p["cur_case_no"],
                    "case_state": p["cur_case_state"],
                }
            )
    return {"hall": hall.code, "projects": out}


async def intake_preview(
    call: Call, hall_code: str, code: str, project_no: str | None
) -> dict[str, Any]:
    """What the intake screen asks for: a bundle's (or a new project's first stage's) materials,
    or an open project's next stage with what is already on file."""
    async with call.ctx.store.read() as conn:
        hall = await get_hall(conn, hall_code)
        call.check(hall.target())
        found = await workflows.in_force(conn, hall.id, code)
        d, version = found.definition, found.version
        project = None
        stage_no, on_file = 1, set()
        if project_no is not None:
            p = await conn.fetchrow(q.PROJECT_BY_NO, project_no)
            if p is None or p["hall_id"] != hall.id or p["workflow_code"] != code:
                raise NotFound(
                    f"本中心没有此流程的工程项目 {project_no}",
                    code="unknown_project",
                    field="project",
                )
            d, version = await definition_of(conn, p), p["workflow_version"]
            stages = await conn.fetch(q.STAGE_CASES, p["id"])
            if p["state"] != "active":
                raise Conflict(
                    f"项目 {project_no} 已全部办结", code="project_complete", field="project"
                )
            if stages and stages[-1]["state"] not in ("completed", "delivered"):
                raise Conflict(
                    f"第 {stages[-1]['stage_no']} 阶段尚未办结",
                    code="stage_not_ready",
                    field="project",
                )
            stage_no = stages[-1]["stage_no"] + 1 if stages else 1
            on_file = {m["name"] for m in await conn.fetch(q.STORE, p["id"])}
            project = _summary(p)
    return {
        "hall": hall.code,
        "workflow": code,
        "version": version,
        "name": d.name,
        "kind": d.kind,
        "lead_department": d.lead_department,
        "project": project,
        "stages_total": len(d.stages),
        **_stage_keys(intake_lists(d, stage_no, on_file)),
    }


def _stage_keys(lists: dict[str, Any]) -> dict[str, Any]:
    """The stage's lists beside the workflow's own code and name."""
    return {
        "stage_no": lists["stage_no"],
        "stage_code": lists["code"],
        "stage_name": lists["name"],
        "on_file": lists["on_file"],
        "materials": lists["materials"],
    }
