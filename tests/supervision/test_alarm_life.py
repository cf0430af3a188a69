"""An alarm's life over HTTP (server/domain/alarm_life.py): every transition of its table and
every refusal with its code, the appeal with each decision and its log, the county rule, and
the timer job alarm.answer_overdue raising one new alarm at its second on a controllable clock."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from typing import Any

from server.catalogue import CATALOGUE, supervision_commands
from server.catalogue.spine import TimerContext
from server.domain import alarm_life
from server.keys import STORE
from tests.cases.helpers import PROMISED, accept, at, serving_ticket, use_clock
from tests.conftest import login
from tests.queue_helpers import bearer, clerk_at_window

FIRE = CATALOGUE.timers["alarm.fire_case"]
OVERDUE = CATALOGUE.timers["alarm.answer_overdue"]
CLERK_PHONE = "13911112222"


async def a_case_alarm(live, http, db) -> int:
    """A promised case accepted at rizhao window 1 on Monday 10:00, its 预警 fired on Tuesday
    17:00: the alarm's id (amr, window 1, clerk001 handling it)."""
    use_clock(live, at("2026-12-07 10:00"))
    await db.execute("update staff set phone = $1 where username = 'clerk001'", CLERK_PHONE)
    token, ticket, _ = await serving_ticket(http, db)
    case = await accept(http, token, ticket_id=ticket, item=PROMISED)
    hall = await db.fetchrow("select * from hall where code = 'rizhao'")
    events = await FIRE.run(TimerContext(live.app[STORE]), hall, at("2026-12-08 17:00"))
    assert [e.payload["level"] for e in events] == ["warning"]
    assert events[0].payload["case_id"] == case["case_id"]
    return int(events[0].payload["alarm_id"])


async def tokens(http, *names: str) -> dict[str, str]:
    return {n: (await login(http, n))["token"] for n in names}


async def post(
    http, token: str, alarm_id: int, verb: str, body: Any = None, status: int = 200
) -> dict:
    resp = await http.post(f"/api/alarms/{alarm_id}/{verb}", json=body, headers=bearer(token))
    data = await resp.json()
    assert resp.status == status, (verb, resp.status, data)
    return data


async def refused(http, token: str, alarm_id: int, verb: str, body: Any, status: int, code: str):
    data = await post(http, token, alarm_id, verb, body, status)
    assert data["error"]["code"] == code, data
    return data["error"]


async def timeline(db, alarm_id: int) -> list[tuple[str, str, str]]:
    rows = await db.fetch(
        "select action, note, detail from alarm_action where alarm_id = $1 order by id", alarm_id
    )
    return [(r["action"], r["note"], r["detail"].get("to", "")) for r in rows]


async def county_supervisor(db, hall: str = "juxian") -> str:
    """The demo has no county supervisor: one for `hall`, with a session (bearer token)."""
    hall_id = await db.fetchval("select id from hall where code = $1", hall)
    staff_id = await db.fetchval(
        "insert into staff (hall_id, username, display_name, role, password_hash) "
        "values ($1, $2, '县监察员', 'supervisor', 'x') returning id",
        hall_id,
        f"{hall}.supervisor",
    )
    token = secrets.token_urlsafe(24)
    await db.execute(
        "insert into auth_session (token_hash, staff_id, expires_at) "
        "values ($1, $2, now() + interval '1 hour')",
        hashlib.sha256(token.encode()).digest(),
        staff_id,
    )
    return token


# ------------------------------------------------------------------------------ the table


def test_the_table_is_closed_and_final_states_lead_nowhere():
    for name, edges in alarm_life.TRANSITIONS.items():
        for src, dst in edges.items():
            assert src in (alarm_life.NEW, *alarm_life.OPEN), (name, src)
            assert dst in alarm_life.STATES, (name, dst)
    for state in alarm_life.FINAL:
        assert alarm_life.allowed_actions(state) == []
    # every lifecycle command is a row of the table, and every row's command is declared
    ops = {n.split(":")[0] for n in alarm_life.TRANSITIONS}
    assert ops == {op.name for op in supervision_commands.OPERATIONS}


# ------------------------------------------------------------------------------ the life


async def test_acknowledge_annotate_supervise_answer_close(live, http, db):
    aid = await a_case_alarm(live, http, db)
    t = await tokens(http, "supervisor1", "leader.amr", "leader.psb", "clerk001", "admin")
    clock = use_clock(live, at("2026-12-09 09:00"))

    ack = await post(http, t["supervisor1"], aid, "acknowledge", {})
    assert (ack["state"], ack["acknowledged"], ack["action"]) == (
        "issued",
        True,
        "alarm.acknowledge",
    )
    assert "alarm.supervise" in ack["allowed"] and len(ack["seq"]) == 1
    ev = await db.fetchrow(
        "select type, payload, window_id from event where seq = $1 and "
        "hall_id = (select hall_id from alarm where id = $2)",
        ack["seq"][0],
        aid,
    )
    assert ev["type"] == "alarm.changed"
    assert ev["window_id"] == await db.fetchval("select window_id from alarm where id = $1", aid)
    assert ev["payload"]["department"] == "amr" and ev["payload"]["window_no"] == 1
    assert ev["payload"]["by"].startswith("监察员 ")
    err = await refused(http, t["supervisor1"], aid, "acknowledge", {}, 409, "already_acknowledged")
    assert "确认" in err["message"]

    await refused(http, t["supervisor1"], aid, "annotate", {"note": "  "}, 400, "reason_required")
    await refused(http, t["supervisor1"], aid, "annotate", {"note": ""}, 400, "invalid_field")
    await post(http, t["supervisor1"], aid, "annotate", {"note": "已电话联系窗口"})

    # who may not: a clerk, the hall admin (wrong role), another department's leader
    for who in ("clerk001", "admin", "leader.amr"):
        await refused(http, t[who], aid, "supervise", {"note": "x"}, 403, "wrong_role")
    await refused(http, t["leader.psb"], aid, "answer", {"answer": "x"}, 403, "other_department")
    # answer before 督办: the table names the state it needs
    err = await refused(http, t["leader.amr"], aid, "answer", {"answer": "x"}, 409, "alarm_state")
    assert "督办中" in err["message"] and "已发出" in err["message"]

    clock.set(at("2026-12-10 10:00"))  # Thursday: 5 working days -> next Thursday's close
    sup = await post(http, t["supervisor1"], aid, "supervise", {"note": "请于期限内整改答复"})
    assert sup["state"] == "rectifying"
    assert sup["rectify_due_at"] == "2026-12-17T17:00:00+08:00"
    err = await refused(http, t["supervisor1"], aid, "supervise", {"note": "x"}, 409, "alarm_state")
    assert "已发出" in err["message"]

    ans = await post(http, t["leader.amr"], aid, "answer", {"answer": "已整改，当日办结"})
    assert ans["state"] == "rectifying"
    await refused(http, t["leader.amr"], aid, "answer", {"answer": "再答"}, 409, "already_answered")
    row = await db.fetchrow("select answer, answered_at from alarm where id = $1", aid)
    assert row["answer"] == "已整改，当日办结" and row["answered_at"] == at("2026-12-10 10:00")

    closed = await post(http, t["supervisor1"], aid, "close", {"note": "整改到位"})
    assert (closed["state"], closed["allowed"]) == ("closed", [])
    await refused(http, t["supervisor1"], aid, "annotate", {"note": "x"}, 409, "alarm_state")
    await refused(http, t["supervisor1"], aid, "cancel", {"reason": "x"}, 409, "alarm_state")
    await refused(http, t["supervisor1"], 999999, "close", {"note": ""}, 404, "unknown_alarm")

    assert await timeline(db, aid) == [
        ("alarm.acknowledge", "", "issued"),
        ("alarm.annotate", "已电话联系窗口", "issued"),
        ("alarm.supervise", "请于期限内整改答复", "rectifying"),
        ("alarm.answer", "已整改，当日办结", "rectifying"),
        ("alarm.close", "整改到位", "closed"),
    ]
    audit = await db.fetch(
        "select action, outcome, detail->>'code' as code from audit where action like 'alarm.%' "
        "and action <> 'alarm.fire_case' order by id"
    )
    got = [(a["action"], a["outcome"]) for a in audit]
    assert got.count(("alarm.acknowledge", "ok")) == 1
    assert ("alarm.supervise", "denied") in got and ("alarm.answer", "denied") in got
    changed = await db.fetchval("select count(*) from event where type = 'alarm.changed'")
    assert changed == 5  # one per step, none for a refusal


async def test_cancel_needs_a_reason(live, http, db):
    aid = await a_case_alarm(live, http, db)
    t = await tokens(http, "supervisor1")
    await refused(http, t["supervisor1"], aid, "cancel", {"reason": " "}, 400, "reason_required")
    data = await post(http, t["supervisor1"], aid, "cancel", {"reason": "误报：办件已于当日办结"})
    assert data["state"] == "cancelled"
    assert await timeline(db, aid) == [("alarm.cancel", "误报：办件已于当日办结", "cancelled")]


# ------------------------------------------------------------------------------ the appeal


async def test_appeal_sent_back_then_no_second_appeal(live, http, db):
    aid = await a_case_alarm(live, http, db)
    t = await tokens(http, "supervisor1", "leader.amr")
    await refused(
        http,
        t["supervisor1"],
        aid,
        "decide-appeal",
        {"decision": "send_back", "note": "x"},
        409,
        "no_appeal",
    )
    await refused(http, t["supervisor1"], aid, "appeal", {"reason": "x"}, 403, "wrong_role")
    ap = await post(http, t["leader.amr"], aid, "appeal", {"reason": "系统故障导致超时"})
    assert (ap["appeal_pending"], ap["state"]) == (True, "issued")
    await refused(http, t["leader.amr"], aid, "appeal", {"reason": "再诉"}, 409, "appeal_pending")
    await refused(http, t["supervisor1"], aid, "close", {"note": ""}, 409, "appeal_pending")
    # the city hall has no hall above it
    await refused(
        http,
        t["supervisor1"],
        aid,
        "decide-appeal",
        {"decision": "escalate", "note": "报市"},
        409,
        "cannot_escalate",
    )
    back = await post(
        http,
        t["supervisor1"],
        aid,
        "decide-appeal",
        {"decision": "send_back", "note": "系统日志无故障记录"},
    )
    assert (back["appeal_pending"], back["state"]) == (False, "issued")
    await refused(http, t["leader.amr"], aid, "appeal", {"reason": "再诉"}, 409, "appeal_decided")
    row = await db.fetchrow("select appeal, appealed_at, detail from alarm where id = $1", aid)
    assert row["appeal"] == "系统故障导致超时" and row["appealed_at"] is None
    assert row["detail"]["appeal_decision"] == "send_back"
    assert await timeline(db, aid) == [
        ("alarm.appeal", "系统故障导致超时", "issued"),
        ("alarm.decide_appeal:send_back", "驳回申诉：系统日志无故障记录", "issued"),
    ]
    decided = await db.fetchval(
        "select detail->>'decision' from alarm_action where alarm_id = $1 "
        "and action like 'alarm.decide_appeal:%'",
        aid,
    )
    assert decided == "send_back"
    await post(http, t["supervisor1"], aid, "close", {"note": "结案"})


async def test_appeal_upheld_withdraws_the_alarm(live, http, db):
    aid = await a_case_alarm(live, http, db)
    t = await tokens(http, "supervisor1", "leader.amr")
    use_clock(live, at("2026-12-09 09:00"))
    await post(http, t["supervisor1"], aid, "supervise", {"note": "请答复"})
    await post(http, t["leader.amr"], aid, "appeal", {"reason": "申请人要求暂缓"})
    out = await post(
        http, t["supervisor1"], aid, "decide-appeal", {"decision": "withdraw", "note": "理由成立"}
    )
    assert (out["state"], out["appeal_pending"], out["allowed"]) == ("withdrawn", False, [])
    await refused(http, t["leader.amr"], aid, "answer", {"answer": "x"}, 409, "alarm_state")
    assert [a for a, _, _ in await timeline(db, aid)] == [
        "alarm.supervise",
        "alarm.appeal",
        "alarm.decide_appeal:withdraw",
    ]
    # a withdrawn 督办 is not overdue: nothing raised past its answer instant
    hall = await db.fetchrow("select * from hall where code = 'rizhao'")
    assert await OVERDUE.run(TimerContext(live.app[STORE]), hall, at("2027-01-30 10:00")) == []


# ------------------------------------------------------------------------------ the county rule


async def test_the_county_cannot_withdraw_or_cancel_what_the_city_raised(live, http, db):
    use_clock(live, at("2026-12-07 10:00"))
    t = await tokens(http, "supervisor1", "juxian.leader.amr", "clerk001")
    county = await county_supervisor(db)
    await clerk_at_window(db, 1, hall="juxian")
    rizhao = await db.fetchval("select id from hall where code = 'rizhao'")
    juxian = await db.fetchval("select id from hall where code = 'juxian'")

    async def raise_on(token: str, hall: str, body: dict, status: int = 201) -> dict:
        resp = await http.post(f"/api/halls/{hall}/alarms", json=body, headers=bearer(token))
        data = await resp.json()
        assert resp.status == status, data
        return data

    body = {"level": "yellow", "note": "窗口人员脱岗", "window_no": 1}
    by_city = await raise_on(t["supervisor1"], "juxian", body)
    assert (by_city["state"], by_city["raised_by_hall"], by_city["kind"]) == (
        "issued",
        rizhao,
        "manual",
    )
    row = await db.fetchrow(
        "select hall_id, raised_by_hall, subject from alarm where id = $1", by_city["alarm_id"]
    )
    assert (row["hall_id"], row["raised_by_hall"]) == (juxian, rizhao)
    issued = await db.fetchval(
        "select count(*) from event where hall_id = $1 and type = 'alarm.issued'", juxian
    )
    assert issued == 1
    # who may not raise: a clerk; a county supervisor on the city
    assert (await raise_on(t["clerk001"], "rizhao", body, 403))["error"]["code"] == "wrong_role"
    assert (await raise_on(county, "rizhao", body, 403))["error"]["code"] == "other_hall"
    missing = await raise_on(t["supervisor1"], "juxian", {"level": "red", "note": "x"}, 400)
    assert missing["error"]["code"] == "subject_required"
    by_county = await raise_on(county, "juxian", {**body, "level": "warning"})
    assert by_county["raised_by_hall"] == juxian

    aid = by_city["alarm_id"]
    # the county supervisor handles the city's alarm, but cannot cancel or withdraw it
    await post(http, county, aid, "acknowledge", {})
    mark = await db.fetchval("select max(id) from audit")
    await refused(http, county, aid, "cancel", {"reason": "误报"}, 403, "alarm_raised_by_city")
    denied = await db.fetch(
        "select action, outcome, detail->>'code' as code from audit where id > $1", mark
    )
    assert [tuple(d) for d in denied] == [("alarm.cancel", "denied", "alarm_raised_by_city")]
    await post(http, t["juxian.leader.amr"], aid, "appeal", {"reason": "当时在后台取件"})
    await refused(
        http,
        county,
        aid,
        "decide-appeal",
        {"decision": "withdraw", "note": "同意"},
        403,
        "alarm_raised_by_city",
    )
    assert await db.fetchval("select state from alarm where id = $1", aid) == "issued"
    # the county refers it to the city: still pending, now the city's to decide
    esc = await post(
        http, county, aid, "decide-appeal", {"decision": "escalate", "note": "请市中心决定"}
    )
    assert (esc["state"], esc["appeal_pending"]) == ("issued", True)
    detail = await db.fetchval("select detail from alarm where id = $1", aid)
    assert detail["escalated_to"] == rizhao
    await refused(
        http,
        county,
        aid,
        "decide-appeal",
        {"decision": "send_back", "note": "驳回"},
        403,
        "appeal_escalated",
    )
    # the city supervisor sees it pending on the county's stream, and withdraws it
    resp = await http.get("/api/halls/juxian/events?since=0", headers=bearer(t["supervisor1"]))
    changed = [e for e in (await resp.json())["events"] if e["type"] == "alarm.changed"]
    assert [e["data"]["action"] for e in changed] == [
        "alarm.acknowledge",
        "alarm.appeal",
        "alarm.decide_appeal:escalate",
    ]
    assert changed[-1]["data"]["appeal_pending"] is True
    out = await post(
        http, t["supervisor1"], aid, "decide-appeal", {"decision": "withdraw", "note": "理由成立"}
    )
    assert out["state"] == "withdrawn"

    # what the county raised itself, it may cancel; the city may cancel what it raised
    assert (await post(http, county, by_county["alarm_id"], "cancel", {"reason": "误报"}))[
        "state"
    ] == "cancelled"
    again = await raise_on(t["supervisor1"], "juxian", {**body, "level": "red"})
    assert (await post(http, t["supervisor1"], again["alarm_id"], "cancel", {"reason": "误报"}))[
        "state"
    ] == "cancelled"


async def test_a_city_supervisor_raises_on_a_county_case(live, http, db):
    use_clock(live, at("2026-12-07 10:00"))
    county_clerk = await clerk_at_window(db, 1, hall="juxian")
    resp = await http.post(
        "/api/halls/juxian/cases",
        json={"item": PROMISED, "applicant": {"name": "张小三"}},
        headers=bearer(county_clerk),
    )
    case = await resp.json()
    assert resp.status == 201, case
    t = await tokens(http, "supervisor1")
    resp = await http.post(
        "/api/halls/juxian/alarms",
        json={"level": "red", "note": "群众投诉办理拖延", "case_id": case["case_id"]},
        headers=bearer(t["supervisor1"]),
    )
    data = await resp.json()
    assert resp.status == 201, data
    assert (data["case_id"], data["department"], data["window_no"]) == (case["case_id"], "amr", 1)
    assert data["level_name"] == "红牌" and "群众投诉办理拖延" in data["summary"]
    # a case of another hall is not found there
    resp = await http.post(
        "/api/halls/rizhao/alarms",
        json={"level": "red", "note": "x", "case_id": case["case_id"]},
        headers=bearer(t["supervisor1"]),
    )
    assert (resp.status, (await resp.json())["error"]["code"]) == (404, "unknown_case")


# ------------------------------------------------------------------------------ overdue answer


async def test_an_unanswered_supervision_raises_one_new_alarm_at_its_second(live, http, db):
    aid = await a_case_alarm(live, http, db)
    t = await tokens(http, "supervisor1", "leader.amr")
    use_clock(live, at("2026-12-10 10:00"))
    sup = await post(http, t["supervisor1"], aid, "supervise", {"note": "请答复"})
    assert sup["rectify_due_at"] == "2026-12-17T17:00:00+08:00"
    hall = await db.fetchrow("select * from hall where code = 'rizhao'")
    ctx = TimerContext(live.app[STORE])

    assert await OVERDUE.run(ctx, hall, at("2026-12-17 16:59:59")) == []  # never early
    events = await OVERDUE.run(ctx, hall, at("2026-12-17 17:00:00"))
    assert [e.type for e in events] == ["alarm.issued"]
    p = events[0].payload
    assert (p["kind"], p["level"], p["subject"]) == ("rectification_overdue", "red", f"alarm:{aid}")
    original = await db.fetchrow("select * from alarm where id = $1", aid)
    new = await db.fetchrow("select * from alarm where id = $1", p["alarm_id"])
    assert (new["department_id"], new["window_id"], new["staff_id"], new["case_id"]) == (
        original["department_id"],
        original["window_id"],
        original["staff_id"],
        original["case_id"],
    )
    assert events[0].window_id == original["window_id"] and p["department"] == "amr"
    assert new["detail"]["summary"] == p["summary"] and "督办逾期未答复" in p["summary"]
    # once: again, and two owners at once, raise nothing
    assert await OVERDUE.run(ctx, hall, at("2026-12-17 17:00:01")) == []
    runs = await asyncio.gather(*(OVERDUE.run(ctx, hall, at("2026-12-18 09:00")) for _ in range(2)))
    assert runs == [[], []]
    assert await db.fetchval("select count(*) from alarm where kind = 'rectification_overdue'") == 1
    # the handling clerk: one SMS for the first alarm, one for the overdue one
    sms = await db.fetch(
        "select dedupe_key, recipient from notification where dedupe_key like 'alarm:%' order by id"
    )
    assert [(s["dedupe_key"], s["recipient"]) for s in sms] == [
        (f"alarm:{aid}", CLERK_PHONE),
        (f"alarm:{p['alarm_id']}", CLERK_PHONE),
    ]
    assert ("alarm.answer_overdue", "", "") in await timeline(db, aid)
    # a late answer is still taken, and raises nothing more
    use_clock(live, at("2026-12-18 10:00"))
    await post(http, t["leader.amr"], aid, "answer", {"answer": "迟复：已整改"})
    assert await OVERDUE.run(ctx, hall, at("2026-12-30 10:00")) == []


async def test_an_answer_in_time_raises_nothing(live, http, db):
    aid = await a_case_alarm(live, http, db)
    t = await tokens(http, "supervisor1", "leader.amr")
    use_clock(live, at("2026-12-10 10:00"))
    await post(http, t["supervisor1"], aid, "supervise", {"note": "请答复"})
    use_clock(live, at("2026-12-17 16:59"))
    await post(http, t["leader.amr"], aid, "answer", {"answer": "已整改"})
    hall = await db.fetchrow("select * from hall where code = 'rizhao'")
    assert await OVERDUE.run(TimerContext(live.app[STORE]), hall, at("2026-12-18 10:00")) == []
