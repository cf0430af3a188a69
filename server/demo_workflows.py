"""The demo city's two workflow definitions (issue 10), in the post-2018 departments of the
demo (市场监管 took over 质监's codes; 自然资源和规划 took over 国土's land planning):

- 多证联办 `company-setup`: a new company's licence at the 市场监管 window (one intake, every
  material once), then in parallel its code, its seal (公安), social insurance (人社) and tax
  (税务), all picked up at one window; promised within 2 working days.
- 一表通 `construction-project`: a construction project's approvals as four serial stages
  (建设用地规划许可, 建设工程规划许可, 施工许可, 竣工验收备案) across 发改, 规划, 生态环境, 人防,
  消防 and 住建; materials named alike across stages are the project's one store."""

from __future__ import annotations

from typing import Any, Final


def _step(
    code: str,
    name: str,
    department: str,
    amount: int,
    unit: str,
    *,
    mode: str = "copy_notice",
    after: tuple[str, ...] = (),
    issues: tuple[str, ...] = (),
    materials: tuple[str, ...] = (),
) -> dict[str, Any]:
    return {
        "code": code,
        "name": name,
        "department": department,
        "mode": mode,
        "limit": {"amount": amount, "unit": unit},
        "after": list(after),
        "issues": list(issues),
        "materials": list(materials),
    }


COMPANY_SETUP: Final[dict[str, Any]] = {
    "code": "company-setup",
    "name": "企业开办多证联办",
    "kind": "bundle",
    "limit": {"amount": 2, "unit": "working_day"},
    "lead_department": "amr",
    "pickup_window": 1,
    # 7 before: the licence, code, seal, social insurance and tax each at their own office,
    # and the licence and seal fetched again (the hall's figure)
    "baseline_visits": 7,
    "deferrable": ["银行开户信息"],
    "stages": [
        {
            "code": "setup",
            "item": "amr-001",
            "name": "企业开办",
            "steps": [
                _step(
                    "licence",
                    "设立登记（一审制）",
                    "amr",
                    4,
                    "working_hour",
                    issues=("营业执照",),
                    materials=(
                        "公司登记（备案）申请书",
                        "公司章程",
                        "股东主体资格证明",
                        "法定代表人、董事、监事和经理的任职文件及身份证明",
                        "住所使用证明",
                    ),
                ),
                _step(
                    "code",
                    "统一社会信用代码赋码",
                    "amr",
                    2,
                    "working_hour",
                    after=("licence",),
                    issues=("代码信息回执",),
                ),
                _step(
                    "seal",
                    "公章刻制备案",
                    "psb",
                    4,
                    "working_hour",
                    after=("licence",),
                    issues=("公章", "财务章", "法定代表人名章"),
                    materials=("法定代表人身份证明",),
                ),
                _step(
                    "social",
                    "社会保险登记",
                    "hrss",
                    4,
                    "working_hour",
                    after=("licence",),
                    issues=("社会保险登记证明",),
                    materials=("银行开户信息",),
                ),
                _step(
                    "tax",
                    "税务登记与发票申领",
                    "tax",
                    4,
                    "working_hour",
                    after=("licence",),
                    issues=("税务登记信息确认", "首批发票"),
                    materials=("财务负责人身份证明", "银行开户信息"),
                ),
            ],
        }
    ],
}

_PROJECT_BASICS = ("项目立项（备案）文件", "建设单位营业执照", "授权委托书")

CONSTRUCTION_PROJECT: Final[dict[str, Any]] = {
    "code": "construction-project",
    "name": "工程建设项目一表通",
    "kind": "project",
    "limit": {"amount": 60, "unit": "working_day"},
    "lead_department": "planning",
    "pickup_window": 89,
    "deferrable": ["环境影响报告表", "监理合同", "竣工测量成果"],
    "stages": [
        {
            "code": "land-planning",
            "item": "planning-002",
            "limit": {"amount": 15, "unit": "working_day"},
            "name": "建设用地规划许可",
            "steps": [
                _step(
                    "filing",
                    "项目立项备案",
                    "ndrc",
                    3,
                    "working_day",
                    issues=("项目备案证明",),
                    materials=_PROJECT_BASICS,
                ),
                _step(
                    "land-permit",
                    "建设用地规划许可",
                    "planning",
                    7,
                    "working_day",
                    after=("filing",),
                    issues=("建设用地规划许可证",),
                    materials=(*_PROJECT_BASICS, "用地红线图", "国有土地使用权出让合同"),
                ),
                _step(
                    "eia",
                    "环境影响评价审批",
                    "env",
                    10,
                    "working_day",
                    after=("filing",),
                    issues=("环评批复",),
                    materials=(*_PROJECT_BASICS, "环境影响报告表"),
                ),
            ],
        },
        {
            "code": "works-planning",
            "item": "planning-003",
            "limit": {"amount": 10, "unit": "working_day"},
            "name": "建设工程规划许可",
            "steps": [
                _step(
                    "works-permit",
                    "建设工程规划许可",
                    "planning",
                    7,
                    "working_day",
                    mode="joint_review",
                    issues=("建设工程规划许可证",),
                    materials=(*_PROJECT_BASICS, "建设工程设计方案", "用地红线图"),
                ),
                _step(
                    "civil-defence",
                    "人防工程设计审查",
                    "civildef",
                    5,
                    "working_day",
                    mode="joint_review",
                    issues=("人防设计审查意见",),
                    materials=("建设工程设计方案", "人防工程设计文件"),
                ),
                _step(
                    "fire-design",
                    "消防设计审查",
                    "fire",
                    7,
                    "working_day",
                    mode="joint_review",
                    issues=("消防设计审查意见书",),
                    materials=("建设工程设计方案", "消防设计文件"),
                ),
            ],
        },
        {
            "code": "construction",
            "item": "housing-001",
            "limit": {"amount": 7, "unit": "working_day"},
            "name": "施工许可",
            "steps": [
                _step(
                    "build-permit",
                    "建筑工程施工许可",
                    "housing",
                    5,
                    "working_day",
                    issues=("建筑工程施工许可证",),
                    materials=(
                        *_PROJECT_BASICS,
                        "建设工程规划许可证",
                        "施工图审查合格书",
                        "施工合同",
                        "监理合同",
                    ),
                ),
            ],
        },
        {
            "code": "completion",
            "item": "housing-002",
            "limit": {"amount": 15, "unit": "working_day"},
            "name": "竣工验收备案",
            "steps": [
                _step(
                    "planning-check",
                    "规划条件核实",
                    "planning",
                    5,
                    "working_day",
                    mode="joint_review",
                    issues=("规划核实意见",),
                    materials=("竣工测量成果",),
                ),
                _step(
                    "fire-check",
                    "消防验收",
                    "fire",
                    7,
                    "working_day",
                    mode="joint_review",
                    issues=("消防验收意见书",),
                    materials=("消防设计文件", "消防验收申请表"),
                ),
                _step(
                    "civil-defence-check",
                    "人防工程竣工验收备案",
                    "civildef",
                    5,
                    "working_day",
                    mode="joint_review",
                    issues=("人防验收备案表",),
                    materials=("人防工程设计文件",),
                ),
                _step(
                    "completion-filing",
                    "竣工验收备案",
                    "housing",
                    3,
                    "working_day",
                    after=("planning-check", "fire-check", "civil-defence-check"),
                    issues=("竣工验收备案表",),
                    materials=("工程竣工验收报告", "施工合同"),
                ),
            ],
        },
    ],
}

DEMO_WORKFLOWS: Final = (COMPANY_SETUP, CONSTRUCTION_PROJECT)
