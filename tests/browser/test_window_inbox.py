"""联办待办 on the window terminal, in Chromium: two 公安 clerks have /window open at windows 30
and 31; the 市场监管 clerk at window 1 accepts a 多证联办 case and completes its licence step over
the API; the 公章刻制备案 step is on both 公安 terminals within a second; the clerk of window 30
claims it in the browser (window 31 sees it claimed live, with no 认领 button), a second claim
from window 31 is refused, and window 30 completes it with a note and what was
issued: the row goes from both terminals and the step is done."""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.browser.conftest import open_window_terminal as open_terminal
from tests.cases.helpers import accept, at, use_clock
from tests.queue_helpers import bearer, clerk_at_window
from tests.workflows.helpers import APPLICANT, step_command, steps_of

WITHIN_MS = 1000  # a ready step is on its department's terminals within 1 s


async def test_a_ready_step_is_claimed_and_completed_at_a_psb_terminal(live, http, db, new_context):
    errors: list[str] = []
    clock = use_clock(live, at("2026-12-07 10:00"))
    lead = await clerk_at_window(db, 1)
    psb30 = await clerk_at_window(db, 30)
    psb31 = await clerk_at_window(db, 31)
    first = await open_terminal(new_context, live, psb30, errors)
    second = await open_terminal(new_context, live, psb31, errors)
    await expect(first.locator("#inbox-empty")).to_be_visible()
    await expect(first.locator("#inbox-count")).to_have_text("0")

    case = await accept(http, lead, item="amr-001", workflow="company-setup", applicant=APPLICANT)
    steps = await steps_of(http, lead, case["case_id"])
    assert steps["seal"]["state"] == "waiting"
    clock.set(at("2026-12-07 11:00"))
    licence = steps["licence"]["step_id"]
    await step_command(http, lead, licence, "claim")
    # the licence step is 市场监管's: never on a 公安 terminal
    await step_command(
        http, lead, licence, "complete", {"note": "准予设立登记", "issued": ["营业执照"]}
    )
    seal = (await steps_of(http, lead, case["case_id"]))["seal"]["step_id"]

    row = first.locator(f"#inbox-list li[data-step='{seal}']")
    await expect(row).to_be_visible(timeout=WITHIN_MS)
    other = second.locator(f"#inbox-list li[data-step='{seal}']")
    await expect(other).to_be_visible(timeout=WITHIN_MS)
    await expect(first.locator("#inbox-list li")).to_have_count(1)
    await expect(row.locator(".i-name")).to_have_text("公章刻制备案")
    await expect(row.locator(".i-case")).to_have_text(case["case_no"])
    await expect(row.locator(".i-state")).to_have_text("待认领")
    await expect(row.locator(".i-left")).to_have_text(re.compile(r"^(剩余|已超时)"))
    await expect(row.locator(".i-flow")).not_to_be_empty()
    await expect(first.locator("#inbox-empty")).to_be_hidden()

    # window 30 claims it: 办结 appears there; window 31 sees it claimed, without 认领
    await row.get_by_role("button", name="认领").click()
    await expect(row.locator(".i-state")).to_contain_text("已认领")
    await expect(row.get_by_role("button", name="认领")).to_be_hidden()
    await expect(row.get_by_role("button", name="办结", exact=True)).to_be_visible()
    await expect(other.locator(".i-state")).to_contain_text("已认领", timeout=WITHIN_MS)
    await expect(other.locator(".i-state")).to_contain_text("30号窗口")
    await expect(other.get_by_role("button", name="认领")).to_be_hidden()
    await expect(other.get_by_role("button", name="办结", exact=True)).to_be_hidden()

    # a claim racing it from window 31 (over the API) is refused: the words a clerk reads
    resp = await http.post(f"/api/joint-steps/{seal}/claim", headers=bearer(psb31))
    assert resp.status == 409 and (await resp.json())["error"]["code"] == "step_claimed"

    # 办结 with a note and what was issued: the row goes from both terminals
    await row.get_by_role("button", name="办结", exact=True).click()
    await row.locator(".i-note").fill("已完成公章刻制备案")
    await row.locator(".i-issued").fill("公章备案回执，刻章许可")
    # another case's seal step arrives while the clerk types: the form keeps its focus and text
    note = row.locator(".i-note")
    await note.focus()
    await first.keyboard.type("，当面交付")
    case2 = await accept(http, lead, item="amr-001", workflow="company-setup", applicant=APPLICANT)
    licence2 = (await steps_of(http, lead, case2["case_id"]))["licence"]["step_id"]
    await step_command(http, lead, licence2, "claim")
    await step_command(http, lead, licence2, "complete", {"note": "", "issued": []})
    seal2 = (await steps_of(http, lead, case2["case_id"]))["seal"]["step_id"]
    await expect(first.locator(f"#inbox-list li[data-step='{seal2}']")).to_be_visible(
        timeout=WITHIN_MS
    )
    await expect(first.locator("#inbox-list li").first).to_have_attribute("data-step", str(seal))
    await expect(first.locator("#inbox-count")).to_have_text("2")
    await expect(note).to_be_focused()
    await expect(note).to_have_value("已完成公章刻制备案，当面交付")
    await row.get_by_role("button", name="确认办结").click()
    await expect(row).to_have_count(0)
    await expect(other).to_have_count(0, timeout=WITHIN_MS)
    await expect(first.locator("#inbox-list li")).to_have_count(1)
    await expect(second.locator("#inbox-list li")).to_have_count(1)
    done = (await steps_of(http, lead, case["case_id"]))["seal"]
    assert done["state"] == "done" and done["window_no"] == 30
    result = await db.fetchval("select result::text from joint_step where id = $1", seal)
    assert "当面交付" in result and "刻章许可" in result, result
    assert errors == []


async def test_a_claim_lost_to_another_window_is_refused_in_chinese(live, http, db, new_context):
    errors: list[str] = []
    clock = use_clock(live, at("2026-12-07 10:00"))
    lead = await clerk_at_window(db, 1)
    psb30 = await clerk_at_window(db, 30)
    psb31 = await clerk_at_window(db, 31)
    case = await accept(http, lead, item="amr-001", workflow="company-setup", applicant=APPLICANT)
    licence = (await steps_of(http, lead, case["case_id"]))["licence"]["step_id"]
    clock.set(at("2026-12-07 11:00"))
    await step_command(http, lead, licence, "claim")
    await step_command(http, lead, licence, "complete", {"note": "", "issued": []})
    seal = (await steps_of(http, lead, case["case_id"]))["seal"]["step_id"]
    # the terminal reads the inbox on showing: the step ready before it opened is there
    page = await open_terminal(new_context, live, psb30, errors)
    row = page.locator(f"#inbox-list li[data-step='{seal}']")
    await expect(row.locator(".i-state")).to_have_text("待认领")
    # window 31 claims it (over the API) just before window 30's click reaches the server
    raced = []

    async def claim_first(route):
        resp = await http.post(f"/api/joint-steps/{seal}/claim", headers=bearer(psb31))
        raced.append(resp.status)
        await route.continue_()

    await page.route(f"**/api/joint-steps/{seal}/claim", claim_first)
    await row.get_by_role("button", name="认领").click()
    await expect(row.get_by_role("alert")).to_have_text("该环节已被其他窗口认领")
    assert raced == [200]
    await expect(row.locator(".i-state")).to_contain_text("已认领", timeout=WITHIN_MS)
    await expect(row.locator(".i-state")).to_contain_text("31号窗口")
    await expect(row.get_by_role("button", name="办结", exact=True)).to_be_hidden()
    await expect(row.get_by_role("button", name="认领")).to_be_hidden()
