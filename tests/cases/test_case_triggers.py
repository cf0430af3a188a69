"""Supervision's case triggers besides the deadline ladder (server/domain/alarms.py): a step
overrunning its own limit inside an on-time case, §32's supplement notice not issued in time, a
pause too long, each raised by the hall timers' job alarm.fire_case at its second and not a
second earlier, once (the job run twice); a refusal without an adequate reason and a fee off
the item's list, raised by their commands; and the rules command that publishes step limits.

amr-012 食品生产许可: 10 working days, with a leader's sign-off; accepted Monday 2026-12-07
10:00 it is due Monday 12-21 17:00 (the limit counts from Tuesday). Work periods 09:00-12:00
and 13:00-17:00: a working day is 7 working hours."""

from __future__ import annotations

from typing import Any

from server.catalogue import CATALOGUE
from server.catalogue.spine import TimerContext
from server.keys import STORE
from tests.cases.helpers import PROMISED, SIGNOFF, accept, at, command, serving_ticket, use_clock
from tests.conftest import login
from tests.queue_helpers import bearer

JOB = CATALOGUE.timers["alarm.fire_case"]
RULES = "/api/halls/rizhao/supervision/rules"


async def fire(live, db, when: str) -> list[tuple[str, str, str]]:
    """One run of the job at `when`: the (kind, level, subject) of the alarms it issued."""
    hall = await db.fetchrow("select * from hall where code = 'rizhao'")
    events = await JOB.run(TimerContext(live.app[STORE]), hall, at(when))
    return [(e.payload["kind"], e.payload["level"], e.payload["subject"]) for e in events]


async def fired(live, db, when: str, kind: str) -> list[tuple[str, str, str]]:
    """Runs the job twice at `when`; the alarms of `kind` raised, none the second time."""
    first = [a for a in await fire(live, db, when) if a[0] == kind]
    assert [a for a in await fire(live, db, when) if a[0] == kind] == []
    return first


async def alarms_of(db, case_id: int, kind: str) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "select level, subject, rule_version, staff_id,"
        " to_char(due_at at time zone 'Asia/Shanghai', 'MM-DD HH24:MI:SS') as due"
        " from alarm where case_id = $1 and kind = $2 order by id",
        case_id,
        kind,
    )
    return [dict(r) for r in rows]


async def publish(http, rules: dict[str, Any], status: int = 201) -> dict:
    supervisor = (await login(http, "supervisor1"))["token"]
    resp = await http.post(RULES, json={"rules": rules}, headers=bearer(supervisor))
    data = await resp.json()
    assert resp.status == status, data
    return data


async def test_a_step_overrun_inside_an_on_time_case_at_its_second_once(live, http, db):
    clock = use_clock(live, at("2026-12-07 10:00"))
    published = await publish(
        http, {"step_limits": {SIGNOFF: {"受理": 1, "in_progress": 3, "awaiting_signoff": 2}}}
    )
    assert published["version"] == 1
    assert published["step_limits"] == {
        SIGNOFF: {"accepted": 1, "in_progress": 3, "awaiting_signoff": 2}
    }
    token, ticket, _ = await serving_ticket(http, db, item=SIGNOFF)
    case = await accept(http, token, ticket_id=ticket, item=SIGNOFF)
    cid = case["case_id"]
    assert case["clock"]["deadline"] == "2026-12-21T17:00:00+08:00"
    nxt = await db.fetchrow(
        "select next_alarm_at, next_alarm_kind, next_alarm_level from service_case where id = $1",
        cid,
    )
    assert (nxt["next_alarm_kind"], nxt["next_alarm_level"]) == ("step_overrun", "yellow")
    assert nxt["next_alarm_at"] == at("2026-12-08 17:00")

    # 受理 may take one working day, counted from Tuesday (the acceptance day is day 0)
    assert await fired(live, db, "2026-12-08 16:59:59", "step_overrun") == []
    assert await fired(live, db, "2026-12-08 17:00:00", "step_overrun") == [
        ("step_overrun", "yellow", f"case:{cid}:step:accepted")
    ]
    # the case itself is on time: no deadline alarm
    assert await db.fetchval("select count(*) from alarm where case_id = $1", cid) == 1

    # started Wednesday 10:00 with 8 h used: 办理 may take 21 working hours, until Monday 10:00
    clock.set(at("2026-12-09 10:00"))
    await command(http, token, cid, "start")
    assert await fired(live, db, "2026-12-14 09:59:59", "step_overrun") == []
    assert await fired(live, db, "2026-12-14 10:00:00", "step_overrun") == [
        ("step_overrun", "yellow", f"case:{cid}:step:in_progress")
    ]
    got = await alarms_of(db, cid, "step_overrun")
    assert [(a["due"], a["rule_version"]) for a in got] == [
        ("12-08 17:00:00", 1),
        ("12-14 10:00:00", 1),
    ]
    assert all(a["staff_id"] is not None for a in got)  # the handling clerk gets it


async def test_a_step_left_in_time_does_not_alarm_and_a_holiday_moves_the_next(live, http, db):
    clock = use_clock(live, at("2026-12-07 10:00"))
    await publish(http, {"step_limits": {SIGNOFF: {"accepted": 1, "in_progress": 3}}})
    token, ticket, _ = await serving_ticket(http, db, item=SIGNOFF)
    cid = (await accept(http, token, ticket_id=ticket, item=SIGNOFF))["case_id"]
    clock.set(at("2026-12-08 16:00"))
    await command(http, token, cid, "start")  # 受理 left an hour before its limit
    assert await fired(live, db, "2026-12-08 17:00:00", "step_overrun") == []
    # 办理 from Tuesday 16:00 with 6 h used: 21 h more end Friday 16:00 ...
    assert await db.fetchval("select next_alarm_at from service_case where id = $1", cid) == at(
        "2026-12-11 16:00"
    )
    # ... until Thursday becomes a holiday: Monday 16:00
    admin = (await login(http, "admin"))["token"]
    resp = await http.put(
        "/api/halls/rizhao/calendar/2026-12-10",
        json={"is_working": False, "note": "临时闭厅"},
        headers=bearer(admin),
    )
    assert resp.status == 200
    assert await fired(live, db, "2026-12-11 16:00:00", "step_overrun") == []
    assert await fired(live, db, "2026-12-14 15:59:59", "step_overrun") == []
    assert await fired(live, db, "2026-12-14 16:00:00", "step_overrun") == [
        ("step_overrun", "yellow", f"case:{cid}:step:in_progress")
    ]


async def test_a_step_limit_past_the_deadline_is_the_deadlines_alarm(live, http, db):
    use_clock(live, at("2026-12-07 10:00"))
    # amr-001: 2 working days; 受理 may take both: its limit ends at the deadline, when the
    # case is no longer on time, so only the deadline's 黄牌 is raised then
    await publish(http, {"step_limits": {PROMISED: {"accepted": 2}}})
    token, ticket, _ = await serving_ticket(http, db)
    cid = (await accept(http, token, ticket_id=ticket, item=PROMISED))["case_id"]
    await fire(live, db, "2026-12-10 09:00")
    kinds = await db.fetch("select kind, level from alarm where case_id = $1 order by id", cid)
    assert [(r["kind"], r["level"]) for r in kinds] == [
        ("case_deadline", "warning"),
        ("case_deadline", "yellow"),
    ]


async def test_a_supplement_notice_not_issued_within_five_working_days(live, http, db):
    clock = use_clock(live, at("2026-12-07 10:00"))
    token, ticket, _ = await serving_ticket(http, db, item=SIGNOFF)
    missing = [{"position": 2, "status": "missing", "problem": "未带"}]
    late = (await accept(http, token, ticket_id=ticket, item=SIGNOFF, materials=missing))["case_id"]
    token2, ticket2, _ = await serving_ticket(http, db, window_no=2, item=SIGNOFF)
    on_time = (await accept(http, token2, ticket_id=ticket2, item=SIGNOFF, materials=missing))[
        "case_id"
    ]
    token3, ticket3, _ = await serving_ticket(http, db, window_no=3, item=SIGNOFF)
    complete = (await accept(http, token3, ticket_id=ticket3, item=SIGNOFF))["case_id"]
    # the second gets its notice on the fifth working day, and its materials back
    clock.set(at("2026-12-14 11:00"))
    await command(http, token2, on_time, "supplement", {"materials": missing})
    clock.set(at("2026-12-14 15:00"))
    await command(http, token2, on_time, "supplement/received", {})

    # five working days from Monday (day 0): the end of the next Monday
    assert await fired(live, db, "2026-12-14 16:59:59", "supplement_late") == []
    assert await fired(live, db, "2026-12-14 17:00:00", "supplement_late") == [
        ("supplement_late", "yellow", f"case:{late}:supplement")
    ]
    assert await fired(live, db, "2026-12-22 09:00", "supplement_late") == []
    for cid in (on_time, complete):
        assert await alarms_of(db, cid, "supplement_late") == []
    assert [a["rule_version"] for a in await alarms_of(db, late, "supplement_late")] == [0]


async def test_deferred_materials_by_commitment_are_no_supplement_case(live, http, db):
    use_clock(live, at("2026-12-07 10:00"))
    token, ticket, _ = await serving_ticket(http, db)
    # 容缺受理: position 6 (not a key material) deferred until Wednesday by commitment
    case = await accept(
        http,
        token,
        ticket_id=ticket,
        item=PROMISED,
        materials=[{"position": 6, "status": "missing"}],
        deficiency={"commitment_signed": True, "due": "2026-12-09"},
    )
    await fire(live, db, "2026-12-21 09:00")
    assert await alarms_of(db, case["case_id"], "supplement_late") == []


async def test_a_paused_case_does_not_alarm_on_its_deadline_and_a_long_pause_does(live, http, db):
    clock = use_clock(live, at("2026-12-07 10:00"))
    await publish(http, {"pause_max_days": {"escalation": 2}})
    token, ticket, _ = await serving_ticket(http, db)
    cid = (await accept(http, token, ticket_id=ticket, item=PROMISED))["case_id"]
    clock.set(at("2026-12-08 10:00"))
    await command(http, token, cid, "escalate", {"reason": "报市局审批"})
    # past the deadline (Wednesday 17:00) nothing of the deadline fires while paused
    assert await fire(live, db, "2026-12-09 17:00") == []
    # escalation may last 2 working days after its day: until Thursday 17:00
    assert await fired(live, db, "2026-12-10 16:59:59", "pause_overlong") == []
    assert await fired(live, db, "2026-12-10 17:00:00", "pause_overlong") == [
        ("pause_overlong", "yellow", f"case:{cid}:pause:1")
    ]
    assert await db.fetchval("select count(*) from alarm where case_id = $1", cid) == 1
    # resumed and paused again (a hearing has the built-in 20 days): a pause of its own
    clock.set(at("2026-12-11 09:00"))
    await command(http, token, cid, "resume", {})
    clock.set(at("2026-12-11 10:00"))
    await command(http, token, cid, "pause", {"kind": "hearing", "reason": "依申请举行听证"})
    nxt = await db.fetchrow(
        "select next_alarm_at, next_alarm_kind from service_case where id = $1", cid
    )
    assert nxt["next_alarm_kind"] == "pause_overlong"
    subject = await db.fetchval(
        "select $1::text || ':pause:' || count(*) from case_history"
        " where case_id = $2 and clock->>'op' = 'pause'",
        f"case:{cid}",
        cid,
    )
    assert subject == f"case:{cid}:pause:2"


async def test_a_refusal_without_an_adequate_reason(live, http, db):
    use_clock(live, at("2026-12-07 10:00"))
    token, ticket, _ = await serving_ticket(http, db)
    resp = await http.post(
        "/api/halls/rizhao/cases/not-accepted",
        json={
            "ticket_id": ticket,
            "applicant": {"name": "张小三"},
            "reason": "不属于受理范围",  # 7 characters
        },
        headers=bearer(token),
    )
    assert resp.status == 201, await resp.text()
    short = (await resp.json())["case_id"]
    got = await alarms_of(db, short, "refusal_without_reason")
    assert [(a["level"], a["subject"]) for a in got] == [("yellow", f"case:{short}:refusal")]

    # a permit refused with reasons but neither its legal basis nor the right to 复议/诉讼
    token2, ticket2, _ = await serving_ticket(http, db, window_no=2)
    vague = (await accept(http, token2, ticket_id=ticket2, item=PROMISED))["case_id"]
    await command(
        http,
        token2,
        vague,
        "decision",
        {"decision": "refuse", "reason": "申请人提交的住所使用证明与实际经营场所不一致"},
    )
    detail = await db.fetchval(
        "select detail from alarm where case_id = $1 and kind = 'refusal_without_reason'", vague
    )
    assert detail["lacks"] == ["no_legal_basis", "no_remedy"]

    # an adequate one raises nothing
    token3, ticket3, _ = await serving_ticket(http, db, window_no=3)
    fine = (await accept(http, token3, ticket_id=ticket3, item=PROMISED))["case_id"]
    await command(
        http,
        token3,
        fine,
        "decision",
        {
            "decision": "refuse",
            "reason": "依据《市场主体登记管理条例》第二十一条，住所使用证明与实际经营场所不一致；"
            "如不服，可依法申请行政复议或者提起行政诉讼",
        },
    )
    assert await alarms_of(db, fine, "refusal_without_reason") == []
    issued = await db.fetchval(
        "select count(*) from event where type = 'alarm.issued'"
        " and payload->>'kind' = 'refusal_without_reason'"
    )
    assert issued == 2


async def test_a_fee_off_the_list_raises_its_alarm_with_the_irregularity(live, http, db):
    use_clock(live, at("2026-12-07 10:00"))
    token, ticket, _ = await serving_ticket(http, db)
    cid = (await accept(http, token, ticket_id=ticket, item=PROMISED))["case_id"]
    body = {"fee_id": 1, "amount_cents": 4000, "receipt_no": "SF-1"}
    await command(http, token, cid, "fees", body, status=409)
    irregularity = await db.fetchval("select id from irregularity where case_id = $1", cid)
    got = await alarms_of(db, cid, "fee_irregular")
    assert [(a["level"], a["subject"]) for a in got] == [("yellow", f"irregularity:{irregularity}")]
    assert got[0]["staff_id"] is not None  # the clerk who tried
    payload = await db.fetchval(
        "select payload from event where type = 'alarm.issued'"
        " and payload->>'kind' = 'fee_irregular'"
    )
    assert payload["case_id"] == cid and "40.00 元" in payload["summary"]
    # the SMS to the clerk who tried (a demo clerk has a phone), through the outbox
    sms = await db.fetchrow(
        "select n.recipient, n.body from notification n join alarm a"
        " on n.dedupe_key = 'alarm:' || a.id join staff s on s.id = a.staff_id"
        " where a.kind = 'fee_irregular' and n.recipient = s.phone"
    )
    assert sms is not None and "违规" not in sms["body"] and "已拒收" in sms["body"]


async def test_the_rules_command_refuses_step_limits_above_the_promised_limit(live, http, db):
    use_clock(live, at("2026-12-07 10:00"))
    refused = await publish(
        http, {"step_limits": {PROMISED: {"accepted": 2, "in_progress": 1}}}, status=400
    )
    assert refused["error"]["code"] == "step_limits_exceed"
    assert "企业设立登记" in refused["error"]["message"]
    bad_step = await publish(http, {"step_limits": {PROMISED: {"发证": 1}}}, status=400)
    assert bad_step["error"]["code"] == "invalid_rule"
    given_version = await publish(http, {"version": 7}, status=400)
    assert given_version["error"]["field"] == "version"
    assert await db.fetchval("select count(*) from supervision_rules") == 0

    supervisor = (await login(http, "supervisor1"))["token"]
    resp = await http.get(RULES, headers=bearer(supervisor))
    assert (await resp.json())["version"] == 0  # the built-in defaults
    assert (await publish(http, {"answer_days": 3}))["version"] == 1
    assert (await publish(http, {"answer_days": 4}))["version"] == 2
    resp = await http.get(RULES, headers=bearer(supervisor))
    now = await resp.json()
    name = await db.fetchval("select display_name from staff where username = 'supervisor1'")
    assert (now["version"], now["answer_days"], now["created_by"]) == (2, 4, name)
