"""Cases in Chromium: a clerk at the window terminal accepts a case and asks for the leader's
sign-off, the leader's /leader page shows the request within a second and approves it with the
keyboard, and the clerk's terminal shows the decision within a second; the citizen's /track
follows a case live to 已办结 without a reload."""

from __future__ import annotations

import re
import time

from playwright.async_api import expect

from tests.browser.conftest import collect_errors, open_terminal
from tests.cases.helpers import PROMISED, SIGNOFF, accept, at, command, serving_ticket, use_clock
from tests.conftest import login
from tests.queue_helpers import bearer

HD = {"width": 1600, "height": 1000}
PHONE = {"width": 390, "height": 844}
CASE_NO = re.compile(r"^RIZHAO-20261207-\d{5}$")
NOTE = "材料齐全，符合许可条件，请签批"
COMMENT = "同意，按规定发证"


async def test_the_leader_sees_the_request_live_and_approves_it(live, http, db, new_context):
    """The issue's sign-off end to end, in two browsers: the clerk at the window terminal
    accepts the ticket's case of a sign-off item (F8, Enter), starts it (Alt+S) and asks for the
    leader's sign-off with a note (Alt+Q, Ctrl+Enter); the leader's /leader, open all along,
    shows the request with the note within a second; the leader approves it there with a
    comment, and the clerk's terminal shows the decision and the comment within a second."""
    errors: list[str] = []
    clock = use_clock(live, at("2026-12-07 10:00"))  # a Monday: leader.amr is on duty
    clerk, _, reg = await serving_ticket(http, db, window_no=1, item=SIGNOFF)
    leader_name = await db.fetchval("select display_name from staff where username = 'leader.amr'")

    leader = (await login(http, "leader.amr"))["token"]
    ctx = await new_context(live.url, leader, viewport=HD)
    page = await ctx.new_page()
    collect_errors(page, errors)
    await page.goto(f"{live.url}/leader")
    await expect(page.locator("#conn")).to_have_text("实时")
    await expect(page.locator("#empty")).to_be_visible()
    await expect(page.locator("#duty")).to_have_text("今日带班")

    # the clerk's terminal: F8 accepts the ticket being served, by the keyboard
    _, window = await open_terminal(new_context, live, clerk, clock, errors)
    ticket_no = reg["ticket"]["ticket_no"]
    await expect(window.locator("#case-accept")).to_contain_text(f"受理 {ticket_no}")
    await window.keyboard.press("F8")
    accepting = window.locator("#accept-dialog")
    await expect(accepting.locator("#accept-item")).to_have_value(SIGNOFF)
    await expect(accepting.locator("#accept-limit")).to_contain_text("须领导签批")
    await expect(accepting.locator(".c-mat-row")).not_to_have_count(0)
    await window.keyboard.type("张小三")
    await window.keyboard.press("Enter")
    await expect(accepting).to_be_hidden()
    await expect(window.locator("#case-no")).to_have_text(CASE_NO)
    number = await window.locator("#case-no").inner_text()
    cid = await db.fetchval("select id from service_case where case_no = $1", number)
    await expect(window.locator("#case-state")).to_have_text("已受理")
    await window.keyboard.press("Alt+KeyS")
    await expect(window.locator("#case-state")).to_have_text("办理中")
    await window.keyboard.press("Alt+KeyQ")
    await expect(window.locator("#case-dialog-title")).to_have_text("提交领导签批")
    await window.keyboard.type(NOTE)

    # Ctrl+Enter sends it; the request and its note are on the leader's page within a second
    row = page.locator(f"#requests li[data-case='{cid}']")
    pressed = time.monotonic()
    await window.keyboard.press("Control+Enter")
    await expect(row).to_be_visible(timeout=1000)
    await expect(page.locator("#detail-note")).to_have_text(NOTE, timeout=1000)
    latency = time.monotonic() - pressed
    print(f"\nclerk's Ctrl+Enter → the leader's page: {latency * 1000:.0f} ms")
    assert latency < 1.0
    await expect(window.locator("#case-state")).to_have_text("待领导签批")
    await expect(row).to_have_class("new")
    await expect(row).to_contain_text("新请求")
    await expect(row).to_have_attribute("aria-selected", "true")
    await expect(page.locator("#detail-item")).to_have_text("食品生产许可")
    await expect(page.locator("#detail-history")).to_contain_text("提交领导签批")
    await expect(page.locator("#detail-materials li")).not_to_have_count(0)
    await expect(page.locator("#detail-clock")).to_contain_text("剩余")
    # masked for the leader: only the serving clerk sees the applicant's name
    await expect(page.locator("#detail")).to_contain_text("张*三")
    await expect(page.locator("#detail")).not_to_contain_text("张小三")
    await expect(window.locator("#case-applicant")).to_contain_text("张小三")

    dialog = page.locator("#decide-dialog")
    # R: a rejection needs a reason; Enter without one is refused in the dialog
    await page.keyboard.press("r")
    await expect(dialog).to_be_visible()
    await expect(page.locator("#decide-title")).to_have_text("不同意")
    await page.keyboard.press("Enter")
    await expect(page.locator("#decide-error")).to_have_text("不同意时请填写理由")
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()

    # off duty: the server's refusal is shown as it says it
    await db.execute(
        "delete from leader_duty where duty_date = '2026-12-07' and staff_id = "
        "(select id from staff where username = 'leader.amr')"
    )
    await page.keyboard.press("a")
    await expect(page.locator("#decide-title")).to_have_text("同意签批")
    await page.keyboard.type(COMMENT)
    await page.keyboard.press("Enter")
    await expect(page.locator("#decide-error")).to_have_text("您今天不在带班值班，不能签批")
    await expect(dialog).to_be_visible()
    await db.execute(
        "insert into leader_duty (hall_id, duty_date, staff_id, department_id) "
        "select hall_id, '2026-12-07', id, department_id from staff "
        "where username = 'leader.amr'"
    )

    # on duty again: Enter confirms; the clerk's terminal shows the decision and the comment
    # within a second
    decision = window.locator("#case-decision")
    await expect(decision).to_be_hidden()
    pressed = time.monotonic()
    await page.keyboard.press("Enter")
    await expect(decision.locator("b")).to_have_text("领导签批：同意", timeout=1000)
    await expect(decision.locator("span")).to_have_text(f"{leader_name}：“{COMMENT}”", timeout=1000)
    latency = time.monotonic() - pressed
    print(f"leader's Enter → the clerk's terminal: {latency * 1000:.0f} ms")
    assert latency < 1.0
    await expect(window.locator("#case-state")).to_have_text("已批准")
    await expect(window.locator("#case-signoffs")).to_contain_text(
        f"{leader_name}：同意（{COMMENT}）"
    )
    await expect(dialog).to_be_hidden(timeout=1000)
    await expect(row).to_have_count(0, timeout=1000)
    await expect(page.locator("#empty")).to_be_visible()
    await expect(page.locator(".toast.ok")).to_contain_text("已同意")

    resp = await http.get(f"/api/cases/{cid}", headers=bearer(clerk))
    detail = await resp.json()
    assert detail["state"] == "approved"
    assert [(s["decision"], s["decided_by"], s["comment"]) for s in detail["signoffs"]] == [
        ("approved", leader_name, COMMENT)
    ]
    assert [(s["note"], s["requested_by"]) for s in detail["signoffs"]] == [
        (NOTE, await db.fetchval("select display_name from staff where username = 'clerk001'"))
    ]
    assert errors == []


async def test_a_leader_is_sent_to_login_and_back(live, new_context):
    ctx = await new_context(viewport=HD)
    page = await ctx.new_page()
    await page.goto(f"{live.url}/leader")
    await page.wait_for_url("**/login?next=%2Fleader")


async def test_track_follows_the_case_live_to_completion(live, http, db, new_context):
    errors: list[str] = []
    clock = use_clock(live, at("2026-12-07 10:00"))
    clerk, ticket_id, reg = await serving_ticket(http, db, window_no=1, item=PROMISED)
    case = await accept(http, clerk, ticket_id=ticket_id, item=PROMISED)
    cid = case["case_id"]

    ctx = await new_context(viewport=PHONE)
    page = await ctx.new_page()
    collect_errors(page, errors)
    await page.goto(f"{live.url}/track?code={case['query_code']}")
    state = page.locator("#case-state")
    await expect(state).to_have_text("已受理")
    await expect(page.locator("#conn")).to_have_text("实时更新")
    await expect(page.locator("#case")).to_contain_text("张*三")
    await expect(page.locator("#case")).not_to_contain_text("张小三")
    await expect(page.locator("#case-deadline")).to_have_text("2026-12-09 17:00 前")
    # Monday: the limit counts from Tuesday, two of the hall's working days
    await expect(page.locator("#case-remaining")).to_have_text("剩余 2 个工作日")
    await expect(page.locator("#case-steps li.current")).to_have_attribute("data-step", "accepted")
    await page.evaluate("() => { window.notReloaded = true; }")

    await command(http, clerk, cid, "start")
    await expect(state).to_have_text("办理中", timeout=2000)
    await command(
        http,
        clerk,
        cid,
        "supplement",
        {"materials": [{"position": 1, "status": "missing", "problem": "缺原件"}]},
    )
    await expect(page.locator("#case-missing")).to_contain_text("缺原件", timeout=2000)
    await expect(page.locator("#case-remaining")).to_contain_text("补正材料期间暂停计时")
    await command(http, clerk, cid, "supplement/received", {})
    await expect(page.locator("#case-missing")).to_have_count(0, timeout=2000)

    clock.set(at("2026-12-08 11:00"))
    await command(http, clerk, cid, "decision", {"decision": "approve"})
    await expect(state).to_have_text("已批准", timeout=2000)
    await command(http, clerk, cid, "complete")
    await expect(state).to_have_text("已办结", timeout=2000)
    await expect(page.locator("#case-advice")).to_have_text("已办结，请携带告知单到 1 号窗口领取")
    await expect(page.locator("#case-timeline li").first).to_contain_text("办结")
    await expect(page.locator("#case-remaining")).to_have_text("已在承诺时限内办结")
    assert await page.evaluate("() => window.notReloaded") is True

    # the registration notice's code leads to the same case
    await page.goto(f"{live.url}/track?code={reg['query_code']}")
    await expect(state).to_have_text("已办结")
    await expect(page.locator("#case")).to_contain_text(case["case_no"])
    assert errors == []
