"""Workflows that flow between windows (issue 10), declared: the versioned definitions of
bundles (联办套餐) and project flows (一表通) — read them, and publish a new version
(server/domain/workflows.py, checked by server/domain/workflow_def.py); and the runtime's joint
steps (server/domain/joint_steps.py): a joint case is accepted by case.accept with `workflow`,
its steps are claimed and completed at their departments' windows, listed in the inbox."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from server.catalogue.params import HallParams, Int8Id, Params
from server.catalogue.spine import (
    Call,
    Capability,
    EventType,
    Operation,
    Reply,
    TimerJob,
    query,
)
from server.demo_workflows import COMPANY_SETUP
from server.domain import joint_steps, workflows
from server.domain.policies import (
    CASE_READ,
    HALL_ADMIN,
    JOINT_STEP_INBOX,
    JOINT_STEP_WORK,
    WORKFLOW_READ,
)
from server.domain.workflow_def import WorkflowDefinition


class WorkflowParams(HallParams):
    code: str = Field(pattern=r"^[a-z0-9-]{2,40}$")


class WorkflowVersionParams(WorkflowParams):
    version: int | None = Field(default=None, ge=1)


class DefinitionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    definition: WorkflowDefinition = Field(examples=[COMPANY_SETUP])


class WorkflowReply(BaseModel):
    model_config = ConfigDict(extra="allow")
    hall: str
    code: str
    version: int
    kind: str
    name: str
    definition: dict[str, Any]
    created_at: str
    created_by: str | None


class WorkflowList(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hall: str
    workflows: list[WorkflowReply]


async def list_workflows(call: Call, p: HallParams, body: None) -> dict[str, Any]:
    return await workflows.list_definitions(call, p.hall)


async def get_workflow(call: Call, p: WorkflowVersionParams, body: None) -> dict[str, Any]:
    return await workflows.get_definition(call, p.hall, p.code, p.version)


async def publish_workflow(call: Call, p: WorkflowParams, body: DefinitionBody) -> Reply:
    data, events = await workflows.publish(call, p.hall, p.code, body.definition)
    return Reply(data, events=events, status=201)


_HALL = "/api/halls/{hall}/workflows"

OPERATIONS: tuple[Operation, ...] = (
    query(
        "workflow.list",
        "The hall's workflows in force (a county hall's are its city's): each bundle's or "
        "project flow's latest version",
        list_workflows,
        WORKFLOW_READ,
        _HALL,
        HallParams,
        WorkflowList,
        tag="workflows",
    ),
    query(
        "workflow.get",
        "One workflow definition (the latest version, or ?version=), with its critical path and "
        "the versions there are",
        get_workflow,
        WORKFLOW_READ,
        _HALL + "/{code}",
        WorkflowVersionParams,
        WorkflowReply,
        errors={404: ("unknown_workflow",)},
        tag="workflows",
    ),
    Operation(
        "workflow.publish",
        "Publishes a workflow definition as its next version (a city's: its county halls run "
        "them); refused when a department, the pick-up window or a step it waits for does not "
        "exist, when the waits go round, or when the critical path exceeds the overall limit "
        "(the path named)",
        "command",
        publish_workflow,
        HALL_ADMIN,
        http=("PUT", _HALL + "/{code}"),
        params=WorkflowParams,
        body=DefinitionBody,
        response=WorkflowReply,
        status=201,
        errors={
            400: (
                "code_mismatch",
                "unknown_department",
                "unknown_window",
                "duplicate_step",
                "duplicate_stage",
                "unknown_step",
                "step_cycle",
                "critical_path_exceeds",
                "unknown_material",
                "unknown_item",
            ),
            409: ("defined_by_city",),
        },
        tag="workflows",
    ),
)

# ------------------------------------------------------------------------ joint steps


class JointStepEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")
    step_id: int
    case_id: int
    case_no: str
    workflow: str | None
    code: str
    name: str
    department: str  # the department whose windows work it (its room)
    mode: Literal["copy_notice", "joint_review"]
    state: Literal["waiting", "ready", "claimed", "done", "consented"]
    due_at: str | None
    claimed_by: str | None
    window_no: int | None


_STEP_EXAMPLE: dict[str, Any] = {
    "step_id": 1,
    "case_id": 1,
    "case_no": "RIZHAO-20261207-00001",
    "workflow": "company-setup",
    "code": "seal",
    "name": "公章刻制备案",
    "department": "psb",
    "mode": "copy_notice",
    "state": "ready",
    "due_at": "2026-12-07T15:00:00+08:00",
    "claimed_by": None,
    "window_no": None,
}

EVENTS = (
    EventType(
        "joint_step.ready",
        "A joint case's step is ready for its department's windows (its clock started)",
        JointStepEvent,
        ("department", "case"),
        _STEP_EXAMPLE,
    ),
    EventType(
        "joint_step.claimed",
        "A clerk claimed a joint step: nobody else works it",
        JointStepEvent,
        ("department", "case"),
        {**_STEP_EXAMPLE, "state": "claimed", "claimed_by": "李娜", "window_no": 30},
    ),
    EventType(
        "joint_step.done",
        "The claimer completed a joint step",
        JointStepEvent,
        ("department", "case"),
        {**_STEP_EXAMPLE, "state": "done", "claimed_by": "李娜", "window_no": 30},
    ),
    EventType(
        "joint_step.consented",
        "A joint review (联审) step unanswered at its due instant is recorded as consented "
        "(超时默许): liability moves to its department",
        JointStepEvent,
        ("department", "case"),
        {
            **_STEP_EXAMPLE,
            "code": "fire-design",
            "name": "消防设计审查",
            "department": "fire",
            "mode": "joint_review",
            "state": "consented",
        },
    ),
)

TIMERS = (
    TimerJob(
        "joint_step.fire_overrun",
        "A joint step open past its due instant: a 联审 step is recorded as consented (超时默许) "
        "and a step_overrun alarm is raised on it, once",
        joint_steps.fire_overrun,
        emits=(
            "joint_step.consented",
            "alarm.issued",
            "joint_step.ready",
            "case.changed",
            "project.changed",
        ),
        every=0.5,
    ),
)


class StepParams(Params):
    step_id: Int8Id


class StepCaseParams(Params):
    case_id: Int8Id


class CompleteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(default="", max_length=500)
    issued: list[str] = Field(default_factory=list, max_length=20)


class StepReply(BaseModel):
    model_config = ConfigDict(extra="allow")
    step_id: int
    case_id: int
    code: str
    department: str
    state: str


class StepCommandReply(StepReply):
    seq: list[int]


class StepList(BaseModel):
    model_config = ConfigDict(extra="allow")
    steps: list[StepReply]


async def claim_step(call: Call, p: StepParams, body: None) -> Reply:
    data, events = await joint_steps.claim(call, p.step_id)
    return Reply(data, events=events)


async def complete_step(call: Call, p: StepParams, body: CompleteBody) -> Reply:
    issued = [i.strip()[:60] for i in body.issued if i.strip()]
    data, events = await joint_steps.complete(call, p.step_id, body.note, issued)
    return Reply(data, events=events)


async def inbox(call: Call, p: HallParams, body: None) -> dict[str, Any]:
    return await joint_steps.inbox(call, p.hall)


async def case_steps(call: Call, p: StepCaseParams, body: None) -> dict[str, Any]:
    return await joint_steps.of_case(call, p.case_id)


_STEP = "/api/joint-steps/{step_id}"

STEP_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "joint_step.claim",
        "A clerk at a window of the step's department claims a ready joint step; of two "
        "claiming at once exactly one wins, the other is told step_claimed",
        "command",
        claim_step,
        JOINT_STEP_WORK,
        http=("POST", _STEP + "/claim"),
        params=StepParams,
        response=StepCommandReply,
        emits=("joint_step.claimed", "case.changed"),
        errors={404: ("unknown_step",), 409: ("step_claimed", "step_not_ready", "case_state")},
        tag="workflows",
    ),
    Operation(
        "joint_step.complete",
        "The claimer completes a joint step (what it issued); the steps waiting for it become "
        "ready, and the last one completes the joint case and texts the applicant to pick up",
        "command",
        complete_step,
        JOINT_STEP_WORK,
        http=("POST", _STEP + "/complete"),
        params=StepParams,
        body=CompleteBody,
        response=StepCommandReply,
        emits=("joint_step.done", "joint_step.ready", "case.changed", "project.changed"),
        errors={404: ("unknown_step",), 409: ("not_claimer", "step_state")},
        tag="workflows",
    ),
    query(
        "joint_step.inbox",
        "The joint steps ready or claimed: a clerk's and a leader's department's, all of the "
        "hall for supervision and the admin, with their due instants and case numbers",
        inbox,
        JOINT_STEP_INBOX,
        "/api/halls/{hall}/inbox",
        HallParams,
        StepList,
        tag="workflows",
    ),
    query(
        "joint_step.list",
        "A joint case's steps, with their states and clocks",
        case_steps,
        CASE_READ,
        "/api/cases/{case_id}/steps",
        StepCaseParams,
        StepList,
        {404: ("unknown_case",)},
        tag="workflows",
    ),
)

CAPABILITY = Capability(
    "workflows", operations=OPERATIONS + STEP_OPERATIONS, events=EVENTS, timers=TIMERS
)
