"""/track: a citizen follows their registration by the query code on the notice."""

from __future__ import annotations

from tests.browser.conftest import collect_errors
from tests.queue_helpers import clerk_at_window, command, item_of_window, kiosk_token, register


async def test_track_page_shows_waiting_then_called(live, http, db, new_context):
    kiosk = await kiosk_token(http)
    reg = await register(http, kiosk, await item_of_window(db, 1), phone="13800138000")
    ctx = await new_context()
    page = await ctx.new_page()
    errors: list[str] = []
    collect_errors(page, errors)
    await page.goto(f"{live.url}/track?code={reg['query_code']}")
    status = page.locator("#status")
    await status.get_by_text(reg["ticket"]["ticket_no"]).wait_for(timeout=5000)
    assert "等候中" in await status.inner_text()
    clerk = await clerk_at_window(db, 1)
    await command(http, clerk, 1, "call-next")
    await page.reload()
    await status.get_by_text("请到 1 号窗口办理").wait_for(timeout=5000)
    # an unknown code says so in words
    await page.goto(f"{live.url}/track?code=ZZZZZZZZ")
    await page.locator("#error").get_by_text("查询码不存在").wait_for(timeout=5000)
    assert errors == []
