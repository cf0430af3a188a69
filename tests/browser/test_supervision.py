"""The supervision wall in Chromium: a clerk's promised case falls due on the controllable clock,
the hall timers' job alarm.fire_case raises its 预警 (run by the test at the instant: the live
server's timers are off, as in tests/cases/test_case_alarms.py) and /supervision shows it within
a second of the job's commit; the supervisor acknowledges it and annotates it on the wall; the
黄牌 comes on top; the drill-down goes hall → department → window → case (its timeline and its
alarms) → alarm (its timeline); the month's tab shows the scores with the formula."""

from __future__ import annotations

from playwright.async_api import expect

from server.catalogue import CATALOGUE
from server.catalogue.spine import TimerContext
from server.keys import STORE
from tests.browser.conftest import collect_errors
from tests.cases.helpers import PROMISED, Clock, accept, at, serving_ticket, use_clock
from tests.conftest import login

HD = {"width": 1600, "height": 1000}
JOB = CATALOGUE.timers["alarm.fire_case"]


async def fire(live, db, clock: Clock, when: str) -> list[dict]:
    """The server's clock to `when`, and the job run at that instant as the hall's timers would:
    the alarm.issued payloads it committed (and published)."""
    clock.set(at(when))
    hall = await db.fetchrow("select * from hall where code = 'rizhao'")
    records = await JOB.run(TimerContext(live.app[STORE]), hall, at(when))
    return [r.payload for r in records]


async def test_an_alarm_reaches_the_wall_and_the_supervisor_acknowledges_it(
    live, http, db, new_context
):
    errors: list[str] = []
    clock = use_clock(live, at("2026-12-07 10:00"))  # Monday: due Wednesday 17:00
    clerk, ticket, _ = await serving_ticket(http, db, window_no=1)
    case = await accept(http, clerk, ticket_id=ticket, item=PROMISED)
    cid = case["case_id"]

    supervisor = (await login(http, "supervisor1"))["token"]
    ctx = await new_context(live.url, supervisor, viewport=HD)
    page = await ctx.new_page()
    collect_errors(page, errors)
    await page.goto(f"{live.url}/supervision")
    await expect(page.locator("#conn")).to_have_text("实时")
    await expect(page.locator("#alarms-empty")).to_be_visible()
    await expect(page.locator("#kpi-warning b")).to_have_text("0")
    # a city supervisor sees the county halls in totals
    await expect(page.locator("#counties tr[data-hall='juxian']")).to_be_visible()

    # one working day left: the 预警, on the wall within a second of its commit
    (warning,) = await fire(live, db, clock, "2026-12-08 17:00:00")
    row = page.locator(f"#alarms li[data-alarm='{warning['alarm_id']}']")
    await expect(row).to_be_visible(timeout=1000)
    await expect(row.locator(".a-level")).to_have_text("预警")  # the name, not colour alone
    await expect(row).to_have_attribute("data-acknowledged", "false")
    await expect(row).to_contain_text("未签收")
    await expect(row).to_contain_text(case["case_no"])
    await expect(page.locator("#kpi-warning b")).to_have_text("1")
    await expect(page.locator("#kpi-unack b")).to_have_text("1")

    # the supervisor acknowledges it on the wall
    await row.locator("button[data-act='acknowledge']").click()
    await expect(row).to_have_attribute("data-acknowledged", "true")
    await expect(row).to_contain_text("已签收")
    await expect(row.locator("button[data-act='acknowledge']")).to_have_count(0)
    await expect(page.locator("#kpi-unack b")).to_have_text("0")
    acknowledged = await db.fetchrow(
        "select a.acknowledged_at, s.username from alarm a join staff s on s.id = a.acknowledged_by"
        " where a.id = $1",
        warning["alarm_id"],
    )
    assert acknowledged is not None and acknowledged["username"] == "supervisor1"

    # and annotates it
    await row.locator("button[data-act='annotate']").click()
    await expect(page.locator("#note-dialog")).to_be_visible()
    await page.locator("#note-text").fill("已电话提醒窗口，今日内办结")
    await page.locator("#note-ok").click()
    await expect(page.locator("#note-dialog")).to_be_hidden()

    # the deadline: the 黄牌 comes on top of the 预警, within a second
    (yellow,) = await fire(live, db, clock, "2026-12-09 17:00:00")
    top = page.locator("#alarms li").first
    await expect(top).to_have_attribute("data-alarm", str(yellow["alarm_id"]), timeout=1000)
    await expect(top.locator(".a-level")).to_have_text("黄牌")
    await expect(page.locator("#alarms li")).to_have_count(2)

    # the alarm's own timeline: issued, acknowledged, annotated
    await row.locator(".s-alarm-sum").click()
    detail = page.locator("#detail-dialog")
    await expect(detail).to_be_visible()
    await expect(detail).to_contain_text("签收")
    await expect(detail).to_contain_text("已电话提醒窗口，今日内办结")
    await page.locator("#detail-close").click()
    await expect(detail).to_be_hidden()

    # drill-down: the department, its window, the case with its timeline and its alarms
    await page.locator("#departments tr[data-department='amr']").click()
    await expect(page.locator("#crumbs")).to_contain_text("市场监督管理局")
    await page.locator("#windows button[data-window='1']").click()
    await expect(page.locator("#crumbs")).to_contain_text("1 号窗口")
    await expect(page.locator("#alarms li")).to_have_count(2)
    case_row = page.locator(f"#cases li[data-case='{cid}']").first
    await expect(case_row).to_contain_text(
        "已到办结时限"
    )  # the deadline has passed (17:00 ends the day)
    await case_row.click()
    await expect(detail).to_be_visible()
    await expect(page.locator("#case-alarms li")).to_have_count(2)
    await expect(detail).to_contain_text("受理")  # the case's history
    await page.locator(f"#case-alarms li[data-alarm='{yellow['alarm_id']}']").click()
    await expect(page.locator("#alarm-facts")).to_contain_text("未签收")
    await page.locator("#detail-close").click()

    # the month: the department's score with the formula shown
    await page.locator("#tab-month").click()
    await expect(page.locator("#formula")).to_contain_text("100 − 1×预警 − 3×黄牌 − 10×红牌")
    amr = page.locator("#month-departments tr[data-department='amr']")
    await expect(amr.locator(".score")).to_have_text("96")

    assert errors == []
