"""联办受理 on the window terminal, in Chromium, asserting what the clerks see:

- the 市场监管 clerk at window 1 takes a 多证联办 intake through the screen (a key material
  refused for 容缺 in place, in Chinese, its field marked; then 容缺 of the one deferrable
  material), while another case's step arrives live and the typing goes on undisturbed; the
  licence step is in the department's 联办待办 inbox;
- the issue's acceptance point: the 规划 clerk at window 89 accepts a new project's first stage
  (一表通) through the screen and the 项目立项备案 step is on the 发改 terminal (window 86) within
  a second;
- a later stage (stage 1's steps done over the API first) picked from the hall's projects shows
  what is already in the project's material store and asks only for the new materials.

The server's time is the controllable clock; a window that leads no workflow shows no 联办受理."""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.browser.conftest import open_window_terminal as open_terminal
from tests.cases.helpers import accept, at, use_clock
from tests.queue_helpers import clerk_at_window
from tests.workflows.helpers import (
    APPLICANT,
    BUILDER,
    FLOW,
    NAME,
    Windows,
    intake,
    steps_of,
    work_stage,
)

WITHIN_MS = 1000  # the lead window's intake puts a step on another department's terminal
CASE_NO = re.compile(r"RIZHAO-\d{8}-\d{5}")
PROJECT_NO = re.compile(r"XM-RIZHAO-2026-\d{5}")


async def test_a_bundle_intake_at_the_amr_window(live, http, db, new_context):
    errors: list[str] = []
    use_clock(live, at("2026-12-07 10:00"))
    lead = await clerk_at_window(db, 1)
    other = await clerk_at_window(db, 2)
    page = await open_terminal(new_context, live, lead, errors)
    joint = page.locator("#joint-accept")
    await expect(joint).to_be_visible()
    await page.keyboard.press("Shift+F8")
    dialog = page.locator("#joint-dialog")
    await expect(dialog).to_be_visible()
    # the one workflow 市场监管 leads, chosen; no project choice for a bundle
    await expect(dialog.locator("#joint-flows button")).to_have_count(1)
    await expect(dialog.locator("#joint-flows button")).to_contain_text("企业开办多证联办")
    await expect(dialog.locator("#joint-mode")).to_be_hidden()
    await expect(dialog.locator("#joint-stage")).to_contain_text("一次收齐全部材料")
    rows = dialog.locator("#joint-materials .c-mat-row")
    await expect(rows.first).to_be_visible()
    count = await rows.count()
    texts = [await rows.nth(i).locator(".c-mat-name").inner_text() for i in range(count)]
    # every material once (一审制): 银行开户信息 is asked by two steps, listed once
    assert sum("银行开户信息" in t for t in texts) == 1, texts
    assert any("公司章程" in t for t in texts), texts
    await expect(dialog.locator("#joint-onfile")).to_be_hidden()
    await expect(dialog.locator("#joint-deficiency-row")).to_be_visible()

    applicant = dialog.locator("#joint-applicant")
    await expect(applicant).to_be_focused()
    await page.keyboard.type("日照新材料")
    # another clerk's intake sends a step to this department meanwhile: the typing goes on
    second = await accept(http, other, workflow="company-setup", applicant=APPLICANT)
    licence2 = (await steps_of(http, other, second["case_id"]))["licence"]["step_id"]
    await expect(page.locator(f"#inbox-list li[data-step='{licence2}']")).to_have_count(
        1, timeout=WITHIN_MS
    )
    await page.keyboard.type("有限公司")
    await expect(applicant).to_be_focused()
    await expect(applicant).to_have_value("日照新材料有限公司")
    await dialog.locator("#joint-phone").fill("13800138001")

    # 容缺 of a key material: refused in place, in Chinese
    key = rows.filter(has_text="公司章程")
    await key.locator("select").select_option("missing")
    await dialog.locator("#joint-deficiency").check()
    await dialog.locator("#joint-due").fill("2026-12-08")
    await page.keyboard.press("Enter")
    await expect(dialog.locator("#joint-error")).to_have_text("关键材料不能容缺：公司章程")
    await expect(dialog.locator("#joint-materials select").first).to_have_attribute(
        "aria-invalid", "true"
    )
    await key.locator("select").select_option("submitted")
    bank = rows.filter(has_text="银行开户信息")
    await expect(bank.locator(".key")).to_have_text("可容缺")
    await bank.locator("select").select_option("missing")
    await bank.locator("input").fill("账户尚在开立")
    await dialog.locator("#joint-submit").click()

    done = dialog.locator("#joint-done")
    await expect(done).to_be_visible()
    await expect(done).to_contain_text("多证联办已受理")
    await expect(done.locator(".j-line")).to_have_text(CASE_NO)
    case_no = CASE_NO.search(await done.locator(".j-line").inner_text()).group(0)
    await expect(done).to_contain_text("设立登记（一审制） · 市场监督管理局 · 已推送，待认领")
    await expect(done).to_contain_text("公章刻制备案 · 公安局 · 待前序环节办结后推送")
    await page.keyboard.press("Enter")
    await expect(dialog).to_be_hidden()
    # the case is open in the panel; its licence step is in the department's inbox
    await expect(page.locator("#case-no")).to_have_text(case_no)
    await expect(page.locator("#message")).to_contain_text(f"已联办受理 {case_no}")
    row = page.locator("#inbox-list li", has_text=case_no)
    await expect(row.locator(".i-name")).to_have_text("设立登记（一审制）")
    await expect(row.locator(".i-state")).to_have_text("待认领")
    case = await db.fetchrow(
        "select id, workflow_code, deficiency_due from service_case where case_no = $1", case_no
    )
    assert case["workflow_code"] == "company-setup" and case["deficiency_due"] is not None
    deferred = await db.fetch(
        "select name from case_material where case_id = $1 and deferred", case["id"]
    )
    assert [r["name"] for r in deferred] == ["银行开户信息"]

    # a window whose department leads no workflow: no 联办受理
    psb = await open_terminal(new_context, live, await clerk_at_window(db, 30), errors)
    await expect(psb.locator("#case-accept")).to_be_visible()
    await expect(psb.locator("#joint-accept")).to_be_hidden()
    assert errors == []


async def test_a_new_projects_first_stage_reaches_the_ndrc_terminal_within_a_second(
    live, http, db, new_context
):
    errors: list[str] = []
    use_clock(live, at("2026-12-07 09:30"))
    planning = await clerk_at_window(db, 89)
    ndrc = await clerk_at_window(db, 86)
    ndrc_page = await open_terminal(new_context, live, ndrc, errors)
    await expect(ndrc_page.locator("#inbox-empty")).to_be_visible()
    await expect(ndrc_page.locator("#joint-accept")).to_be_hidden()  # 发改 leads none
    page = await open_terminal(new_context, live, planning, errors)
    await page.locator("#joint-accept").click()
    dialog = page.locator("#joint-dialog")
    await expect(dialog.locator("#joint-flows button")).to_contain_text("工程建设项目一表通")
    await expect(dialog.locator("#joint-mode")).to_be_visible()
    await expect(dialog.locator("#joint-mode [aria-checked='true']")).to_contain_text("新项目")
    await expect(dialog.locator("#joint-stage")).to_have_text(
        "第 1 阶段 / 共 4 阶段 · 建设用地规划许可"
    )
    await expect(dialog.locator("#joint-materials .c-mat-row")).to_have_count(
        len(FLOW.stage_materials(1))
    )
    await expect(dialog.locator("#joint-name")).to_be_focused()
    # no name: refused before anything is sent, the field marked
    await page.keyboard.press("Enter")
    await expect(dialog.locator("#joint-error")).to_have_text("请填写工程项目名称")
    await expect(dialog.locator("#joint-name")).to_have_attribute("aria-invalid", "true")
    await page.keyboard.type(NAME)
    await dialog.locator("#joint-applicant").fill(BUILDER["name"])
    await dialog.locator("#joint-phone").fill(BUILDER["phone"])
    await dialog.locator("#joint-submit").click()

    # the acceptance point: the 发改 terminal's inbox shows the filing step within 1 s
    filing = ndrc_page.locator("#inbox-list li", has_text="项目立项备案")
    await expect(filing).to_be_visible(timeout=WITHIN_MS)
    await expect(filing.locator(".i-name")).to_have_text("项目立项备案")
    await expect(filing.locator(".i-state")).to_have_text("待认领")
    await expect(filing.locator(".i-flow")).to_have_text("工程建设项目一表通")

    done = dialog.locator("#joint-done")
    await expect(done).to_contain_text("一表通已受理")
    await expect(done.locator(".j-line").nth(1)).to_have_text(
        re.compile(r"^项目编号 XM-RIZHAO-2026-\d{5} · 第 1 阶段 / 共 4 阶段 · 建设用地规划许可$")
    )
    await expect(done).to_contain_text("项目立项备案 · 发展和改革委员会 · 已推送，待认领")
    project_no = PROJECT_NO.search(await done.inner_text()).group(0)
    case_no = CASE_NO.search(await done.inner_text()).group(0)
    await expect(filing.locator(".i-case")).to_have_text(case_no)
    await page.keyboard.press("Enter")
    await expect(page.locator("#message")).to_contain_text(f"项目 {project_no} 第 1 阶段")
    project = await db.fetchrow(
        "select name, applicant_name from project where project_no = $1", project_no
    )
    assert (project["name"], project["applicant_name"]) == (NAME, BUILDER["name"])
    assert errors == []


async def test_a_later_stage_shows_what_is_on_file_and_asks_only_for_the_new(
    live, http, db, new_context
):
    errors: list[str] = []
    clock = use_clock(live, at("2026-12-07 09:30"))
    windows = Windows(db)
    lead = await windows.token("planning")  # window 89
    created = await intake(
        http, lead, workflow="construction-project", project_name=NAME, applicant=BUILDER
    )
    project_no = created["project_no"]
    await work_stage(http, windows, created["case_id"])
    # another project still in its first stage is not offered for a next stage
    busy = await intake(
        http, lead, workflow="construction-project", project_name="在办项目", applicant=BUILDER
    )
    clock.set(at("2026-12-09 10:00"))

    page = await open_terminal(new_context, live, lead, errors)
    await page.locator("#joint-accept").click()
    dialog = page.locator("#joint-dialog")
    await dialog.get_by_role("radio", name=re.compile("后续阶段")).click()
    await expect(dialog.locator("#joint-project")).to_be_focused()
    await expect(dialog.locator("#joint-name-row")).to_be_hidden()
    await expect(dialog.locator("#joint-materials-row")).to_be_hidden()  # nothing before the number
    picks = dialog.locator("#joint-ready button")
    await expect(picks).to_have_count(1)
    await expect(picks).to_contain_text(project_no)
    await expect(picks).not_to_contain_text(busy["project_no"])
    await picks.click()

    await expect(dialog.locator("#joint-stage")).to_have_text(
        "第 2 阶段 / 共 4 阶段 · 建设工程规划许可"
    )
    handed_in = set(FLOW.stage_materials(1))
    wanted = FLOW.stage_materials(2)
    on_file = [n for n in wanted if n in handed_in]
    new = [n for n in wanted if n not in handed_in]
    assert on_file and new
    box = dialog.locator("#joint-onfile")
    await expect(box).to_be_visible()
    await expect(box.locator("h3")).to_contain_text("已在项目材料库（无需再交）")
    await expect(box.locator("li")).to_have_text(on_file)
    rows = dialog.locator("#joint-materials .c-mat-row .c-mat-name")
    await expect(rows).to_have_count(len(new))
    for i, name in enumerate(new):
        await expect(rows.nth(i)).to_contain_text(name)
    # the applicant is the project's: not asked again
    await expect(dialog.locator("#joint-applicant-row")).to_be_hidden()
    await expect(dialog.locator("#joint-applicant-known")).to_contain_text(project_no)
    await expect(dialog.locator("#joint-materials select").first).to_be_focused()
    await page.keyboard.press("Enter")

    done = dialog.locator("#joint-done")
    await expect(done.locator(".j-line").nth(1)).to_have_text(
        f"项目编号 {project_no} · 第 2 阶段 / 共 4 阶段 · 建设工程规划许可"
    )
    await expect(done).to_contain_text("人防工程设计审查 · 人民防空办公室 · 已推送，待认领")
    case_no = CASE_NO.search(await done.locator(".j-line").first.inner_text()).group(0)
    names = [
        r["name"]
        for r in await db.fetch(
            "select m.name from case_material m join service_case c on c.id = m.case_id "
            "where c.case_no = $1 order by m.position",
            case_no,
        )
    ]
    assert names == new

    # a project whose stage is still being worked: refused in place, the number marked
    await page.keyboard.press("Enter")
    # the accepted case is open in the panel; Shift+F8 takes the next intake all the same
    await expect(page.locator("#case-no")).to_have_text(case_no)
    await page.keyboard.press("Shift+F8")
    await dialog.get_by_role("radio", name=re.compile("后续阶段")).click()
    await dialog.locator("#joint-project").fill(busy["project_no"].lower())
    await page.keyboard.press("Enter")
    await expect(dialog.locator("#joint-error")).to_have_text("第 1 阶段尚未办结")
    await expect(dialog.locator("#joint-project")).to_have_attribute("aria-invalid", "true")
    await expect(dialog.locator("#joint-project")).to_have_value(busy["project_no"])
    await expect(dialog.locator("#joint-materials-row")).to_be_hidden()
    assert errors == []
