"""Cases in Chromium: a clerk (through the API) asks for the leader's sign-off, the leader's
/leader page shows the request within a second and approves it with the keyboard, and the
window's live stream has the decision within a second; the citizen's /track follows a case live
to 已办结 without a reload."""

from __future__ import annotations

import time

from playwright.async_api import expect

from tests.browser.conftest import collect_errors
from tests.cases.helpers import PROMISED, SIGNOFF, accept, at, command, serving_ticket, use_clock
from tests.conftest import login
from tests.queue_helpers import bearer
from tests.realtime.sio import SioClient

HD = {"width": 1600, "height": 1000}
PHONE = {"width": 390, "height": 844}


async def _decided(client: SioClient, case_id: int, timeout: float) -> dict:
    """The window's signoff.decided of `case_id` (other frames of its room pass by)."""
    deadline = time.monotonic() + timeout
    while True:
        frame = await client.next(max(0.01, deadline - time.monotonic()))
        if frame.get("type") == "signoff.decided" and frame["data"]["case_id"] == case_id:
            return frame


async def test_the_leader_sees_the_request_live_and_approves_it(live, http, db, new_context):
    errors: list[str] = []
    use_clock(live, at("2026-12-07 10:00"))  # a Monday: leader.amr is on duty
    clerk, ticket_id, _ = await serving_ticket(http, db, window_no=1, item=SIGNOFF)
    case = await accept(http, clerk, ticket_id=ticket_id, item=SIGNOFF)
    cid = case["case_id"]
    await command(http, clerk, cid, "start")

    leader = (await login(http, "leader.amr"))["token"]
    ctx = await new_context(live.url, leader, viewport=HD)
    page = await ctx.new_page()
    collect_errors(page, errors)
    await page.goto(f"{live.url}/leader")
    await expect(page.locator("#conn")).to_have_text("实时")
    await expect(page.locator("#empty")).to_be_visible()
    await expect(page.locator("#duty")).to_have_text("今日带班")

    # the window terminal's live stream (its own room), to time the decision reaching it
    window = await SioClient().connect(live.url, auth={"token": clerk, "rooms": ["window:1"]})
    try:
        await window.until_live()

        # the clerk asks; the request is on the leader's page within a second of the answer
        await command(
            http, clerk, cid, "signoff-request", {"note": "材料齐全，符合许可条件，请签批"}
        )
        row = page.locator(f"#requests li[data-case='{cid}']")
        await expect(row).to_be_visible(timeout=1000)
        await expect(row).to_have_class("new")
        await expect(row).to_contain_text("新请求")
        await expect(row).to_have_attribute("aria-selected", "true")
        await expect(page.locator("#detail-note")).to_have_text("材料齐全，符合许可条件，请签批")
        await expect(page.locator("#detail-item")).to_have_text(case["item_name"])
        await expect(page.locator("#detail-history")).to_contain_text("提交领导签批")
        await expect(page.locator("#detail-materials li")).not_to_have_count(0)
        await expect(page.locator("#detail-clock")).to_contain_text("剩余")
        # masked for the leader: only the serving clerk sees the applicant's name
        await expect(page.locator("#detail")).to_contain_text("张*三")

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
        await page.keyboard.type("同意")
        await page.keyboard.press("Enter")
        await expect(page.locator("#decide-error")).to_have_text("您今天不在带班值班，不能签批")
        await expect(dialog).to_be_visible()
        await db.execute(
            "insert into leader_duty (hall_id, duty_date, staff_id, department_id) "
            "select hall_id, '2026-12-07', id, department_id from staff "
            "where username = 'leader.amr'"
        )

        # on duty again: Enter confirms; the window's stream has the decision within a second
        pressed = time.monotonic()
        await page.keyboard.press("Enter")
        frame = await _decided(window, cid, timeout=1.0)
        latency = time.monotonic() - pressed
        print(f"\nleader's Enter → window's stream: {latency * 1000:.0f} ms")
        assert latency < 1.0
        assert frame["data"]["decision"] == "approved" and frame["data"]["comment"] == "同意"
        await expect(dialog).to_be_hidden(timeout=1000)
        await expect(row).to_have_count(0, timeout=1000)
        await expect(page.locator("#empty")).to_be_visible()
        await expect(page.locator(".toast.ok")).to_contain_text("已同意")
    finally:
        await window.close()

    resp = await http.get(f"/api/cases/{cid}", headers=bearer(clerk))
    detail = await resp.json()
    assert detail["state"] == "approved"
    leader_name = await db.fetchval("select display_name from staff where username = 'leader.amr'")
    assert [(s["decision"], s["decided_by"], s["comment"]) for s in detail["signoffs"]] == [
        ("approved", leader_name, "同意")
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
