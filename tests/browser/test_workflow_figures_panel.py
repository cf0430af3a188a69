"""联办成效 on the supervision wall in Chromium: a company-setup case run through its five steps
on the controllable clock shows in the panel with its hours, on-time share, visits against the
baseline of 7 and the materials requested; the hall's other workflow shows with dashes."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser.conftest import collect_errors
from tests.cases.helpers import accept, at, use_clock
from tests.conftest import login
from tests.queue_helpers import clerk_at_window
from tests.workflows.helpers import APPLICANT, WINDOW_OF, step_command, steps_of


async def test_the_wall_shows_each_workflows_figures(live, http, db, new_context):
    errors: list[str] = []
    clock = use_clock(live, at("2026-12-07 09:00"))
    lead = await clerk_at_window(db, 1)
    case = await accept(http, lead, item="amr-001", workflow="company-setup", applicant=APPLICANT)
    steps = await steps_of(http, lead, case["case_id"])
    for when, codes in (("10:00", ("licence",)), ("11:30", ("code", "seal", "social", "tax"))):
        clock.set(at(f"2026-12-07 {when}"))
        for code in codes:
            token = await clerk_at_window(db, WINDOW_OF[code])
            await step_command(http, token, steps[code]["step_id"], "claim")
            await step_command(http, token, steps[code]["step_id"], "complete", {"note": "办结"})
    materials = await db.fetchval(
        "select count(*) from case_material where case_id = $1", case["case_id"]
    )

    supervisor = (await login(http, "supervisor1"))["token"]
    ctx = await new_context(live.url, supervisor, viewport={"width": 1600, "height": 1000})
    page = await ctx.new_page()
    collect_errors(page, errors)
    await page.goto(f"{live.url}/supervision")
    row = page.locator("#figures tr[data-workflow='company-setup']")
    await expect(row).to_be_visible()
    await expect(page.locator("#figures-note")).to_have_text("2026-11-08 至 2026-12-07 受理")
    cells = row.locator("td")
    await expect(cells).to_have_text(
        ["企业开办多证联办", "1/1", "2.5 小时", "100.0%", "由 7 次减为 1.0 次", f"{materials}.0 份"]
    )
    other = page.locator("#figures tr[data-workflow='construction-project'] td")
    await expect(other.nth(1)).to_have_text("0/0")
    await expect(other.nth(2)).to_have_text("—")
    assert errors == []
