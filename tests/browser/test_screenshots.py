"""Screenshots of the screens for docs/screenshots/, from a busy demo hall.

Runs only with HALLOPS_SCREENSHOTS=1, so the normal suite never rewrites them
(HALLOPS_SCREENSHOTS_DIR writes them elsewhere, to compare):

    HALLOPS_SCREENSHOTS=1 DATABASE_URL=... .venv/bin/python -m pytest -q tests/browser/test_screenshots.py

No picture waits for wall-clock time: each page's CSS animations are set to a fixed point
(`_settle`), so a run draws the same frame whatever the machine's speed.
"""

from __future__ import annotations

import os
import random
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import ClientSession
from playwright.async_api import Page, expect

from tests.browser.conftest import device_token
from tests.cases.helpers import PROMISED, SIGNOFF, accept, at, serving_ticket, use_clock
from tests.cases.helpers import command as case_command
from tests.conftest import ROOT, LiveServer, login
from tests.conftest import test_settings as make_settings

# what a real hall's notices print (HALLOPS_PUBLIC_URL), the same on every machine and run
PUBLIC_URL = "https://zwfw.rizhao.example"
from tests.queue_helpers import bearer, clerk_at_window, command, item_of_window, register

pytestmark = pytest.mark.skipif(
    os.environ.get("HALLOPS_SCREENSHOTS") != "1",
    reason="set HALLOPS_SCREENSHOTS=1 to rewrite docs/screenshots",
)

OUT = Path(os.environ.get("HALLOPS_SCREENSHOTS_DIR") or ROOT / "docs" / "screenshots")
HD = {"width": 1920, "height": 1080}

# Finite animations (a call's flash, transitions) are finished; endless ones (the notice ticker,
# blinking) are paused `ms` into their run.
_SETTLE = """ms => {
    for (const a of document.getAnimations()) {
        if (a.effect.getComputedTiming().endTime === Infinity) {
            a.pause();
            a.currentTime = ms;
        } else {
            a.finish();
        }
    }
}"""


async def _settle(page: Page, ms: int = 0) -> None:
    await page.evaluate(_SETTLE, ms)


async def _busy_hall(http: ClientSession, db) -> dict:
    """About 70 open windows, a few paused, ~150 people waiting, calls and services going on."""
    rnd = random.Random(7)
    kiosk = await device_token(http, "kiosk-01")
    windows = sorted(rnd.sample(range(2, 131), 70))
    tokens = {no: await clerk_at_window(db, no) for no in [1, 60, *windows]}
    for no in rnd.sample(windows, 6):
        await db.execute(
            "update service_window set status = 'paused' "
            "where window_no = $1 and hall_id = (select id from hall where code = 'rizhao')",
            no,
        )
    items = {no: await item_of_window(db, no) for no in [1, 60, *windows]}
    priorities = ["normal"] * 8 + ["elderly", "appointment", "disabled"]
    # the crowd: the busy departments get more people
    for no in [1, 60, *windows]:
        for _ in range(rnd.choice([0, 1, 1, 2, 2, 3]) + (6 if no <= 45 or 60 <= no <= 75 else 0)):
            await register(http, kiosk, items[no], priority=rnd.choice(priorities))
    # window 1: one served, one parked (fetching a document), one being served; one waits at the
    # front after a transfer from window 60 with a note
    w1 = tokens[1]
    for verb in (
        "call-next",
        "start",
        "finish",
        "call-next",
        "start",
        "park",
        "call-next",
        "start",
    ):
        await command(http, w1, 1, verb)
    await register(http, kiosk, items[60], phone="13912345678")
    await command(http, tokens[60], 60, "call-next")
    await command(
        http,
        tokens[60],
        60,
        "transfer",
        {"to_window_no": 1, "front": True, "note": "不动产已受理，需办理营业执照变更"},
    )
    # the rest of the hall: calls, some already serving
    open_windows = [
        no
        for no in windows
        if await db.fetchval(
            "select status from service_window where window_no = $1 and "
            "hall_id = (select id from hall where code='rizhao')",
            no,
        )
        == "open"
    ]
    calling = rnd.sample(open_windows, 40)
    for i, no in enumerate(calling):
        resp = await http.post(
            f"/api/halls/rizhao/windows/{no}/call-next", headers=bearer(tokens[no])
        )
        if resp.status == 200 and i < 30:
            await command(http, tokens[no], no, "start")
    admin = (await login(http, "admin"))["token"]
    await http.put(
        "/api/halls/rizhao/notice",
        headers=bearer(admin),
        json={
            "text": "今天是全市“一次办好”集中服务日，各窗口延时服务至 18:00；办结后请对我们的服务进行评议，投诉电话 12345。"
        },
    )
    return {"kiosk": kiosk, "clerk1": w1, "admin": admin}


async def test_screenshots(db_dsn, db, new_context):
    OUT.mkdir(parents=True, exist_ok=True)
    server = await LiveServer(
        make_settings(kiosk_burst=1000, kiosk_per_minute=60000, public_url=PUBLIC_URL), db_dsn
    ).start()
    opened = []

    async def context(*args, **kwargs):
        ctx = await new_context(*args, **kwargs)
        opened.append(ctx)
        return ctx

    try:
        async with ClientSession(base_url=server.url) as http:
            setup = await _busy_hall(http, db)
            display_token = await device_token(http, "display-01")
            led_token = await device_token(http, "led-01")
        url = server.url

        # kiosk: browse a department, the item with its materials, the ticket
        kiosk_ctx = await context(viewport=HD)
        kiosk = await kiosk_ctx.new_page()
        await kiosk.goto(f"{url}/kiosk?token={setup['kiosk']}")
        await expect(kiosk.locator("body")).to_have_attribute("data-ready", "1")
        await kiosk.locator("#departments button", has_text="市场监督管理局").click()
        item_card = kiosk.locator(".k-card", has_text="企业设立登记").first
        await expect(item_card).to_be_visible()
        await _settle(kiosk)
        await kiosk.screenshot(path=OUT / "kiosk.png")
        await item_card.click()
        await kiosk.get_by_role("radio", name="老年人优先").click()
        for digit in "13812345678":
            await kiosk.locator("#keypad button", has_text=digit).first.click()
        await _settle(kiosk)
        await kiosk.screenshot(path=OUT / "kiosk-item.png")
        await kiosk.get_by_role("button", name="确认取号").click()
        await expect(kiosk.get_by_text("取号成功")).to_be_visible()
        await _settle(kiosk)
        await kiosk.screenshot(path=OUT / "kiosk-ticket.png")
        code = (await kiosk.locator("#done-code").inner_text()).strip()

        # the notice: 80 mm receipt (as printed: the sheet only) and A4
        notice_ctx = await context(viewport={"width": 320, "height": 900}, device_scale_factor=2)
        notice = await notice_ctx.new_page()
        await notice.goto(f"{url}/notice?code={code}&embed=1")
        await expect(notice.locator("body")).to_have_attribute("data-ready", "1")
        await notice.locator("#sheet").screenshot(path=OUT / "notice-80mm.png")
        await notice.set_viewport_size({"width": 900, "height": 1200})
        await notice.goto(f"{url}/notice?code={code}&paper=a4&embed=1")
        await expect(notice.locator("body")).to_have_attribute("data-ready", "1")
        await notice.locator("#sheet").screenshot(path=OUT / "notice-a4.png")

        # window terminal of window 1
        staff = await context(url, setup["clerk1"], viewport=HD)
        terminal = await staff.new_page()
        await terminal.goto(f"{url}/window")
        await expect(terminal.locator("#conn")).to_have_text("实时")
        await expect(terminal.locator("#current-state")).to_have_text("办理中")
        await _settle(terminal)
        await terminal.screenshot(path=OUT / "window.png")

        # lobby display and LED layout
        screen_ctx = await context(viewport=HD)
        display = await screen_ctx.new_page()
        await display.goto(f"{url}/display?token={display_token}")
        await expect(display.locator("body")).to_have_attribute("data-connection", "online")
        await expect(display.locator("#notice-line")).to_contain_text("一次办好")
        await _settle(display, 2500)  # the ticker has moved in, the flash is over
        await display.screenshot(path=OUT / "display.png")
        led_ctx = await context(viewport={"width": 384, "height": 192})
        led = await led_ctx.new_page()
        await led.goto(f"{url}/display?layout=led&token={led_token}")
        await expect(led.locator("body")).to_have_attribute("data-connection", "online")
        await expect(led.locator("#led-notice")).to_contain_text("人等候")
        await _settle(led, 4000)
        await led.screenshot(path=OUT / "led.png")

        # the admin's screen
        admin_ctx = await context(url, setup["admin"], viewport=HD)
        admin = await admin_ctx.new_page()
        await admin.goto(f"{url}/admin")
        await expect(admin.locator("#conn")).to_have_text("实时")
        await expect(admin.locator("#windows tr[data-window]")).to_have_count(130)
        await _settle(admin)
        await admin.screenshot(path=OUT / "admin.png")

        # public queue page on a phone
        phone = await context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
        queue = await phone.new_page()
        await queue.goto(f"{url}/queue?hall=rizhao")
        await expect(queue.locator(".q-card").first).to_be_visible()
        await _settle(queue)
        await queue.screenshot(path=OUT / "queue.png")
    finally:
        for ctx in opened:  # before the server stops
            await ctx.close()
        await server.stop()


async def test_case_screenshots(db_dsn, db, new_context):
    """/leader with sign-off requests (one waiting too long, one just arrived) and /track with a
    case in progress after a supplement."""
    OUT.mkdir(parents=True, exist_ok=True)
    server = await LiveServer(make_settings(public_url=PUBLIC_URL), db_dsn).start()
    opened = []

    async def context(*args, **kwargs):
        ctx = await new_context(*args, **kwargs)
        opened.append(ctx)
        return ctx

    try:
        async with ClientSession(base_url=server.url) as http:
            clock = use_clock(server, at("2026-12-07 09:20"))
            # the citizen's case: accepted, started, a supplement asked and brought
            clerk, ticket_id, _ = await serving_ticket(http, db, window_no=4, item=PROMISED)
            tracked = await accept(
                http,
                clerk,
                ticket_id=ticket_id,
                item=PROMISED,
                applicant={"name": "刘海燕", "phone": "13863312345"},
            )
            clock.set(at("2026-12-07 09:35"))
            await case_command(http, clerk, tracked["case_id"], "start")
            clock.set(at("2026-12-07 10:10"))
            await case_command(
                http,
                clerk,
                tracked["case_id"],
                "supplement",
                {"materials": [{"position": 2, "status": "missing", "problem": "需全体股东签字"}]},
            )
            clock.set(at("2026-12-08 09:15"))
            await case_command(http, clerk, tracked["case_id"], "supplement/received", {})

            # three sign-off requests from windows 1-3, sent at different times
            requests = [
                (1, "日照鲁味食品有限公司", "材料齐全，现场核查合格，请签批", "2026-12-08 09:20"),
                (
                    2,
                    "东港区海之味水产加工厂",
                    "换证申请，生产条件未变化，请签批",
                    "2026-12-08 09:43",
                ),
                (3, "岚山区福源豆制品坊", "新办许可，现场核查报告附后，请签批", None),
            ]
            cases = []
            for window_no, applicant, note, sent_at in requests:
                token, ticket_id, _ = await serving_ticket(http, db, window_no, item=SIGNOFF)
                case = await accept(
                    http,
                    token,
                    ticket_id=ticket_id,
                    item=SIGNOFF,
                    applicant={"name": applicant, "phone": "13906331234"},
                )
                await case_command(http, token, case["case_id"], "start")
                cases.append((token, case, note, sent_at))
            for token, case, note, sent_at in cases:
                if sent_at:
                    clock.set(at(sent_at))
                    await case_command(
                        http, token, case["case_id"], "signoff-request", {"note": note}
                    )
            clock.set(at("2026-12-08 09:51"))
            leader = (await login(http, "leader.amr"))["token"]

            url = server.url
            staff = await context(url, leader, viewport=HD)
            page = await staff.new_page()
            await page.goto(f"{url}/leader")
            await expect(page.locator("#conn")).to_have_text("实时")
            await expect(page.locator("#requests li")).to_have_count(2)
            token, case, note, _ = cases[-1]
            await case_command(http, token, case["case_id"], "signoff-request", {"note": note})
            await expect(page.locator("#requests li.new")).to_have_count(1)
            await expect(page.locator("#requests li.waiting")).to_have_count(1)
            await _settle(page)
            await page.screenshot(path=OUT / "leader.png")

            phone = await context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
            track = await phone.new_page()
            clock.set(at("2026-12-08 14:30"))
            await track.goto(f"{url}/track?code={tracked['query_code']}")
            await expect(track.locator("#case-state")).to_have_text("办理中")
            await expect(track.locator("#conn")).to_have_text("实时更新")
            await _settle(track)
            await track.screenshot(path=OUT / "track-case.png", full_page=True)
    finally:
        for ctx in opened:  # before the server stops
            await ctx.close()
        await server.stop()


async def test_window_case_screenshot(db_dsn, db, new_context):
    """/window with a promised case open on a Monday morning: accepted on Friday, supplemented
    (the material brought back today), being worked; its clock counting down, its materials and
    actions, the department's cases under the panel; a ticket being served on the left."""
    OUT.mkdir(parents=True, exist_ok=True)
    server = await LiveServer(make_settings(public_url=PUBLIC_URL), db_dsn).start()
    opened = []
    try:
        async with ClientSession(base_url=server.url) as http:
            clock = use_clock(server, at("2026-12-04 14:10"))  # a Friday
            clerk, ticket_id, _ = await serving_ticket(http, db, window_no=1, item=PROMISED)
            shown = await accept(
                http,
                clerk,
                ticket_id=ticket_id,
                item=PROMISED,
                applicant={"name": "日照海川食品有限公司", "phone": "13863318866"},
            )
            clock.set(at("2026-12-04 14:35"))
            await case_command(http, clerk, shown["case_id"], "start")
            clock.set(at("2026-12-04 15:05"))
            await case_command(
                http,
                clerk,
                shown["case_id"],
                "supplement",
                {"materials": [{"position": 6, "status": "faulty", "problem": "须加盖公章"}]},
            )
            await command(http, clerk, 1, "finish")
            # the department's other cases: one in progress at window 2, one done at window 3
            for window_no, name, done in (
                (2, "东港区鑫源建材经营部", False),
                (3, "岚山区渔家乐餐饮店", True),
            ):
                token, ticket_id, _ = await serving_ticket(http, db, window_no, item=PROMISED)
                case = await accept(
                    http,
                    token,
                    ticket_id=ticket_id,
                    item=PROMISED,
                    applicant={"name": name, "phone": "13906331234"},
                )
                await case_command(http, token, case["case_id"], "start")
                if done:
                    await case_command(
                        http, token, case["case_id"], "decision", {"decision": "approve"}
                    )
                    await case_command(http, token, case["case_id"], "complete")
            # Monday: the applicant brings the stamped document to window 1
            clock.set(at("2026-12-07 10:21"))
            _, ticket_id, _ = await serving_ticket(http, db, window_no=1, item=PROMISED)
            # the queue stamps its times in SQL (now()): the ticket's, at the server's clock
            await db.execute(
                "update ticket set called_at = $2, service_started_at = $2 where id = $1",
                ticket_id,
                clock.now,
            )
            await case_command(http, clerk, shown["case_id"], "supplement/received", {})
            clock.set(at("2026-12-07 10:26"))

        ctx = await new_context(server.url, clerk, viewport=HD)
        opened.append(ctx)
        page = await ctx.new_page()
        # the page's time stands at the server's: the countdown shows the same second every run
        await page.clock.set_fixed_time(clock.now)
        await page.goto(f"{server.url}/window")
        await expect(page.locator("#conn")).to_have_text("实时")
        await expect(page.locator("#current-state")).to_have_text("办理中")
        await page.locator("#case-list button.c-row", has_text=shown["case_no"]).click()
        await expect(page.locator("#case-state")).to_have_text("办理中")
        await expect(page.locator("#case-actions")).to_contain_text("审核通过")
        await expect(page.locator("#case-remaining")).to_contain_text("剩余")
        await expect(page.locator("#case-materials li.m-supplemented")).to_have_count(1)
        await page.mouse.move(0, 0)  # no hover on the row
        await _settle(page)
        await page.screenshot(path=OUT / "window-case.png")
    finally:
        for ctx in opened:  # before the server stops
            await ctx.close()
        await server.stop()


async def test_window_joint_intake_screenshot(db_dsn, db, new_context):
    """/window at the 规划 window (89): 联办受理 of a construction project's second stage, its
    first stage's steps done: what is already in the project's material store, and only the new
    materials asked for."""
    from tests.workflows.helpers import BUILDER, NAME, Windows, intake, work_stage

    OUT.mkdir(parents=True, exist_ok=True)
    server = await LiveServer(make_settings(public_url=PUBLIC_URL), db_dsn).start()
    opened = []
    try:
        async with ClientSession(base_url=server.url) as http:
            clock = use_clock(server, at("2026-12-07 09:30"))
            windows = Windows(db)
            lead = await windows.token("planning")
            created = await intake(
                http, lead, workflow="construction-project", project_name=NAME, applicant=BUILDER
            )
            await work_stage(http, windows, created["case_id"])
            clock.set(at("2026-12-09 10:05"))

        ctx = await new_context(server.url, lead, viewport=HD)
        opened.append(ctx)
        page = await ctx.new_page()
        await page.clock.set_fixed_time(clock.now)
        await page.goto(f"{server.url}/window")
        await expect(page.locator("#conn")).to_have_text("实时")
        await page.locator("#joint-accept").click()
        dialog = page.locator("#joint-dialog")
        await dialog.get_by_role("radio", name="后续阶段（已有项目编号）").click()
        await dialog.locator("#joint-ready button").click()
        await expect(dialog.locator("#joint-onfile li").first).to_be_visible()
        faulty = dialog.locator("#joint-materials .c-mat-row").nth(2)
        await faulty.locator("select").select_option("faulty")
        await faulty.locator("input").fill("缺少消防设施平面图")
        await page.mouse.move(0, 0)
        await _settle(page)
        await page.screenshot(path=OUT / "window-joint-intake.png")
    finally:
        for ctx in opened:  # before the server stops
            await ctx.close()
        await server.stop()


async def _promised_item(db, window_no: int) -> str:
    """A promised item of the window's department, limited in a few working days."""
    return await db.fetchval(
        "select i.code from item i join service_window w on w.department_id = i.department_id"
        " join hall h on h.id = w.hall_id where h.code = 'rizhao' and w.window_no = $1"
        " and i.kind = 'promised' and i.limit_unit = 'working_day' and i.active"
        " and i.promised_limit between 1 and 5 and not i.requires_signoff"
        " order by i.promised_limit, i.code limit 1",
        window_no,
    )


async def test_supervision_screenshot(db_dsn, db, new_context):
    """/supervision on a Wednesday morning: cases of several departments on the alarm ladder (a
    红牌, 黄牌 and 预警s, some acknowledged, one under 督办), near-due cases, people waiting, a
    window paused and one open without its clerk, a sign-off waiting, today's first cases done."""
    from server.catalogue import CATALOGUE
    from server.catalogue.spine import TimerContext
    from server.keys import STORE

    job = CATALOGUE.timers["alarm.fire_case"]
    OUT.mkdir(parents=True, exist_ok=True)
    server = await LiveServer(make_settings(public_url=PUBLIC_URL), db_dsn).start()
    opened = []
    try:
        async with ClientSession(base_url=server.url) as http:
            clock = use_clock(server, at("2026-11-27 09:30"))
            hall = await db.fetchrow("select * from hall where code = 'rizhao'")
            tokens = {no: await clerk_at_window(db, no) for no in (1, 2, 3, 5, 6, 76, 96, 97)}
            names = iter(
                [
                    "日照鲁源商贸有限公司",
                    "东港区海之味水产加工厂",
                    "岚山区福源豆制品坊",
                    "日照港兴物流有限公司",
                    "莒县鑫盛建材经营部",
                    "日照蓝海酒店管理有限公司",
                    "五莲县山水农业合作社",
                    "日照市金桥电子科技有限公司",
                ]
            )
            # (window, accepted at): the older the case, the higher its rung by Wednesday
            plan = [
                (1, "2026-11-27 10:05"),
                (76, "2026-11-30 14:20"),
                (2, "2026-12-03 09:40"),
                (96, "2026-12-04 11:15"),
                (97, "2026-12-07 09:30"),
                (3, "2026-12-08 09:10"),
                (1, "2026-12-08 14:45"),
            ]
            cases = []
            for window_no, when in plan:
                clock.set(at(when))
                item = await _promised_item(db, window_no)
                case = await accept(
                    http,
                    tokens[window_no],
                    item=item,
                    applicant={"name": next(names), "phone": "13906331234"},
                )
                await case_command(http, tokens[window_no], case["case_id"], "start")
                cases.append(case)
            # the hall's timers through the days, as they would have run
            for day in ("11-27", "11-30", "12-01", "12-02", "12-03", "12-04", "12-07", "12-08"):
                for hour in ("09:00", "12:00", "17:00"):
                    await job.run(TimerContext(server.app[STORE]), hall, at(f"2026-{day} {hour}"))
            await job.run(TimerContext(server.app[STORE]), hall, at("2026-12-09 09:00"))

            # Wednesday morning: today's first cases done, a sign-off asked, people waiting
            clock.set(at("2026-12-09 09:05"))
            for _ in range(3):
                done = await accept(
                    http, tokens[6], item="amr-002", applicant={"name": "张海", "phone": None}
                )
                for verb, body in (("start", None), ("decision", {"decision": "approve"})):
                    await case_command(http, tokens[6], done["case_id"], verb, body)
                await case_command(http, tokens[6], done["case_id"], "complete")
            signoff = await accept(http, tokens[5], item=SIGNOFF, applicant={"name": "王涛"})
            await case_command(http, tokens[5], signoff["case_id"], "start")
            clock.set(at("2026-12-09 09:41"))
            await command(http, tokens[2], 2, "status", {"status": "paused"})
            clock.set(at("2026-12-09 10:02"))
            await case_command(
                http, tokens[5], signoff["case_id"], "signoff-request", {"note": "请签批"}
            )
            kiosk = await device_token(http, "kiosk-01")
            for window_no, queued in ((1, "09:48"), (20, "09:56"), (31, "10:12"), (76, "10:20")):
                for minutes in (0, 3):
                    reg = await register(http, kiosk, await item_of_window(db, window_no))
                    await db.execute(
                        "update ticket set queued_at = $2::timestamptz,"
                        " service_day = ($2::timestamptz at time zone 'Asia/Shanghai')::date"
                        " where id = $1",
                        reg["ticket"]["id"],
                        at(f"2026-12-09 {queued}") + timedelta(minutes=minutes),
                    )
            await db.execute(
                "update service_window set status = 'open' where window_no = 7"
                " and hall_id = (select id from hall where code = 'rizhao')"
            )
            clock.set(at("2026-12-09 10:31"))
            await job.run(TimerContext(server.app[STORE]), hall, clock.now)

            # the supervisor has taken some of them in hand
            supervisor = (await login(http, "supervisor1"))["token"]
            alarms = await db.fetch(
                "select id, level from alarm where hall_id = $1 order by issued_at, id", hall["id"]
            )
            for a in alarms[:3]:
                resp = await http.post(
                    f"/api/alarms/{a['id']}/acknowledge", json={}, headers=bearer(supervisor)
                )
                assert resp.status == 200, await resp.text()
            resp = await http.post(
                f"/api/alarms/{alarms[0]['id']}/supervise",
                json={"note": "请于答复期限内整改并答复"},
                headers=bearer(supervisor),
            )
            assert resp.status == 200, await resp.text()

        ctx = await new_context(server.url, supervisor, viewport=HD)
        opened.append(ctx)
        page = await ctx.new_page()
        await page.clock.set_fixed_time(clock.now)
        await page.goto(f"{server.url}/supervision")
        await expect(page.locator("#conn")).to_have_text("实时")
        await expect(page.locator("#alarms li")).to_have_count(len(alarms))
        await page.mouse.move(0, 0)
        await _settle(page)
        await page.screenshot(path=OUT / "supervision.png")
    finally:
        for ctx in opened:  # before the server stops
            await ctx.close()
        await server.stop()


async def test_project_screenshot(db_dsn, db, new_context):
    """/project: a construction project (一表通) in its second stage. The first stage done in
    eight working days, the EIA report left under 容缺 and brought back; the second stage's
    joint review under way: 规划 claimed, 人防 done, 消防 waiting for its turn."""
    from tests.workflows.helpers import (
        Windows,
        intake,
        open_project,
        step_command,
        steps_of,
        work_stage,
    )

    OUT.mkdir(parents=True, exist_ok=True)
    server = await LiveServer(make_settings(public_url=PUBLIC_URL), db_dsn).start()
    opened = []
    try:
        async with ClientSession(base_url=server.url) as http:
            clock = use_clock(server, at("2026-11-23 09:30"))
            windows = Windows(db)
            lead = await windows.token("planning")
            first = await open_project(http, lead, deferred="环境影响报告表", due="2026-11-27")
            clock.set(at("2026-11-25 10:00"))
            await case_command(
                http, lead, first["case_id"], "supplement/received", {"positions": []}
            )
            clock.set(at("2026-12-02 15:00"))
            await work_stage(http, windows, first["case_id"])
            clock.set(at("2026-12-07 09:40"))
            second = await intake(
                http, lead, workflow="construction-project", project=first["project_no"]
            )
            steps = await steps_of(http, lead, second["case_id"])
            clock.set(at("2026-12-08 11:20"))
            for code, verbs in (
                ("works-permit", ("claim",)),
                ("civil-defence", ("claim", "complete")),
            ):
                if code not in steps:
                    continue
                token = await windows.token(steps[code]["department"])
                for verb in verbs:
                    body = {"note": "同意"} if verb == "complete" else None
                    await step_command(http, token, steps[code]["step_id"], verb, body)
            clock.set(at("2026-12-09 10:15"))

        ctx = await new_context(server.url, lead, viewport={"width": 1600, "height": 1200})
        opened.append(ctx)
        page = await ctx.new_page()
        await page.clock.set_fixed_time(clock.now)
        await page.goto(f"{server.url}/project?no={first['project_no']}")
        await expect(page.locator("#conn")).to_have_text("实时")
        await expect(page.locator("#stages > li[data-stage='2']")).to_have_attribute(
            "data-status", "current"
        )
        await page.mouse.move(0, 0)
        await _settle(page)
        await page.screenshot(path=OUT / "project.png", full_page=True)
    finally:
        for ctx in opened:  # before the server stops
            await ctx.close()
        await server.stop()


async def test_track_joint_screenshot(db_dsn, db, new_context):
    """/track on a phone: a 多证联办 company setup under way. The licence done at 市场监管, then
    side by side: the code and the seal done, social insurance being worked, tax to be claimed."""
    from tests.workflows.helpers import APPLICANT, WINDOW_OF, step_command, steps_of

    OUT.mkdir(parents=True, exist_ok=True)
    server = await LiveServer(make_settings(public_url=PUBLIC_URL), db_dsn).start()
    opened = []
    try:
        async with ClientSession(base_url=server.url) as http:
            clock = use_clock(server, at("2026-12-07 09:40"))
            lead = await clerk_at_window(db, WINDOW_OF["licence"])
            case = await accept(
                http, lead, item="amr-001", workflow="company-setup", applicant=APPLICANT
            )
            steps = await steps_of(http, lead, case["case_id"])
            clock.set(at("2026-12-07 10:55"))
            await step_command(http, lead, steps["licence"]["step_id"], "claim")
            await step_command(
                http, lead, steps["licence"]["step_id"], "complete", {"note": "准予"}
            )
            steps = await steps_of(http, lead, case["case_id"])
            for code, when, verbs in (
                ("code", "2026-12-07 11:20", ("claim", "complete")),
                ("seal", "2026-12-07 13:40", ("claim", "complete")),
                ("social", "2026-12-07 14:05", ("claim",)),
            ):
                clock.set(at(when))
                token = await clerk_at_window(db, WINDOW_OF[code])
                for verb in verbs:
                    body = {"note": "办结"} if verb == "complete" else None
                    await step_command(http, token, steps[code]["step_id"], verb, body)
            clock.set(at("2026-12-07 14:30"))

        phone = await new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
        opened.append(phone)
        track = await phone.new_page()
        await track.clock.set_fixed_time(clock.now)
        await track.goto(f"{server.url}/track?code={case['query_code']}")
        await expect(track.locator("#conn")).to_have_text("实时更新")
        await expect(track.get_by_text("公章刻制备案")).to_be_visible()
        await _settle(track)
        await track.screenshot(path=OUT / "track-joint.png", full_page=True)
    finally:
        for ctx in opened:  # before the server stops
            await ctx.close()
        await server.stop()


async def test_rating_screenshots(db_dsn, db, new_context):
    """好差评: the window's rating device asking (a tablet), the SMS link's page on a phone, and
    the ballot box's batch screen after a few slips."""
    from server import demo_hall

    OUT.mkdir(parents=True, exist_ok=True)
    server = await LiveServer(make_settings(public_url=PUBLIC_URL), db_dsn).start()
    opened = []
    try:
        async with ClientSession(base_url=server.url) as http:
            clock = use_clock(server, at("2026-12-07 10:20"))
            # window 1: a case completed (its SMS link), then a ticket served and the request
            clerk, ticket_id, _ = await serving_ticket(http, db, 1)
            case = await accept(http, clerk, ticket_id=ticket_id, item=PROMISED)
            for verb, body in (("start", None), ("decision", {"decision": "approve"})):
                await case_command(http, clerk, case["case_id"], verb, body)
            await case_command(http, clerk, case["case_id"], "complete")
            await command(http, clerk, 1, "finish")
            sms = await db.fetchval(
                "select body from notification where dedupe_key = $1",
                f"rate-invite:{case['case_id']}",
            )
            link = sms[sms.index("/rate/") :]
            slips = []
            for no in (2, 3, 5, 6):
                item = await item_of_window(db, no)
                token, _, reg = await serving_ticket(http, db, no, item=item)
                await command(http, token, no, "finish")
                slips.append(reg["reg_no"])
            _, _, reg = await serving_ticket(http, db, 1)
            resp = await http.post(
                "/api/halls/rizhao/windows/1/rating-request", json={}, headers=bearer(clerk)
            )
            assert resp.status == 200, await resp.json()
            clock.set(at("2026-12-07 10:32"))
            supervisor = (await login(http, "supervisor1"))["token"]

        tablet = await new_context(viewport={"width": 1280, "height": 800}, has_touch=True)
        opened.append(tablet)
        page = await tablet.new_page()
        await page.clock.set_fixed_time(clock.now)
        await page.goto(f"{server.url}/rate/window/1")
        await page.get_by_label("设备编号").fill("rater-001")
        await page.get_by_label("设备密钥").fill(demo_hall.password_for("rater-001"))
        await page.get_by_role("button", name="完成设置").click()
        await expect(page.locator("#conn")).to_have_text("实时")
        await expect(page.locator("#ask")).to_be_visible()
        await page.locator("#reasons button", has_text="办事效率").click()
        await _settle(page)
        await page.screenshot(path=OUT / "rate-window.png")

        phone = await new_context(
            viewport={"width": 390, "height": 844}, device_scale_factor=2, has_touch=True
        )
        opened.append(phone)
        page = await phone.new_page()
        await page.clock.set_fixed_time(clock.now)
        await page.goto(server.url + link)
        await page.locator(".m-level[data-level='4']").click()
        await page.get_by_role("button", name="办事效率").click()
        await page.get_by_label("意见建议").fill("办理很快，材料一次讲清楚了")
        await _settle(page)
        await page.screenshot(path=OUT / "rate-sms.png", full_page=True)

        desk = await new_context(server.url, supervisor, viewport={"width": 1440, "height": 900})
        opened.append(desk)
        page = await desk.new_page()
        await page.clock.set_fixed_time(clock.now)
        await page.goto(f"{server.url}/ballots")
        await expect(page.locator("#slip")).to_be_focused()
        for barcode, level in (
            (slips[0], "5"),
            (slips[1], "4"),
            (slips[0], "5"),
            (slips[2], "2"),
            ("26010199999999", "3"),
            (slips[3], "5"),
        ):
            await page.keyboard.type(barcode)
            await page.keyboard.press("Enter")
            await page.keyboard.press(level)
            await page.keyboard.press("Enter")
            await expect(page.locator("#rows tr[data-result='pending']")).to_have_count(0)
        await expect(page.locator("#rows tr")).to_have_count(6)
        await page.keyboard.type(reg["reg_no"])
        await page.keyboard.press("Enter")
        await page.keyboard.press("4")
        await _settle(page)
        await page.screenshot(path=OUT / "ballots.png")
    finally:
        for ctx in opened:  # before the server stops
            await ctx.close()
        await server.stop()
