"""The live queue in a real browser, asserting what a person sees: a citizen registers at the
kiosk, the clerk presses 叫号, the lobby display shows the call within a second, and stops
showing it as 正在呼叫 once the citizen is served; a transfer
reaches the receiving window's terminal without a reload; the display marks itself 离线 when the
server goes away and catches up with the missed calls when it is back."""

from __future__ import annotations

import re
import time

from aiohttp import ClientSession
from playwright.async_api import expect

from server import demo_hall
from server.keys import CONTEXT
from tests.browser.conftest import collect_errors, device_token
from tests.conftest import LiveServer, login
from tests.conftest import test_settings as make_settings
from tests.queue_helpers import clerk_at_window, command, item_of_window, kiosk_token, register

HD = {"width": 1920, "height": 1080}
SEEN_AT = """ticket => {
  window.seenAt = null;
  const el = document.querySelector('#current-call');
  new MutationObserver((_, observer) => {
    if (el.textContent.includes(ticket)) { window.seenAt = Date.now(); observer.disconnect(); }
  }).observe(el, {subtree: true, childList: true, characterData: true});
}"""


async def test_kiosk_registration_then_call_shows_on_display_within_a_second(
    live, http, db, new_context
):
    errors: list[str] = []
    clerk = await clerk_at_window(db, 1)  # signed in at window 1, window open
    item = await item_of_window(db, 1)
    item_name = await db.fetchval("select name from item where code = $1", item)
    display_token = await device_token(http, "display-01")

    devices = await new_context(viewport=HD)
    display = await devices.new_page()
    collect_errors(display, errors)
    await display.goto(f"{live.url}/display?token={display_token}")
    await expect(display.locator("#window-board .d-tile")).to_have_count(130)
    await expect(display.locator("body")).to_have_attribute("data-connection", "online")

    # the citizen: one-time device setup, search, pick the item, take a ticket
    kiosk = await devices.new_page()
    collect_errors(kiosk, errors)
    await kiosk.goto(f"{live.url}/kiosk?device=kiosk-01")
    await kiosk.get_by_label("设备密钥").fill(demo_hall.DEMO_PASSWORDS["kiosk"])
    await kiosk.get_by_role("button", name="完成设置").click()
    await kiosk.get_by_placeholder("输入事项名称").fill(item_name)
    await kiosk.locator(f".k-card[data-code='{item}']").click()
    await expect(kiosk.locator("#item-name")).to_have_text(item_name)
    await kiosk.get_by_role("radio", name="老年人优先").click()
    await kiosk.get_by_role("button", name="确认取号").click()
    await expect(kiosk.get_by_text("取号成功")).to_be_visible()
    ticket_no = (await kiosk.locator("#done-ticket").inner_text()).strip()
    assert ticket_no.endswith("001")
    code = (await kiosk.locator("#done-code").inner_text()).strip()
    assert len(code) == 8

    # the clerk at window 1 sees the ticket waiting, presses 叫号
    staff = await new_context(live.url, clerk, viewport=HD)
    terminal = await staff.new_page()
    collect_errors(terminal, errors)
    await terminal.goto(f"{live.url}/window")
    await expect(terminal.locator("#waiting")).to_contain_text(ticket_no)
    await expect(terminal.locator("#conn")).to_have_text("实时")
    # the timer runs in the browser (one clock for both pages): from the click on 叫号 to the
    # moment the display's text shows the ticket, observed by a MutationObserver
    await display.evaluate(SEEN_AT, ticket_no)
    await display.bring_to_front()  # the lobby screen is in front (a hidden window paints ~1/s)
    await terminal.evaluate(
        "() => document.addEventListener('click', () => { window.clickedAt = Date.now(); }, true)"
    )
    await terminal.locator("#act-call").click()
    await expect(display.locator("#current-call")).to_contain_text(ticket_no, timeout=1000)
    await expect(display.locator("#current-call")).to_contain_text("请到 1 号窗口")
    latency_ms = await display.evaluate("window.seenAt") - await terminal.evaluate(
        "window.clickedAt"
    )
    print(f"\ncall → display: {latency_ms} ms")
    assert latency_ms < 1000, f"the display showed the call {latency_ms} ms after the click"
    await expect(display.locator("#window-board .d-tile[data-window='1']")).to_contain_text(
        ticket_no
    )
    await expect(terminal.locator("#current-no")).to_have_text(ticket_no)
    await expect(terminal.locator("#current-state")).to_have_text("已叫号 · 等待到场")
    spoken = await display.evaluate("window.hallopsSpoken")
    assert f"请 {ticket_no} 号到 1 号窗口办理" in spoken

    # 重呼 announces again; 过号 before the configured recalls shows the server's reason
    await terminal.get_by_role("button", name="过号").click()
    await expect(terminal.locator("#message")).to_contain_text("请先重呼")
    await terminal.get_by_role("button", name="重呼").click()
    await expect(terminal.locator("#message")).to_contain_text(f"已重呼 {ticket_no} 号")
    await display.wait_for_function("() => window.hallopsSpoken.length >= 2", timeout=2000)
    await expect(display.locator("#current-call")).to_contain_text("重复呼叫")

    # the citizen arrives: start, finish; today's count goes up. 正在呼叫 stops showing the
    # ticket (it is no longer being called); 最近叫号 keeps nothing but older calls
    await terminal.get_by_role("button", name="开始办理").click()
    await expect(terminal.locator("#current-state")).to_have_text("办理中")
    await expect(display.locator("#window-board .d-tile[data-window='1']")).to_have_class(
        "d-tile t-serving"
    )
    await expect(display.locator("#current-call")).not_to_contain_text(ticket_no)
    await expect(display.locator("#current-call")).to_contain_text("请留意叫号")
    await expect(display.locator("#recent-calls")).to_contain_text(ticket_no)
    await terminal.get_by_role("button", name="办结").click()
    await expect(terminal.locator("#count-served")).to_have_text("1")
    await expect(terminal.locator("#current-no")).to_have_text("—")

    # the notice the kiosk printed: big ticket number, barcode, materials, query code. Opened
    # at another name of this server (a kiosk's own, say): its /track link is still the
    # server's public base URL, never the address the page was opened at
    notice = await devices.new_page()
    collect_errors(notice, errors)
    await notice.goto(f"http://localhost:{live.settings.port}/notice?code={code}")
    await expect(notice.locator("#notice-ticket")).to_have_text(ticket_no)
    await expect(notice.locator(".n-barcode")).to_have_attribute(
        "src", re.compile(r"^/api/barcode/\d{14}\.svg$")
    )
    await expect(notice.get_by_text("一次性告知 · 所需材料")).to_be_visible()
    public_url = live.app[CONTEXT].public_url
    assert not public_url.startswith("http://localhost")
    await expect(notice.locator(".n-url")).to_have_text(f"{public_url}/track?code={code}")
    assert errors == []


async def test_transfer_reaches_the_receiving_terminal_without_reload(live, http, db, new_context):
    errors: list[str] = []
    sender = await clerk_at_window(db, 1)
    receiver = await clerk_at_window(db, 60)  # another department (不动产登记)
    kiosk = await kiosk_token(http)
    ticket_no = (await register(http, kiosk, await item_of_window(db, 1)))["ticket"]["ticket_no"]
    await command(http, sender, 1, "call-next")

    receiving_ctx = await new_context(live.url, receiver, viewport=HD)
    receiving = await receiving_ctx.new_page()
    collect_errors(receiving, errors)
    await receiving.goto(f"{live.url}/window")
    await expect(receiving.locator("#head-no")).to_have_text("60")
    await expect(receiving.locator("#conn")).to_have_text("实时")
    await expect(receiving.locator("#waiting")).to_contain_text("暂无等候的群众")

    sending_ctx = await new_context(live.url, sender, viewport=HD)
    sending = await sending_ctx.new_page()
    collect_errors(sending, errors)
    await sending.goto(f"{live.url}/window")
    await expect(sending.locator("#current-no")).to_have_text(ticket_no)
    await sending.get_by_role("button", name="转办").click()
    dialog = sending.locator("#transfer-dialog")
    await expect(dialog).to_be_visible()
    await dialog.get_by_label("目标窗口").select_option("60")
    await dialog.get_by_label("转办说明").fill("已初审，请办理抵押登记")
    await dialog.get_by_role("button", name="确认转办").click()
    await expect(dialog).to_be_hidden()
    await expect(sending.locator("#message")).to_contain_text(f"{ticket_no} 号已转办至 60 号窗口")
    await expect(sending.locator("#current-no")).to_have_text("—")

    row = receiving.locator(f"#waiting li[data-ticket='{ticket_no}']")
    await expect(row).to_be_visible(timeout=2000)
    await expect(row).to_contain_text("指定本窗口")
    await expect(row).to_contain_text("已初审，请办理抵押登记")
    await receiving.get_by_role("button", name="开放").click()
    await receiving.locator("#act-call").click()
    await expect(receiving.locator("#current-no")).to_have_text(ticket_no)
    assert errors == []


async def test_display_marks_offline_and_catches_up_after_restart(db_dsn, db, new_context):
    settings = make_settings()
    server = await LiveServer(settings, db_dsn).start()
    other = None
    errors: list[str] = []
    ctx = await new_context(viewport=HD)
    try:
        async with ClientSession(base_url=server.url) as http:
            token = await device_token(http, "display-01")
        page = await ctx.new_page()
        collect_errors(page, errors)
        await page.goto(f"{server.url}/display?token={token}")
        await expect(page.locator("body")).to_have_attribute("data-connection", "online")
        await expect(page.locator("#offline")).to_be_hidden()

        await server.stop()
        lost = time.monotonic()
        await expect(page.locator("#offline")).to_be_visible(timeout=6000)
        await expect(page.locator("#offline")).to_have_text("离线")
        assert time.monotonic() - lost > 2.5, "离线 must not flash on a blip shorter than 3 s"

        # while this display's server is down, the hall goes on (another process, same log)
        other = await LiveServer(make_settings(), db_dsn).start()
        clerk = await clerk_at_window(db, 3)
        async with ClientSession(base_url=other.url) as http:
            kiosk = await kiosk_token(http)
            notice = await register(http, kiosk, await item_of_window(db, 3))
            await command(http, clerk, 3, "call-next")
        ticket_no = notice["ticket"]["ticket_no"]
        await other.stop()
        other = None

        server = await LiveServer(settings, db_dsn).start()  # the same address again
        await expect(page.locator("#current-call")).to_contain_text(ticket_no, timeout=12000)
        await expect(page.locator("#current-call")).to_contain_text("请到 3 号窗口")
        await expect(page.locator("#offline")).to_be_hidden()
        # resumed from its last seq: the missed events, not a second snapshot
        await expect(page.locator("body")).to_have_attribute("data-snapshots", "1")
        assert errors == []
    finally:
        await ctx.close()  # before the server stops
        if other is not None:
            await other.stop()
        await server.stop()


async def test_public_queue_page_and_led_layout(live, http, db, new_context):
    clerk = await clerk_at_window(db, 1)
    kiosk = await kiosk_token(http)
    item = await item_of_window(db, 1)
    for _ in range(2):
        await register(http, kiosk, item)
    queue = await db.fetchval(
        "select q.name from queue q join item i on i.queue_id = q.id where i.code = $1", item
    )
    ctx = await new_context(viewport={"width": 390, "height": 844})
    page = await ctx.new_page()
    await page.goto(f"{live.url}/queue?hall=rizhao")
    card = page.locator(".q-card", has_text=queue)
    await expect(card).to_contain_text("2")
    await expect(card).to_contain_text("人等候")
    await expect(card).to_contain_text("预计等候")

    token = await device_token(http, "led-01")
    led_ctx = await new_context(viewport={"width": 384, "height": 192})
    led = await led_ctx.new_page()
    await led.goto(f"{live.url}/display?layout=led&token={token}")
    await expect(led.locator("body")).to_have_attribute("data-connection", "online")
    called = await command(http, clerk, 1, "call-next")
    await expect(led.locator("#led-no")).to_have_text(called["ticket"]["ticket_no"])
    await expect(led.locator("#led-win")).to_have_text("1号")


async def test_login_redirects_by_role(live, http, db, new_context):
    ctx = await new_context(viewport=HD)
    page = await ctx.new_page()
    await page.goto(f"{live.url}/window")
    await page.wait_for_url("**/login?next=%2Fwindow")
    await page.get_by_label("用户名").fill("clerk001")
    await page.get_by_label("密码").fill("wrong password")
    await page.get_by_role("button", name="登 录").click()
    await expect(page.locator("#login-error")).to_be_visible()
    await page.get_by_label("密码").fill(demo_hall.DEMO_PASSWORDS["clerk"])
    await page.get_by_role("button", name="登 录").click()
    await page.wait_for_url("**/window")
    await expect(page.get_by_role("heading", name="请选择签到窗口")).to_be_visible()
    await page.locator("#picker-grid button[data-window='2']").click()
    await expect(page.locator("#head-no")).to_have_text("2")
    await page.get_by_role("button", name="开放").click()
    await expect(page.locator("#message")).to_contain_text("窗口已开放")
    await page.locator("#act-call").click()
    await expect(page.locator("#message")).to_contain_text("当前没有等候的群众")

    # two citizens register; the second one's notice is scanned (a scanner types like a keyboard,
    # ending with Enter, wherever the focus is) and called out of order with a reason
    kiosk = await kiosk_token(http)
    item = await item_of_window(db, 2)
    first = await register(http, kiosk, item)
    second = await register(http, kiosk, item)
    await expect(page.locator("#waiting li")).to_have_count(2)
    await page.locator("#current").click()  # focus on nothing in particular
    await page.keyboard.type(second["reg_no"])
    await page.keyboard.press("Enter")
    result = page.locator("#scan-result")
    await expect(result).to_contain_text(second["ticket"]["ticket_no"])
    await expect(result).to_contain_text("等候中")
    await result.get_by_role("button", name="提前叫号").click()
    dialog = page.locator("#callto-dialog")
    await expect(dialog.get_by_label("排队号")).to_have_value(second["ticket"]["ticket_no"])
    await dialog.get_by_role("combobox").select_option("老弱病残孕优先")
    await dialog.get_by_role("button", name="叫号").click()
    await expect(page.locator("#current-no")).to_have_text(second["ticket"]["ticket_no"])
    await expect(page.locator("#waiting li")).to_have_count(1)
    await expect(page.locator("#waiting")).to_contain_text(first["ticket"]["ticket_no"])


async def test_a_clerk_is_asked_before_moving_and_told_of_changes_by_others(
    live, http, db, new_context
):
    ctx = await new_context(viewport=HD)
    page = await ctx.new_page()
    await page.goto(f"{live.url}/login?next=%2Fwindow")
    await page.get_by_label("用户名").fill("clerk001")
    await page.get_by_label("密码").fill(demo_hall.DEMO_PASSWORDS["clerk"])
    await page.get_by_role("button", name="登 录").click()
    await expect(page.get_by_role("heading", name="请选择签到窗口")).to_be_visible()
    # meanwhile the same clerk signs in at window 3 from another terminal
    await clerk_at_window(db, 3, username="clerk001")
    await page.locator("#picker-grid button[data-window='2']").click()
    error = page.locator("#picker-error")
    await expect(error).to_contain_text("您已在 3 号窗口签到")
    await expect(error).to_contain_text("关闭该窗口")
    assert (
        await db.fetchval(  # nothing moved before the clerk answers
            "select w.window_no from window_signin s join service_window w on w.id = s.window_id "
            "join staff st on st.id = s.staff_id where st.username = 'clerk001'"
        )
        == 3
    )
    await error.get_by_role("button", name="改到 2 号窗口").click()
    await expect(page.locator("#head-no")).to_have_text("2")
    assert (
        await db.fetchval(
            "select w.window_no from window_signin s join service_window w on w.id = s.window_id "
            "join staff st on st.id = s.staff_id where st.username = 'clerk001'"
        )
        == 2
    )
    # an admin pauses the window: its clerk is told on the terminal, live
    await page.get_by_role("button", name="开放").click()
    await expect(page.locator("#message")).to_contain_text("窗口已开放")
    admin = await login(http, "admin")
    resp = await http.post(
        "/api/halls/rizhao/windows/2/status",
        json={"status": "paused"},
        headers={"Authorization": f"Bearer {admin['token']}"},
    )
    assert resp.status == 200, await resp.text()
    await expect(page.locator("#message")).to_contain_text("管理员")
    await expect(page.locator("#message")).to_contain_text("已将本窗口设为「暂停」")


async def test_kiosk_shows_the_servers_429_message(live, http, db, new_context):
    token = await device_token(http, "kiosk-03")
    item = await item_of_window(db, 1)
    for _ in range(10):  # the device's burst, used up
        await register(http, token, item)
    ctx = await new_context(viewport=HD)
    kiosk = await ctx.new_page()
    await kiosk.goto(f"{live.url}/kiosk?token={token}")
    await kiosk.locator(f".k-card[data-code='{item}']").click()
    await kiosk.get_by_role("button", name="确认取号").click()
    await expect(kiosk.locator("#reg-error")).to_contain_text("操作过于频繁")
    await expect(kiosk.locator("#step-item")).to_be_visible()


async def test_cancel_from_the_terminal_with_a_reason(live, http, db, new_context):
    errors: list[str] = []
    clerk = await clerk_at_window(db, 1)
    kiosk = await kiosk_token(http)
    ticket_no = (await register(http, kiosk, await item_of_window(db, 1)))["ticket"]["ticket_no"]
    await command(http, clerk, 1, "call-next")
    ctx = await new_context(live.url, clerk, viewport=HD)
    page = await ctx.new_page()
    collect_errors(page, errors)
    await page.goto(f"{live.url}/window")
    await expect(page.locator("#current-no")).to_have_text(ticket_no)
    await page.get_by_role("button", name="取消业务").click()
    dialog = page.locator("#cancel-dialog")
    await dialog.get_by_role("button", name="确认取消").click()
    await expect(dialog).to_be_visible()  # no reason: the form does not go out
    await dialog.locator("#cancel-reason-pick").select_option("群众主动放弃办理")
    await dialog.get_by_role("button", name="确认取消").click()
    await expect(dialog).to_be_hidden()
    await expect(page.locator("#message")).to_contain_text(f"{ticket_no} 号已取消")
    await expect(page.locator("#current-no")).to_have_text("—")
    assert errors == []
