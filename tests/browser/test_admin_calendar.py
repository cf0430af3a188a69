"""The hall settings of /admin that had an API and no screen (issue 12), in a real browser: the
calendar (a day marked a holiday from the year's view, a year's holiday notice loaded from its
file after a preview, the warning while a year needed soon is missing), the leaders' duty roster
(a day's leader set, last week copied to the next), and the notice line's templates (kept on
设置, one click fills the notice card, published as before)."""

from __future__ import annotations

import json

from playwright.async_api import expect

from tests.browser.conftest import collect_errors
from tests.cases.helpers import at, use_clock
from tests.conftest import ROOT, login
from tests.queue_helpers import bearer

HD = {"width": 1920, "height": 1080}
EXAMPLE_NOTICE = ROOT / "docs" / "examples" / "holiday-notice-2027.json"


async def _admin(live, http, new_context, errors: list[str]):
    token = (await login(http, "admin"))["token"]
    ctx = await new_context(live.url, token, viewport=HD)
    page = await ctx.new_page()
    collect_errors(page, errors)
    return page, token


async def test_a_day_marked_a_holiday_and_a_year_notice_loaded_from_the_calendar(
    live, http, db, new_context
):
    use_clock(live, at("2026-12-07 10:00"))  # 2027 is needed within 60 days and not loaded
    errors: list[str] = []
    admin, token = await _admin(live, http, new_context, errors)
    await admin.goto(f"{live.url}/admin")
    await expect(admin.locator("#conn")).to_have_text("实时")
    # the warning stands above every tab, with the way to the fix
    banner = admin.locator("#calendar-warning")
    await expect(banner).to_be_visible()
    await expect(banner).to_contain_text("缺少 2027 年的法定节假日安排")
    await banner.get_by_role("link", name="去导入节假日通知").click()
    await expect(admin.get_by_role("tab", name="日历")).to_have_attribute("aria-selected", "true")

    # the hall's year (the server's clock), twelve months, the library's 国庆节 on them
    await expect(admin.locator("#cal-year")).to_have_text("2026 年")
    await expect(admin.locator(".a-month")).to_have_count(12)
    october = admin.locator(".a-month[data-month='10']")
    await expect(october.locator("[data-day='2026-10-01']")).to_have_attribute(
        "data-kind", "holiday"
    )
    await expect(october.locator(".a-month-notes")).to_contain_text("1日–7日 国庆节")
    await expect(admin.locator("[data-day='2026-12-07']")).to_have_class("a-day k-workday today")

    # Wednesday 9 December becomes a day off, with its note; the confirmation says what follows
    await admin.locator("[data-day='2026-12-09']").click()
    dialog = admin.locator("#day-dialog")
    await expect(dialog).to_contain_text("现在：工作日")
    await dialog.get_by_label("不上班（休息日）").check()
    await dialog.get_by_label("备注").fill("系统升级停办")
    await dialog.get_by_role("button", name="保存").click()
    confirm = admin.locator("#confirm")
    await expect(confirm).to_contain_text(
        "2026年12月9日 星期三将设为休息日（不上班），备注“系统升级停办”"
    )
    await expect(confirm).to_contain_text("所有在办件的办理期限立即按新日历重新计算")
    await confirm.get_by_role("button", name="确认修改").click()
    await expect(dialog).to_have_count(0)
    day = admin.locator("[data-day='2026-12-09']")
    await expect(day).to_have_attribute("data-kind", "off")
    await expect(day).to_have_attribute(
        "aria-label", "2026年12月9日 星期三，休息日：系统升级停办（手工设置）"
    )
    await expect(admin.locator(".a-month[data-month='12'] .a-month-notes")).to_contain_text(
        "9日 系统升级停办"
    )
    resp = await http.get(
        "/api/halls/rizhao/calendar?from=2026-12-01&to=2026-12-31", headers=bearer(token)
    )
    assert resp.status == 200
    assert {
        "day": "2026-12-09",
        "is_working": False,
        "note": "系统升级停办",
        "source": "manual",
    } in (await resp.json())["days"]

    # a notice the server refuses: its message, naming the holiday, in the dialog; nothing loaded
    bad = {
        "year": 2027,
        "holidays": [
            {
                "name": "春节",
                "from": "2027-02-05",
                "to": "2027-02-12",
                "working_days": ["2027-02-01"],
            }
        ],
    }
    await admin.get_by_label("选择节假日通知文件").set_input_files(
        {"name": "notice.json", "mimeType": "application/json", "buffer": json.dumps(bad).encode()}
    )
    preview = admin.locator("#notice-dialog")
    await preview.get_by_role("button", name="导入").click()
    await expect(preview.locator(".a-form-error")).to_contain_text(
        "第 1 项（春节）的调休上班日 2027-02-01 是星期一"
    )
    await preview.get_by_role("button", name="取消").click()
    await expect(preview).to_have_count(0)

    # 2027's notice from its file: what it will set first, then the result; the warning goes
    await admin.get_by_label("选择节假日通知文件").set_input_files(str(EXAMPLE_NOTICE))
    await expect(preview).to_contain_text("导入 2027 年节假日安排")
    await expect(preview).to_contain_text("标题注明这是示例")
    rows = preview.locator("table.a-notice-preview tbody tr")
    await expect(rows).to_have_count(7)
    await expect(rows.nth(1)).to_contain_text("春节")
    await expect(rows.nth(1)).to_contain_text("2月5日–2月12日")
    await expect(rows.nth(1)).to_contain_text("1月31日、2月20日")
    await expect(preview).to_contain_text("个周末设为调休上班")
    assert await db.fetchval("select count(*) from calendar_year where year = 2027") == 0
    await preview.get_by_role("button", name="导入").click()
    await expect(preview).to_have_count(0)
    await expect(admin.locator("#import-result")).to_contain_text("已导入 2027 年节假日安排")
    await expect(admin.locator("#cal-year")).to_have_text("2027 年")
    await expect(admin.locator("[data-day='2027-02-08']")).to_have_attribute("data-kind", "holiday")
    await expect(admin.locator("[data-day='2027-01-31']")).to_have_attribute(
        "data-kind", "adjusted"
    )
    await expect(banner).to_be_hidden()
    await expect(admin.locator("#cal-years tr[data-year='2027']")).to_contain_text(
        "国务院节假日通知"
    )
    assert (
        await db.fetchval(
            "select y.source from calendar_year y join hall h on h.id = y.hall_id "
            "where h.code = 'rizhao' and y.year = 2027"
        )
        == "notice"
    )
    assert errors == []


async def test_a_days_leader_on_duty_set_and_last_week_copied(live, http, db, new_context):
    use_clock(live, at("2026-12-07 10:00"))
    errors: list[str] = []
    admin, token = await _admin(live, http, new_context, errors)
    leader = await db.fetchrow(
        "select s.id, s.display_name from staff s join hall h on h.id = s.hall_id "
        "where h.code = 'rizhao' and s.username = 'leader.amr'"
    )
    await admin.goto(f"{live.url}/admin#/duty")
    await expect(admin.locator("#duty-week")).to_have_text("2026年12月7日–12月13日")
    amr = admin.locator("#duty-table tr[data-department='amr']")
    # the demo's roster: every leader on every working day; nobody on the weekend
    await expect(amr.locator("td[data-day='2026-12-07']")).to_contain_text(leader["display_name"])
    await expect(amr.locator("td[data-day='2026-12-12']")).to_contain_text("—")

    # Saturday 12 December: 市场监管's leader on duty
    await admin.get_by_role("button", name="修改 12月12日 星期六 的带班领导").click()
    dialog = admin.locator("#duty-dialog")
    await dialog.get_by_label(f"{leader['display_name']}（leader.amr）").check()
    await dialog.get_by_role("button", name="保存").click()
    await expect(dialog).to_have_count(0)
    await expect(amr.locator("td[data-day='2026-12-12']")).to_contain_text(leader["display_name"])
    resp = await http.get("/api/halls/rizhao/duty?date=2026-12-12", headers=bearer(token))
    assert [(x["staff_id"], x["department"]) for x in (await resp.json())["leaders"]] == [
        (leader["id"], "amr")
    ]

    # the next week takes this one's roster: only the Saturday differs, the confirmation says so
    await admin.get_by_role("button", name="下一周 ›").click()
    await expect(admin.locator("#duty-week")).to_have_text("2026年12月14日–12月20日")
    await expect(amr.locator("td[data-day='2026-12-19']")).to_contain_text("—")
    await admin.get_by_role("button", name="复制上一周的安排").click()
    confirm = admin.locator("#confirm")
    await expect(confirm).to_contain_text("将与上一周（2026年12月7日–12月13日）相同")
    await expect(confirm.locator(".a-copy-plan li").nth(5)).to_have_text(
        f"周六 12月19日：{leader['display_name']}"
    )
    await expect(confirm.locator(".a-copy-plan li").nth(0)).to_have_text("周一 12月14日：不变")
    await confirm.get_by_role("button", name="复制 1 天").click()
    await expect(amr.locator("td[data-day='2026-12-19']")).to_contain_text(leader["display_name"])
    resp = await http.get("/api/halls/rizhao/duty?date=2026-12-19", headers=bearer(token))
    assert [x["staff_id"] for x in (await resp.json())["leaders"]] == [leader["id"]]
    assert errors == []


async def test_a_template_saved_on_settings_fills_the_notice_in_one_click(
    live, http, db, new_context
):
    errors: list[str] = []
    admin, token = await _admin(live, http, new_context, errors)
    text = "今日 12:00-13:00 午间延时服务，不动产业务请到二楼办理"
    await admin.goto(f"{live.url}/admin#/settings")
    card = admin.locator("#templates-card")
    await expect(card).to_contain_text("还没有模板")
    await card.get_by_role("button", name="添加模板").click()
    await card.get_by_label("模板 1", exact=True).fill(text)
    await card.get_by_role("button", name="添加模板").click()
    await card.get_by_label("模板 2", exact=True).fill("系统维护，暂停办理")
    await card.get_by_role("button", name="模板 2 上移").click()
    await expect(card.get_by_label("模板 1", exact=True)).to_have_value("系统维护，暂停办理")
    await card.get_by_role("button", name="保存模板").click()
    await expect(admin.get_by_text("公告模板已保存（2 条）")).to_be_visible()
    stored = "select notice_templates from hall where code = 'rizhao'"
    assert await db.fetchval(stored) == ["系统维护，暂停办理", text]

    # saving the opening hours afterwards keeps the templates (PUT /settings replaces them all)
    await admin.get_by_role("button", name="保存设置").click()
    await expect(admin.get_by_text("设置没有变化")).to_be_visible()
    assert await db.fetchval(stored) == ["系统维护，暂停办理", text]

    # on the notice card, one click fills the text box; publishing is the button it always was
    await admin.get_by_role("tab", name="窗口").click()
    pick = admin.get_by_role("button", name=f"填入模板：{text}")
    await expect(admin.locator("#notice-templates .a-template-pick")).to_have_count(2)
    await pick.click()
    await expect(admin.locator("#notice-text")).to_have_value(text)
    await admin.get_by_role("button", name="发布公告").click()
    await expect(admin.locator("#notice-current")).to_have_text(text)
    resp = await http.get("/api/halls/rizhao/snapshot", headers=bearer(token))
    assert (await resp.json())["notice_line"] == text

    # a notice written here is kept as a template in one click too
    await admin.locator("#notice-text").fill("暴雨预警，今日提前至 16:00 停止取号")
    await admin.get_by_role("button", name="存为模板").click()
    await expect(admin.locator("#notice-templates .a-template-pick")).to_have_count(3)
    assert (await db.fetchval(stored))[-1] == "暴雨预警，今日提前至 16:00 停止取号"
    assert errors == []
