"""The figures of a workflow's joint cases (联办成效, issue 10), declared: elapsed times overall
and per step, visits against the baseline, materials requested, as averages and distributions
(server/domain/workflow_figures.py, whose docstring defines every figure)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from server.catalogue.params import HallParams
from server.catalogue.spine import Call, Capability, Operation, query
from server.domain import workflow_figures
from server.domain.policies import METRICS_READ


class FiguresParams(HallParams):
    code: str = Field(pattern=r"^[a-z0-9-]{2,40}$")
    from_: date | None = Field(default=None, alias="from", description="YYYY-MM-DD")
    to: date | None = Field(default=None, description="YYYY-MM-DD")


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class LimitReply(_Closed):
    amount: int
    unit: Literal["working_day", "working_hour"]


class WorkflowRef(_Closed):
    code: str
    name: str
    kind: Literal["bundle", "project"]
    version: int
    limit: LimitReply
    limit_hours: float = Field(description="the overall limit in working hours")
    baseline_visits: int | None


class CaseCounts(_Closed):
    accepted: int
    completed: int = Field(description="completed or delivered")
    delivered: int
    open: int
    withdrawn: int
    refused: int


class Summary(_Closed):
    avg: float | None
    p50: float | None
    p90: float | None
    max: float | None


class Bucket(_Closed):
    from_: float = Field(alias="from")
    to: float | None = Field(description="null: the bucket past the limit")
    count: int


class Hours(Summary):
    histogram: list[Bucket]


class Elapsed(_Closed):
    working_hours: Hours
    calendar_hours: Hours
    on_time: int
    on_time_share: float | None


class StepFigures(_Closed):
    stage_no: int
    code: str
    name: str
    department: str
    mode: Literal["copy_notice", "joint_review"]
    limit: LimitReply | None = Field(description="null: a step of an older version only")
    done: int
    consented: int
    overruns: int
    working_hours: Summary


class Distribution(_Closed):
    avg: float | None
    distribution: dict[str, int]


class Visits(Distribution):
    baseline: int | None


class ProjectFigures(_Closed):
    """一表通: the projects opened in the range."""

    opened: int
    completed: int
    stages: Distribution = Field(description="{stages accepted: projects}")
    working_days: Summary = Field(description="the project's clock over completed projects")
    visits: Distribution
    materials_requested: Distribution
    requested_twice: int = Field(description="projects where two stages asked for one material")


class FiguresReply(_Closed):
    hall: str
    from_: str = Field(alias="from")
    to: str
    workflow: WorkflowRef
    cases: CaseCounts
    elapsed: Elapsed
    steps: list[StepFigures]
    visits: Visits
    materials_requested: Distribution
    projects: ProjectFigures | None = Field(description="null for a bundle")


async def get_figures(call: Call, p: FiguresParams, body: None) -> dict[str, Any]:
    return await workflow_figures.workflow_figures(call, p.hall, p.code, p.from_, p.to)


OPERATIONS: tuple[Operation, ...] = (
    query(
        "workflow.figures",
        "The figures of a workflow's joint cases accepted in a range (default: the last 30 "
        "days): counts, elapsed working and calendar hours (avg, p50, p90, max, histogram), the "
        "on-time share, per step elapsed hours, consents and overruns, visits against the "
        "baseline, materials requested",
        get_figures,
        METRICS_READ,
        "/api/halls/{hall}/workflows/{code}/figures",
        FiguresParams,
        FiguresReply,
        errors={400: ("invalid_range",), 404: ("unknown_workflow",)},
        tag="workflows",
    ),
)

CAPABILITY = Capability("workflow_figures", operations=OPERATIONS)
