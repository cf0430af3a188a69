"""A workflow definition as data (issue 10): a bundle (联办套餐, e.g. 多证联办: one intake, the
departments' steps in parallel, one pick-up) or a project flow (一表通: serial stages of
approvals across departments). Pure: the shape is a pydantic model (the API's body and the
stored JSON are the same), `check` judges its meaning against the hall.

A definition
    code, name, kind        'bundle' | 'project'
    limit                   the overall promised limit {amount, unit}: working days or hours
    lead_department         the department whose window takes the intake (一审制: every
                            material once)
    pickup_window           the one window the applicant picks everything up at
    deferrable              the materials that may be accepted missing under 容缺 (the
                            applicant's signed commitment); every other material is key
    baseline_visits         how many times an applicant came to the hall for the same results
                            before the bundle (the figures show it beside the visits now)
    stages                  in order, each a list of steps; a stage starts when the one before
                            it is done (a bundle is one stage). A project's stage is accepted
                            as a case of its own, promised within the stage's `limit` (its
                            critical path when not given)
A step
    code, name, department  the department whose windows work it
    mode                    'copy_notice' (抄告: the lead informs, the department processes and
                            copies its result back) | 'joint_review' (联审: a department silent
                            past its limit is recorded as having consented, 超时默许)
    limit                   its own limit {amount, unit}
    after                   steps of its own stage it waits for (the others run in parallel)
    issues                  what it issues (执照, 印章, 许可证…)
    materials               the materials it needs (by name: a project's store keeps each once)

`check` refuses (Invalid, 400, the field and the thing named) a definition whose departments,
window or dependencies do not exist, whose dependencies go round, or whose critical path (the
longest chain of step limits through the stages) exceeds the overall limit. Limits are compared
in working time: a working day is the hall's working-day length."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from server.domain.errors import Invalid

Unit = Literal["working_day", "working_hour"]
Mode = Literal["copy_notice", "joint_review"]
UNIT_NAMES = {"working_day": "个工作日", "working_hour": "个工作小时"}

_CODE = r"^[a-z0-9-]{2,40}$"


class Limit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: int = Field(ge=1, le=1000)
    unit: Unit

    def seconds(self, working_day_s: int) -> int:
        return self.amount * (working_day_s if self.unit == "working_day" else 3600)

    def text(self) -> str:
        return f"{self.amount} {UNIT_NAMES[self.unit]}"


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=_CODE)
    name: str = Field(min_length=1, max_length=60)
    department: str = Field(min_length=1, max_length=40)
    mode: Mode = "copy_notice"
    limit: Limit
    after: list[str] = Field(default_factory=list, max_length=20)
    issues: list[str] = Field(default_factory=list, max_length=20)
    materials: list[str] = Field(default_factory=list, max_length=60)


class Stage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=_CODE)
    name: str = Field(min_length=1, max_length=60)
    steps: list[Step] = Field(min_length=1, max_length=40)
    limit: Limit | None = None
    # the item (事项) the stage's case is accepted as, whichever department owns it (一窗受理 at
    # the lead window: its fees are that item's); by default the item the lead window chooses
    item: str | None = Field(default=None, pattern=_CODE)


class WorkflowDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=_CODE)
    name: str = Field(min_length=1, max_length=60)
    kind: Literal["bundle", "project"]
    limit: Limit
    lead_department: str = Field(min_length=1, max_length=40)
    pickup_window: int = Field(ge=1, le=999)
    stages: list[Stage] = Field(min_length=1, max_length=12)
    deferrable: list[str] = Field(default_factory=list, max_length=60)
    baseline_visits: int | None = Field(default=None, ge=1, le=100)

    def steps(self) -> list[Step]:
        return [s for stage in self.stages for s in stage.steps]

    def stage_materials(self, stage_no: int) -> list[str]:
        """What the intake of stage `stage_no` (from 1) collects: its steps' materials, each
        once, in the order first named."""
        names: dict[str, None] = {}
        for s in self.stages[stage_no - 1].steps:
            names.update(dict.fromkeys(s.materials))
        return list(names)


@dataclass(frozen=True)
class CriticalPath:
    seconds: int  # working time along it
    steps: tuple[str, ...]  # its step codes, in order


def _bad(message: str, code: str, field: str) -> Invalid:
    return Invalid(message, code=code, field=field)


def check(
    d: WorkflowDefinition,
    departments: Mapping[str, str],
    windows: Mapping[int, str],
    working_day_s: int,
    items: AbstractSet[str] | None = None,
) -> CriticalPath:
    """Judges the definition against the hall: `departments` code -> name, `windows` window
    number -> its department's code. Returns the critical path; Invalid when anything is wrong."""
    if d.lead_department not in departments:
        raise _bad(f"牵头部门 {d.lead_department} 不存在", "unknown_department", "lead_department")
    if d.pickup_window not in windows:
        raise _bad(f"取件窗口 {d.pickup_window} 号不存在", "unknown_window", "pickup_window")
    seen: set[str] = set()
    for stage in d.stages:
        for s in stage.steps:
            if s.code in seen:
                raise _bad(f"环节编码 {s.code} 重复", "duplicate_step", "stages")
            seen.add(s.code)
            if s.department not in departments:
                raise _bad(
                    f"环节「{s.name}」的部门 {s.department} 不存在", "unknown_department", "stages"
                )
    if len({st.code for st in d.stages}) != len(d.stages):
        raise _bad("阶段编码重复", "duplicate_stage", "stages")
    for stage in d.stages:
        if items is not None and stage.item is not None and stage.item not in items:
            raise _bad(f"阶段「{stage.name}」的事项 {stage.item} 不存在", "unknown_item", "stages")
    named = {m for s in d.steps() for m in s.materials}
    for m in d.deferrable:
        if m not in named:
            raise _bad(f"容缺材料「{m}」不是任何环节所需的材料", "unknown_material", "deferrable")
    path = critical_path(d, working_day_s)
    for stage in d.stages:
        own = _through_stage(stage, CriticalPath(0, ()), working_day_s)
        if stage.limit is not None and own.seconds > stage.limit.seconds(working_day_s):
            raise _bad(
                f"阶段「{stage.name}」的关键路径共 {own.seconds / 3600:g} 个工作小时，"
                f"超过阶段时限 {stage.limit.text()}",
                "critical_path_exceeds",
                "stages",
            )
    if path.seconds > d.limit.seconds(working_day_s):
        names = {s.code: s.name for s in d.steps()}
        chain = " → ".join(names[c] for c in path.steps)
        hours = path.seconds / 3600
        raise _bad(
            f"关键路径（{chain}）共 {hours:g} 个工作小时，超过总时限 {d.limit.text()}",
            "critical_path_exceeds",
            "limit",
        )
    return path


def stage_limit(d: WorkflowDefinition, stage_no: int, working_day_s: int) -> Limit:
    """What the case of stage `stage_no` (from 1) is promised within: a bundle's one stage has
    the overall limit; a project's stage its own limit, or else its critical path (in working
    hours when that is under a working day, else in whole working days, rounded up)."""
    stage = d.stages[stage_no - 1]
    if stage.limit is not None:
        return stage.limit
    if len(d.stages) == 1:
        return d.limit
    seconds = _through_stage(stage, CriticalPath(0, ()), working_day_s).seconds
    if seconds < working_day_s:
        return Limit(amount=max(1, -(-seconds // 3600)), unit="working_hour")
    return Limit(amount=-(-seconds // working_day_s), unit="working_day")


def critical_path(d: WorkflowDefinition, working_day_s: int) -> CriticalPath:
    """The longest chain of step limits: within a stage along `after`, and each stage after
    the whole of the one before it. Invalid when a step waits for one not in its stage, or
    the waits go round."""
    path = CriticalPath(0, ())
    for stage in d.stages:
        path = _through_stage(stage, path, working_day_s)
    return path


def _through_stage(stage: Stage, before: CriticalPath, working_day_s: int) -> CriticalPath:
    """The longest chain through one stage, which starts where `before` ends."""
    steps = {s.code: s for s in stage.steps}
    for s in stage.steps:
        for a in s.after:
            if a not in steps:
                raise _bad(
                    f"环节「{s.name}」等待的 {a} 不在同一阶段「{stage.name}」中",
                    "unknown_step",
                    "stages",
                )
    done: dict[str, CriticalPath] = {}

    def finish(code: str, trail: tuple[str, ...]) -> CriticalPath:
        if code in trail:
            raise _bad(
                f"阶段「{stage.name}」的环节相互等待：{' → '.join((*trail, code))}",
                "step_cycle",
                "stages",
            )
        if code not in done:
            waits = [finish(a, (*trail, code)) for a in steps[code].after]
            start = max([before, *waits], key=lambda p: p.seconds)
            done[code] = CriticalPath(
                start.seconds + steps[code].limit.seconds(working_day_s), (*start.steps, code)
            )
        return done[code]

    return max((finish(code, ()) for code in steps), key=lambda p: p.seconds)


__all__ = [
    "CriticalPath",
    "Limit",
    "Stage",
    "Step",
    "WorkflowDefinition",
    "check",
    "critical_path",
]
