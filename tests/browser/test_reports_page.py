"""/reports in Chromium on the reports' fixed data set: the key figures and the ranked table
show the API's figures, ECharts draws every chart (a canvas in each), the formal-talk flag
names window 2 for December, the export links carry the range, and nothing errs on the page."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.async_api import expect

from tests.browser.conftest import collect_errors
from tests.conftest import login
from tests.reports.helpers import fixed_data


async def test_reports_page_shows_figures_and_draws_charts(live, http, db, new_context):
    errors: list[str] = []
    await fixed_data(live, http, db)  # leaves the server's clock at 2026-12-20
    admin = (await login(http, "admin"))["token"]
    ctx = await new_context(live.url, admin, viewport={"width": 1500, "height": 1100})
    page = await ctx.new_page()
    collect_errors(page, errors)
    await page.goto(f"{live.url}/reports?hall=rizhao&from=2026-12-01&to=2026-12-31&by=window")
    await expect(page.locator("body[data-ready='1']")).to_be_attached()
    await expect(page.locator("#period")).to_have_text(
        "统计期间：2026-12-01 至 2026-12-31 · 按窗口"
    )
    keys = page.locator("#keys .r-key b")
    # 3 ratings counted, 2/3 satisfied, 1 bad; 3 cases, 3 completed; 3 tickets, 1400 s
    await expect(keys).to_have_text(["3", "66.7%", "1", "3 / 3", "3", "23.3 分", "2"])
    rows = page.locator("#groups tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(0).locator("td").nth(0)).to_have_text("1")
    await expect(rows.nth(1).locator("td").nth(1)).to_have_text("2号")
    # the month picked: window 2 was last in November and in December
    await expect(page.locator("#talks .r-talk")).to_have_count(1)
    await expect(page.locator("#talks .r-talk")).to_contain_text("2号窗口")
    for chart in ("trend", "rank", "waits", "heat"):
        await expect(page.locator(f"#chart-{chart} canvas").first).to_be_attached()
    assert await page.evaluate("typeof window.echarts") == "object"
    href = await page.locator("#xlsx").get_attribute("href")
    assert href == (
        "/api/halls/rizhao/reports/export?from=2026-12-01&to=2026-12-31&by=window&format=xlsx"
    )
    if os.environ.get("HALLOPS_SCREENSHOTS") == "1":
        # docs/screenshots/reports.png (HALLOPS_SCREENSHOTS_DIR writes it elsewhere)
        out = Path(os.environ.get("HALLOPS_SCREENSHOTS_DIR") or "docs/screenshots")
        await page.screenshot(path=out / "reports.png", full_page=True)
    # the print stylesheet hides the controls and keeps the title
    await page.emulate_media(media="print")
    await expect(page.locator("#controls")).to_be_hidden()
    await expect(page.locator("#title")).to_be_visible()
    assert errors == []
