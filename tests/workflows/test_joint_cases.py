"""Joint cases (多证联办, issue 10) over the API: one intake at the 市场监管 window, the licence,
then four steps in parallel at four departments' windows, each claimed once, then one pick-up
SMS; two clerks claiming one step at the same instant, a clerk of another department, and a
completion by someone who did not claim it."""

from __future__ import annotations

import asyncio
import copy

import asyncpg

from server.demo_workflows import COMPANY_SETUP
from tests.cases.helpers import accept, at, command, use_clock
from tests.conftest import login
from tests.queue_helpers import bearer, clerk_at_window
from tests.realtime.sio import SioClient
from tests.workflows.helpers import APPLICANT, WINDOW_OF, run_overrun, step_command, steps_of


async def inbox(http, token: str, hall: str = "rizhao") -> list[dict]:
    resp = await http.get(f"/api/halls/{hall}/inbox", headers=bearer(token))
    body = await resp.json()
    assert resp.status == 200, body
    return body["steps"]


async def pickup_sms(db, case_id: int) -> list[str]:
    rows = await db.fetch(
        "select body from notification where dedupe_key = $1", f"pickup:{case_id}"
    )
    return [r["body"] for r in rows]


async def test_company_setup_runs_through_five_departments_and_texts_one_pickup(live, http, db):
    clock = use_clock(live, at("2026-12-07 10:00"))  # a Monday; work 09-12, 13-17
    lead = await clerk_at_window(db, 1)
    case = await accept(http, lead, item="amr-001", workflow="company-setup", applicant=APPLICANT)
    case_id = case["case_id"]
    # the bundle's promise governs: 2 working days, not the licence item's own limit
    assert case["clock"]["deadline"] == "2026-12-09T17:00:00+08:00"
    row = await db.fetchrow(
        "select workflow_code, workflow_version, limit_amount, limit_unit from service_case "
        "where id = $1",
        case_id,
    )
    assert dict(row) == {
        "workflow_code": "company-setup",
        "workflow_version": 1,
        "limit_amount": 2,
        "limit_unit": "working_day",
    }

    steps = await steps_of(http, lead, case_id)
    assert {c: s["state"] for c, s in steps.items()} == {
        "licence": "ready",
        "code": "waiting",
        "seal": "waiting",
        "social": "waiting",
        "tax": "waiting",
    }
    assert steps["licence"]["due_at"] == "2026-12-07T15:00:00+08:00"  # 4 working hours
    assert steps["seal"]["due_at"] is None
    # the lead window cannot approve the parent while its steps are open
    refused = await command(http, lead, case_id, "decision", {"decision": "approve"}, status=409)
    assert refused["error"]["code"] == "steps_open"
    tokens = {code: await clerk_at_window(db, no) for code, no in WINDOW_OF.items()}
    assert await inbox(http, tokens["seal"]) == []  # nothing for 公安 yet
    # a waiting step cannot be claimed
    await step_command(http, tokens["seal"], steps["seal"]["step_id"], "claim", status=409)

    clock.set(at("2026-12-07 11:00"))
    licence = steps["licence"]["step_id"]
    claimed = await step_command(http, lead, licence, "claim")
    assert claimed["state"] == "claimed" and claimed["window_no"] == 1
    done = await step_command(
        http, lead, licence, "complete", {"note": "准予设立登记", "issued": ["营业执照"]}
    )
    assert done["state"] == "done"

    steps = await steps_of(http, lead, case_id)
    for code in ("code", "seal", "social", "tax"):
        assert steps[code]["state"] == "ready", code
    assert steps["code"]["due_at"] == "2026-12-07T14:00:00+08:00"  # 2 h from 11:00 over lunch
    assert steps["seal"]["due_at"] == "2026-12-07T16:00:00+08:00"
    # each department's inbox shows its own step, with the case number and its clock
    listed = await inbox(http, tokens["seal"])
    assert [(s["code"], s["case_no"], s["state"]) for s in listed] == [
        ("seal", case["case_no"], "ready")
    ]
    assert [s["code"] for s in await inbox(http, tokens["tax"])] == ["tax"]
    # a leader sees their department's, supervision the hall's
    leader = bearer((await login(http, "leader.amr"))["token"])
    resp = await http.get("/api/halls/rizhao/inbox", headers=leader)
    assert sorted(s["code"] for s in (await resp.json())["steps"]) == ["code"]
    supervisor = bearer((await login(http, "supervisor1"))["token"])
    resp = await http.get("/api/halls/rizhao/inbox", headers=supervisor)
    assert sorted(s["code"] for s in (await resp.json())["steps"]) == [
        "code",
        "seal",
        "social",
        "tax",
    ]
    # the ready steps reached their departments' rooms as events
    ready = await db.fetch(
        "select payload->>'department' as d, payload->>'code' as c from event "
        "where type = 'joint_step.ready' and (payload->>'case_id')::bigint = $1",
        case_id,
    )
    assert sorted((r["d"], r["c"]) for r in ready) == [
        ("amr", "code"),
        ("amr", "licence"),
        ("hrss", "social"),
        ("psb", "seal"),
        ("tax", "tax"),
    ]

    clock.set(at("2026-12-07 14:00"))
    for code in ("code", "seal", "social", "tax"):
        assert await pickup_sms(db, case_id) == [], code  # nothing before the last step
        await step_command(http, tokens[code], steps[code]["step_id"], "claim")
        await step_command(http, tokens[code], steps[code]["step_id"], "complete", {"note": "办结"})

    sms = await pickup_sms(db, case_id)
    assert len(sms) == 1 and "1 号窗口" in sms[0] and "营业执照" in sms[0] and "公章" in sms[0]
    parent = await db.fetchrow(
        "select state, clock_status, visits from service_case where id = $1", case_id
    )
    assert dict(parent) == {"state": "completed", "clock_status": "stopped", "visits": 1}
    assert all(s["state"] == "done" for s in (await steps_of(http, lead, case_id)).values())
    assert await inbox(http, tokens["seal"]) == []

    # picked up the next day at window 1: two visits in all (submit and pick up)
    clock.set(at("2026-12-08 09:30"))
    delivered = await command(http, lead, case_id, "deliver")
    assert delivered["state"] == "delivered" and delivered["visits"] == 2


async def _to_parallel_steps(live, http, db) -> tuple[int, dict[str, dict]]:
    clock = use_clock(live, at("2026-12-07 10:00"))
    lead = await clerk_at_window(db, 1)
    case = await accept(http, lead, item="amr-001", workflow="company-setup", applicant=APPLICANT)
    steps = await steps_of(http, lead, case["case_id"])
    clock.set(at("2026-12-07 10:30"))
    await step_command(http, lead, steps["licence"]["step_id"], "claim")
    await step_command(http, lead, steps["licence"]["step_id"], "complete", {"note": "准予"})
    return case["case_id"], await steps_of(http, lead, case["case_id"])


async def test_two_clerks_claiming_at_once_exactly_one_wins(live, http, db):
    case_id, steps = await _to_parallel_steps(live, http, db)
    seal = steps["seal"]["step_id"]
    a, b = await clerk_at_window(db, 30), await clerk_at_window(db, 31)

    async def claim(token: str):
        resp = await http.post(f"/api/joint-steps/{seal}/claim", headers=bearer(token))
        return resp.status, await resp.json()

    results = await asyncio.gather(claim(a), claim(b))
    assert sorted(status for status, _ in results) == [200, 409]
    loser = next(body for status, body in results if status == 409)
    assert loser["error"]["code"] == "step_claimed"
    winner = a if results[0][0] == 200 else b
    other = b if winner == a else a
    claimed = await db.fetch(
        "select 1 from event where type = 'joint_step.claimed' and (payload->>'step_id')::bigint = $1",
        seal,
    )
    assert len(claimed) == 1

    # the one who lost cannot complete it; a clerk of another department cannot touch it
    refused = await step_command(http, other, seal, "complete", {"note": "x"}, status=409)
    assert refused["error"]["code"] == "not_claimer"
    hrss = await clerk_at_window(db, 42)
    for verb in ("claim", "complete"):
        resp = await http.post(
            f"/api/joint-steps/{seal}/{verb}", json={"note": ""}, headers=bearer(hrss)
        )
        assert resp.status == 403 and (await resp.json())["error"]["code"] == "other_department"
    # claimed again by the winner: refused, still worked once
    again = await step_command(http, winner, seal, "claim", status=409)
    assert again["error"]["code"] == "step_claimed"
    await step_command(http, winner, seal, "complete", {"note": "已刻制", "issued": ["公章"]})
    row = await db.fetchrow("select state, result from joint_step where id = $1", seal)
    assert row["state"] == "done"
    assert row["result"] == {"note": "已刻制", "issued": ["公章"]}
    done = await db.fetchval(
        "select count(*) from event where type = 'joint_step.done' "
        "and (payload->>'step_id')::bigint = $1",
        seal,
    )
    assert done == 1
    assert await pickup_sms(db, case_id) == []  # three steps still open


async def test_intake_refusals(live, http, db):
    use_clock(live, at("2026-12-07 10:00"))
    psb = await clerk_at_window(db, 30)
    resp = await http.post(
        "/api/halls/rizhao/cases",
        json={"item": "psb-001", "workflow": "company-setup", "applicant": APPLICANT},
        headers=bearer(psb),
    )
    assert resp.status == 409 and (await resp.json())["error"]["code"] == "workflow_lead_department"
    lead = await clerk_at_window(db, 1)
    resp = await http.post(
        "/api/halls/rizhao/cases",
        json={"item": "amr-001", "workflow": "no-such-flow", "applicant": APPLICANT},
        headers=bearer(lead),
    )
    assert resp.status == 404 and (await resp.json())["error"]["code"] == "unknown_workflow"

    # a city definition with a step in a department the county hall does not have
    d = copy.deepcopy(COMPANY_SETUP)
    d["code"] = "company-water"
    d["stages"][0]["steps"][1]["department"] = "water"
    await db.execute(
        "insert into workflow_definition (hall_id, code, version, kind, name, definition) "
        "select id, 'company-water', 1, 'bundle', '水利联办', $1 from hall where code = 'rizhao'",
        d,
    )
    county = await clerk_at_window(db, 1, hall="juxian")
    before = await db.fetchval("select count(*) from service_case")
    resp = await http.post(
        "/api/halls/juxian/cases",
        json={"item": "amr-001", "workflow": "company-water", "applicant": APPLICANT},
        headers=bearer(county),
    )
    body = await resp.json()
    assert resp.status == 409 and body["error"]["code"] == "workflow_department_missing", body
    assert await db.fetchval("select count(*) from service_case") == before
    # the county hall runs the city's company-setup on its own departments
    resp = await http.post(
        "/api/halls/juxian/cases",
        json={"item": "amr-001", "workflow": "company-setup", "applicant": APPLICANT},
        headers=bearer(county),
    )
    body = await resp.json()
    assert resp.status == 201, body
    depts = await db.fetch(
        "select d.hall_id = c.hall_id as same from joint_step s join department d "
        "on d.id = s.department_id join service_case c on c.id = s.case_id where c.id = $1",
        body["case_id"],
    )
    assert len(depts) == 5 and all(r["same"] for r in depts)


async def step_alarms(db, step_id: int) -> list[asyncpg.Record]:
    return await db.fetch(
        "select a.kind, a.level, d.code as department from alarm a "
        "join department d on d.id = a.department_id where a.subject = $1",
        f"joint_step:{step_id}",
    )


async def test_a_step_past_its_due_instant_raises_one_step_overrun_alarm(live, http, db):
    _, steps = await _to_parallel_steps(live, http, db)
    seal = steps["seal"]["step_id"]
    assert steps["seal"]["due_at"] == "2026-12-07T15:30:00+08:00"  # 4 h from 10:30
    await run_overrun(live, db, "2026-12-07 15:29")
    assert await step_alarms(db, seal) == []
    await run_overrun(live, db, "2026-12-07 15:30")
    await run_overrun(live, db, "2026-12-07 15:31")
    got = await step_alarms(db, seal)
    assert [(a["kind"], a["department"]) for a in got] == [("step_overrun", "psb")]
    # 抄告: still the department's work, not consented
    assert await db.fetchval("select state from joint_step where id = $1", seal) == "ready"
    assert len(await step_alarms(db, steps["code"]["step_id"])) == 1  # amr's, due 12:30


async def test_a_silent_joint_review_step_is_recorded_consented(live, http, db):
    review = copy.deepcopy(COMPANY_SETUP)
    review["code"] = "company-review"
    review["stages"][0]["steps"][4]["mode"] = "joint_review"  # tax: 联审
    await db.execute(
        "insert into workflow_definition (hall_id, code, version, kind, name, definition) "
        "select id, 'company-review', 1, 'bundle', '联审联办', $1 from hall where code = 'rizhao'",
        review,
    )
    clock = use_clock(live, at("2026-12-07 10:00"))
    lead = await clerk_at_window(db, 1)
    case = await accept(http, lead, item="amr-001", workflow="company-review", applicant=APPLICANT)
    case_id = case["case_id"]
    steps = await steps_of(http, lead, case_id)
    clock.set(at("2026-12-07 10:30"))
    await step_command(http, lead, steps["licence"]["step_id"], "claim")
    await step_command(http, lead, steps["licence"]["step_id"], "complete", {"note": "准予"})
    steps = await steps_of(http, lead, case_id)
    clock.set(at("2026-12-07 11:00"))
    for code in ("code", "seal", "social"):
        token = await clerk_at_window(db, WINDOW_OF[code])
        await step_command(http, token, steps[code]["step_id"], "claim")
        await step_command(http, token, steps[code]["step_id"], "complete", {"note": "办结"})
    assert await pickup_sms(db, case_id) == []
    tax = steps["tax"]["step_id"]
    await run_overrun(live, db, "2026-12-07 15:29")
    assert await db.fetchval("select state from joint_step where id = $1", tax) == "ready"

    await run_overrun(live, db, "2026-12-07 15:30")
    row = await db.fetchrow("select state, result from joint_step where id = $1", tax)
    assert row["state"] == "consented" and row["result"]["consented"] is True
    consented = await db.fetch(
        "select payload from event where type = 'joint_step.consented' "
        "and (payload->>'step_id')::bigint = $1",
        tax,
    )
    assert [e["payload"]["department"] for e in consented] == ["tax"]
    assert [(a["kind"], a["department"]) for a in await step_alarms(db, tax)] == [
        ("step_overrun", "tax")
    ]
    # the last step settled: the parent completes and the applicant is texted once
    assert await db.fetchval("select state from service_case where id = $1", case_id) == (
        "completed"
    )
    await run_overrun(live, db, "2026-12-07 16:00")
    assert len(await pickup_sms(db, case_id)) == 1
    assert len(await step_alarms(db, tax)) == 1


async def test_the_last_two_steps_done_at_once_complete_the_parent_once(live, http, db):
    case_id, steps = await _to_parallel_steps(live, http, db)
    tokens = {code: await clerk_at_window(db, WINDOW_OF[code]) for code in WINDOW_OF}
    for code in ("code", "seal", "social", "tax"):
        await step_command(http, tokens[code], steps[code]["step_id"], "claim")
    for code in ("code", "seal"):
        await step_command(http, tokens[code], steps[code]["step_id"], "complete", {"note": "好"})

    async def complete(code: str) -> int:
        resp = await http.post(
            f"/api/joint-steps/{steps[code]['step_id']}/complete",
            json={"note": "办结"},
            headers=bearer(tokens[code]),
        )
        return resp.status

    assert await asyncio.gather(complete("social"), complete("tax")) == [200, 200]
    assert len(await pickup_sms(db, case_id)) == 1
    moves = await db.fetch(
        "select action from case_history where case_id = $1 order by id", case_id
    )
    # the first claim started it; the last two steps approved and completed it, once
    assert [m["action"] for m in moves] == [
        "case.accept",
        "case.start",
        "case.decide:approve",
        "case.complete",
    ]
    assert await db.fetchval("select state from service_case where id = $1", case_id) == (
        "completed"
    )


async def test_a_ready_step_reaches_its_departments_room_live(live, http, db):
    """The 公安 terminal following its department's room gets the seal step within 1 s of the
    licence being done, and none of the other departments' steps."""
    clock = use_clock(live, at("2026-12-07 10:00"))
    lead = await clerk_at_window(db, 1)
    case = await accept(http, lead, item="amr-001", workflow="company-setup", applicant=APPLICANT)
    steps = await steps_of(http, lead, case["case_id"])
    psb = (await login(http, "clerk030"))["token"]
    sio = await SioClient().connect(live.url, auth={"token": psb, "rooms": ["department:psb"]})
    try:
        await sio.until_live()
        clock.set(at("2026-12-07 10:30"))
        await step_command(http, lead, steps["licence"]["step_id"], "claim")
        await step_command(http, lead, steps["licence"]["step_id"], "complete", {"note": "准予"})
        (frame,) = await sio.events(1, timeout=1.0)
        assert frame["type"] == "joint_step.ready"
        assert (frame["data"]["code"], frame["data"]["department"]) == ("seal", "psb")
        assert frame["data"]["case_no"] == case["case_no"]
        assert [f for f in await sio.quiet(0.5) if f.get("type", "").startswith("joint")] == []
    finally:
        await sio.close()


async def test_a_leaders_sign_off_does_not_approve_a_joint_case_with_a_step_open(live, http, db):
    """The parent of a joint case is approved by its steps: neither the clerk's decision nor a
    leader's sign-off approves it while a step is still open."""
    use_clock(live, at("2026-12-07 10:00"))
    lead = await clerk_at_window(db, 1)
    resp = await http.post(
        "/api/halls/rizhao/cases",
        json={"item": "amr-012", "workflow": "company-setup", "applicant": APPLICANT},
        headers=bearer(lead),
    )
    case = await resp.json()
    assert resp.status in (200, 201), case
    await command(http, lead, case["case_id"], "start")
    await command(http, lead, case["case_id"], "signoff-request", {"note": "请签批"})
    leader = (await login(http, "leader.amr"))["token"]
    resp = await http.post(
        f"/api/cases/{case['case_id']}/signoff",
        json={"decision": "approve"},
        headers=bearer(leader),
    )
    body = await resp.json()
    assert resp.status == 409 and body["error"]["code"] == "steps_open", body
    assert "设立登记（一审制）" in body["error"]["message"]
    state = await db.fetchval("select state from service_case where id = $1", case["case_id"])
    assert state == "awaiting_signoff"
