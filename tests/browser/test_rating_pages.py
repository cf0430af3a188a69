"""The citizen's and supervision's 好差评 pages in Chromium (issue 11): the SMS link's page on a
phone shows what is rated, takes a rating once, and says 已评价 when opened again (an unknown
link plainly so); the ballot box's batch screen keys slips by keyboard only — scan, level,
Enter — counting two slips and showing a third scan of the first as 已计入, and one not of the
hall as not found."""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.browser.conftest import collect_errors
from tests.cases.helpers import PROMISED, accept, at, command, serving_ticket, use_clock
from tests.conftest import login
from tests.queue_helpers import bearer, item_of_window

RATE_LINK = re.compile(r"/rate/([A-Za-z0-9]{12})")
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


async def completed_case(http, db) -> dict:
    """A promised case accepted at window 1 and completed: the SMS invitation is in the outbox."""
    token, ticket_id, _ = await serving_ticket(http, db, 1)
    case = await accept(http, token, ticket_id=ticket_id, item=PROMISED)
    await command(http, token, case["case_id"], "start")
    await command(http, token, case["case_id"], "decision", {"decision": "approve"})
    await command(http, token, case["case_id"], "complete")
    return case


async def invitation_link(db, case_id: int) -> str:
    body = await db.fetchval(
        "select body from notification where dedupe_key = $1", f"rate-invite:{case_id}"
    )
    m = RATE_LINK.search(body)
    assert m is not None, body
    return m.group(0)


async def test_the_sms_page_rates_once_then_says_rated(live, http, db, new_context):
    errors: list[str] = []
    use_clock(live, at("2026-12-07 10:00"))
    case = await completed_case(http, db)
    link = await invitation_link(db, case["case_id"])
    ctx = await new_context(**PHONE)
    page = await ctx.new_page()
    collect_errors(page, errors)
    await page.goto(live.url + link)
    what = page.get_by_label("评价的业务")
    await expect(what).to_contain_text(case["case_no"])
    await expect(what).to_contain_text("1号窗口")
    await expect(what).to_contain_text("2026-12-07")
    await expect(page.locator(".m-level")).to_have_text(
        ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
    )
    submit = page.get_by_role("button", name="提交评价")
    await expect(submit).to_be_disabled()
    await page.locator(".m-level[data-level='5']").tap()
    await page.get_by_role("button", name="服务态度").tap()
    await page.get_by_label("意见建议").fill("窗口服务热情")
    await submit.tap()
    await expect(page.get_by_role("heading", name="感谢您的评价！")).to_be_visible()
    row = await db.fetchrow("select level, reasons, comment, channel from rating")
    assert dict(row) == {
        "level": 5,
        "reasons": ["attitude"],
        "comment": "窗口服务热情",
        "channel": "sms",
    }

    await page.goto(live.url + link)  # the link again: rated, no form
    await expect(page.get_by_role("heading", name="已评价")).to_be_visible()
    await expect(page.get_by_role("button", name="提交评价")).to_have_count(0)
    await page.goto(f"{live.url}/rate/NOSUCHTOKEN12")
    await expect(page.get_by_role("heading", name="评价链接无效或已过期")).to_be_visible()
    assert errors == []


async def served_slip(http, db, window_no: int) -> str:
    """A ticket served and finished at the window without a case: its notice's barcode."""
    item = await item_of_window(db, window_no)
    clerk, _, reg = await serving_ticket(http, db, window_no, item=item)
    resp = await http.post(f"/api/halls/rizhao/windows/{window_no}/finish", headers=bearer(clerk))
    assert resp.status == 200, await resp.text()
    return reg["reg_no"]


async def test_the_ballot_screen_keys_slips_by_keyboard(live, http, db, new_context):
    errors: list[str] = []
    use_clock(live, at("2026-12-07 10:00"))
    first = await served_slip(http, db, 1)
    second = await served_slip(http, db, 2)
    supervisor = (await login(http, "supervisor1"))["token"]
    ctx = await new_context(live.url, supervisor, viewport={"width": 1440, "height": 900})
    page = await ctx.new_page()
    collect_errors(page, errors)
    await page.goto(f"{live.url}/supervision")
    await page.get_by_role("link", name="评议箱计票").click()
    slip = page.get_by_label(re.compile("评议单条码"))
    await expect(slip).to_be_focused()

    async def key(barcode: str, level: str, *extra: str) -> None:
        await page.keyboard.type(barcode)  # what a scanner does: the code, then Enter
        await page.keyboard.press("Enter")
        await page.keyboard.press(level)
        for k in extra:
            await page.keyboard.press(k)
        await page.keyboard.press("Enter")
        # the entry clears at once; the answer follows (waited for: the order is then certain)
        await expect(page.locator("#rows tr[data-result='pending']")).to_have_count(0)

    rows = page.locator("#rows tr")
    await key(first, "5")
    await expect(rows).to_have_count(1)
    await key(second, "2", "e")
    await expect(rows).to_have_count(2)
    await key(first, "4")  # the same slip again
    await expect(rows).to_have_count(3)
    await key("26010199999999", "3")
    await expect(rows).to_have_count(4)
    # newest first: not found, the duplicate, then the two counted
    await expect(rows.locator("td:nth-child(2)")).to_have_text(
        ["26010199999999", first, second, first]
    )
    await expect(rows.locator("td:last-child")).to_have_text(
        [re.compile("查无"), re.compile("^已计入（重复"), "已计入：不满意", "已计入：非常满意"]
    )
    await expect(page.locator("#totals")).to_contain_text("已计入 2")
    await expect(slip).to_be_focused()
    levels = await db.fetch("select slip_no, level, reasons from rating order by id")
    assert [tuple(r) for r in levels] == [(first, 5, []), (second, 2, ["efficiency"])]
    assert errors == []
