"""Cases through the API: acceptance from the ticket served at the window, the life of a case
command by command, refusals by the transition table, sign-off by the leader on duty."""

from __future__ import annotations

import asyncpg
import pytest

from tests.cases.helpers import (
    IMMEDIATE,
    PROMISED,
    SIGNOFF,
    accept,
    at,
    command,
    serving_ticket,
    use_clock,
)
from tests.conftest import login
from tests.queue_helpers import bearer, clerk_at_window, kiosk_token, register


async def test_promised_case_from_ticket_to_delivery(live, http, db):
    clock = use_clock(live, at("2026-12-07 10:00"))
    token, ticket_id, _ = await serving_ticket(http, db)
    case = await accept(http, token, ticket_id=ticket_id, item=PROMISED)
    assert case["state"] == "accepted" and case["kind"] == "promised"
    assert case["case_no"].startswith("RIZHAO-20261207-")
    # 2 working days from Monday 10:00: Wednesday 17:00
    assert case["clock"]["deadline"] == "2026-12-09T17:00:00+08:00"
    assert len(case["query_code"]) == 10
    cid = case["case_id"]

    await command(http, token, cid, "start")
    clock.set(at("2026-12-08 11:00"))
    done = await command(http, token, cid, "decision", {"decision": "approve"})
    assert done["state"] == "approved"
    done = await command(http, token, cid, "complete")
    assert done["state"] == "completed" and done["clock"]["status"] == "stopped"
    # waiting for pick-up: listed at the department's windows, found by the receipt's number
    resp = await http.get("/api/halls/rizhao/windows/1/cases", headers=bearer(token))
    listed = await resp.json()
    assert [c["case_id"] for c in listed["ready_for_pickup"]] == [cid]
    assert cid not in [c["case_id"] for c in listed["cases"]]
    for code in (case["case_no"], case["query_code"].lower()):
        resp = await http.get(f"/api/halls/rizhao/cases/find?code={code}", headers=bearer(token))
        assert (await resp.json())["case_id"] == cid
    resp = await http.get("/api/halls/rizhao/cases/find?code=NOSUCHCASE", headers=bearer(token))
    assert resp.status == 404 and (await resp.json())["error"]["code"] == "unknown_case"
    clock.set(at("2026-12-09 09:30"))
    done = await command(http, token, cid, "deliver")
    assert done["state"] == "delivered" and done["visits"] == 2

    # the transition table refuses what may not follow
    err = await command(http, token, cid, "start", status=409)
    assert err["error"]["code"] == "case_state"

    resp = await http.get(f"/api/cases/{cid}", headers=bearer(token))
    detail = await resp.json()
    assert [h["action"] for h in detail["history"]] == [
        "case.accept",
        "case.start",
        "case.decide:approve",
        "case.complete",
        "case.deliver",
    ]
    # the serving clerk sees the applicant; the track view masks
    assert detail["applicant"]["name"] == "张小三"
    resp = await http.get(f"/api/track/{case['query_code']}")
    track = await resp.json()
    assert resp.status == 200, track
    assert track["applicant"] == "张*三" and track["state"] == "delivered"
    # every step is attributable: the clerk and the window, in the audit trail
    audited = await db.fetch(
        "select a.action, s.username, w.window_no from audit a join staff s on s.id = a.actor_id "
        "join service_window w on w.id = a.window_id where a.action like 'case.%' "
        "and a.outcome = 'ok' and (a.detail->>'case_id')::bigint = $1 order by a.id",
        cid,
    )
    assert [(r["action"], r["window_no"]) for r in audited] == [
        ("case.accept", 1),
        ("case.start", 1),
        ("case.decide", 1),
        ("case.complete", 1),
        ("case.deliver", 1),
    ]
    clerk = await db.fetchval(
        "select s.username from window_signin ws join staff s on s.id = ws.staff_id "
        "join service_window w on w.id = ws.window_id where w.window_no = 1"
    )
    assert {r["username"] for r in audited} == {clerk}


async def test_acceptance_from_a_scanned_registration(live, http, db):
    use_clock(live, at("2026-12-07 10:00"))
    kiosk = await kiosk_token(http)
    token = await clerk_at_window(db, 1)
    # the barcode of a registration whose ticket still waits: the case takes the registration's
    # item and phone, and no ticket (it is not the one served here)
    reg = await register(http, kiosk, PROMISED, phone="13900139000")
    case = await accept(http, token, reg_no=reg["reg_no"], applicant={"name": "李四"})
    row = await db.fetchrow(
        "select i.code, c.applicant_phone, c.registration_id, c.ticket_id, r.reg_no "
        "from service_case c join item i on i.id = c.item_id "
        "left join registration r on r.id = c.registration_id where c.id = $1",
        case["case_id"],
    )
    assert (row["code"], row["applicant_phone"], row["reg_no"], row["ticket_id"]) == (
        PROMISED,
        "13900139000",
        reg["reg_no"],
        None,
    )
    # scanned again, or its ticket served later: one registration is one case
    for body, field in (
        ({"reg_no": reg["reg_no"]}, "reg_no"),
        ({"ticket_id": reg["ticket"]["id"]}, "ticket_id"),
    ):
        if field == "ticket_id":
            for verb, extra in (("call", {"ticket_no": reg["ticket"]["ticket_no"]}), ("start", {})):
                resp = await http.post(
                    f"/api/halls/rizhao/windows/1/{verb}",
                    json={**extra, "reason": "按号办理"} if extra else None,
                    headers=bearer(token),
                )
                assert resp.status == 200, await resp.text()
        resp = await http.post(
            "/api/halls/rizhao/cases",
            json={**body, "applicant": {"name": "李四"}},
            headers=bearer(token),
        )
        err = (await resp.json())["error"]
        assert (resp.status, err["code"], err["field"]) == (409, "already_accepted", field)
        assert case["case_no"] in err["message"]
    assert await db.fetchval("select count(*) from service_case") == 1
    resp = await http.post("/api/halls/rizhao/windows/1/finish", headers=bearer(token))
    assert resp.status == 200, await resp.text()

    # a registration whose ticket is the one served here: the case is that ticket's too
    token, ticket_id, served = await serving_ticket(http, db)
    case = await accept(http, token, reg_no=served["reg_no"])
    assert (
        await db.fetchval("select ticket_id from service_case where id = $1", case["case_id"])
        == ticket_id
    )


async def test_urgent_and_escalated_cases(live, http, db):
    clock = use_clock(live, at("2026-12-07 10:00"))  # Monday
    token, ticket_id, _ = await serving_ticket(http, db)
    limits = await db.fetchrow(
        "select promised_limit, urgent_limit from item where code = $1 "
        "and hall_id = (select id from hall where code = 'rizhao')",
        PROMISED,
    )
    assert (limits["promised_limit"], limits["urgent_limit"]) == (2, 1)
    # 急办 (green channel): the item's shorter limit, one working day: Tuesday 17:00, not
    # Wednesday's
    case = await accept(http, token, ticket_id=ticket_id, item=PROMISED, urgent=True)
    assert case["kind"] == "urgent"
    assert (case["clock"]["limit"], case["clock"]["deadline"]) == (1, "2026-12-08T17:00:00+08:00")
    cid = case["case_id"]
    await command(http, token, cid, "start")
    # 报批: forwarded to a higher authority, the clock paused with the reason
    clock.set(at("2026-12-08 10:00"))
    err = await command(http, token, cid, "escalate", {"reason": " "}, status=400)
    assert err["error"]["code"] == "reason_required"
    sent = await command(http, token, cid, "escalate", {"reason": "报市局审批"})
    assert sent["kind"] == "escalated"
    assert sent["clock"]["status"] == "paused" and sent["clock"]["deadline"] is None
    clock.set(at("2026-12-10 10:00"))  # back two working days later
    back = await command(http, token, cid, "resume", {"note": "市局已批复"})
    # Tuesday's first working hour was used; what is left of the day runs from Thursday 10:00
    # to Thursday's close, and the days in 报批 cost the limit nothing
    assert back["clock"]["status"] == "running"
    assert back["clock"]["deadline"] == "2026-12-10T17:00:00+08:00"
    assert back["clock"]["paused_s"]["escalation"] > 0
    resp = await http.get(f"/api/cases/{cid}", headers=bearer(token))
    history = (await resp.json())["history"]
    escalated = next(h for h in history if h["action"] == "case.escalate")
    assert escalated["reason"] == "报市局审批"


async def test_signoff_by_the_leader_on_duty(live, http, db):
    use_clock(live, at("2026-12-07 10:00"))
    token, ticket_id, _ = await serving_ticket(http, db, item=SIGNOFF)
    case = await accept(http, token, ticket_id=ticket_id, item=SIGNOFF)
    cid = case["case_id"]
    await command(http, token, cid, "start")
    err = await command(http, token, cid, "decision", {"decision": "approve"}, status=409)
    assert err["error"]["code"] == "signoff_required"
    await command(http, token, cid, "signoff-request", {"note": "材料齐全，请签批"})

    leader = (await login(http, "leader.amr"))["token"]
    resp = await http.get("/api/halls/rizhao/signoffs", headers=bearer(leader))
    waiting = await resp.json()
    assert resp.status == 200, waiting
    assert [r["case"]["case_id"] for r in waiting["requests"]] == [cid]
    other = (await login(http, "leader.realty"))["token"]
    resp = await http.post(
        f"/api/cases/{cid}/signoff", json={"decision": "approve"}, headers=bearer(other)
    )
    assert resp.status == 403 and (await resp.json())["error"]["code"] == "other_department"
    done = await command(http, leader, cid, "signoff", {"decision": "approve", "comment": "同意"})
    assert done["state"] == "approved"

    # the signature is part of the case's history and cannot be changed: not by the leader
    # again, nor by anyone with the database's own role
    err = await command(
        http, leader, cid, "signoff", {"decision": "reject", "comment": "改"}, status=409
    )
    assert err["error"]["code"] == "case_state"
    signed = "select decision, comment, decided_by from signoff_request where case_id = $1"
    before = [dict(r) for r in await db.fetch(signed, cid)]
    history = "select action, actor_id, reason, at from case_history where case_id = $1 order by id"
    kept = [dict(r) for r in await db.fetch(history, cid)]
    assert before[0]["decision"] == "approved" and "case.signoff:approve" in [
        h["action"] for h in kept
    ]
    for sql in (
        "update signoff_request set decision = 'rejected' where case_id = $1",
        "update signoff_request set comment = '' where case_id = $1",
        "delete from signoff_request where case_id = $1",
        "update case_history set reason = '改' where case_id = $1",
        "delete from case_history where case_id = $1",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await db.execute(sql, cid)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await db.execute("truncate case_history cascade")
    assert [dict(r) for r in await db.fetch(signed, cid)] == before
    assert [dict(r) for r in await db.fetch(history, cid)] == kept


async def test_a_signoff_waiting_past_the_halls_limit_is_marked_as_waiting(live, http, db):
    """The leader's list says when a request has waited longer than the hall allows
    (hall.signoff_wait_minutes): not at the limit, one second past it."""
    clock = use_clock(live, at("2026-12-07 10:00"))
    await db.execute("update hall set signoff_wait_minutes = 7 where code = 'rizhao'")
    token, ticket_id, _ = await serving_ticket(http, db, item=SIGNOFF)
    case = await accept(http, token, ticket_id=ticket_id, item=SIGNOFF)
    await command(http, token, case["case_id"], "start")
    clock.set(at("2026-12-07 10:05"))
    await command(http, token, case["case_id"], "signoff-request", {"note": "请签批"})
    leader = (await login(http, "leader.amr"))["token"]

    async def waiting() -> tuple[int, int, bool]:
        resp = await http.get("/api/halls/rizhao/signoffs", headers=bearer(leader))
        body = await resp.json()
        assert resp.status == 200, body
        (request,) = body["requests"]
        assert request["case"]["case_id"] == case["case_id"]
        return body["wait_limit_minutes"], request["waited_seconds"], request["waiting_too_long"]

    assert await waiting() == (7, 0, False)
    clock.set(at("2026-12-07 10:12"))
    assert await waiting() == (7, 7 * 60, False)
    clock.set(at("2026-12-07 10:12:01"))
    assert await waiting() == (7, 7 * 60 + 1, True)
    # the hall's limit, not a fixed one: with 10 minutes the same wait is not too long
    await db.execute("update hall set signoff_wait_minutes = 10 where code = 'rizhao'")
    assert await waiting() == (10, 7 * 60 + 1, False)


async def test_immediate_case(live, http, db):
    use_clock(live, at("2026-12-07 10:00"))
    token, ticket_id, _ = await serving_ticket(http, db, item=IMMEDIATE)
    case = await accept(http, token, ticket_id=ticket_id, item=IMMEDIATE)
    assert case["kind"] == "immediate"
    await command(http, token, case["case_id"], "decision", {"decision": "approve"})
    done = await command(http, token, case["case_id"], "complete")
    assert done["state"] == "completed"


async def test_a_holiday_added_later_reprices_open_cases(live, http, db):
    use_clock(live, at("2026-12-07 10:00"))
    token, ticket_id, _ = await serving_ticket(http, db)
    case = await accept(http, token, ticket_id=ticket_id, item=PROMISED)
    assert case["clock"]["deadline"] == "2026-12-09T17:00:00+08:00"
    admin = (await login(http, "admin"))["token"]
    resp = await http.put(
        "/api/halls/rizhao/calendar/2026-12-08",
        json={"is_working": False, "note": "临时闭厅"},
        headers=bearer(admin),
    )
    assert resp.status == 200, await resp.text()
    resp = await http.get(f"/api/cases/{case['case_id']}", headers=bearer(token))
    assert (await resp.json())["clock"]["deadline"] == "2026-12-10T17:00:00+08:00"
    stored = await db.fetchval("select deadline from service_case where id = $1", case["case_id"])
    assert stored.isoformat() == "2026-12-10T09:00:00+00:00"


async def test_the_applicant_is_told_by_sms_of_a_supplement_and_an_extension(live, http, db):
    clock = use_clock(live, at("2026-12-07 10:00"))  # Monday; due Wednesday 17:00
    token, ticket_id, _ = await serving_ticket(http, db, phone="13900139000")
    case = await accept(
        http, token, ticket_id=ticket_id, item=PROMISED, applicant={"name": "张小三"}
    )
    cid, case_no = case["case_id"], case["case_no"]
    await command(http, token, cid, "start")
    sms = "select recipient, body from notification where dedupe_key = $1"

    # 一次性告知: every missing material in one text, to the phone given at the kiosk
    clock.set(at("2026-12-07 11:00"))
    notice = await command(
        http,
        token,
        cid,
        "supplement",
        {"materials": [{"position": 1, "status": "missing"}, {"position": 2, "status": "faulty"}]},
    )
    names = [m["name"] for m in notice["materials"]]
    assert len(names) == 2
    [told] = await db.fetch(sms, f"supplement:{notice['notice_id']}")
    assert told["recipient"] == "13900139000"
    assert case_no in told["body"] and "、".join(names) in told["body"]
    assert "1 号窗口" in told["body"] and "暂停" in told["body"]
    clock.set(at("2026-12-08 09:00"))
    await command(http, token, cid, "supplement/received", {})

    # §42: an extension needs the leader's sign-off, and the applicant is told the new deadline
    before = (
        await command(
            http,
            token,
            cid,
            "signoff-request",
            {"purpose": "extension", "extension": 2, "note": "需现场核查"},
        )
    )["clock"]
    assert (
        await db.fetchval("select count(*) from notification where dedupe_key like 'extension:%'")
        == 0
    )
    leader = (await login(http, "leader.amr"))["token"]
    done = await command(
        http, leader, cid, "signoff", {"decision": "approve", "comment": "同意延期"}
    )
    assert done["clock"]["limit"] == before["limit"] + 2
    deadline = done["clock"]["deadline"]
    assert deadline > before["deadline"]
    request_id = await db.fetchval(
        "select id from signoff_request where case_id = $1 and purpose = 'extension'", cid
    )
    [told] = await db.fetch(sms, f"extension:{request_id}")
    assert told["recipient"] == "13900139000" and case_no in told["body"]
    assert f"办结期限延至 {deadline[:10]} {deadline[11:16]}" in told["body"]


async def test_an_accepted_case_not_accepted_after_review(live, http, db):
    use_clock(live, at("2026-12-07 10:00"))
    token, ticket_id, _ = await serving_ticket(http, db)
    case = await accept(http, token, ticket_id=ticket_id, item=PROMISED)
    started = await accept(http, token, item=PROMISED, applicant={"name": "李四"})
    await command(http, token, started["case_id"], "start")
    url = "/api/halls/rizhao/cases/not-accepted"
    psb_window = await db.fetchval(
        "select min(w.window_no) from service_window w join department d "
        "on d.id = w.department_id where d.code = 'psb'"
    )
    psb_clerk = await db.fetchval(
        "select min(s.username) from staff s join department d on d.id = s.department_id "
        "where d.code = 'psb' and s.role = 'clerk'"
    )
    other = await clerk_at_window(db, psb_window, username=psb_clerk)
    body = {"case_id": case["case_id"], "reason": "不属于本部门职权范围"}
    # another department's clerk may not; a case being worked is past acceptance
    resp = await http.post(url, json=body, headers=bearer(other))
    assert resp.status == 403, await resp.text()
    resp = await http.post(url, json={**body, "case_id": started["case_id"]}, headers=bearer(token))
    assert (resp.status, (await resp.json())["error"]["code"]) == (409, "case_state")
    resp = await http.post(url, json={**body, "reason": " "}, headers=bearer(token))
    assert (resp.status, (await resp.json())["error"]["code"]) == (400, "reason_required")
    resp = await http.post(url, json=body, headers=bearer(token))
    done = await resp.json()
    assert resp.status == 200, done
    assert done["state"] == "not_accepted" and done["clock"]["status"] == "stopped"
    resp = await http.get(f"/api/cases/{case['case_id']}", headers=bearer(token))
    detail = await resp.json()
    last = detail["history"][-1]
    assert (last["action"], last["reason"]) == ("case.not_accept", "不属于本部门职权范围")
