"""Supervision on the hall floor (issue 9): a ticket waiting too long, a service far beyond its
norm, a sign-off waiting, an open window with nobody at it and a window paused too long — each
raised by its timer job at its second and not one second before, once however often the job
runs, with its event (kind, Chinese summary, department, window) and the SMS to the clerk.

The queue's commands stamp their rows with the database's clock, so these tests read the
instants the commands wrote (or set them) and run the jobs at chosen instants around them."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from server.catalogue import CATALOGUE
from server.catalogue.spine import TimerContext
from server.domain.queueing import service_day
from server.keys import STORE
from tests.cases.helpers import (
    PROMISED,
    SIGNOFF,
    accept,
    at,
    serving_ticket,
    use_clock,
)
from tests.cases.helpers import command as case_command
from tests.queue_helpers import bearer, clerk_at_window, command, kiosk_token, register

SECOND = timedelta(seconds=1)


async def run(live, db, job: str, when: datetime) -> list:
    hall = await db.fetchrow("select * from hall where code = 'rizhao'")
    return await CATALOGUE.timers[job].run(TimerContext(live.app[STORE]), hall, when)


async def fires_at(live, db, job: str, due: datetime) -> list:
    """Nothing a second before `due`; at `due` what the job raises; a second run raises none."""
    assert await run(live, db, job, due - SECOND) == []
    events = await run(live, db, job, due)
    assert events and {e.type for e in events} == {"alarm.issued"}
    assert await run(live, db, job, due) == []
    assert await run(live, db, job, due + 5 * SECOND) == []
    return events


async def alarm_rows(db, kind: str) -> list:
    return await db.fetch("select * from alarm where kind = $1 order by id", kind)


async def sms_of(db, alarm_id: int) -> list:
    return await db.fetch(
        "select recipient, body from notification where dedupe_key = $1", f"alarm:{alarm_id}"
    )


async def test_a_ticket_waiting_too_long_once_and_not_one_called_in_time(live, http, db):
    kiosk = await kiosk_token(http)
    late = (await register(http, kiosk, PROMISED))["ticket"]
    called = (await register(http, kiosk, PROMISED))["ticket"]
    clerk = await clerk_at_window(db, 1)
    await command(http, clerk, 1, "call", {"ticket_no": called["ticket_no"], "reason": "按号办理"})
    t0 = at("2026-12-07 10:00")
    await db.execute(
        "update ticket set queued_at = $1, wait_start_at = $1, service_day = $2"
        " where id = any($3::bigint[])",
        t0,
        service_day(t0),
        [late["id"], called["id"]],
    )
    events = await fires_at(live, db, "alarm.fire_ticket_wait", t0 + timedelta(minutes=30))
    assert len(events) == 1
    data = events[0].payload
    assert data["kind"] == "ticket_wait" and data["kind_name"] == "排队等候超时"
    assert data["level"] == "warning" and data["level_name"] == "预警"
    assert data["subject"] == f"ticket:{late['id']}" and data["ticket_no"] == late["ticket_no"]
    assert data["department"] == "amr" and data["window_no"] is None
    queue = await db.fetchval(
        "select q.name from queue q join ticket t on t.queue_id = q.id where t.id = $1",
        late["id"],
    )
    assert data["summary"] == f"{late['ticket_no']} 号（{queue}）排队等候已超过 30 分钟"
    assert data["due_at"] == "2026-12-07T10:30:00+08:00"
    rows = await alarm_rows(db, "ticket_wait")
    assert [(r["ticket_id"], r["rule_version"]) for r in rows] == [(late["id"], 0)]


async def test_a_wait_over_the_lunch_break_counts_service_hours_only(live, http, db):
    kiosk = await kiosk_token(http)
    ticket = (await register(http, kiosk, PROMISED))["ticket"]
    t0 = at("2026-12-07 11:50")  # 10 minutes before the break, 20 after it (13:00-)
    await db.execute(
        "update ticket set queued_at = $1, wait_start_at = $1, service_day = $2 where id = $3",
        t0,
        service_day(t0),
        ticket["id"],
    )
    for during_lunch in ("12:20", "12:59:59"):
        assert await run(live, db, "alarm.fire_ticket_wait", at(f"2026-12-07 {during_lunch}")) == []
    events = await fires_at(live, db, "alarm.fire_ticket_wait", at("2026-12-07 13:20"))
    assert events[0].payload["due_at"] == "2026-12-07T13:20:00+08:00"


async def test_a_ticket_wait_follows_the_halls_rules(live, http, db):
    kiosk = await kiosk_token(http)
    ticket = (await register(http, kiosk, PROMISED))["ticket"]
    hall_id = await db.fetchval("select id from hall where code = 'rizhao'")
    await db.execute(
        "insert into supervision_rules (hall_id, version, rules) values ($1, 3, $2)",
        hall_id,
        {"ticket_wait_minutes": 10},
    )
    t0 = at("2026-12-07 11:00")
    await db.execute(
        "update ticket set queued_at = $1, wait_start_at = $1, service_day = $2 where id = $3",
        t0,
        service_day(t0),
        ticket["id"],
    )
    events = await fires_at(live, db, "alarm.fire_ticket_wait", t0 + timedelta(minutes=10))
    assert events[0].payload["rule_version"] == 3
    assert "已超过 10 分钟" in events[0].payload["summary"]


async def test_a_transferred_ticket_waits_over_its_whole_visit_and_alarms_once(live, http, db):
    kiosk = await kiosk_token(http)
    first = (await register(http, kiosk, PROMISED))["ticket"]
    # 20 minutes of waiting before the call (the queue's commands stamp with the database clock)
    await db.execute(
        "update ticket set queued_at = now() - interval '20 minutes',"
        " wait_start_at = now() - interval '20 minutes' where id = $1",
        first["id"],
    )
    clerk = await clerk_at_window(db, 1)
    await command(http, clerk, 1, "call", {"ticket_no": first["ticket_no"], "reason": "按号办理"})
    await command(http, clerk, 1, "start")
    await command(http, clerk, 1, "transfer", {"queue": "tax", "note": "需先缴税"})
    nxt = await db.fetchrow("select * from ticket where previous_id = $1", first["id"])
    before = await db.fetchrow("select * from ticket where id = $1", first["id"])
    assert nxt["status"] == "waiting" and nxt["visit_id"] == first["id"]
    # the wait before the call counts, the service at window 1 does not
    assert nxt["wait_start_at"] == nxt["queued_at"] - (
        before["called_at"] - before["wait_start_at"]
    )
    # the rest at a fixed instant in service hours: the commands stamped the real clock, whose
    # time of day (a lunch break, a night, a weekend) must not decide the test
    waited = nxt["queued_at"] - nxt["wait_start_at"]
    queued = at("2026-12-07 10:00")
    await db.execute(
        "update ticket set queued_at = $1, wait_start_at = $2, service_day = $3 where id = $4",
        queued,
        queued - waited,
        service_day(queued),
        nxt["id"],
    )
    due = queued - waited + timedelta(minutes=30)
    events = await fires_at(live, db, "alarm.fire_ticket_wait", due)
    assert [e.payload["subject"] for e in events] == [f"ticket:{first['id']}"]
    rows = await alarm_rows(db, "ticket_wait")
    assert [r["ticket_id"] for r in rows] == [nxt["id"]]
    assert events[0].payload["department"] == "tax"


async def test_a_ticket_of_another_day_is_not_watched(live, http, db):
    kiosk = await kiosk_token(http)
    ticket = (await register(http, kiosk, PROMISED))["ticket"]
    t0 = at("2026-12-07 10:00")
    await db.execute(
        "update ticket set queued_at = $1, wait_start_at = $1, service_day = $2 where id = $3",
        t0,
        service_day(t0) - timedelta(days=1),
        ticket["id"],
    )
    assert await run(live, db, "alarm.fire_ticket_wait", t0 + timedelta(hours=2)) == []


async def test_a_service_beyond_its_norm_alarms_the_window_and_texts_the_clerk(live, http, db):
    _, ticket_id, _ = await serving_ticket(http, db, window_no=1, item=PROMISED)
    await db.execute("update item set service_norm_minutes = 10 where code = $1", PROMISED)
    ticket = await db.fetchrow("select * from ticket where id = $1", ticket_id)
    due = ticket["service_started_at"] + timedelta(minutes=20)  # 2 x the item's 10 minutes
    await db.execute(
        "update ticket set service_day = $1 where id = $2", service_day(due), ticket_id
    )
    events = await fires_at(live, db, "alarm.fire_service_overlong", due)
    data = events[0].payload
    assert data["kind"] == "service_overlong" and data["kind_name"] == "办理时间超长"
    assert data["subject"] == f"ticket:{ticket_id}:service"
    assert data["window_no"] == 1 and data["department"] == "amr"
    assert data["summary"].startswith(f"1 号窗口办理 {ticket['ticket_no']} 号（")
    assert "已超过 20 分钟（定额 10 分钟）" in data["summary"]
    (row,) = await alarm_rows(db, "service_overlong")
    clerk = await db.fetchrow("select id, phone from staff where username = 'clerk001'")
    assert row["staff_id"] == clerk["id"] and row["ticket_id"] == ticket_id
    assert clerk["phone"]
    sms = await sms_of(db, row["id"])
    assert [s["recipient"] for s in sms] == [clerk["phone"]]
    assert sms[0]["body"].startswith("【电子监察】预警：1 号窗口办理")


async def test_a_service_without_an_item_norm_takes_the_queues(live, http, db):
    _, ticket_id, _ = await serving_ticket(http, db, window_no=1, item=PROMISED)
    await db.execute(
        "update queue set service_norm_minutes = 12 where id ="
        " (select queue_id from ticket where id = $1)",
        ticket_id,
    )
    started = await db.fetchval("select service_started_at from ticket where id = $1", ticket_id)
    due = started + timedelta(minutes=24)
    await db.execute(
        "update ticket set service_day = $1 where id = $2", service_day(due), ticket_id
    )
    events = await fires_at(live, db, "alarm.fire_service_overlong", due)
    assert "（定额 12 分钟）" in events[0].payload["summary"]


async def test_a_service_finished_in_time_raises_nothing(live, http, db):
    token, ticket_id, _ = await serving_ticket(http, db, window_no=1, item=PROMISED)
    started = await db.fetchval("select service_started_at from ticket where id = $1", ticket_id)
    await command(http, token, 1, "finish")
    later = started + timedelta(hours=3)
    await db.execute(
        "update ticket set service_day = $1 where id = $2", service_day(later), ticket_id
    )
    assert await run(live, db, "alarm.fire_service_overlong", later) == []


async def test_a_signoff_waiting_too_long(live, http, db):
    t0 = at("2026-12-07 10:00")
    use_clock(live, t0)
    token, ticket_id, _ = await serving_ticket(http, db, item=SIGNOFF)
    case = await accept(http, token, ticket_id=ticket_id, item=SIGNOFF)
    await case_command(http, token, case["case_id"], "start")
    await case_command(http, token, case["case_id"], "signoff-request", {"note": "请签批"})
    request = await db.fetchrow("select * from signoff_request where case_id = $1", case["case_id"])
    assert request["requested_at"] == t0
    events = await fires_at(live, db, "alarm.fire_signoff_wait", t0 + timedelta(minutes=10))
    data = events[0].payload
    assert data["kind"] == "signoff_wait" and data["subject"] == f"signoff:{request['id']}"
    assert data["department"] == "amr" and data["window_no"] == 1
    assert data["case_no"] == case["case_no"]
    assert data["summary"] == (
        f"1 号窗口 10:00 提请的签批（办件 {case['case_no']}，{data['item_name']}）"
        "等候已超过 10 分钟"
    )
    # the SMS goes to the department's leader on duty that day, who must sign
    on_duty = await db.fetch(
        "select s.id, s.phone from leader_duty ld join staff s on s.id = ld.staff_id"
        " join department d on d.id = ld.department_id"
        " where d.code = 'amr' and ld.hall_id = d.hall_id and ld.duty_date = '2026-12-07'"
        " and d.hall_id = (select id from hall where code = 'rizhao') order by s.id"
    )
    assert on_duty and on_duty[0]["phone"]
    (row,) = await alarm_rows(db, "signoff_wait")
    assert row["staff_id"] == on_duty[0]["id"]
    assert [m["recipient"] for m in await sms_of(db, row["id"])] == [on_duty[0]["phone"]]


async def test_a_signoff_decided_in_time_raises_nothing(live, http, db):
    t0 = at("2026-12-07 10:00")
    clock = use_clock(live, t0)
    token, ticket_id, _ = await serving_ticket(http, db, item=SIGNOFF)
    case = await accept(http, token, ticket_id=ticket_id, item=SIGNOFF)
    await case_command(http, token, case["case_id"], "start")
    await case_command(http, token, case["case_id"], "signoff-request", {"note": "请签批"})
    clock.set(t0 + timedelta(minutes=9, seconds=59))
    from tests.conftest import login

    leader = (await login(http, "leader.amr"))["token"]
    await case_command(http, leader, case["case_id"], "signoff", {"decision": "approve"})
    assert await run(live, db, "alarm.fire_signoff_wait", t0 + timedelta(hours=1)) == []


async def _window(db, no: int) -> int:
    return await db.fetchval(
        "select w.id from service_window w join hall h on h.id = w.hall_id"
        " where h.code = 'rizhao' and w.window_no = $1",
        no,
    )


async def test_a_window_paused_too_long_once_per_pause(live, http, db):
    clerk = await clerk_at_window(db, 3)
    window_id = await _window(db, 3)
    await command(http, clerk, 3, "status", {"status": "paused"})
    assert await db.fetchval("select status_since from service_window where id = $1", window_id)
    since = at("2026-12-07 10:00")  # the pause at an instant of the test's choosing
    await db.execute("update service_window set status_since = $1 where id = $2", since, window_id)
    events = await fires_at(live, db, "alarm.fire_pause_overlong", since + timedelta(minutes=30))
    data = events[0].payload
    assert data["subject"] == f"window:{window_id}:pause:{int(since.timestamp())}"
    assert data["kind_name"] == "暂停超时" and data["window_no"] == 3
    assert data["summary"] == "3 号窗口自 10:00 起暂停服务已超过 30 分钟"
    (row,) = await alarm_rows(db, "pause_overlong")
    phone = await db.fetchval("select phone from staff where username = 'clerk003'")
    assert [s["recipient"] for s in await sms_of(db, row["id"])] == [phone]
    # open again, then a second pause: a new episode, its own alarm
    await command(http, clerk, 3, "status", {"status": "open"})
    await command(http, clerk, 3, "status", {"status": "paused"})
    again = at("2026-12-07 14:00")
    await db.execute("update service_window set status_since = $1 where id = $2", again, window_id)
    await fires_at(live, db, "alarm.fire_pause_overlong", again + timedelta(minutes=30))
    assert len(await alarm_rows(db, "pause_overlong")) == 2


async def test_a_pause_over_the_lunch_break_counts_service_hours_only(live, http, db):
    clerk = await clerk_at_window(db, 3)
    window_id = await _window(db, 3)
    await command(http, clerk, 3, "status", {"status": "paused"})
    since = at("2026-12-07 11:50")  # 10 minutes before the break, 20 after it (13:00-)
    await db.execute("update service_window set status_since = $1 where id = $2", since, window_id)
    for during_lunch in ("12:20", "12:59:59"):
        when = at(f"2026-12-07 {during_lunch}")
        assert await run(live, db, "alarm.fire_pause_overlong", when) == []
    events = await fires_at(live, db, "alarm.fire_pause_overlong", at("2026-12-07 13:20"))
    assert events[0].payload["due_at"] == "2026-12-07T13:20:00+08:00"


async def test_a_window_left_open_by_a_clerk_who_logged_out(live, http, db):
    clerk = await clerk_at_window(db, 2)
    window_id = await _window(db, 2)
    staff_id = await db.fetchval("select id from staff where username = 'clerk002'")
    # signed in and opened at 09:00, the session good until the evening (instants of the test's
    # choosing, whatever the time the test runs at)
    await db.execute(
        "update window_signin set since = $1 where window_id = $2",
        at("2026-12-07 09:00"),
        window_id,
    )
    await db.execute(
        "update service_window set status_since = $1 where id = $2",
        at("2026-12-07 09:00"),
        window_id,
    )
    # (and past the real clock too: the logout below is checked against it, whatever the day
    # the test runs on)
    await db.execute(
        "update auth_session set expires_at = greatest($1, now() + interval '1 day') "
        "where staff_id = $2",
        at("2026-12-07 20:00"),
        staff_id,
    )
    # the clerk is there (a live session): nothing, however long the window is open
    assert await run(live, db, "alarm.fire_window_unattended", at("2026-12-07 11:00")) == []
    resp = await http.post("/api/auth/logout", headers=bearer(clerk))
    assert resp.status in (200, 204), await resp.text()
    left = at("2026-12-07 10:00")
    await db.execute(
        "update auth_session set revoked_at = $1 where staff_id = $2 and revoked_at is not null",
        left,
        staff_id,
    )
    events = await fires_at(live, db, "alarm.fire_window_unattended", left + timedelta(minutes=5))
    data = events[0].payload
    assert data["kind"] == "window_unattended" and data["kind_name"] == "窗口无人值守"
    assert data["subject"] == f"window:{window_id}:{int(left.timestamp())}"
    assert data["window_no"] == 2 and data["department"] == "amr"
    assert data["summary"] == "2 号窗口开放中但无人值守，自 10:00 起已超过 5 分钟"
    (row,) = await alarm_rows(db, "window_unattended")
    assert row["staff_id"] == staff_id


async def test_an_open_window_without_a_clerk_and_one_signed_out_properly(live, http, db):
    await clerk_at_window(db, 4)
    window_id = await _window(db, 4)
    assert (
        await db.fetchval("select unattended_since from service_window where id = $1", window_id)
        is None
    )
    await db.execute("delete from window_signin where window_id = $1", window_id)
    assert await db.fetchval(
        "select unattended_since from service_window where id = $1", window_id
    )  # the trigger marks it
    since = at("2026-12-07 15:00")
    await db.execute(
        "update service_window set unattended_since = $1 where id = $2", since, window_id
    )
    events = await fires_at(live, db, "alarm.fire_window_unattended", since + timedelta(minutes=5))
    assert events[0].payload["window_no"] == 4
    assert (await alarm_rows(db, "window_unattended"))[0]["staff_id"] is None
    # a clerk signing out by the command closes the window: nobody is expected there
    clerk = await clerk_at_window(db, 5)
    await command(http, clerk, 5, "sign-out")
    w5 = await db.fetchrow(
        "select w.status, w.unattended_since from service_window w join hall h"
        " on h.id = w.hall_id where h.code = 'rizhao' and w.window_no = 5"
    )
    assert w5["status"] == "closed" and w5["unattended_since"] is None
    assert await run(live, db, "alarm.fire_window_unattended", since + timedelta(hours=1)) == []


async def test_two_owners_at_the_same_instant_raise_a_floor_alarm_once(live, http, db):
    kiosk = await kiosk_token(http)
    ticket = (await register(http, kiosk, PROMISED))["ticket"]
    t0 = at("2026-12-07 14:00")
    await db.execute(
        "update ticket set queued_at = $1, wait_start_at = $1, service_day = $2 where id = $3",
        t0,
        service_day(t0),
        ticket["id"],
    )
    due = t0 + timedelta(minutes=30)
    hall = await db.fetchrow("select * from hall where code = 'rizhao'")
    job, ctx = CATALOGUE.timers["alarm.fire_ticket_wait"], TimerContext(live.app[STORE])
    runs = await asyncio.gather(*(job.run(ctx, hall, due) for _ in range(3)))
    assert sorted(len(r) for r in runs) == [0, 0, 1]
    assert await db.fetchval("select count(*) from event where type = 'alarm.issued'") == 1
