"""An alarm reaches its handling clerk by SMS through the outbox, written in the alarm's own
transaction: one message per alarm, however often the job runs."""

from __future__ import annotations

from server.catalogue import CATALOGUE
from server.catalogue.spine import TimerContext
from server.keys import STORE
from tests.cases.helpers import PROMISED, accept, at, serving_ticket, use_clock

JOB = CATALOGUE.timers["alarm.fire_case"]


async def test_the_handling_clerk_gets_one_sms_per_alarm(live, http, db):
    use_clock(live, at("2026-12-07 10:00"))
    token, ticket, _ = await serving_ticket(http, db)
    case = await accept(http, token, ticket_id=ticket, item=PROMISED)
    clerk = await db.fetchrow(
        "select s.id, s.phone from staff s join service_case c on c.clerk_id = s.id"
        " where c.id = $1",
        case["case_id"],
    )
    assert clerk["phone"]  # the demo's clerks have phones
    hall = await db.fetchrow("select * from hall where code = 'rizhao'")
    ctx = TimerContext(live.app[STORE])
    for _ in range(2):  # a retried run raises nothing twice, so sends nothing twice
        await JOB.run(ctx, hall, at("2026-12-09 17:00"))
    rows = await db.fetch(
        "select n.dedupe_key, n.recipient, n.body, a.level from notification n"
        " join alarm a on n.dedupe_key = 'alarm:' || a.id where a.case_id = $1 order by a.id",
        case["case_id"],
    )
    assert [(r["level"], r["recipient"]) for r in rows] == [
        ("warning", clerk["phone"]),
        ("yellow", clerk["phone"]),
    ]
    assert "黄牌" in rows[1]["body"] and case["case_no"] in rows[1]["body"]


async def test_no_sms_without_a_phone(live, http, db):
    use_clock(live, at("2026-12-07 10:00"))
    token, ticket, _ = await serving_ticket(http, db)
    case = await accept(http, token, ticket_id=ticket, item=PROMISED)
    await db.execute(
        "update staff set phone = null where id = (select clerk_id from service_case"
        " where id = $1)",
        case["case_id"],
    )
    hall = await db.fetchrow("select * from hall where code = 'rizhao'")
    events = await JOB.run(TimerContext(live.app[STORE]), hall, at("2026-12-09 17:00"))
    assert [e.payload["level"] for e in events] == ["warning", "yellow"]
    assert not await db.fetchval(
        "select count(*) from notification n join alarm a on n.dedupe_key = 'alarm:' || a.id"
        " where a.case_id = $1",
        case["case_id"],
    )
