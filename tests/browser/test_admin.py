"""The hall admin's screen in a real browser: log in through /login and land on /admin; the
notice line published there scrolls on the lobby display at once; pausing a window and forcing a
clerk's sign-out show on the display's board and on the admin's own table; a call made at a
window appears on the admin's table without a reload, and a cancelled one leaves it."""

from __future__ import annotations

from playwright.async_api import expect

from server import demo_hall
from tests.browser.conftest import collect_errors, device_token
from tests.queue_helpers import clerk_at_window, command, item_of_window, kiosk_token, register

HD = {"width": 1920, "height": 1080}


async def test_admin_sets_notice_pauses_window_and_signs_out_clerk_live(
    live, http, db, new_context
):
    errors: list[str] = []
    clerk = await clerk_at_window(db, 3)
    display_token = await device_token(http, "display-01")

    lobby_ctx = await new_context(viewport=HD)
    display = await lobby_ctx.new_page()
    collect_errors(display, errors)
    await display.goto(f"{live.url}/display?token={display_token}")
    await expect(display.locator("body")).to_have_attribute("data-connection", "online")

    admin_ctx = await new_context(viewport=HD)
    admin = await admin_ctx.new_page()
    collect_errors(admin, errors)
    await admin.goto(f"{live.url}/login")
    await admin.get_by_label("用户名").fill("admin")
    await admin.get_by_label("密码").fill(demo_hall.DEMO_PASSWORDS["admin"])
    await admin.locator("#login-submit").click()
    await expect(admin).to_have_url(f"{live.url}/admin")
    await expect(admin.locator("#conn")).to_have_text("实时")
    await expect(admin.locator("#windows tr[data-window]")).to_have_count(130)
    row3 = admin.locator("#windows tr[data-window='3']")
    await expect(row3).to_contain_text("开放")
    await expect(row3).to_contain_text(
        await db.fetchval("select display_name from staff where username = 'clerk003'")
    )

    # the notice line: published here, scrolling on the lobby display
    text = "今日 12:00-13:00 午间延时服务，不动产业务请到二楼办理"
    await admin.get_by_label("公告内容（最多 500 字，留空则显示默认欢迎语）").fill(text)
    await admin.get_by_role("button", name="发布公告").click()
    await expect(admin.get_by_text("公告已发布到大厅显示屏")).to_be_visible()
    await expect(display.locator("#notice-line")).to_have_text(text, timeout=2000)
    await expect(admin.locator("#notice-current")).to_have_text(text)
    assert await db.fetchval("select notice_line from hall where code = 'rizhao'") == text

    # a call at window 3 shows in the admin's table without a reload
    kiosk = await kiosk_token(http)
    ticket_no = (await register(http, kiosk, await item_of_window(db, 3)))["ticket"]["ticket_no"]
    await command(http, clerk, 3, "call-next")
    await expect(row3).to_contain_text(f"{ticket_no} 已呼叫", timeout=2000)
    await command(http, clerk, 3, "start")
    await command(http, clerk, 3, "finish")
    await expect(row3).not_to_contain_text(ticket_no, timeout=2000)

    # a cancelled ticket leaves its window, here and on the lobby display
    ticket_no = (await register(http, kiosk, await item_of_window(db, 3)))["ticket"]["ticket_no"]
    await command(http, clerk, 3, "call-next")
    tile3 = display.locator("#window-board .d-tile[data-window='3']")
    await expect(row3).to_contain_text(f"{ticket_no} 已呼叫", timeout=2000)
    await expect(tile3).to_contain_text(ticket_no)
    await expect(display.locator("#current-ticket")).to_have_text(ticket_no)
    await command(http, clerk, 3, "cancel", {"reason": "群众撤回"})
    await expect(row3).not_to_contain_text(ticket_no, timeout=2000)
    await expect(tile3).to_have_class("d-tile t-open")
    await expect(display.locator("#current-call")).not_to_contain_text(ticket_no)

    # pause window 3: the display's board shows 暂停
    await row3.get_by_role("button", name="暂停").click()
    await expect(row3.locator(".badge.s-paused")).to_have_text("暂停", timeout=2000)
    await expect(display.locator("#window-board .d-tile[data-window='3']")).to_have_class(
        "d-tile t-paused"
    )
    assert (
        await db.fetchval(
            "select status from service_window w join hall h on h.id = w.hall_id "
            "where h.code = 'rizhao' and w.window_no = 3"
        )
        == "paused"
    )

    # force the clerk's sign-out, confirmed in the dialog; the clerk's token can no longer call
    await row3.get_by_role("button", name="强制签退").click()
    await admin.locator("#confirm").get_by_role("button", name="强制签退").click()
    await expect(row3).to_contain_text("未签到", timeout=2000)
    await expect(row3.get_by_role("button", name="强制签退")).to_have_count(0)
    refused = await command(http, clerk, 3, "call-next", expect=403)
    assert refused["error"]["code"] == "not_signed_in"

    # clearing the notice brings the display's welcome line back
    await admin.get_by_role("button", name="清空公告").click()
    await expect(display.locator("#notice-line")).to_contain_text(
        "欢迎来到政务服务中心", timeout=2000
    )
    assert errors == []


async def test_admin_screen_refuses_other_roles(live, db, new_context):
    clerk = await clerk_at_window(db, 1)
    ctx = await new_context(live.url, clerk, viewport=HD)
    page = await ctx.new_page()
    await page.goto(f"{live.url}/admin")
    await expect(page.get_by_text("大厅管理仅供管理员使用")).to_be_visible()
    await expect(page.locator("#admin")).to_be_hidden()
