"""一表通 screens in Chromium: the project page (/project?no=…) of a project whose first stage
was accepted at the 规划 window over the API, with the EIA report left under 容缺: its four
stages, the first one's case and steps at their departments (the EIA step 等待补交材料), the
material store (the report 容缺待补), the overall clock and what the next stage will ask for; the
发改 filing completed over the API shows on the page within 1 s. And 市县联动: the city
supervisor's wall lists a project accepted at the county hall 莒县 within 1 s, with the county's
name, and its row leads to the project's page."""

from __future__ import annotations

from playwright.async_api import expect

from server import demo_hall
from tests.browser.conftest import collect_errors
from tests.cases.helpers import at, use_clock
from tests.conftest import login
from tests.workflows.helpers import (
    BUILDER,
    NAME,
    Windows,
    intake,
    open_project,
    step_command,
    steps_of,
    work_stage,
)

HD = {"width": 1600, "height": 1000}
WITHIN_MS = 1000


async def test_the_project_page_shows_the_stages_and_store_and_a_step_done_live(
    live, http, db, new_context
):
    errors: list[str] = []
    clock = use_clock(live, at("2026-12-07 09:30"))
    windows = Windows(db)
    lead = await windows.token("planning")
    case = await open_project(http, lead, deferred="环境影响报告表")
    project_no = case["project_no"]

    ctx = await new_context(live.url, lead, viewport=HD)
    page = await ctx.new_page()
    collect_errors(page, errors)
    await page.goto(f"{live.url}/project?no={project_no}")
    await expect(page.locator("#conn")).to_have_text("实时")
    await expect(page.locator("#summary h1")).to_have_text(NAME)
    await expect(page.locator("#project-no")).to_have_text(project_no)
    await expect(page.locator("#project-clock")).to_contain_text("总时限 60 个工作日")
    stages = page.locator("#stages > li")
    await expect(stages).to_have_count(4)
    await expect(stages.locator(".p-stage-name")).to_have_text(
        ["建设用地规划许可", "建设工程规划许可", "施工许可", "竣工验收备案"]
    )
    first = page.locator("#stages > li[data-stage='1']")
    await expect(first).to_have_attribute("data-status", "current")
    await expect(first).to_contain_text(case["case_no"])
    await expect(first).to_contain_text("已受理")
    await expect(first).to_contain_text("剩余 15 个工作日")
    await expect(page.locator("#stages > li[data-stage='2']")).to_contain_text("未受理")
    filing = first.locator("li[data-step='filing']")
    await expect(filing).to_contain_text("待办理")
    await expect(filing).to_contain_text("发展和改革委员会")
    eia_step = first.locator("li[data-step='eia']")
    await expect(eia_step).to_contain_text("等待补交材料")
    await expect(eia_step).to_contain_text("待补交：环境影响报告表")
    # the one material store: each with the stage that took it; the report deferred
    report = page.locator("#materials tr[data-material='环境影响报告表']")
    await expect(report).to_contain_text("容缺待补")
    await expect(report).to_contain_text("第 1 阶段")
    red_line = page.locator("#materials tr[data-material='用地红线图']")
    await expect(red_line).to_contain_text("已收取")
    await expect(page.locator("#fees-total")).to_have_text("¥0.00")
    # the next stage cannot be taken before this one is done
    await expect(page.locator("#next-panel")).to_be_hidden()

    # the filing done at 发改's window: on the page within a second, the permit ready behind it
    clock.set(at("2026-12-07 10:30"))
    steps = await steps_of(http, lead, case["case_id"])
    ndrc = await windows.token("ndrc")
    await step_command(http, ndrc, steps["filing"]["step_id"], "claim")
    await expect(filing).to_contain_text("办理中", timeout=WITHIN_MS)
    await step_command(http, ndrc, steps["filing"]["step_id"], "complete", {"note": "同意"})
    await expect(filing).to_contain_text("已办结", timeout=WITHIN_MS)
    await expect(filing).to_contain_text("2026-12-07 10:30 办结")
    await expect(first.locator("li[data-step='land-permit']")).to_contain_text("待办理")
    await expect(first.locator("li[data-step='land-permit']")).to_contain_text("自然资源")
    await expect(first).to_contain_text("已办结 1/3 个环节")
    await expect(eia_step).to_contain_text("等待补交材料")
    assert errors == []


async def test_the_city_wall_shows_a_county_project_within_a_second(live, http, db, new_context):
    """市县联动: project.changed of a 莒县 project reaches the city's stream; the city
    supervisor's panel 一表通项目 lists it with the county's name, and links to its page."""
    errors: list[str] = []
    use_clock(live, at("2026-12-07 09:30"))
    county = Windows(db, "juxian")
    lead = await county.token("planning")
    county_name = await db.fetchval("select name from hall where code = 'juxian'")

    supervisor = (await login(http, "supervisor1"))["token"]
    ctx = await new_context(live.url, supervisor, viewport=HD)
    page = await ctx.new_page()
    collect_errors(page, errors)
    await page.goto(f"{live.url}/supervision")
    await expect(page.locator("#conn")).to_have_text("实时")
    await expect(page.locator("#projects")).to_contain_text("没有在办的一表通项目")

    case = await intake(
        http,
        lead,
        hall="juxian",
        workflow="construction-project",
        project_name="莒县城南污水处理厂项目",
        applicant=BUILDER,
    )
    row = page.locator(f"#projects tr[data-project='{case['project_no']}']")
    await expect(row).to_be_visible(timeout=WITHIN_MS)
    await expect(row).to_contain_text(county_name)
    await expect(row).to_contain_text("莒县城南污水处理厂项目")
    await expect(row).to_contain_text("第 1/4 阶段 · 建设用地规划许可")
    await expect(row).to_contain_text("已受理")
    await expect(page.locator("#projects-note")).to_have_text("在办 1 个")

    # the row leads to the project's page, which the city's supervisor reads live
    await row.locator("a").click()
    await expect(page).to_have_url(f"{live.url}/project?no={case['project_no']}")
    await expect(page.locator("#summary")).to_contain_text(county_name)
    await expect(page.locator("#stages > li[data-stage='1']")).to_contain_text(case["case_no"])
    await expect(page.locator("#conn")).to_have_text("实时")
    assert errors == []


async def test_track_shows_the_project_above_the_steps(live, http, db, new_context):
    """/track of a stage case: the project's number and name, and its four stages, this one
    marked, above the stage's own steps; the stage done shows within a second."""
    errors: list[str] = []
    clock = use_clock(live, at("2026-12-07 09:30"))
    windows = Windows(db)
    lead = await windows.token("planning")
    case = await intake(
        http, lead, workflow="construction-project", project_name=NAME, applicant=BUILDER
    )
    ctx = await new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = await ctx.new_page()
    collect_errors(page, errors)
    await page.goto(f"{live.url}/track?code={case['query_code']}")
    await expect(page.locator("#conn")).to_have_text("实时更新")
    block = page.locator("#case-project")
    await expect(block).to_contain_text(f"工程建设项目 · {NAME}")
    await expect(block).to_contain_text(case["project_no"])
    await expect(block).to_contain_text("本件为第 1/4 阶段，已办结 0 个阶段")
    await expect(block.locator("li[data-stage]")).to_have_count(4)
    await expect(block.locator("li[data-stage='1']")).to_contain_text("已受理 · 本件")
    await expect(block.locator("li[data-stage='2']")).to_contain_text("未受理")
    # above the joint steps
    assert await page.evaluate(
        "() => !!(document.querySelector('#case-project').compareDocumentPosition("
        "document.querySelector('#case-joint')) & Node.DOCUMENT_POSITION_FOLLOWING)"
    )
    clock.set(at("2026-12-07 10:30"))
    await work_stage(http, windows, case["case_id"])
    await expect(block.locator("li[data-stage='1']")).to_have_attribute(
        "data-state", "done", timeout=WITHIN_MS
    )
    await expect(block).to_contain_text("已办结 1 个阶段")
    assert BUILDER["name"] not in await block.inner_text()
    assert errors == []


async def test_the_project_page_is_for_staff_only(live, new_context):
    """A visitor goes to the login, which brings them back; an unknown number says so."""
    page = await (await new_context()).new_page()
    await page.goto(f"{live.url}/project?no=XM-RIZHAO-2026-09999")
    await expect(page).to_have_url(f"{live.url}/login?next=%2Fproject%3Fno%3DXM-RIZHAO-2026-09999")
    await page.get_by_label("用户名").fill("supervisor1")
    await page.get_by_label("密码").fill(demo_hall.password_for("supervisor1"))
    await page.locator("#login-submit").click()
    await expect(page).to_have_url(f"{live.url}/project?no=XM-RIZHAO-2026-09999")
    await expect(page.locator("#error")).to_contain_text("XM-RIZHAO-2026-09999")
