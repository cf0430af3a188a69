"""整改 over the API (issue 11, server/domain/rectification.py): the whole loop after a bad
review (verify → rectify → call back with the citizen's rating of it → close), every wrong
transition refused with its code, the appeal upheld (the review excluded, the decision logged)
and rejected (the task goes on, the held time given back), the overdue timer raising one alarm
at the due instant and not a second earlier, once, and never for a closed, excluded or
appealed task; who may act: the department's leader, a county's and a city's supervisors."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from server.catalogue import CATALOGUE
from server.catalogue.spine import TimerContext
from server.domain import rectification
from server.keys import STORE
from tests.cases.helpers import at, serving_ticket, use_clock
from tests.conftest import login
from tests.queue_helpers import bearer, rater_at

OVERDUE = CATALOGUE.timers["rectification.fire_overdue"]
DUE = at("2026-12-14 17:00")  # Monday 10:01 + 5 working days: the 5th day's close


async def tokens(http, *names: str) -> dict[str, str]:
    return {n: (await login(http, n))["token"] for n in names}


async def a_bad_review(live, http, db, level: int = 2) -> int:
    """A ticket served at rizhao window 1 (amr) on Monday 10:00, rated `level` on the window's
    device at 10:01: its rectification task's id."""
    clock = use_clock(live, at("2026-12-07 10:00"))
    clerk, ticket_id, _ = await serving_ticket(http, db, 1)
    resp = await http.post("/api/halls/rizhao/windows/1/finish", headers=bearer(clerk))
    assert resp.status == 200, await resp.text()
    resp = await http.post(
        "/api/halls/rizhao/windows/1/rating-request",
        json={"ticket_id": ticket_id},
        headers=bearer(clerk),
    )
    assert resp.status == 200, await resp.json()
    clock.set(at("2026-12-07 10:01"))
    device = await rater_at(db, 1)
    tap = await http.post(
        "/api/halls/rizhao/windows/1/rating",
        json={"level": level, "reasons": ["attitude"], "comment": "窗口人员态度生硬"},
        headers=bearer(device),
    )
    assert tap.status == 201, await tap.json()
    task_id = await db.fetchval("select id from rectification")
    assert task_id is not None
    return int(task_id)


async def post(http, token: str, task_id: int, verb: str, body: Any, status: int = 200) -> dict:
    resp = await http.post(
        f"/api/rectifications/{task_id}/{verb}", json=body, headers=bearer(token)
    )
    data = await resp.json()
    assert resp.status == status, (verb, resp.status, data)
    return data


async def refused(http, token: str, task_id: int, verb: str, body: Any, status: int, code: str):
    data = await post(http, token, task_id, verb, body, status)
    assert data["error"]["code"] == code, data
    return data["error"]


async def get(http, token: str, url: str, status: int = 200) -> dict:
    resp = await http.get(url, headers=bearer(token))
    data = await resp.json()
    assert resp.status == status, (url, data)
    return data


async def fire(live, db, now) -> list:
    hall = await db.fetchrow("select * from hall where code = 'rizhao'")
    return await OVERDUE.run(TimerContext(live.app[STORE]), hall, now)


def test_the_table_leads_only_to_known_states_and_every_row_is_a_declared_command():
    for name, edges in rectification.TRANSITIONS.items():
        for src, dst in edges.items():
            assert src in rectification.ACTIVE and dst in rectification.STATES, (name, src)
    for state in ("closed", "excluded"):
        assert rectification.allowed_actions(state, False, False) == []
    commands = {n.split(":")[0] for n in rectification.TRANSITIONS}
    declared = {n for n in CATALOGUE.operations if n.startswith("rectification.")}
    assert commands == declared - {
        "rectification.get",
        "rectification.list",
        "rectification.set_days",
    }


async def test_the_whole_loop_verify_rectify_call_back_close(live, http, db):
    task = await a_bad_review(live, http, db)
    clock = use_clock(live, at("2026-12-08 09:00"))
    t = await tokens(http, "leader.amr", "leader.psb", "clerk001", "supervisor1", "admin")
    lead = t["leader.amr"]

    shown = await get(http, lead, f"/api/rectifications/{task}")
    assert shown["state"] == "open" and shown["window_no"] == 1
    assert shown["rating"]["level"] == 2 and shown["rating"]["reasons"] == ["attitude"]
    assert shown["rating"]["comment"] == "窗口人员态度生硬"  # the leader may read it
    assert "13800138000" not in str(shown)
    assert shown["allowed"] == [
        "rectification.verify",
        "rectification.appeal",
    ]
    # out of order: refused with the state named, nothing written
    err = await refused(http, lead, task, "close", {}, 409, "rectification_state")
    assert "已回访" in err["message"]
    await refused(http, lead, task, "rectify", {"note": "x"}, 409, "rectification_state")
    await refused(http, lead, task, "call-back", {"reached": True}, 409, "rectification_state")
    # who may not: another department's leader, a clerk, supervision (decides appeals only)
    await refused(http, t["leader.psb"], task, "verify", {"note": "x"}, 403, "other_department")
    for who in ("clerk001", "supervisor1", "admin"):
        await refused(http, t[who], task, "verify", {"note": "x"}, 403, "wrong_role")

    v = await post(http, lead, task, "verify", {"note": "调取录像，属实"})
    assert (v["state"], v["allowed"]) == (
        "verified",
        ["rectification.rectify", "rectification.appeal"],
    )
    await refused(http, lead, task, "verify", {"note": "again"}, 409, "rectification_state")
    clock.set(at("2026-12-09 10:00"))
    await post(http, lead, task, "rectify", {"note": "约谈窗口人员，文明用语培训"})
    # not reached: a note is needed, and no follow-up rating without the citizen
    missing = await post(http, lead, task, "call-back", {"reached": False}, 400)
    assert missing["error"]["code"] == "reason_required"
    no_rating = await post(
        http,
        lead,
        task,
        "call-back",
        {"reached": False, "note": "无人接听", "followup_level": 4},
        400,
    )
    assert no_rating["error"]["code"] == "invalid_field"
    await post(http, lead, task, "call-back", {"reached": False, "note": "无人接听"})
    clock.set(at("2026-12-09 15:00"))
    cb = await post(
        http, lead, task, "call-back", {"reached": True, "note": "已致歉", "followup_level": 4}
    )
    assert cb["state"] == "called_back" and cb["allowed"] == [
        "rectification.close",
        "rectification.appeal",
    ]
    await refused(
        http,
        lead,
        task,
        "call-back",
        {"reached": True, "note": "再回访"},
        409,
        "rectification_state",
    )
    clock.set(at("2026-12-10 09:00"))
    closed = await post(http, lead, task, "close", {"note": "整改完毕"})
    assert closed["state"] == "closed" and closed["allowed"] == []
    await refused(http, lead, task, "appeal", {"reason": "x"}, 409, "rectification_state")

    row = await db.fetchrow("select * from rectification where id = $1", task)
    assert (row["callback_reached"], row["followup_level"]) == (True, 4)
    assert row["closed_at"] == at("2026-12-10 09:00")
    shown = await get(http, t["supervisor1"], f"/api/rectifications/{task}")
    assert [x["action"] for x in shown["timeline"]] == [
        "rectification.open",
        "rectification.verify",
        "rectification.rectify",
        "rectification.call_back",
        "rectification.call_back",
        "rectification.close",
    ]
    assert shown["timeline"][1]["note"] == "调取录像，属实"
    # a device rating is anonymous: not counted in the real-name call-back rate
    assert shown["callback_rate"] == {"real_name": 0, "reached": 0, "rate": None}
    # each command audited under its name, each one event to the department, no identity
    audited = await db.fetch(
        "select action from audit where action like 'rectification.%' and outcome = 'ok' "
        "order by id"
    )
    assert [a["action"] for a in audited] == [
        "rectification.verify",
        "rectification.rectify",
        "rectification.call_back",
        "rectification.call_back",
        "rectification.close",
    ]
    changed = await db.fetch(
        "select payload from event where type = 'rectification.changed' order by seq"
    )
    assert [c["payload"]["state"] for c in changed] == [
        "verified",
        "rectified",
        "called_back",
        "called_back",
        "closed",
    ]
    assert all("态度生硬" not in str(c["payload"]) for c in changed)
    # closed before its due: the timer raises nothing at or after it
    assert await fire(live, db, DUE) == []
    assert await db.fetchval("select count(*) from alarm") == 0


async def test_the_overdue_alarm_is_raised_at_its_instant_once(live, http, db):
    task = await a_bad_review(live, http, db)
    second_before = at("2026-12-14 16:59:59")
    assert await fire(live, db, second_before) == []
    events = await fire(live, db, DUE)
    assert [(e.type, e.payload["kind"], e.payload["level"]) for e in events] == [
        ("alarm.issued", "rectification_late", "yellow")
    ]
    assert events[0].payload["subject"] == f"rectification:{task}"
    assert events[0].payload["department"] == "amr" and events[0].payload["window_no"] == 1
    assert "差评整改" in events[0].payload["summary"]
    assert await fire(live, db, at("2026-12-15 09:00")) == []  # once
    assert await db.fetchval("select count(*) from alarm where kind = 'rectification_late'") == 1
    t = await tokens(http, "leader.amr")
    shown = await get(http, t["leader.amr"], f"/api/rectifications/{task}")
    assert shown["overdue_alarmed"] is True
    assert shown["timeline"][-1]["action"] == "rectification.fire_overdue"


async def test_an_appeal_holds_the_timer_and_upheld_excludes_the_review(live, http, db):
    task = await a_bad_review(live, http, db, level=1)
    use_clock(live, at("2026-12-08 09:00"))
    t = await tokens(http, "leader.amr", "supervisor1", "clerk001")
    await refused(
        http,
        t["supervisor1"],
        task,
        "decide-appeal",
        {"decision": "upheld", "note": "x"},
        409,
        "no_appeal",
    )
    await refused(http, t["leader.amr"], task, "appeal", {"reason": " "}, 400, "reason_required")
    ap = await post(http, t["leader.amr"], task, "appeal", {"reason": "评价人系恶意刷差评"})
    assert ap["appeal_pending"] is True
    assert ap["allowed"] == [
        "rectification.decide_appeal:upheld",
        "rectification.decide_appeal:rejected",
    ]
    await refused(http, t["leader.amr"], task, "appeal", {"reason": "再诉"}, 409, "appeal_pending")
    await refused(http, t["leader.amr"], task, "verify", {"note": "x"}, 409, "appeal_pending")
    # the leader cannot decide their own appeal
    await refused(
        http,
        t["leader.amr"],
        task,
        "decide-appeal",
        {"decision": "upheld", "note": "x"},
        403,
        "wrong_role",
    )
    waiting = await get(http, t["supervisor1"], "/api/halls/rizhao/rectifications?state=appealed")
    assert [x["rectification_id"] for x in waiting["tasks"]] == [task]
    # held: nothing at or after the due instant while the appeal waits
    assert await fire(live, db, DUE) == []
    use_clock(live, at("2026-12-15 10:00"))
    decided = await post(
        http,
        t["supervisor1"],
        task,
        "decide-appeal",
        {"decision": "upheld", "note": "核实评价人与窗口无业务往来"},
    )
    assert (decided["state"], decided["appeal_decision"]) == ("excluded", "upheld")
    assert await db.fetchval("select excluded from rating") is True
    assert await fire(live, db, at("2026-12-16 10:00")) == []  # excluded: never late
    shown = await get(http, t["supervisor1"], f"/api/rectifications/{task}")
    last = shown["timeline"][-1]
    assert last["action"] == "rectification.decide_appeal:upheld"
    assert "核实评价人与窗口无业务往来" in last["note"] and last["detail"]["rating_excluded"]
    assert shown["rating"]["excluded"] is True and shown["allowed"] == []
    audit = await db.fetchrow(
        "select detail from audit where action = 'rectification.decide_appeal' and outcome = 'ok'"
    )
    assert audit["detail"]["decision"] == "upheld"
    # the ratings read: the clerk sees their window's review without the comment
    mine = await get(http, t["clerk001"], "/api/halls/rizhao/ratings?from=2026-12-01&to=2026-12-31")
    assert mine["comments"] is False
    assert [(r["level"], r["excluded"]) for r in mine["ratings"]] == [(1, True)]
    assert "comment" not in mine["ratings"][0]
    sup = await get(
        http, t["supervisor1"], "/api/halls/rizhao/ratings?bad=true&from=2026-12-07&to=2026-12-07"
    )
    assert sup["ratings"][0]["comment"] == "窗口人员态度生硬"


async def test_a_rejected_appeal_goes_on_where_it_was_with_the_held_time_given_back(live, http, db):
    task = await a_bad_review(live, http, db)
    use_clock(live, at("2026-12-08 09:00"))
    t = await tokens(http, "leader.amr", "supervisor1")
    await post(http, t["leader.amr"], task, "verify", {"note": "属实"})
    await post(http, t["leader.amr"], task, "appeal", {"reason": "评价对象有误"})
    use_clock(live, at("2026-12-09 09:00"))  # held 24 hours
    await refused(
        http,
        t["supervisor1"],
        task,
        "decide-appeal",
        {"decision": "nope", "note": "x"},
        400,
        "invalid_field",
    )
    d = await post(
        http, t["supervisor1"], task, "decide-appeal", {"decision": "rejected", "note": "评价属实"}
    )
    assert (d["state"], d["appeal_pending"], d["appeal_decision"]) == (
        "verified",
        False,
        "rejected",
    )
    assert d["allowed"] == ["rectification.rectify"]  # no second appeal
    new_due = at("2026-12-15 17:00")
    assert await db.fetchval("select due_at from rectification") == new_due
    assert await db.fetchval("select excluded from rating") is False
    await refused(http, t["leader.amr"], task, "appeal", {"reason": "再诉"}, 409, "appeal_decided")
    await refused(
        http,
        t["supervisor1"],
        task,
        "decide-appeal",
        {"decision": "upheld", "note": "x"},
        409,
        "no_appeal",
    )
    await post(http, t["leader.amr"], task, "rectify", {"note": "已整改"})
    # the timer runs again from where it held: not at the old due, at the new one
    assert await fire(live, db, DUE) == []
    assert [e.payload["kind"] for e in await fire(live, db, new_due)] == ["rectification_late"]


async def county_task(db) -> tuple[int, str]:
    """A bad review's open task in the county hall juxian (amr, window 1), written directly, and
    a county supervisor's bearer token (the demo has none)."""
    hall_id = await db.fetchval("select id from hall where code = 'juxian'")
    ticket = await db.fetchval(
        """
        insert into ticket (hall_id, service_day, queue_id, ticket_no, status, outcome, window_id)
        select h.id, date '2026-12-07', q.id, 'A901', 'done', 'served', w.id
        from hall h join service_window w on w.hall_id = h.id and w.window_no = 1
        join queue q on q.hall_id = h.id
        where h.id = $1 order by q.id limit 1
        returning id""",
        hall_id,
    )
    rating = await db.fetchval(
        """
        insert into rating (hall_id, subject, ticket_id, window_id, department_id, level,
                            channel, real_name, rated_at)
        select $1, 'ticket:' || $2::bigint, $2, w.id, w.department_id, 1, 'device', false, $3
        from service_window w where w.hall_id = $1 and w.window_no = 1
        returning id""",
        hall_id,
        ticket,
        at("2026-12-07 10:00"),
    )
    task = await db.fetchval(
        """
        insert into rectification (hall_id, rating_id, department_id, window_id, state,
                                   opened_at, due_at)
        select g.hall_id, g.id, g.department_id, g.window_id, 'open', $2, $3
        from rating g where g.id = $1
        returning id""",
        rating,
        at("2026-12-07 10:00"),
        DUE,
    )
    staff_id = await db.fetchval(
        "insert into staff (hall_id, username, display_name, role, password_hash) "
        "values ($1, 'juxian.supervisor', '县监察员', 'supervisor', 'x') returning id",
        hall_id,
    )
    token = secrets.token_urlsafe(24)
    await db.execute(
        "insert into auth_session (token_hash, staff_id, expires_at) "
        "values ($1, $2, now() + interval '1 hour')",
        hashlib.sha256(token.encode()).digest(),
        staff_id,
    )
    return int(task), token


async def test_a_county_supervisor_decides_their_own_and_the_city_over_its_counties(live, http, db):
    city_task = await a_bad_review(live, http, db)
    county, county_sup = await county_task(db)
    use_clock(live, at("2026-12-08 09:00"))
    t = await tokens(http, "leader.amr", "juxian.leader.amr", "supervisor1", "admin")
    # each department's leader appeals their own task only
    await refused(http, t["leader.amr"], county, "appeal", {"reason": "x"}, 403, "other_hall")
    await post(http, t["juxian.leader.amr"], county, "appeal", {"reason": "评价人填错窗口"})
    await post(http, t["leader.amr"], city_task, "appeal", {"reason": "恶意差评"})
    # the county's supervisor: not the city's task; the list of the city refused
    await refused(
        http,
        county_sup,
        city_task,
        "decide-appeal",
        {"decision": "upheld", "note": "x"},
        403,
        "other_hall",
    )
    await get(http, county_sup, "/api/halls/rizhao/rectifications", 403)
    own = await get(http, county_sup, "/api/halls/juxian/rectifications?state=appealed")
    assert [x["rectification_id"] for x in own["tasks"]] == [county]
    assert (await get(http, county_sup, f"/api/rectifications/{county}"))["hall"] == "juxian"
    # the city's supervisor reads and decides over its county hall
    city = await get(http, t["supervisor1"], "/api/halls/juxian/rectifications?state=appealed")
    assert [x["rectification_id"] for x in city["tasks"]] == [county]
    d = await post(
        http,
        t["supervisor1"],
        county,
        "decide-appeal",
        {"decision": "rejected", "note": "评价有效"},
    )
    assert d["state"] == "open"
    await post(
        http, county_sup, city_task, "decide-appeal", {"decision": "rejected", "note": "x"}, 403
    )
    # the city's admin reads its own hall only; a leader reads their department's
    await get(http, t["admin"], "/api/halls/juxian/rectifications", 403)
    mine = await get(http, t["leader.amr"], "/api/halls/rizhao/rectifications?state=active")
    assert mine["department"] == "amr" and [x["rectification_id"] for x in mine["tasks"]] == [
        city_task
    ]
    psb = await get(http, t["leader.amr"], "/api/halls/rizhao/rectifications?department=psb", 403)
    assert psb["error"]["code"] == "other_department"


async def test_the_hall_admin_sets_the_rectification_days(live, http, db):
    t = await tokens(http, "admin", "supervisor1")
    resp = await http.put(
        "/api/halls/rizhao/rectification-days", json={"days": 3}, headers=bearer(t["admin"])
    )
    assert resp.status == 200, await resp.json()
    for bad in (0, 31, "x"):
        resp = await http.put(
            "/api/halls/rizhao/rectification-days", json={"days": bad}, headers=bearer(t["admin"])
        )
        assert resp.status == 400, bad
    resp = await http.put(
        "/api/halls/rizhao/rectification-days", json={"days": 4}, headers=bearer(t["supervisor1"])
    )
    assert resp.status == 403
    await a_bad_review(live, http, db)
    assert await db.fetchval("select due_at from rectification") == at("2026-12-10 17:00")
