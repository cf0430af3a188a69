"""一表通 projects (issue 10), declared: the project record (its stages, material store, fees
and clocks), a hall's projects (a city's with its county halls'), what a stage's intake asks
for, the project's live event, and the credit blacklist that bars 容缺 (server/domain/projects.py,
server/domain/credit.py). A stage is accepted by case.accept with `workflow` and `project`."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from server.catalogue.params import HallParams, Params
from server.catalogue.spine import Call, Capability, EventType, Operation, Reply, query
from server.domain import credit, projects
from server.domain.policies import CREDIT_READ, HALL_ADMIN, PROJECT_READ, WORKFLOW_READ

PROJECT_NO = r"^XM-[A-Z0-9_-]{1,40}-\d{4}-\d{5}$"


class ProjectParams(Params):
    project_no: str = Field(pattern=PROJECT_NO)


class ProjectListParams(HallParams):
    state: Literal["active", "completed"] | None = None


class IntakeParams(HallParams):
    code: str = Field(pattern=r"^[a-z0-9-]{2,40}$")
    project: str | None = Field(default=None, pattern=PROJECT_NO)


class CreditListParams(HallParams):
    # every flag ever set (lifted ones too), not only those on the list now
    all: bool = False


class CreditBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    applicant_name: str = Field(min_length=1, max_length=60)
    id_number: str | None = Field(default=None, max_length=20)
    blacklisted: bool
    reason: str = Field(default="", max_length=500)


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class ProjectReply(_Open):
    project_no: str
    name: str
    state: str
    stages: list[dict[str, Any]]
    materials: list[dict[str, Any]]
    fees: list[dict[str, Any]]
    clock: dict[str, Any]


class ProjectList(_Open):
    hall: str
    projects: list[dict[str, Any]]


class IntakeReply(_Open):
    workflow: str
    stage_no: int
    on_file: list[str]
    materials: list[dict[str, Any]]


class CreditReply(_Open):
    applicant_name: str
    blacklisted: bool


class CreditCommandReply(CreditReply):
    seq: list[int]


class CreditList(_Open):
    hall: str
    flags: list[dict[str, Any]]


class ProjectChanged(BaseModel):
    model_config = ConfigDict(extra="forbid")
    project_id: int
    project_no: str
    hall: str  # the project's hall (a county's, on its city's stream too)
    name: str
    workflow: str
    department: str  # the lead department: its windows take the next stage
    state: Literal["active", "completed"]
    transition: Literal["stage_accepted", "stage_completed", "completed"]
    stage_no: int
    stage_name: str
    stages_total: int
    case_id: int
    case_no: str
    case_state: str


async def get_project(call: Call, p: ProjectParams, body: None) -> dict[str, Any]:
    return await projects.get(call, p.project_no)


async def list_projects(call: Call, p: ProjectListParams, body: None) -> dict[str, Any]:
    return await projects.list_projects(call, p.hall, p.state)


async def intake(call: Call, p: IntakeParams, body: None) -> dict[str, Any]:
    return await projects.intake_preview(call, p.hall, p.code, p.project)


async def set_credit(call: Call, p: HallParams, body: CreditBody) -> Reply:
    data, events = await credit.set_flag(
        call, p.hall, body.applicant_name, body.id_number, body.blacklisted, body.reason
    )
    return Reply(data, events=events)


async def list_credit(call: Call, p: CreditListParams, body: None) -> dict[str, Any]:
    return await credit.list_flags(call, p.hall, p.all)


OPERATIONS: tuple[Operation, ...] = (
    query(
        "project.get",
        "A project (工程项目): its stages with their cases, steps and clocks, its one material "
        "store, its fees, the overall clock (the government's time against the flow's limit) "
        "and what the next stage's intake asks for",
        get_project,
        PROJECT_READ,
        "/api/projects/{project_no}",
        ProjectParams,
        ProjectReply,
        {404: ("unknown_project",)},
        tag="workflows",
    ),
    query(
        "project.list",
        "A hall's projects, newest first (?state=active|completed); a city's supervision and "
        "admin see its county halls' too (市县联动)",
        list_projects,
        PROJECT_READ,
        "/api/halls/{hall}/projects",
        ProjectListParams,
        ProjectList,
        tag="workflows",
    ),
    query(
        "workflow.intake",
        "What a workflow's intake asks for: a bundle's (or a new project's first stage's) "
        "materials, or an open project's next stage (?project=) with what is on file — asked "
        "only for what is new",
        intake,
        WORKFLOW_READ,
        "/api/halls/{hall}/workflows/{code}/intake",
        IntakeParams,
        IntakeReply,
        {
            404: ("unknown_workflow", "unknown_project"),
            409: ("project_complete", "stage_not_ready"),
        },
        tag="workflows",
    ),
    Operation(
        "credit.set",
        "Put an applicant on the credit blacklist (失信名单: no 容缺受理 for them), with its basis, "
        "or take them off it; one list for a city and its county halls",
        "command",
        set_credit,
        HALL_ADMIN,
        http=("PUT", "/api/halls/{hall}/credit-flags"),
        params=HallParams,
        body=CreditBody,
        response=CreditCommandReply,
        errors={400: ("reason_required", "invalid_id_number")},
        tag="workflows",
    ),
    query(
        "credit.list",
        "The applicants on the credit blacklist (?all=true: every flag set, lifted ones too)",
        list_credit,
        CREDIT_READ,
        "/api/halls/{hall}/credit-flags",
        CreditListParams,
        CreditList,
        tag="workflows",
    ),
)

EVENTS = (
    EventType(
        "project.changed",
        "A project's stage was accepted or completed, or the project completed: to its hall "
        "and, for a county hall's project, to its city (市县联动)",
        ProjectChanged,
        ("department", "case"),
        {
            "project_id": 1,
            "project_no": "XM-RIZHAO-2026-00001",
            "hall": "rizhao",
            "name": "日照市第一中学新校区建设项目",
            "workflow": "construction-project",
            "department": "planning",
            "state": "active",
            "transition": "stage_accepted",
            "stage_no": 1,
            "stage_name": "建设用地规划许可",
            "stages_total": 4,
            "case_id": 1,
            "case_no": "RIZHAO-20261207-00001",
            "case_state": "accepted",
        },
    ),
)

CAPABILITY = Capability("projects", operations=OPERATIONS, events=EVENTS)
