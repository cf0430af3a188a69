"""整改 in Chromium: a bad review given on the window's rating device appears live in the
department's 差评整改 section on /leader; the leader verifies it in its row (an empty note is
refused there, in Chinese), the row moves on; the leader appeals, and the appeal appears in the
差评申诉 panel on /supervision, where the supervisor rejects it and the task goes on."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser.conftest import collect_errors
from tests.cases.helpers import at, serving_ticket, use_clock
from tests.conftest import login
from tests.queue_helpers import bearer, rater_at

HD = {"width": 1920, "height": 1080}


async def open_page(new_context, live, token: str, path: str, errors: list[str]):
    ctx = await new_context(live.url, token, viewport=HD)
    page = await ctx.new_page()
    collect_errors(page, errors)
    await page.goto(f"{live.url}{path}")
    await expect(page.locator("#conn")).to_have_text("实时")
    return page


async def bad_review(http, db) -> None:
    clerk, ticket_id, _ = await serving_ticket(http, db, 1)
    resp = await http.post("/api/halls/rizhao/windows/1/finish", headers=bearer(clerk))
    assert resp.status == 200, await resp.text()
    resp = await http.post(
        "/api/halls/rizhao/windows/1/rating-request",
        json={"ticket_id": ticket_id},
        headers=bearer(clerk),
    )
    assert resp.status == 200, await resp.json()
    tap = await http.post(
        "/api/halls/rizhao/windows/1/rating",
        json={"level": 1, "reasons": ["attitude"], "comment": "态度冷淡"},
        headers=bearer(await rater_at(db, 1)),
    )
    assert tap.status == 201, await tap.json()


async def test_the_leader_works_a_bad_review_and_supervision_decides_the_appeal(
    live, http, db, new_context
):
    use_clock(live, at("2026-12-07 10:00"))
    errors: list[str] = []
    leader = await open_page(
        new_context, live, (await login(http, "leader.amr"))["token"], "/leader", errors
    )
    await expect(leader.locator("#rect-empty")).to_be_visible()
    await bad_review(http, db)
    task = await db.fetchval("select id from rectification")
    row = leader.locator(f"#rect-list li[data-task='{task}']")
    await expect(row).to_be_visible(timeout=2000)
    await expect(row).to_contain_text("非常不满意")
    await expect(row).to_contain_text("态度冷淡")
    await expect(row).to_contain_text("1 号窗口")
    await expect(leader.locator("#rect-count")).to_have_text("1")
    # verify: an empty note is refused in the row; then written and sent
    await row.get_by_role("button", name="核实").click()
    await row.get_by_role("button", name="提交核实").click()
    await expect(row.locator(".alert")).to_have_text("请填写核实情况")
    await row.locator("textarea").fill("调取录像，情况属实")
    await row.get_by_role("button", name="提交核实").click()
    await expect(row).to_have_attribute("data-state", "verified")
    await expect(row).to_contain_text("调取录像，情况属实")
    await expect(row.get_by_role("button", name="整改")).to_be_visible()
    # appeal: supervision sees it waiting, and rejects it
    supervision = await open_page(
        new_context, live, (await login(http, "supervisor1"))["token"], "/supervision", errors
    )
    await expect(supervision.locator("#appeals-panel")).to_be_hidden()
    await row.get_by_role("button", name="申诉").click()
    await row.locator("textarea").fill("评价人当日未到本窗口")
    await row.get_by_role("button", name="提交申诉").click()
    await expect(row).to_contain_text("申诉（待监察裁决）")
    await expect(row).to_contain_text("计时暂停")
    appeal = supervision.locator(f"#appeals li[data-task='{task}']")
    await expect(appeal).to_be_visible(timeout=2000)
    await expect(appeal).to_contain_text("评价人当日未到本窗口")
    await appeal.get_by_role("button", name="驳回").click()
    await expect(appeal.locator(".alert")).to_have_text("请填写决定理由")
    await appeal.locator("input").fill("录像显示评价人到过窗口")
    await appeal.get_by_role("button", name="驳回").click()
    await expect(supervision.locator("#appeals-panel")).to_be_hidden(timeout=2000)
    # the leader's row goes on: the appeal is decided, 整改 is offered again, no second appeal
    await expect(row.get_by_role("button", name="整改")).to_be_visible(timeout=2000)
    await expect(row.get_by_role("button", name="申诉")).to_have_count(0)
    assert await db.fetchval("select appeal_decision from rectification") == "rejected"
    assert not errors, errors
