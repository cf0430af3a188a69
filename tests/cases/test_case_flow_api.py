"""Cases through the API: acceptance from the ticket served at the window, the life of a case
command by command, refusals by the transition table, sign-off by the leader on duty."""

from __future__ import annotations

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
from tests.queue_helpers import bearer


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
