"""Supervision's first trigger: a case's alarm ladder (预警, 黄牌, 红牌) fired by the hall timers'
job alarm.fire_case on a controllable clock: each rung at its second and never before, each
once (retried, run by two owners at once, or by a restarted process), none while paused, and a
holiday added later moves the rungs."""

from __future__ import annotations

import asyncio

from db.pool import create_pool
from server.catalogue import CATALOGUE
from server.catalogue.spine import TimerContext
from server.domain.store import Store
from server.keys import STORE
from tests.cases.helpers import PROMISED, accept, at, command, serving_ticket, use_clock
from tests.conftest import login
from tests.queue_helpers import bearer

JOB = CATALOGUE.timers["alarm.fire_case"]


async def alarms(db, case_id: int) -> list[tuple[str, str]]:
    rows = await db.fetch(
        "select level, to_char(due_at at time zone 'Asia/Shanghai', 'MM-DD HH24:MI:SS') as due"
        " from alarm where case_id = $1 order by id",
        case_id,
    )
    return [(r["level"], r["due"]) for r in rows]


async def fire(live, db, when: str) -> list:
    hall = await db.fetchrow("select * from hall where code = 'rizhao'")
    return await JOB.run(TimerContext(live.app[STORE]), hall, at(when))


async def test_each_rung_at_its_second_once(live, http, db):
    use_clock(live, at("2026-12-07 10:00"))  # Monday: 2 working days, due Wednesday 17:00
    token, ticket, _ = await serving_ticket(http, db)
    case = await accept(http, token, ticket_id=ticket, item=PROMISED)
    cid = case["case_id"]
    nxt = await db.fetchrow(
        "select next_alarm_at, next_alarm_level from service_case where id = $1", cid
    )
    assert nxt["next_alarm_level"] == "warning"

    assert await fire(live, db, "2026-12-08 16:59:59") == []  # one second early: nothing
    events = await fire(live, db, "2026-12-08 17:00:00")  # one working day left
    assert [e.type for e in events] == ["alarm.issued"]
    assert events[0].payload["level"] == "warning" and events[0].window_id is not None
    assert await fire(live, db, "2026-12-08 17:00:01") == []  # fired once
    await fire(live, db, "2026-12-09 17:00:00")  # the deadline: 黄牌
    await fire(live, db, "2026-12-14 16:59:59")  # 督办 not over yet
    await fire(live, db, "2026-12-14 17:00:00")  # 3 working days later: 红牌
    assert await alarms(db, cid) == [
        ("warning", "12-08 17:00:00"),
        ("yellow", "12-09 17:00:00"),
        ("red", "12-14 17:00:00"),
    ]
    assert await db.fetchval("select next_alarm_at from service_case where id = $1", cid) is None

    # the supervisor's stream carries them; the event log has one alarm.issued per rung
    seen = await db.fetchval("select count(*) from event where type = 'alarm.issued'")
    assert seen == 3
    supervisor = (await login(http, "supervisor1"))["token"]
    resp = await http.get("/api/halls/rizhao/events?since=0", headers=bearer(supervisor))
    assert resp.status == 200
    issued = [e for e in (await resp.json())["events"] if e["type"] == "alarm.issued"]
    assert [e["data"]["level_name"] for e in issued] == ["预警", "黄牌", "红牌"]


async def test_a_server_down_for_days_fires_the_due_rungs_once_and_in_order(live, http, db):
    use_clock(live, at("2026-12-07 10:00"))
    token, ticket, _ = await serving_ticket(http, db)
    case = await accept(http, token, ticket_id=ticket, item=PROMISED)
    # two owners at the same instant (the advisory lock lost, or a restart racing): each rung
    # once; and a third, restarted process with its own pool finds nothing left to raise
    hall = await db.fetchrow("select * from hall where code = 'rizhao'")
    ctx = TimerContext(live.app[STORE])
    when = at("2026-12-21 09:00")
    runs = await asyncio.gather(JOB.run(ctx, hall, when), JOB.run(ctx, hall, when))
    assert sorted(len(r) for r in runs) in ([0, 3], [1, 2], [3, 0])
    assert sum(len(r) for r in runs) == 3
    pool = await create_pool(live.app_dsn)
    try:
        restarted = Store(pool, publish=lambda records: asyncio.sleep(0))
        assert await JOB.run(TimerContext(restarted), hall, at("2026-12-21 09:00:05")) == []
    finally:
        await pool.close()
    assert [level for level, _ in await alarms(db, case["case_id"])] == ["warning", "yellow", "red"]


async def test_a_paused_case_does_not_alarm_and_resumes_later(live, http, db):
    clock = use_clock(live, at("2026-12-07 10:00"))
    token, ticket, _ = await serving_ticket(http, db)
    case = await accept(http, token, ticket_id=ticket, item=PROMISED)
    cid = case["case_id"]
    clock.set(at("2026-12-08 10:00"))
    await command(
        http,
        token,
        cid,
        "supplement",
        {"materials": [{"position": 1, "status": "missing", "problem": "未带"}]},
    )
    # no deadline rung while paused: the next alarm is only the pause's own limit (补正: the
    # end of the 30th working day after the pause's day, by the hall's calendar)
    nxt = await db.fetchrow(
        "select next_alarm_at, next_alarm_kind from service_case where id = $1", cid
    )
    assert nxt["next_alarm_kind"] == "pause_overlong"
    assert nxt["next_alarm_at"] == at("2027-01-19 17:00")
    assert await fire(live, db, "2026-12-10 10:00") == []  # days past the old deadline
    clock.set(at("2026-12-10 10:00"))
    back = await command(http, token, cid, "supplement/received", {})
    # 1 h of the 14 was used before the pause (Tuesday 09:00-10:00): 13 h are left from
    # Thursday 10:00, so the deadline is the end of Friday and one working day is left at the
    # end of Thursday
    assert back["clock"]["deadline"] == "2026-12-11T17:00:00+08:00"
    assert await fire(live, db, "2026-12-10 16:59:59") == []
    events = await fire(live, db, "2026-12-10 17:00:00")
    assert [e.payload["level"] for e in events] == ["warning"]
    assert await fire(live, db, "2026-12-11 16:59:59") == []


async def test_a_holiday_added_later_moves_the_rungs(live, http, db):
    use_clock(live, at("2026-12-07 10:00"))
    token, ticket, _ = await serving_ticket(http, db)
    case = await accept(http, token, ticket_id=ticket, item=PROMISED)
    admin = (await login(http, "admin"))["token"]
    resp = await http.put(
        "/api/halls/rizhao/calendar/2026-12-08",
        json={"is_working": False, "note": "临时闭厅"},
        headers=bearer(admin),
    )
    assert resp.status == 200
    # the warning was due Tuesday 17:00; with Tuesday off it is Wednesday 17:00
    assert await fire(live, db, "2026-12-08 17:00") == []
    events = await fire(live, db, "2026-12-09 17:00")
    assert [e.payload["level"] for e in events] == ["warning"]
    assert await alarms(db, case["case_id"]) == [("warning", "12-09 17:00:00")]


async def test_a_holiday_after_the_deadline_moves_the_red_card(live, http, db):
    """The clock does not change (the deadline is before the holiday), but the 督办 period after
    it does: the case's plan is worked out again, and the 红牌 does not fire on the old day."""
    use_clock(live, at("2026-12-07 10:00"))  # due Wednesday 12-09 17:00
    token, ticket, _ = await serving_ticket(http, db)
    case = await accept(http, token, ticket_id=ticket, item=PROMISED)
    await fire(live, db, "2026-12-09 17:00")  # 预警 and 黄牌
    admin = (await login(http, "admin"))["token"]
    resp = await http.put(
        "/api/halls/rizhao/calendar/2026-12-11",  # Friday, within the 3 working days of 督办
        json={"is_working": False, "note": "临时闭厅"},
        headers=bearer(admin),
    )
    assert resp.status == 200
    # Thu, Fri, Mon was the 督办 period: red on Monday 12-14 17:00; without Friday, Tuesday
    assert await fire(live, db, "2026-12-14 17:00") == []
    events = await fire(live, db, "2026-12-15 17:00")
    assert [e.payload["level"] for e in events] == ["red"]
    assert [lv for lv, _ in await alarms(db, case["case_id"])] == ["warning", "yellow", "red"]
