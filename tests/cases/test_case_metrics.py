"""Case metrics through the API: immediate rate, on-time rate, early share and time saved,
visits and paused time, grouped by hall, window and day, from cases whose times are known."""

from __future__ import annotations

from tests.cases.helpers import IMMEDIATE, PROMISED, accept, at, command, serving_ticket, use_clock
from tests.conftest import login
from tests.queue_helpers import bearer


async def _finish(http, token, cid):
    await command(http, token, cid, "decision", {"decision": "approve"})
    await command(http, token, cid, "complete")


async def test_metrics_of_known_cases(live, http, db):
    clock = use_clock(live, at("2026-12-07 09:30"))  # Monday
    token, ticket, _ = await serving_ticket(http, db, window_no=1, item=IMMEDIATE)
    immediate = await accept(http, token, ticket_id=ticket, item=IMMEDIATE)
    clock.set(at("2026-12-07 09:40"))
    await _finish(http, token, immediate["case_id"])

    # promised, 2 working days from Monday 10:00 (due Wednesday 17:00)
    clock.set(at("2026-12-07 10:00"))
    token2, ticket2, _ = await serving_ticket(http, db, window_no=2, item=PROMISED)
    early = await accept(http, token2, ticket_id=ticket2, item=PROMISED)
    late = await accept(http, token2, item=PROMISED, applicant={"name": "李四"})
    # the early one: a supplement from Monday 11:00 to Tuesday 11:00 (7 working hours paused)
    clock.set(at("2026-12-07 11:00"))
    await command(
        http,
        token2,
        early["case_id"],
        "supplement",
        {"materials": [{"position": 1, "status": "missing", "problem": "未带"}]},
    )
    clock.set(at("2026-12-08 11:00"))
    back = await command(http, token2, early["case_id"], "supplement/received", {})
    assert back["visits"] == 2
    # the pause moved the deadline by exactly what it covered: Thursday 17:00
    assert back["clock"]["deadline"] == "2026-12-10T17:00:00+08:00"
    # completed Wednesday 17:00, having used 12 of its 14 working hours (Tuesday 11:00-17:00 and
    # Wednesday; Monday is day 0): 2 h saved versus the limit, though the deadline (rounded up to
    # Thursday's close at the resume) was a whole working day away
    clock.set(at("2026-12-09 17:00"))
    await _finish(http, token2, early["case_id"])
    # the late one completed Thursday 10:00: one working hour after its deadline
    clock.set(at("2026-12-10 10:00"))
    await _finish(http, token2, late["case_id"])

    admin = (await login(http, "admin"))["token"]
    resp = await http.get(
        "/api/halls/rizhao/case-metrics?from=2026-12-01&to=2026-12-31", headers=bearer(admin)
    )
    body = await resp.json()
    assert resp.status == 200, body
    [hall] = body["groups"]
    assert hall["cases"] == 3 and hall["completed"] == 3
    assert hall["immediate_rate"] == round(1 / 3, 4)
    assert hall["on_time_rate"] == round(2 / 3, 4)  # the immediate one and the early one
    assert hall["early_share"] == 0.5
    assert hall["avg_saved_hours"] == 2.0
    assert hall["avg_visits"] == round(4 / 3, 2)
    assert hall["paused_hours"] == {"supplement": 7.0}

    resp = await http.get(
        "/api/halls/rizhao/case-metrics?from=2026-12-01&to=2026-12-31&by=window",
        headers=bearer(admin),
    )
    by_window = {g["key"]: g for g in (await resp.json())["groups"]}
    assert by_window["1"]["cases"] == 1 and by_window["1"]["immediate_rate"] == 1.0
    assert by_window["2"]["cases"] == 2 and by_window["2"]["on_time_rate"] == 0.5

    clerks = dict(
        await db.fetch(
            "select w.window_no, s.username from window_signin ws "
            "join staff s on s.id = ws.staff_id join service_window w on w.id = ws.window_id"
        )
    )
    for by, expected in (
        ("department", {"amr": (3, 1 / 3)}),  # both windows are the market regulator's
        ("clerk", {clerks[1]: (1, 1.0), clerks[2]: (2, 0.0)}),
        ("month", {"2026-12": (3, 1 / 3)}),
        ("day", {"2026-12-07": (3, 1 / 3)}),
    ):
        resp = await http.get(
            f"/api/halls/rizhao/case-metrics?from=2026-12-01&to=2026-12-31&by={by}",
            headers=bearer(admin),
        )
        groups = (await resp.json())["groups"]
        got = {g["key"]: (g["cases"], g["immediate_rate"]) for g in groups}
        assert got == {k: (n, round(r, 4)) for k, (n, r) in expected.items()}, (by, groups)

    resp = await http.get(
        "/api/halls/rizhao/case-metrics?from=2026-12-08&to=2026-12-31&by=day",
        headers=bearer(admin),
    )
    assert (await resp.json())["groups"] == []  # every case was accepted on Monday the 7th

    resp = await http.get(
        "/api/halls/rizhao/case-metrics?from=2026-12-31&to=2026-12-01", headers=bearer(admin)
    )
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "invalid_range"
