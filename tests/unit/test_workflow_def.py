"""Workflow definitions as data (server/domain/workflow_def.py): the shape, and the meaning
judged against a hall: departments and windows that exist, waits inside a stage that do not go
round, and the critical path (the longest chain of step limits through the serial stages)
within the overall limit. A working day is 7 working hours here (09-12, 13-17)."""

from __future__ import annotations

import copy

import pytest
from pydantic import ValidationError

from server.demo_workflows import COMPANY_SETUP, CONSTRUCTION_PROJECT
from server.domain.errors import Invalid
from server.domain.workflow_def import WorkflowDefinition, check, critical_path

DAY = 7 * 3600
DEPARTMENTS = {
    code: code
    for code in (
        "amr",
        "psb",
        "hrss",
        "tax",
        "ndrc",
        "planning",
        "env",
        "civildef",
        "fire",
        "housing",
    )
}
WINDOWS = {1: "amr", 89: "planning"}


def definition(raw: dict) -> WorkflowDefinition:
    return WorkflowDefinition.model_validate(raw)


def judged(raw: dict):
    return check(definition(raw), DEPARTMENTS, WINDOWS, DAY)


def test_the_company_bundle_runs_its_four_steps_side_by_side_after_the_licence():
    path = judged(COMPANY_SETUP)
    # the licence (4 h), then the longest of code 2 h, seal, social, tax 4 h each
    assert path.seconds == 8 * 3600
    assert path.steps == ("licence", "seal")  # the first of the equally long
    assert path.seconds <= definition(COMPANY_SETUP).limit.seconds(DAY)  # 2 working days


def test_the_project_runs_its_four_stages_one_after_another():
    path = judged(CONSTRUCTION_PROJECT)
    # filing 3 + eia 10; then the longest of stage 2 (7); permit 5; then 7 + filing 3
    assert path.seconds == (3 + 10 + 7 + 5 + 7 + 3) * DAY
    assert path.steps == (
        "filing",
        "eia",
        "works-permit",
        "build-permit",
        "fire-check",
        "completion-filing",
    )


def test_a_critical_path_beyond_the_overall_limit_is_refused_with_the_path_named():
    raw = copy.deepcopy(COMPANY_SETUP)
    raw["limit"] = {"amount": 7, "unit": "working_hour"}
    with pytest.raises(Invalid) as err:
        judged(raw)
    assert err.value.code == "critical_path_exceeds"
    assert "设立登记（一审制） → 公章刻制备案" in err.value.message
    assert "8 个工作小时" in err.value.message and "7 个工作小时" in err.value.message
    raw["limit"] = {"amount": 8, "unit": "working_hour"}  # exactly the path: allowed
    assert judged(raw).seconds == 8 * 3600


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda d: d.update(lead_department="nobody"), "unknown_department"),
        (lambda d: d.update(pickup_window=999), "unknown_window"),
        (lambda d: d["stages"][0]["steps"][1].update(department="nobody"), "unknown_department"),
        (lambda d: d["stages"][0]["steps"][1].update(code="licence"), "duplicate_step"),
        (lambda d: d["stages"][0]["steps"][1].update(after=["nothing"]), "unknown_step"),
        (
            lambda d: d["stages"][0]["steps"][0].update(after=["code"]),  # licence <-> code
            "step_cycle",
        ),
    ],
)
def test_a_definition_that_does_not_hold_together_is_refused(change, code):
    raw = copy.deepcopy(COMPANY_SETUP)
    change(raw)
    with pytest.raises(Invalid) as err:
        judged(raw)
    assert err.value.code == code


def test_a_later_stage_cannot_wait_for_a_step_of_an_earlier_one_by_name():
    raw = copy.deepcopy(CONSTRUCTION_PROJECT)
    raw["stages"][1]["steps"][0]["after"] = ["filing"]  # stage order says it already
    with pytest.raises(Invalid) as err:
        critical_path(definition(raw), DAY)
    assert err.value.code == "unknown_step"
    assert "不在同一阶段「建设工程规划许可」中" in err.value.message


def test_the_shape_is_checked_field_by_field():
    for bad in (
        {**COMPANY_SETUP, "kind": "other"},
        {**COMPANY_SETUP, "limit": {"amount": 0, "unit": "working_day"}},
        {**COMPANY_SETUP, "limit": {"amount": 2, "unit": "calendar_day"}},
        {**COMPANY_SETUP, "stages": []},
        {**COMPANY_SETUP, "surprise": 1},
        {**COMPANY_SETUP, "code": "Not A Code"},
    ):
        with pytest.raises(ValidationError):
            definition(bad)
