"""/track on a joint case (多证联办), in Chromium on a phone-sized screen: the citizen follows the
case by the query code on the acceptance notice; the 市场监管 clerk completes the licence step
over the API, and within a second the page shows it 已办结 and the four steps after it 待办理,
side by side, each at its department, with its due time; when the four are done, the page
says where to pick everything up at once. Never the name of a clerk who worked a step."""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.browser.conftest import collect_errors
from tests.cases.helpers import accept, at, use_clock
from tests.queue_helpers import clerk_at_window
from tests.workflows.helpers import APPLICANT, WINDOW_OF, step_command, steps_of

PHONE = {"width": 390, "height": 844}
WITHIN_MS = 1000  # a step's change is on the open /track page within 1 s
FOLLOWERS = {
    "统一社会信用代码赋码": "市场监督管理局",
    "公章刻制备案": "公安局",
    "社会保险登记": "人力资源和社会保障局",
    "税务登记与发票申领": "税务局",
}


async def test_a_citizen_sees_the_licence_done_and_the_next_four_ready_within_a_second(
    live, http, db, new_context
):
    errors: list[str] = []
    clock = use_clock(live, at("2026-12-07 10:00"))
    lead = await clerk_at_window(db, 1)
    case = await accept(http, lead, item="amr-001", workflow="company-setup", applicant=APPLICANT)
    steps = await steps_of(http, lead, case["case_id"])

    ctx = await new_context(viewport=PHONE, is_mobile=True)
    page = await ctx.new_page()
    collect_errors(page, errors)
    await page.goto(f"{live.url}/track?code={case['query_code']}")
    await expect(page.locator("#conn")).to_have_text("实时更新")
    joint = page.locator("#case-joint")
    await expect(joint).to_contain_text("联办环节 · 企业开办多证联办")
    await expect(joint).to_contain_text("共 5 个环节，已办结 0 个")

    def step(name: str):
        # the step whose name this is (a waiting step names the one it waits for too)
        return joint.locator(".j-step").filter(has=page.get_by_text(name, exact=True))

    licence = step("设立登记（一审制）")
    await expect(licence).to_contain_text("待办理")
    await expect(licence).to_contain_text("市场监督管理局")
    await expect(licence).to_contain_text("应于 2026-12-07 15:00 前办结")
    for name in FOLLOWERS:
        await expect(step(name)).to_contain_text("等待前序环节")
        await expect(step(name)).to_contain_text("待「设立登记（一审制）」办结后开始")
    await expect(joint).to_contain_text("4 个部门同时办理")

    clock.set(at("2026-12-07 10:30"))
    await step_command(http, lead, steps["licence"]["step_id"], "claim")
    await expect(licence).to_contain_text("办理中", timeout=WITHIN_MS)

    clock.set(at("2026-12-07 11:00"))
    await step_command(
        http,
        lead,
        steps["licence"]["step_id"],
        "complete",
        {"note": "准予", "issued": ["营业执照"]},
    )
    await expect(licence).to_contain_text("已办结", timeout=WITHIN_MS)
    for name, department in FOLLOWERS.items():
        await expect(step(name)).to_contain_text("待办理", timeout=WITHIN_MS)
        await expect(step(name)).to_contain_text(department)
        await expect(step(name)).to_contain_text(re.compile(r"应于 2026-12-07 1[46]:00 前办结"))
    await expect(licence).to_contain_text("2026-12-07 11:00 办结")
    await expect(joint).to_contain_text("共 5 个环节，已办结 1 个")
    await expect(page.locator("#case-advice")).to_have_count(0)

    # the four done at their departments' windows: the page says where to pick everything up
    clock.set(at("2026-12-07 14:00"))
    for code in ("code", "seal", "social", "tax"):
        token = await clerk_at_window(db, WINDOW_OF[code])
        await step_command(http, token, steps[code]["step_id"], "claim")
        await step_command(http, token, steps[code]["step_id"], "complete", {"note": "办结"})
    advice = page.locator("#case-advice")
    await expect(advice).to_have_text(
        "请到 1 号窗口一次领取：营业执照、代码信息回执、公章、财务章、法定代表人名章、"
        "社会保险登记证明、税务登记信息确认、首批发票",
        timeout=WITHIN_MS,
    )
    await expect(joint).to_contain_text("共 5 个环节，已全部办结")
    await expect(page.locator("#case-pickup")).to_contain_text("全部环节已办结，可以领取")

    # anonymous: no clerk who worked a step, no window that claimed one
    shown = await page.locator("body").inner_text()
    for username in [f"clerk{no:03d}" for no in WINDOW_OF.values()]:
        name = await db.fetchval("select display_name from staff where username = $1", username)
        assert name not in shown, name
    # (the last step's clerk, at 税务's window 18, approved and completed the parent: the case's
    # progress shows those moves, not that window)
    for no in (2, 18, 30, 42):
        assert f"{no} 号窗口" not in shown, no
    assert errors == []
