"""A case's alarms are raised by one statement over many plans (hq_fire_case_alarms); every other
trigger raises through alarms.raise_alarm. Both must write the same alarm: the same event
payload, the same row detail and the same SMS. Two cases accepted at the same instant have the
same ladder: one is raised by the statement, the other rung by rung through raise_alarm."""

from __future__ import annotations

from server.catalogue import CATALOGUE
from server.catalogue.spine import TimerContext
from server.catalogue.supervision import AlarmIssued
from server.domain import alarm_ladder as ladder
from server.domain import alarms
from server.domain.actor import system_actor
from server.keys import STORE
from tests.cases.helpers import PROMISED, accept, at, serving_ticket, use_clock

JOB = CATALOGUE.timers["alarm.fire_case"]
DEADLINE = "2026-12-09 17:00"


async def test_the_statement_and_raise_alarm_write_the_same_alarm(live, http, db):
    use_clock(live, at("2026-12-07 10:00"))
    token, ticket, _ = await serving_ticket(http, db, window_no=1)
    by_statement = await accept(http, token, ticket_id=ticket, item=PROMISED)
    token, ticket, _ = await serving_ticket(http, db, window_no=2)  # amr's too
    by_function = await accept(http, token, ticket_id=ticket, item=PROMISED)
    hall = await db.fetchrow("select * from hall where code = 'rizhao'")
    store = live.app[STORE]
    now = at(DEADLINE)

    # the second case out of the timers' way: raised below by raise_alarm instead
    await db.execute(
        "update service_case set next_alarm_at = null where id = $1", by_function["case_id"]
    )
    statement_events = await JOB.run(TimerContext(store), hall, now)
    async with store.command(system_actor(hall["id"]), "alarm.fire_case") as tx:
        r = await tx.conn.fetchrow(alarms.q.CASE_FACTS, by_function["case_id"])
        cal = await alarms.cq.load_hall_calendar(
            tx.conn, hall["id"], now.date().replace(day=1), now.date().replace(day=28)
        )
        facts = alarms.case_facts(r, cal)
        rules = await alarms.hall_rules(tx.conn, hall["id"])
        for rung in ladder.due_rungs(ladder.case_rungs(facts, rules, cal), set(), now):
            alarm = alarms.case_alarm(r, facts.clock.deadline, rung)
            await alarms.raise_alarm(tx, hall["id"], alarm, rules.version, now)
    function_events = tx.records

    def same_case(payload: dict, case: dict) -> dict:
        assert payload["subject"] == f"case:{case['case_id']}"
        p = {**payload, "alarm_id": 0, "case_id": 0, "window_no": 0, "subject": "case"}
        return {
            k: (v.replace(case["case_no"], "N") if isinstance(v, str) else v) for k, v in p.items()
        }

    assert [e.payload["level"] for e in statement_events] == ["warning", "yellow"]
    assert [same_case(e.payload, by_statement) for e in statement_events] == [
        same_case(e.payload, by_function) for e in function_events
    ]
    for e in statement_events + function_events:
        AlarmIssued.model_validate(e.payload)  # both keep to the declared payload
        assert e.window_id is not None  # the window's terminal gets it

    async def written(case: dict) -> list:
        rows = await db.fetch(
            "select a.level, a.detail, a.rule_version, a.due_at, n.body"
            " from alarm a left join notification n on n.dedupe_key = 'alarm:' || a.id"
            " where a.case_id = $1 order by a.id",
            case["case_id"],
        )
        return [
            {
                **dict(r),
                "detail": {k: str(v).replace(case["case_no"], "N") for k, v in r["detail"].items()},
                "body": r["body"].replace(case["case_no"], "N"),
            }
            for r in rows
        ]

    assert await written(by_statement) == await written(by_function)
    assert (await written(by_statement))[0]["body"].startswith("【电子监察】预警：办件 N")


async def test_a_case_scheduled_before_plans_existed_is_planned_then_raised(live, http, db):
    """A case scheduled by an earlier release has its next instant but no plan (migration 0015):
    the timer plans it from the case as it stands, then raises what is due, once."""
    use_clock(live, at("2026-12-07 10:00"))
    token, ticket, _ = await serving_ticket(http, db)
    case = await accept(http, token, ticket_id=ticket, item=PROMISED)
    await db.execute("update service_case set alarm_plan = null where id = $1", case["case_id"])
    hall = await db.fetchrow("select * from hall where code = 'rizhao'")
    ctx = TimerContext(live.app[STORE])
    events = await JOB.run(ctx, hall, at(DEADLINE))
    assert [e.payload["level"] for e in events] == ["warning", "yellow"]
    assert await JOB.run(ctx, hall, at(DEADLINE)) == []
    plan = await db.fetchval("select alarm_plan from service_case where id = $1", case["case_id"])
    assert [(p["kind"], p["level"]) for p in plan] == [("case_deadline", "red")]
