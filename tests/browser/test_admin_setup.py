"""Setting a hall up from /admin in a real browser (issue 12): the admin creates a clerk on the
人员 tab and reads the one-time password off the dialog, the clerk logs in with it, changes it,
signs in at a window and calls the next citizen; the windows table is grouped by department, and
a window added or moved on one admin screen lands in its department's group on another without
a reload; an import with bad rows shows every refused row and keeps nothing."""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.browser.conftest import collect_errors
from tests.cases.helpers import at, use_clock
from tests.conftest import login
from tests.queue_helpers import item_of_window, kiosk_token, register

HD = {"width": 1920, "height": 1080}
NEW_PASSWORD = "Zhang-new-2026"


async def _admin_page(live, http, new_context, errors: list[str]):
    token = (await login(http, "admin"))["token"]
    ctx = await new_context(live.url, token, viewport=HD)
    page = await ctx.new_page()
    collect_errors(page, errors)
    return page


async def test_admin_creates_a_clerk_who_signs_in_at_a_window_and_calls(
    live, http, db, new_context
):
    use_clock(live, at("2026-12-07 10:00"))  # a Monday, inside opening hours
    errors: list[str] = []
    admin = await _admin_page(live, http, new_context, errors)
    await admin.goto(f"{live.url}/admin#/staff")
    await expect(admin.get_by_role("tab", name="人员")).to_have_attribute("aria-selected", "true")
    await expect(admin.locator("#staff-table tr[data-staff='clerk001']")).to_be_visible()

    # the admin creates the clerk; the form refuses a username the server would refuse, in Chinese
    await admin.get_by_role("button", name="新增人员").click()
    form = admin.locator("#staff-dialog")
    await form.get_by_label("用户名").fill("Zhang New")
    await form.get_by_label("姓名").fill("张新")
    await form.get_by_label("角色").select_option(label="窗口人员")
    await form.get_by_role("button", name="创建").click()
    await expect(form.locator(".a-field-err")).to_have_text(
        "用户名应为 2–40 位小写字母、数字或 . _ -"
    )
    await form.get_by_label("用户名").fill("zhang.new")
    await form.get_by_role("button", name="创建").click()
    # a clerk needs a department: said next to the field
    await expect(form.locator(".a-field-err")).to_contain_text("须属于一个部门")
    await form.get_by_label("部门").select_option("amr")
    await form.get_by_role("button", name="创建").click()

    # the one-time password, shown once, in a dialog that says so
    secret = admin.locator("#secret-dialog")
    await expect(secret).to_contain_text("张新（用户名 zhang.new）的一次性密码")
    await expect(secret).to_contain_text("只显示这一次：关闭后无法再查看")
    await expect(secret).to_contain_text("首次登录时须改为自己的密码")
    password = (await secret.locator(".a-secret").text_content() or "").strip()
    assert len(password) >= 10
    await secret.get_by_role("button", name="我已记下，关闭").click()
    await expect(secret).to_have_count(0)
    row = admin.locator("#staff-table tbody[data-dept='amr'] tr[data-staff='zhang.new']")
    await expect(row).to_contain_text("张新")
    await expect(row).to_contain_text("待改密码")
    audit = await db.fetchrow(
        "select s.username as actor, a.detail from audit a join staff s on s.id = a.actor_id "
        "where a.action = 'staff.create' and a.outcome = 'ok'"
    )
    assert (audit["actor"], audit["detail"]["username"]) == ("admin", "zhang.new")

    # the clerk logs in with it on another browser
    clerk_ctx = await new_context(viewport=HD)
    clerk = await clerk_ctx.new_page()
    await clerk.goto(f"{live.url}/login")
    await clerk.get_by_label("用户名").fill("zhang.new")
    await clerk.get_by_label("密码").fill(password)
    await clerk.get_by_role("button", name="登 录").click()
    # a one-time password: the login page asks for a new one before anything else
    await expect(clerk.get_by_role("heading", name="请设置新密码")).to_be_visible()
    await clerk.get_by_label("新密码", exact=True).fill(NEW_PASSWORD)
    await clerk.get_by_label("再次输入新密码").fill(NEW_PASSWORD)
    collect_errors(clerk, errors)
    await clerk.locator("#password-submit").click()
    await expect(clerk).to_have_url(f"{live.url}/window")
    await expect(clerk.get_by_role("heading", name="请选择签到窗口")).to_be_visible()
    await clerk.locator("#picker-grid button[data-window='5']").click()
    await expect(clerk.locator("#head-no")).to_have_text("5")
    await clerk.get_by_role("button", name="开放").click()
    await expect(clerk.locator("#message")).to_contain_text("窗口已开放")

    # the admin sees the new clerk at window 5, live
    await admin.get_by_role("tab", name="窗口").click()
    await expect(admin).to_have_url(f"{live.url}/admin#/windows")
    row5 = admin.locator("#windows tbody[data-dept='amr'] tr[data-window='5']")
    await expect(row5).to_contain_text("张新")
    await expect(row5).to_contain_text("开放")

    # a citizen registers at the kiosk; the clerk calls them
    kiosk = await kiosk_token(http)
    ticket_no = (await register(http, kiosk, await item_of_window(db, 5)))["ticket"]["ticket_no"]
    await expect(clerk.locator("#waiting li")).to_have_count(1)
    await clerk.locator("#act-call").click()
    await expect(clerk.locator("#current-no")).to_have_text(ticket_no)
    await expect(row5).to_contain_text(f"{ticket_no} 已呼叫", timeout=2000)

    # back on 人员: the password is the clerk's own now, and they are at window 5
    await admin.get_by_role("tab", name="人员").click()
    await expect(row).not_to_contain_text("待改密码")
    await expect(row).to_contain_text("5 号")
    assert errors == []


async def test_windows_are_grouped_by_department_and_a_new_window_shows_live_elsewhere(
    live, http, db, new_context
):
    errors: list[str] = []
    first = await _admin_page(live, http, new_context, errors)
    await first.goto(f"{live.url}/admin")
    await expect(first.locator("#conn")).to_have_text("实时")
    departments = await db.fetch(
        "select d.code, d.name, count(*) as n, min(w.window_no) as first_no "
        "from service_window w join department d on d.id = w.department_id "
        "join hall h on h.id = w.hall_id where h.code = 'rizhao' group by d.code, d.name "
        "order by min(w.window_no)"
    )
    groups = first.locator("#windows tbody.a-group")
    await expect(groups).to_have_count(len(departments))
    # in the floor's order, each headed by its department with its open windows counted
    assert await groups.evaluate_all("gs => gs.map(g => g.dataset.dept)") == [
        d["code"] for d in departments
    ]
    amr = first.locator("#windows tbody[data-dept='amr']")
    amr_count = next(d["n"] for d in departments if d["code"] == "amr")
    await expect(amr.locator(".a-dept")).to_contain_text("市场监督管理局")
    await expect(amr.locator(".a-dept")).to_contain_text(f"开放 0 / 共 {amr_count} 个窗口")
    await expect(amr.locator("tr[data-window]")).to_have_count(amr_count)
    await expect(first.locator("#windows tr[data-window]")).to_have_count(130)

    # a department collapses to its heading and opens again
    toggle = amr.locator(".a-dept-toggle")
    await toggle.click()
    await expect(toggle).to_have_attribute("aria-expanded", "false")
    await expect(amr.locator("tr[data-window]")).to_have_count(0)
    await expect(amr.locator(".a-dept")).to_contain_text(f"共 {amr_count} 个窗口")
    await toggle.press("Enter")
    await expect(amr.locator("tr[data-window]")).to_have_count(amr_count)

    # the filter: a window number finds that window only, under its department's heading
    await first.get_by_label("筛选窗口").fill("5")
    await expect(first.locator("#windows tr[data-window]")).to_have_count(1)
    await expect(amr.locator(".a-dept")).to_contain_text("筛选出 1 个")
    await first.get_by_label("筛选窗口").fill("")

    # a second admin screen, open meanwhile
    second = await _admin_page(live, http, new_context, errors)
    await second.goto(f"{live.url}/admin#/windows")
    await expect(second.locator("#conn")).to_have_text("实时")

    # add window 131 to 市场监管 on the first: its department's queue comes first, 综合受理 is
    # served beside it; a 爱心窗口
    await amr.get_by_role("button", name="在此部门新增窗口").click()
    dialog = first.locator("#window-dialog")
    await expect(dialog.get_by_label("窗口号")).to_have_value("131")
    await expect(dialog.get_by_label("部门")).to_have_value("amr")
    await expect(dialog.locator(".a-order-pos")).to_have_count(1)
    await dialog.get_by_label("名称").fill("综合受理 131")
    await dialog.get_by_label("区域").fill("一楼A区")
    other = await db.fetchval(
        "select q.code from queue q join hall h on h.id = q.hall_id "
        "where h.code = 'rizhao' and q.code <> 'amr' order by q.prefix limit 1"
    )
    await dialog.get_by_label("选择要添加的队列").select_option(other)
    await dialog.get_by_role("button", name="添加队列").click()
    await expect(dialog.locator(".a-order-pos")).to_have_count(2)
    await (
        dialog.locator(".a-order-pos[data-position='2']")
        .get_by_role("button", name="与上一位同位")
        .click()
    )
    await expect(dialog.locator(".a-order-pos")).to_have_count(1)
    await expect(dialog.locator(".a-order-pos .a-chip")).to_have_count(2)
    await dialog.get_by_label("仅办理优先（爱心窗口）：只叫优先号").check()
    await dialog.get_by_role("button", name="添加窗口").click()
    await expect(dialog).to_have_count(0)

    # on the second screen, without a reload, in its department's group
    row = second.locator("#windows tbody[data-dept='amr'] tr[data-window='131']")
    await expect(row).to_contain_text("综合受理 131", timeout=2000)
    await expect(row).to_contain_text("爱心窗口")
    await expect(row).to_contain_text("关闭")
    await expect(second.locator("#windows tbody[data-dept='amr'] .a-dept")).to_contain_text(
        f"共 {amr_count + 1} 个窗口"
    )
    await expect(second.locator("#windows tr[data-window]")).to_have_count(131)
    positions = await db.fetch(
        "select q.code, wq.position from window_queue wq join queue q on q.id = wq.queue_id "
        "join service_window w on w.id = wq.window_id join hall h on h.id = w.hall_id "
        "where h.code = 'rizhao' and w.window_no = 131 order by q.code"
    )
    assert sorted((r["code"], r["position"]) for r in positions) == sorted([("amr", 1), (other, 1)])

    # the same number again is refused next to the number, in Chinese
    await first.get_by_role("button", name="新增窗口", exact=True).click()
    dialog = first.locator("#window-dialog")
    await dialog.get_by_label("窗口号").fill("131")
    await dialog.get_by_label("名称").fill("重复")
    await dialog.get_by_label("部门").select_option("amr")
    await dialog.get_by_role("button", name="添加窗口").click()
    await expect(dialog.locator(".a-field-err")).to_have_text("窗口 131 已存在")
    await dialog.get_by_role("button", name="取消").click()

    # the second screen moves it to 税务: the first shows it there, live
    await row.get_by_role("button", name="编辑").click()
    dialog = second.locator("#window-dialog")
    await dialog.get_by_label("部门").select_option("tax")
    await dialog.get_by_label("名称").fill("综合受理 131（税务）")
    await dialog.get_by_role("button", name="保存").click()
    await expect(dialog).to_have_count(0)
    moved = first.locator("#windows tbody[data-dept='tax'] tr[data-window='131']")
    await expect(moved).to_contain_text("综合受理 131（税务）", timeout=2000)
    await expect(
        first.locator("#windows tbody[data-dept='amr'] tr[data-window='131']")
    ).to_have_count(0)

    # the tabs answer the keyboard and the address remembers the tab
    await first.get_by_role("tab", name="窗口").focus()
    await first.keyboard.press("ArrowRight")
    await expect(first.get_by_role("tab", name="人员")).to_be_focused()
    await expect(first).to_have_url(re.compile(r"/admin#/staff$"))
    await first.reload()
    await expect(first.get_by_role("tab", name="人员")).to_have_attribute("aria-selected", "true")
    await expect(first.locator("#panel-staff")).to_be_visible()
    await expect(first.locator("#panel-windows")).to_be_hidden()
    assert errors == []


STAFF_CSV = (
    "用户名,姓名,角色,部门,手机,在岗\n"
    "sun.yi,孙一,窗口人员,amr,13900000011,是\n"
    "Bad Name,坏名,窗口人员,amr,,\n"
    "zhou.er,周二,窗口人员,nowhere,,\n"
    "wu.san,吴三,督查,,,是\n"
)


async def test_an_import_with_bad_rows_shows_each_refused_row_and_keeps_nothing(
    live, http, db, new_context
):
    errors: list[str] = []
    admin = await _admin_page(live, http, new_context, errors)
    await admin.goto(f"{live.url}/admin#/sheets")
    card = admin.locator(".a-sheet[data-kind='staff']")
    # the downloads are plain links to the export
    assert await card.get_by_role("link", name="导出 Excel").get_attribute("href") == (
        "/api/halls/rizhao/admin/export/staff?format=xlsx"
    )
    await card.get_by_label("选择要导入的人员文件").set_input_files(
        {"name": "人员.csv", "mimeType": "text/csv", "buffer": STAFF_CSV.encode("utf-8-sig")}
    )
    await card.get_by_role("button", name="导入人员").click()
    confirm = admin.locator("#confirm")
    await expect(confirm).to_contain_text("任一行有错则全部不导入")
    await expect(confirm).to_contain_text("新人员得到一次性密码")
    await confirm.get_by_role("button", name="导入").click()

    result = card.locator(".a-sheet-result")
    await expect(result.locator(".alert")).to_have_text("有 2 行不能导入，未导入任何数据")
    refused = result.locator("table.a-refused tbody tr")
    await expect(refused).to_have_count(2)
    await expect(refused.nth(0)).to_contain_text("第 3 行")
    await expect(refused.nth(0)).to_contain_text("用户名")
    await expect(refused.nth(0)).to_contain_text("用户名应为 2–40 位小写字母、数字或 ._-")
    await expect(refused.nth(1)).to_contain_text("第 4 行")
    await expect(refused.nth(1)).to_contain_text("部门")
    await expect(refused.nth(1)).to_contain_text("nowhere")
    assert await db.fetchval("select count(*) from staff where username = 'sun.yi'") == 0

    # the file fixed: every new member's one-time password, once
    fixed = STAFF_CSV.replace("Bad Name", "zheng.si").replace("nowhere", "tax")
    await card.get_by_label("选择要导入的人员文件").set_input_files(
        {"name": "人员.csv", "mimeType": "text/csv", "buffer": fixed.encode("utf-8-sig")}
    )
    await card.get_by_role("button", name="导入人员").click()
    await confirm.get_by_role("button", name="导入").click()
    secret = admin.locator("#secret-dialog")
    await expect(secret).to_contain_text("新人员的一次性密码（4 人）")
    await expect(secret).to_contain_text("只显示这一次")
    rows = secret.locator(".a-secret-row")
    await expect(rows).to_have_count(4)
    shown = {
        (await r.locator(".a-secret-label").text_content() or ""): (
            await r.locator(".a-secret").text_content() or ""
        )
        for r in await rows.all()
    }
    assert set(shown) == {"sun.yi", "zheng.si", "zhou.er", "wu.san"}
    await secret.get_by_role("button", name="我已记下，关闭").click()
    await expect(result).to_contain_text("已导入 4 行人员，新建 4 人")
    body = await login(http, "zhou.er", shown["zhou.er"])
    assert body["actor"]["must_change_password"] is True
    assert errors == []
