"""The window's rating device (评价器) end to end, in Chromium (issue 11): the clerk at window 1
finishes a service on /window and presses 请群众评价 (F6); the tablet at the window, set up as
window 1's rating device on /rate/window/1, shows the five levels within a second; the citizen
taps 满意; the clerk's terminal shows the result within a second — while the clerk types in the
scan field, which keeps the focus — and the tablet thanks the citizen and goes back to idle."""

from __future__ import annotations

from playwright.async_api import expect

from server import demo_hall
from tests.browser.conftest import collect_errors, open_window_terminal
from tests.cases.helpers import at, serving_ticket, use_clock

WITHIN_MS = 1000


async def open_rating_device(new_context, live, window_no: int, errors: list[str]):
    """/rate/window/<no> on a tablet, set up once with the window's device code and secret."""
    ctx = await new_context(viewport={"width": 1280, "height": 800}, has_touch=True)
    page = await ctx.new_page()
    collect_errors(page, errors)
    await page.goto(f"{live.url}/rate/window/{window_no}")
    code = demo_hall.rater_code("rizhao", window_no)
    await page.get_by_label("设备编号").fill(code)
    await page.get_by_label("设备密钥").fill(demo_hall.password_for(code))
    await page.get_by_role("button", name="完成设置").click()
    await expect(page.locator("#conn")).to_have_text("实时")
    await expect(page.locator("#idle")).to_be_visible()
    return page


async def test_the_clerk_asks_the_tablet_shows_the_buttons_and_the_tap_comes_back(
    live, http, db, new_context
):
    errors: list[str] = []
    use_clock(live, at("2026-12-07 10:00"))
    clerk, _, _ = await serving_ticket(http, db, 1)
    terminal = await open_window_terminal(new_context, live, clerk, errors)
    tablet = await open_rating_device(new_context, live, 1, errors)
    await expect(tablet.locator("#hall-name")).to_have_text(demo_hall.CITY_NAME)
    await expect(tablet.locator("#idle-no")).to_have_text("1号窗口")
    await expect(tablet.locator("#ask")).to_be_hidden()

    # 办结, then 请群众评价 by its key
    await terminal.locator("#act-finish").click()
    await expect(terminal.locator("#message")).to_contain_text("已办结")
    await expect(terminal.locator("#act-rate")).to_be_enabled()
    await terminal.keyboard.press("F6")
    buttons = tablet.locator("#levels button")
    await expect(buttons.first).to_be_visible(timeout=WITHIN_MS)
    await expect(tablet.locator("#levels .r-name")).to_have_text(
        ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
    )
    await expect(terminal.locator("#rating-line")).to_contain_text("等待群众")

    # the clerk types in the scan field while the citizen taps: the result shows, the focus stays
    scan = terminal.locator("#scan")
    await scan.focus()
    await terminal.keyboard.type("2612")
    await tablet.locator("#reasons button", has_text="办事效率").tap()
    await tablet.locator("#levels button[data-level='4']").tap()
    line = terminal.locator("#rating-line")
    await expect(line).to_have_text("群众评价：满意 · 评价器", timeout=WITHIN_MS)
    await expect(line).to_have_attribute("data-state", "good")
    await expect(scan).to_be_focused()
    await expect(scan).to_have_value("2612")
    await expect(tablet.locator("#thanks")).to_be_visible()
    await expect(tablet.locator("#thanks-level")).to_contain_text("满意")
    await expect(tablet.locator("#idle")).to_be_visible(timeout=6000)

    row = await db.fetchrow("select level, reasons, channel from rating")
    assert (row["level"], row["reasons"], row["channel"]) == (4, ["efficiency"], "device")
    # asked again, the same service: the clerk reads why not; the tablet stays idle
    await terminal.locator("#act-rate").click()
    await expect(terminal.locator("#message")).to_contain_text("只能评价一次")
    await expect(tablet.locator("#ask")).to_be_hidden()
    assert errors == []
