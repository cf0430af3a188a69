"""The reports' fixed data set (issue 11): three cases worked through the API with known clocks
(the case-metrics test's), their tickets given exact timestamps, a no-show ticket, idle spells,
ratings (one excluded by an upheld appeal, one bad with its rectification overdue, two in
November) and alarms (one withdrawn) inserted directly. The figures it yields are computed by
hand in tests/reports/test_report_figures.py."""

from __future__ import annotations

from tests.cases.helpers import IMMEDIATE, PROMISED, accept, at, command, serving_ticket, use_clock


async def _finish(http, token, cid):
    await command(http, token, cid, "decision", {"decision": "approve"})
    await command(http, token, cid, "complete")


async def _cases(live, http, db) -> dict:
    """The case-metrics test's three cases: window 1 an immediate one (on time); window 2 a
    promised one completed with 2 working hours of its limit unused after a supplement (2
    visits) and a promised one an hour late."""
    clock = use_clock(live, at("2026-12-07 09:30"))  # Monday
    token, ticket1, _ = await serving_ticket(http, db, window_no=1, item=IMMEDIATE)
    immediate = await accept(http, token, ticket_id=ticket1, item=IMMEDIATE)
    clock.set(at("2026-12-07 09:40"))
    await _finish(http, token, immediate["case_id"])
    clock.set(at("2026-12-07 10:00"))
    token2, ticket2, _ = await serving_ticket(http, db, window_no=2, item=PROMISED)
    early = await accept(http, token2, ticket_id=ticket2, item=PROMISED)
    late = await accept(http, token2, item=PROMISED, applicant={"name": "李四"})
    clock.set(at("2026-12-07 11:00"))
    await command(
        http,
        token2,
        early["case_id"],
        "supplement",
        {"materials": [{"position": 1, "status": "missing", "problem": "未带"}]},
    )
    clock.set(at("2026-12-08 11:00"))
    await command(http, token2, early["case_id"], "supplement/received", {})
    clock.set(at("2026-12-09 17:00"))
    await _finish(http, token2, early["case_id"])
    clock.set(at("2026-12-10 10:00"))
    await _finish(http, token2, late["case_id"])
    # the rectification due on the 17th is overdue by the report's "now"
    clock.set(at("2026-12-20 09:00"))
    return {
        "ticket1": ticket1,
        "ticket2": ticket2,
        "immediate": immediate["case_id"],
        "early": early["case_id"],
        "late": late["case_id"],
    }


async def fixed_data(live, http, db) -> dict:
    ids = await _cases(live, http, db)
    hall = await db.fetchval("select id from hall where code = 'rizhao'")
    w = {
        r["window_no"]: r
        for r in await db.fetch(
            "select id, window_no, department_id from service_window where hall_id = $1 "
            "and window_no in (1, 2)",
            hall,
        )
    }
    clerk = {
        n: await db.fetchval("select id from staff where username = $1", f"clerk{n:03d}")
        for n in (1, 2)
    }
    assert await db.fetchval("select count(*) from ticket where hall_id = $1", hall) == 2
    # exact ticket times (s): T1 window 1 waits 600, walks 60, is served 600;
    # T2 window 2 waits 1200, walks 120, is served 1200 (both Monday the 7th, 09:xx);
    # T3 (inserted) window 2, Tuesday 14:05, waits 2400 and is a no-show.
    for tid, day, q, c, s, f in (
        (ids["ticket1"], "2026-12-07", "09:00", "09:10", "09:11", "09:21"),
        (ids["ticket2"], "2026-12-07", "09:30", "09:50", "09:52", "10:12"),
    ):
        await db.execute(
            "update ticket set service_day = $2, created_at = $3, queued_at = $3, "
            "wait_start_at = $3, called_at = $4, service_started_at = $5, finished_at = $6, "
            "status = 'done', outcome = 'served' where id = $1",
            tid,
            at(f"{day} 00:00").date(),
            at(f"{day} {q}"),
            at(f"{day} {c}"),
            at(f"{day} {s}"),
            at(f"{day} {f}"),
        )
    ticket3 = await db.fetchval(
        "insert into ticket (hall_id, service_day, queue_id, ticket_no, queued_at, created_at, "
        "wait_start_at, visit_id, status, outcome, window_id, clerk_id, called_at, finished_at) "
        "select hall_id, '2026-12-08', queue_id, 'Z001', $1, $1, $1, id, 'done', 'no_show', $2, "
        "$3, $4, $5 from ticket where id = $6 returning id",
        at("2026-12-08 14:05"),
        w[2]["id"],
        clerk[2],
        at("2026-12-08 14:45"),
        at("2026-12-08 14:50"),
        ids["ticket2"],
    )
    # idle spells (s): window 1 on the 7th 2400 + 2340 = 4740 (one window-day);
    # window 2: 3000 on the 7th, 2700 on the 8th = 5700 (two window-days)
    await db.execute(
        "delete from window_idle where window_id in (select id from service_window "
        "where hall_id = $1)",
        hall,
    )
    for wno, day, a, b in (
        (1, "2026-12-07", "08:30", "09:10"),
        (1, "2026-12-07", "09:21", "10:00"),
        (2, "2026-12-07", "09:00", "09:50"),
        (2, "2026-12-08", "14:00", "14:45"),
    ):
        await db.execute(
            "insert into window_idle (window_id, service_day, idle_from, idle_until) "
            "values ($1, $2, $3, $4)",
            w[wno]["id"],
            at(f"{day} 00:00").date(),
            at(f"{day} {a}"),
            at(f"{day} {b}"),
        )

    async def rate(subject, case_id, ticket_id, wno, level, when, excluded=False):
        return await db.fetchval(
            "insert into rating (hall_id, subject, case_id, ticket_id, window_id, clerk_id, "
            "department_id, level, channel, real_name, rated_at, excluded) "
            "values ($1, $2, $3, $4, $5, $6, $7, $8, 'device', false, $9, $10) returning id",
            hall,
            subject,
            case_id,
            ticket_id,
            w[wno]["id"],
            clerk[wno],
            w[wno]["department_id"],
            level,
            at(when),
            excluded,
        )

    await rate(f"case:{ids['immediate']}", ids["immediate"], None, 1, 5, "2026-12-07 10:00")
    await rate(f"case:{ids['early']}", ids["early"], None, 2, 4, "2026-12-09 17:30")
    bad = await rate(f"case:{ids['late']}", ids["late"], None, 2, 1, "2026-12-10 11:00")
    appealed = await rate(f"ticket:{ticket3}", None, ticket3, 2, 2, "2026-12-08 15:00", True)
    # November: window 1 very satisfied, window 2 very dissatisfied (window 2 last twice)
    await rate(f"ticket:{ids['ticket1']}", None, ids["ticket1"], 1, 5, "2026-11-20 10:00")
    await rate(f"ticket:{ids['ticket2']}", None, ids["ticket2"], 2, 1, "2026-11-20 11:00")
    for rating_id, state, due in ((bad, "open", "2026-12-17 17:00"), (appealed, "excluded", None)):
        await db.execute(
            "insert into rectification (hall_id, rating_id, department_id, window_id, state, "
            "opened_at, due_at) values ($1, $2, $3, $4, $5, $6, $7)",
            hall,
            rating_id,
            w[2]["department_id"],
            w[2]["id"],
            state,
            at("2026-12-10 11:00"),
            at(due or "2026-12-15 17:00"),
        )
    # alarms: a yellow long wait at window 2, a red deadline of the late case (closed, counts),
    # a warning at window 1 withdrawn by an upheld appeal (counts nothing)
    await db.execute(
        "delete from alarm where hall_id = $1", hall
    )  # none expected: timers do not run on the test clock
    for kind, level, wno, case_id, when, state in (
        ("ticket_wait", "yellow", 2, None, "2026-12-08 14:35", "issued"),
        ("case_deadline", "red", 2, ids["late"], "2026-12-10 09:00", "closed"),
        ("service_overlong", "warning", 1, None, "2026-12-07 09:20", "withdrawn"),
    ):
        await db.execute(
            "insert into alarm (hall_id, kind, level, case_id, department_id, window_id, "
            "rule_version, due_at, issued_at, state, subject, raised_by_hall) "
            "values ($1, $2, $3, $4, $5, $6, 0, $7, $7, $8, $9, $1)",
            hall,
            kind,
            level,
            case_id,
            w[wno]["department_id"],
            w[wno]["id"],
            at(when),
            state,
            f"case:{case_id}" if case_id else f"window:{wno}:{when}",
        )
    return ids
