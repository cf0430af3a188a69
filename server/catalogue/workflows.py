"""Workflows that flow between windows (issue 10), declared: the versioned definitions of
bundles (联办套餐) and project flows (一表通) — read them, and publish a new version
(server/domain/workflows.py, checked by server/domain/workflow_def.py)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from server.catalogue.params import HallParams
from server.catalogue.spine import Call, Capability, Operation, Reply, query
from server.demo_workflows import COMPANY_SETUP
from server.domain import workflows
from server.domain.policies import HALL_ADMIN, WORKFLOW_READ
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
            ),
            409: ("defined_by_city",),
        },
        tag="workflows",
    ),
)

CAPABILITY = Capability("workflows", operations=OPERATIONS)
