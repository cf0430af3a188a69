"""Cases at the window terminal in Chromium, by keyboard, asserting what the clerk sees: a
promised case accepted from the ticket being served with one material missing (case number and
deadline on screen, the countdown moving in the page without asking the server), the one-time
supplement notice, the materials received, start, approve, complete; the printed acceptance
receipt with its QR code; 容缺受理, 材料核对 and a fee; a leader at a window seeing a request
arrive and its wait turn red, signing there, and the clerk seeing the decision within a second;
acceptance refused from a scanned registration; a completed case found by scanning its receipt
and picked up. The server's time is the controllable clock (app[CONTEXT].clock); the
page's clock starts at the same instant."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time

from playwright.async_api import expect

from server.domain import case_flow
from tests.browser.conftest import collect_errors, open_terminal, to_time
from tests.cases.helpers import PROMISED, SIGNOFF, accept, at, serving_ticket, use_clock
from tests.cases.helpers import command as case_command
from tests.conftest import ROOT, missing
from tests.queue_helpers import clerk_at_window, item_of_window, kiosk_token, register

CASE_NO = re.compile(r"^RIZHAO-20261207-\d{5}$")
# amr-001 企业设立登记: material 6 (企业名称自主申报告知书) is not a key material
OPTIONAL = 6
OPTIONAL_NAME = "企业名称自主申报告知书"
# realty-001 不动产首次登记 (window 60): promised in 5 working days, two listed fees (80.00 and
# 10.00); only material 7 is not a key material
REALTY = "realty-001"
REALTY_OPTIONAL = 7
REALTY_OPTIONAL_NAME = "授权委托书及受托人身份证明"


async def test_clerk_accepts_supplements_and_completes_a_case_by_keyboard(
    live, http, db, new_context
):
    errors: list[str] = []
    clock = use_clock(live, at("2026-12-07 10:00"))  # a Monday
    token, _, reg = await serving_ticket(http, db, window_no=1, item=PROMISED)
    ctx, page = await open_terminal(new_context, live, token, clock, errors)
    await expect(page.locator("#current-no")).to_have_text(reg["ticket"]["ticket_no"])
    await expect(page.locator("#case-accept")).to_contain_text(f"受理 {reg['ticket']['ticket_no']}")

    # F8: the registration's item, its materials; one optional material missing
    await page.keyboard.press("F8")
    dialog = page.locator("#accept-dialog")
    await expect(dialog).to_be_visible()
    await expect(dialog.locator("#accept-item")).to_have_value(PROMISED)
    await expect(dialog.locator("#accept-urgent-row")).to_contain_text("急办（绿色通道）")
    await expect(dialog.locator(".c-mat-row")).to_have_count(7)
    await page.keyboard.type("张小三")
    await dialog.locator("#accept-phone").fill("13800138000")
    # the server refuses 容缺 for a key material, in Chinese, in the dialog
    key = dialog.locator(".c-mat-row[data-position='2']")
    await key.locator("select").select_option("missing")
    await dialog.locator("#accept-deficiency").check()
    await dialog.locator("#accept-due").fill("2026-12-08")
    await page.keyboard.press("Enter")
    await expect(dialog.locator("#accept-error")).to_have_text("关键材料不能容缺：公司章程")
    await key.locator("select").select_option("submitted")
    await dialog.locator("#accept-deficiency").uncheck()
    row = dialog.locator(f".c-mat-row[data-position='{OPTIONAL}']")
    await row.locator("select").select_option("missing")
    await row.locator("input").fill("未携带")
    await page.keyboard.press("Enter")
    await expect(dialog).to_be_hidden()

    case_no = page.locator("#case-no")
    await expect(case_no).to_have_text(CASE_NO)
    number = await case_no.inner_text()
    await expect(page.locator("#case-state")).to_have_text("已受理")
    await expect(page.locator("#case-applicant")).to_contain_text("张小三 · 13800138000")
    # 2 working days from Monday: Wednesday 17:00; the acceptance day does not count
    await expect(page.locator("#case-deadline")).to_have_text("办结期限 2026-12-09 17:00")
    await expect(page.locator("#case-remaining")).to_have_text("剩余 2 个工作日 00:00:00")
    await expect(page.locator("#case-materials li.m-missing")).to_contain_text(OPTIONAL_NAME)
    await expect(page.locator("#message")).to_contain_text(f"已受理 {number}")
    # the ticket's checklist now shows the case's record, read-only: six of seven in, not the
    # "已收 0/7" the clerk's untouched ticks would say
    await expect(page.locator("#materials-foot")).to_have_text(
        f"已受理为办件 {number}，材料以办件为准：已交 6/7"
    )
    checks = page.locator("#materials-list input[type=checkbox]")
    await expect(checks).to_have_count(7)
    assert await checks.evaluate_all("cs => cs.filter(c => c.checked && c.disabled).length") == 6
    await expect(checks.nth(OPTIONAL - 1)).not_to_be_checked()
    await expect(page.locator("#case-list")).to_contain_text(number)

    # the countdown moves in the page, second by second, without asking the server: on
    # Tuesday at 10:00 an hour of the limit is used
    asked: list[str] = []
    # what the acceptance's own live event makes the page fetch (the lists) is done first: a
    # loaded machine can deliver it late, and only the countdown is under test here
    await expect(page.locator("#case-tabs [data-tab='cases'] b")).not_to_have_text("0")
    await page.wait_for_load_state("networkidle")
    page.on("request", lambda r: asked.append(r.url) if "/api/" in r.url else None)
    await to_time(page, clock, "2026-12-08 10:00")
    await expect(page.locator("#case-remaining")).to_have_text(
        re.compile(r"^剩余 1 个工作日 0(6:00:00|5:59:[0-5]\d)$")
    )
    await page.clock.fast_forward(10_000)
    await expect(page.locator("#case-remaining")).to_have_text(
        re.compile(r"^剩余 1 个工作日 05:59:[0-5]\d$")
    )
    assert asked == []

    # the acceptance receipt: F9 opens it to print, with the case number and the QR code
    async with ctx.expect_page() as opened:
        await page.keyboard.press("F9")
    receipt = await opened.value
    collect_errors(receipt, errors)
    await expect(receipt.locator("#case-no")).to_have_text(number)
    await expect(receipt.locator("#case-deadline")).to_have_text("2026-12-09 17:00")
    await expect(receipt.locator("#case-missing")).to_contain_text(OPTIONAL_NAME)
    await expect(receipt.locator("#case-qr svg path")).to_have_count(1)
    await expect(receipt.locator("#case-qr .n-url")).to_contain_text("/track?code=")
    await receipt.goto(receipt.url.replace("print=1", "paper=a4"))
    await expect(receipt.locator("body")).to_have_class("paper-a4")
    await expect(receipt.locator("#case-no")).to_have_text(number)
    await receipt.close()

    # Alt+B: the one-time supplement notice lists what is missing; the clock pauses
    await to_time(page, clock, "2026-12-08 10:30")
    await page.bring_to_front()
    await page.keyboard.press("Alt+KeyB")
    form = page.locator("#case-dialog")
    await expect(form).to_be_visible()
    await expect(page.locator("#case-dialog-title")).to_contain_text("补正告知")
    picked = form.locator(f".c-mat-row[data-position='{OPTIONAL}'] input[type=checkbox]")
    await expect(picked).to_be_checked()
    await page.keyboard.press("Enter")
    await expect(form).to_be_hidden()
    await expect(page.locator("#case-remaining")).to_have_text("暂停计时 · 补正材料")
    await expect(page.locator("#case-deadline")).to_have_text("暂停期间无期限，恢复计时后顺延")
    # the print button has the focus: Enter prints the notice
    await expect(page.locator("#print-supplement")).to_be_focused()
    async with ctx.expect_page() as opened:
        await page.keyboard.press("Enter")
    notice = await opened.value
    collect_errors(notice, errors)
    await expect(notice.locator(".n-title")).to_have_text("一次性告知书")
    await expect(notice.locator("#case-no")).to_have_text(number)
    await expect(notice.locator("#supplement-materials")).to_contain_text(
        f"{OPTIONAL_NAME}（缺少）：未携带"
    )
    await expect(notice.locator("#case-qr svg")).to_have_count(1)
    await notice.close()
    await page.locator("#case-tabs [data-tab='supplements']").click()
    await expect(page.locator("#case-list")).to_contain_text(number)
    await expect(page.locator("#case-list")).to_contain_text("补正告知")

    # the next morning the applicant brings it: Alt+J, the clock runs again
    await to_time(page, clock, "2026-12-09 09:00")
    await page.bring_to_front()
    await page.keyboard.press("Alt+KeyJ")
    await expect(page.locator("#case-dialog-title")).to_have_text("材料已补交")
    await page.keyboard.press("Enter")
    await expect(form).to_be_hidden()
    # 1.5 h were used before the pause: 12.5 working hours from Wednesday 09:00 end on
    # Thursday 14:30, and a day limit ends at the close of a working day
    await expect(page.locator("#case-deadline")).to_have_text("办结期限 2026-12-10 17:00")
    await expect(page.locator("#case-remaining")).to_contain_text("剩余 2 个工作日")
    await expect(page.locator("#case-materials li.m-supplemented")).to_contain_text(OPTIONAL_NAME)

    # Alt+S start, Alt+A approve (confirmed with Enter), Alt+C complete (Esc cancels first)
    await page.keyboard.press("Alt+KeyS")
    await expect(page.locator("#case-state")).to_have_text("办理中")
    await expect(page.locator("#case-actions")).to_contain_text("审核通过")
    await to_time(page, clock, "2026-12-09 11:00")
    await page.keyboard.press("Alt+KeyA")
    await expect(page.locator("#case-dialog-title")).to_have_text("审核通过")
    await page.keyboard.press("Enter")
    await expect(page.locator("#case-state")).to_have_text("已批准")
    await page.keyboard.press("Alt+KeyC")
    await expect(form).to_be_visible()
    await page.keyboard.press("Escape")
    await expect(form).to_be_hidden()
    await expect(page.locator("#case-state")).to_have_text("已批准")
    await page.keyboard.press("Alt+KeyC")
    await expect(form).to_be_visible()
    await page.keyboard.press("Enter")
    await expect(page.locator("#case-state")).to_have_text("已办结")
    await expect(page.locator("#case-remaining")).to_have_text(re.compile(r"^已停止计时 · 提前 "))
    await expect(page.locator("#case-actions")).to_contain_text("领取")
    await expect(page.locator("#case-actions")).not_to_contain_text("办结")
    await expect(page.locator("#case-history")).to_contain_text("一次性告知补正")
    await page.locator("#case-tabs [data-tab='cases']").click()
    await expect(page.locator("#case-list")).not_to_contain_text(number)
    assert errors == []


async def test_deficiency_material_check_and_fee_by_keyboard(live, http, db, new_context):
    """容缺受理 from F8 with the keyboard alone: the one non-key material marked missing (↓ in
    its status), the commitment ticked (Space), the supplement deadline typed (a day already
    past is refused in the dialog, as the server says), Enter; the case shows what is deferred and until when. Then
    Alt+M 材料核对 marks a material faulty, and Alt+P 收费 picks the second listed fee and takes
    its receipt number (an amount above the list is refused): the fee is listed on the case."""
    errors: list[str] = []
    clock = use_clock(live, at("2026-12-07 10:00"))  # a Monday
    token, _, reg = await serving_ticket(http, db, window_no=60, item=REALTY)
    _, page = await open_terminal(new_context, live, token, clock, errors)
    await expect(page.locator("#case-accept")).to_contain_text(f"受理 {reg['ticket']['ticket_no']}")

    await page.keyboard.press("F8")
    dialog = page.locator("#accept-dialog")
    await expect(dialog.locator(".c-mat-row")).to_have_count(7)
    await expect(dialog.locator("#accept-name")).to_be_focused()
    await page.keyboard.type("张小三")
    # Tab: phone, ID number, then each material's status (its problem field is skipped while
    # the material is 已交)
    for _ in range(9):
        await page.keyboard.press("Tab")
    deferred = dialog.locator(f".c-mat-row[data-position='{REALTY_OPTIONAL}']")
    await expect(deferred.locator("select")).to_be_focused()
    await page.keyboard.press("ArrowDown")
    await expect(deferred.locator("select")).to_have_value("missing")
    await page.keyboard.press("Tab")
    await expect(deferred.locator("input")).to_be_focused()
    await page.keyboard.type("委托人未到场")
    await page.keyboard.press("Tab")
    await expect(dialog.locator("#accept-urgent")).to_be_focused()
    await page.keyboard.press("Tab")
    commitment = dialog.locator("#accept-deficiency")
    await expect(commitment).to_be_focused()
    await page.keyboard.press("Space")
    await expect(commitment).to_be_checked()
    await page.keyboard.press("Tab")
    due = dialog.locator("#accept-due")
    await expect(due).to_be_focused()
    # a month and day is this year's: the 1st of December is past, the server says so
    await page.keyboard.type("1201")
    await page.keyboard.press("Enter")
    await expect(dialog.locator("#accept-error")).to_have_text("补交期限已过")
    await expect(due).to_be_focused()
    await page.keyboard.press("Control+A")
    await page.keyboard.type("20261211")
    await page.keyboard.press("Enter")
    await expect(dialog).to_be_hidden()

    await expect(page.locator("#case-no")).to_have_text(CASE_NO)
    number = await page.locator("#case-no").inner_text()
    await expect(page.locator("#case-state")).to_have_text("已受理")
    # due at the close of that day's work
    await expect(page.locator("#case-deficiency")).to_have_text(
        "容缺受理：缺项材料须在 2026-12-11 17:00 前补交"
    )
    missing_row = page.locator("#case-materials li", has_text=REALTY_OPTIONAL_NAME)
    await expect(missing_row).to_have_class(re.compile(r"\bm-missing\b"))
    await expect(missing_row).to_contain_text("容缺")
    await expect(missing_row).to_contain_text("委托人未到场")
    # 5 working days from Monday: the next Monday; the deferred material is due before it
    await expect(page.locator("#case-deadline")).to_have_text("办结期限 2026-12-14 17:00")
    await page.locator("#case-tabs [data-tab='supplements']").click()
    listed = page.locator("#case-list li", has_text=number)
    await expect(listed).to_contain_text("容缺补交 2026-12-11 17:00")

    # Alt+M 材料核对: the third material's copy is unreadable
    await page.keyboard.press("Alt+KeyM")
    form = page.locator("#case-dialog")
    await expect(page.locator("#case-dialog-title")).to_have_text("材料核对")
    first = form.locator(".c-mat-row[data-position='1'] select")
    await expect(first).to_be_focused()
    await page.keyboard.press("Tab")
    await page.keyboard.press("Tab")
    land = form.locator(".c-mat-row[data-position='3']")
    await expect(land.locator("select")).to_be_focused()
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("ArrowDown")
    await expect(land.locator("select")).to_have_value("faulty")
    await page.keyboard.press("Tab")
    await expect(land.locator("input")).to_be_focused()
    await page.keyboard.type("复印件不清晰")
    await page.keyboard.press("Enter")
    await expect(form).to_be_hidden()
    faulty = page.locator("#case-materials li", has_text="土地权属来源证明")
    await expect(faulty).to_have_class(re.compile(r"\bm-faulty\b"))
    await expect(faulty).to_contain_text("有误")
    await expect(faulty).to_contain_text("复印件不清晰")
    # the deferred one stays deferred
    await expect(missing_row).to_contain_text("容缺")
    await expect(page.locator("#case-history")).to_contain_text("核对材料")

    # Alt+P 收费: ↓ picks the second listed fee, its amount follows; above the list is refused
    await expect(page.locator("#case-fees")).to_have_text("无")
    await page.keyboard.press("Alt+KeyP")
    await expect(page.locator("#case-dialog-title")).to_have_text("收费（仅限公示收费项目）")
    pick = form.locator("select")
    await expect(pick).to_be_focused()
    await page.keyboard.press("ArrowDown")
    await expect(pick.locator("option:checked")).to_have_text(
        "不动产权属证书工本费（第二本起）（10.00 元）"
    )
    await page.keyboard.press("Tab")
    amount = form.locator("input").first
    await expect(amount).to_be_focused()
    await expect(amount).to_have_value("10.00")
    await page.keyboard.press("Control+A")
    await page.keyboard.type("12")
    await page.keyboard.press("Tab")
    await page.keyboard.type("SF-20261207-0001")
    await page.keyboard.press("Enter")
    await expect(page.locator("#case-dialog-error")).to_have_text(
        "收费金额超过公示标准（10.00 元）"
    )
    await page.keyboard.press("Shift+Tab")
    await expect(amount).to_be_focused()
    await page.keyboard.press("Control+A")
    await page.keyboard.type("10")
    await page.keyboard.press("Enter")
    await expect(form).to_be_hidden()
    fee = page.locator("#case-fees li")
    await expect(fee).to_have_count(1)
    await expect(fee).to_contain_text(
        "不动产权属证书工本费（第二本起） 10.00 元 · 票据 SF-20261207-0001 · 2026-12-07 "
    )
    await expect(page.locator("#case-history")).to_contain_text("收费")
    stored = await db.fetch(
        "select name, amount_cents, receipt_no from case_fee f join service_case c "
        "on c.id = f.case_id where c.case_no = $1",
        number,
    )
    assert [tuple(r) for r in stored] == [
        ("不动产权属证书工本费（第二本起）", 1000, "SF-20261207-0001")
    ]
    assert errors == []


async def test_a_leader_signs_at_a_window_and_the_clerk_sees_it_within_a_second(
    live, http, db, new_context
):
    """Leaders sign at the window: a leader already signed in at a window terminal of the
    department sees the clerk's request arrive in 待签批 within a second; its wait moves on
    (every 15 s, as on /leader) and turns red past the hall's limit; the leader approves there,
    and the clerk's terminal shows the decision within a second."""
    errors: list[str] = []
    clock = use_clock(live, at("2026-12-07 10:00"))  # leader.amr is on duty
    limit = await db.fetchval("select signoff_wait_minutes from hall where code = 'rizhao'")
    assert limit == 10
    clerk, ticket_id, _ = await serving_ticket(http, db, window_no=1, item=SIGNOFF)
    case = await accept(http, clerk, ticket_id=ticket_id, item=SIGNOFF)
    _, page = await open_terminal(new_context, live, clerk, clock, errors)

    # the leader, signed in at window 2 of the department before anything is asked
    leader = await clerk_at_window(db, 2, username="leader.amr", open_window=False)
    _, signing = await open_terminal(new_context, live, leader, clock, errors)
    await expect(signing.locator("#head-no")).to_have_text("2")
    await expect(signing.locator("#act-call")).to_be_disabled()
    tab = signing.locator("#case-tabs [data-tab='signoffs']")
    await expect(tab).to_have_attribute("aria-selected", "true")
    await expect(tab).to_have_text("待签批 0")
    await expect(signing.locator("#case-list")).to_contain_text("暂无待签批的办件")

    # the case is in the clerk's list: Alt+O, Enter opens it
    await expect(page.locator("#case-list")).to_contain_text(case["case_no"])
    await page.keyboard.press("Alt+KeyO")
    await expect(page.locator("#case-list button.c-row").first).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("#case-no")).to_have_text(case["case_no"])
    # needs the leader: no approve/refuse of the clerk's own
    await expect(page.locator("#case-actions")).not_to_contain_text("审核通过")
    await page.keyboard.press("Alt+KeyS")
    await expect(page.locator("#case-state")).to_have_text("办理中")
    await expect(page.locator("#case-actions")).to_contain_text("提交领导签批")
    await page.keyboard.press("Alt+KeyQ")
    await expect(page.locator("#case-dialog-title")).to_have_text("提交领导签批")
    await page.keyboard.type("材料齐全，请签批")

    # Ctrl+Enter: the request arrives live at the leader's window within a second
    request = signing.locator("#case-list li", has_text=case["case_no"])
    pressed = time.monotonic()
    await page.keyboard.press("Control+Enter")
    await expect(request).to_contain_text("材料齐全，请签批", timeout=1000)
    latency = time.monotonic() - pressed
    print(f"\nclerk's Ctrl+Enter → the leader's window: {latency * 1000:.0f} ms")
    assert latency < 1.0
    await expect(page.locator("#case-state")).to_have_text("待领导签批")
    await expect(tab).to_have_text("待签批 1")
    wait = request.locator("[data-wait]")
    await expect(wait).to_have_text("刚刚")
    await expect(wait).to_have_class("badge")
    await expect(request).not_to_have_class("c-row-late")

    # past the hall's limit without a new read: the next 15 s tick shows the wait, in red
    await to_time(signing, clock, "2026-12-07 10:12:30")
    await signing.clock.fast_forward(15_000)
    await expect(wait).to_have_text("已等 12 分钟 · 等候超时")
    await expect(wait).to_have_class("badge red")
    await expect(request).to_have_class("c-row-late")

    await request.get_by_role("button", name="同意", exact=True).click()
    await expect(signing.locator("#case-dialog-title")).to_have_text(f"签批 {case['case_no']}")
    await signing.locator("#case-dialog-body textarea").fill("同意办理")
    decision = page.locator("#case-decision")
    pressed = time.monotonic()
    await signing.keyboard.press("Control+Enter")
    await expect(decision).to_contain_text("领导签批：同意", timeout=1000)
    latency = time.monotonic() - pressed
    print(f"leader's Ctrl+Enter → the clerk's panel: {latency * 1000:.0f} ms")
    assert latency < 1.0
    await expect(decision).to_contain_text("同意办理")
    await expect(page.locator("#case-state")).to_have_text("已批准")
    await expect(signing.locator("#case-list li", has_text=case["case_no"])).to_have_count(0)
    await expect(tab).to_have_text("待签批 0")
    assert errors == []


async def test_acceptance_refused_from_a_scanned_registration(live, http, db, new_context):
    errors: list[str] = []
    clock = use_clock(live, at("2026-12-07 10:00"))
    token = await clerk_at_window(db, 1)
    reg = await register(http, await kiosk_token(http), await item_of_window(db, 1))
    _, page = await open_terminal(new_context, live, token, clock, errors)
    await expect(page.locator("#case-accept")).to_be_disabled()  # no ticket at the window

    # the scanner types the barcode; the registration's 受理 opens the dialog from it
    await page.locator("#current").click()
    await page.keyboard.type(reg["reg_no"])
    await page.keyboard.press("Enter")
    await page.locator("#scan-result").get_by_role("button", name="受理", exact=True).click()
    dialog = page.locator("#accept-dialog")
    await expect(page.locator("#accept-source")).to_have_text(f"登记号 {reg['reg_no']}")
    await expect(dialog.locator("#accept-item")).to_have_value(reg["item"]["code"])
    await dialog.locator("#accept-name").fill("某某贸易有限公司")
    await page.keyboard.press("Alt+KeyN")
    await expect(dialog.locator("#accept-reason")).to_be_focused()
    await page.keyboard.press("Control+Enter")
    await expect(dialog.locator("#accept-error")).to_have_text("请填写不予受理的理由")
    await page.keyboard.type("申请事项不属于本机关职权范围")
    await page.keyboard.press("Control+Enter")
    await expect(dialog).to_be_hidden()
    await expect(page.locator("#case-state")).to_have_text("不予受理")
    await expect(page.locator("#case-reason")).to_have_text("理由：申请事项不属于本机关职权范围")
    await expect(page.locator("#case-actions")).to_contain_text("此状态下没有可办理的操作")
    await expect(page.locator("#print-acceptance")).to_contain_text("打印不予受理告知书")
    row = await db.fetchrow(
        "select c.state, r.reg_no from service_case c join registration r "
        "on r.id = c.registration_id where c.case_no = $1",
        await page.locator("#case-no").inner_text(),
    )
    assert (row["state"], row["reg_no"]) == ("not_accepted", reg["reg_no"])
    assert errors == []


async def test_the_list_warns_before_the_supplement_notice_period_ends(live, http, db, new_context):
    """§32: a supplement notice is due within 5 working days of acceptance; from the working
    day before, the window's list says so on the case's row."""
    errors: list[str] = []
    clock = use_clock(live, at("2026-12-07 10:00"))
    token, ticket_id, _ = await serving_ticket(http, db, window_no=1, item=PROMISED)
    fresh = await accept(http, token, ticket_id=ticket_id, item=PROMISED)
    clock.set(at("2026-12-11 10:00"))  # Friday: due Monday 17:00
    _, page = await open_terminal(new_context, live, token, clock, errors)
    row = page.locator("#case-list li", has_text=fresh["case_no"])
    await expect(row).to_have_class("c-row-warn")
    await expect(row).to_contain_text("请在 12-14 17:00 前完成审查，需补正的须一次性告知")
    await row.get_by_role("button").press("Enter")
    await expect(page.locator("#case-no")).to_have_text(fresh["case_no"])
    await expect(page.locator("#case-warning")).to_contain_text("12-14 17:00")
    assert errors == []


async def test_a_completed_case_is_found_by_its_receipt_and_picked_up(live, http, db, new_context):
    """领取: a case completed at another window of the department waits under 待领取 (an open
    one does not); the applicant's receipt, scanned into 扫描回执/告知单 (F7), opens it, an
    unknown number gets the server's message; Alt+L, Enter hands it over and it leaves 待领取."""
    errors: list[str] = []
    clock = use_clock(live, at("2026-12-07 10:00"))
    other, ticket_id, _ = await serving_ticket(http, db, window_no=3, item=PROMISED)
    done = await accept(http, other, ticket_id=ticket_id, item=PROMISED)
    clock.set(at("2026-12-08 15:00"))
    await case_command(http, other, done["case_id"], "decision", {"decision": "approve"})
    await case_command(http, other, done["case_id"], "complete")
    clerk, ticket_id, _ = await serving_ticket(http, db, window_no=1, item=PROMISED)
    still_open = await accept(http, clerk, ticket_id=ticket_id, item=PROMISED)
    clock.set(at("2026-12-09 09:30"))
    _, page = await open_terminal(new_context, live, clerk, clock, errors)

    tab = page.locator("#case-tabs [data-tab='pickup']")
    await expect(tab).to_have_text("待领取 1")
    await tab.click()
    rows = page.locator("#case-list button.c-row")
    await expect(rows).to_have_count(1)
    await expect(rows).to_contain_text(done["case_no"])
    await expect(rows).to_contain_text("已办结")
    await expect(rows).to_contain_text("3 号窗口")
    await expect(page.locator("#case-list")).not_to_contain_text(still_open["case_no"])
    # Alt+O, Enter: the case opens from the list
    await page.keyboard.press("Alt+KeyO")
    await expect(rows.first).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("#case-no")).to_have_text(done["case_no"])
    await expect(page.locator("#case-actions")).to_contain_text("领取")
    await page.locator("#case-close").click()
    await expect(page.locator("#case-open")).to_be_hidden()

    # the scanner types what is printed, then Enter: an unknown number, the server's message
    await page.keyboard.press("F7")
    field = page.locator("#case-find-code")
    await expect(field).to_be_focused()
    await page.keyboard.type("RIZHAO-20261207-99999")
    await page.keyboard.press("Enter")
    await expect(page.locator("#case-find-error")).to_have_text(
        "没有找到此办件，请核对回执上的办件编号"
    )
    await expect(page.locator("#case-open")).to_be_hidden()
    # the receipt's case number (as a hand scanner sends it, in lower case) opens the case
    await page.keyboard.press("F7")
    await page.keyboard.type(done["case_no"].lower())
    await page.keyboard.press("Enter")
    await expect(page.locator("#case-no")).to_have_text(done["case_no"])
    await expect(page.locator("#case-state")).to_have_text("已办结")
    await expect(page.locator("#case-find-error")).to_be_hidden()
    await expect(field).to_have_value("")

    # Alt+L 领取, Enter confirms
    await page.keyboard.press("Alt+KeyL")
    await expect(page.locator("#case-dialog-title")).to_contain_text("领取")
    await page.keyboard.press("Enter")
    await expect(page.locator("#case-dialog")).to_be_hidden()
    await expect(page.locator("#case-state")).to_have_text("已领取")
    await expect(page.locator("#case-history")).to_contain_text("领取")
    await expect(tab).to_have_text("待领取 0")
    await expect(page.locator("#case-list")).to_contain_text("暂无待领取的办件")
    state = await db.fetchval("select state from service_case where id = $1", done["case_id"])
    assert state == "delivered"
    assert errors == []


def test_the_terminal_knows_every_state_and_transition_of_the_table():
    """case-model.js against case_flow: the same state names, and every transition of the
    table is an action of the panel (or acceptance, which has its own dialog)."""
    node = shutil.which("node")
    if node is None:
        missing("Node.js not installed (the terminal's case model is checked under node)")
    script = (
        "const m = await import('./frontend/window/case-model.js');"
        "console.log(JSON.stringify({states: m.STATE_NAMES, notOnPanel: m.NOT_ON_PANEL,"
        " keys: m.CASE_ACTIONS.flatMap((a) => a.keys)}));"
    )
    out = subprocess.run(
        [node, "--input-type=module", "-e", script],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    )
    model = json.loads(out.stdout)
    assert model["states"] == dict(case_flow.STATE_NAMES)
    covered = set(model["keys"]) | set(model["notOnPanel"])
    assert set(case_flow.TRANSITIONS) - covered == set()
    assert covered - set(case_flow.TRANSITIONS) == set()
