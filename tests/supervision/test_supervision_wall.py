"""The supervision wall's reads over HTTP: a case falls due on a controllable clock and the wall,
the alarm list (scoped per role) and the alarm's timeline show it; the month's scoring with its
formula; the score itself (pure)."""

from __future__ import annotations

from server.catalogue import CATALOGUE
from server.catalogue.spine import TimerContext
from server.domain.supervision_views import parse_month, score
from server.keys import STORE
from tests.cases.helpers import PROMISED, accept, at, serving_ticket, use_clock
from tests.conftest import login
from tests.queue_helpers import bearer

JOB = CATALOGUE.timers["alarm.fire_case"]


async def fire(live, db, when: str) -> list:
    hall = await db.fetchrow("select * from hall where code = 'rizhao'")
    return await JOB.run(TimerContext(live.app[STORE]), hall, at(when))


async def get(http, token: str, path: str, status: int = 200) -> dict:
    resp = await http.get(path, headers=bearer(token))
    body = await resp.json()
    assert resp.status == status, (path, resp.status, body)
    return body


async def test_a_case_falling_due_shows_on_the_wall_and_in_the_lists(live, http, db):
    clock = use_clock(live, at("2026-12-07 10:00"))  # due Wednesday 17:00
    clerk, ticket, _ = await serving_ticket(http, db)
    case = await accept(http, clerk, ticket_id=ticket, item=PROMISED)
    supervisor = (await login(http, "supervisor1"))["token"]

    wall = await get(http, supervisor, "/api/halls/rizhao/supervision")
    assert wall["alarms"]["counts"]["total"] == 0
    assert wall["cases"]["overdue"] == [] and wall["cases"]["near_due"] == []
    assert wall["hall"]["level"] == "city"
    assert {c["code"] for c in wall["counties"]} >= {"juxian", "wulian"}
    assert any(w["window_no"] == 1 and w["clerk_name"] for w in wall["windows"])

    await fire(live, db, "2026-12-08 17:00:00")  # 预警
    clock.set(at("2026-12-08 17:00:01"))
    wall = await get(http, supervisor, "/api/halls/rizhao/supervision")
    assert [c["case_id"] for c in wall["cases"]["near_due"]] == [case["case_id"]]
    [alarm] = wall["alarms"]["open"]
    assert (alarm["level"], alarm["level_name"], alarm["case_no"]) == (
        "warning",
        "预警",
        case["case_no"],
    )
    assert alarm["acknowledged"] is False and alarm["department"] == "amr"
    assert alarm["window_no"] == 1 and alarm["summary"]
    assert wall["alarms"]["counts"] == {
        "warning": 1,
        "yellow": 0,
        "red": 0,
        "total": 1,
        "unacknowledged": 1,
    }
    amr = next(d for d in wall["departments"] if d["code"] == "amr")
    assert amr["alarms"]["warning"] == 1 and amr["near_due"] == 1

    await fire(live, db, "2026-12-09 17:00:00")  # 黄牌
    clock.set(at("2026-12-09 17:30"))
    wall = await get(http, supervisor, "/api/halls/rizhao/supervision")
    assert [c["case_id"] for c in wall["cases"]["overdue"]] == [case["case_id"]]
    assert wall["cases"]["overdue"][0]["overdue_s"] == 0  # 17:00 is the day's end: no work time
    assert wall["cases"]["near_due"] == []
    assert [a["level"] for a in wall["alarms"]["open"]] == ["yellow", "warning"]

    # the list: the clerk at window 1 sees them, window 2's clerk asking for window 1 is refused,
    # a leader of another department sees none of amr's
    mine = await get(http, clerk, "/api/halls/rizhao/alarms")
    assert [a["level"] for a in mine["alarms"]] == ["yellow", "warning"]
    other = await get(
        http, clerk, "/api/halls/rizhao/alarms?window_no=2", status=403
    )  # not their window
    assert other["error"]["code"] == "not_your_window"
    leader = (await login(http, "leader.amr"))["token"]
    assert len((await get(http, leader, "/api/halls/rizhao/alarms"))["alarms"]) == 2
    refused = await get(http, leader, "/api/halls/rizhao/alarms?department=psb", status=403)
    assert refused["error"]["code"] == "other_department"
    by_case = await get(
        http, supervisor, f"/api/halls/rizhao/alarms?case_id={case['case_id']}&kind=case_deadline"
    )
    assert len(by_case["alarms"]) == 2
    assert (await get(http, supervisor, "/api/halls/rizhao/alarms?kind=ticket_wait"))[
        "alarms"
    ] == []

    one = await get(http, supervisor, f"/api/alarms/{alarm['alarm_id']}")
    assert one["timeline"][0]["action"] == "alarm.issued"
    assert one["case_id"] == case["case_id"] and one["appeal_pending"] is False
    assert (await get(http, supervisor, "/api/alarms/999999", status=404))["error"][
        "code"
    ] == "unknown_alarm"

    month = await get(http, supervisor, "/api/halls/rizhao/supervision/month?month=2026-12")
    assert month["month"] == "2026-12" and "红牌" in month["formula"]
    amr_month = next(d for d in month["departments"] if d["code"] == "amr")
    assert amr_month["by_level"] == {"warning": 1, "yellow": 1, "red": 0}
    assert amr_month["by_kind"] == {"case_deadline": 2}
    assert amr_month["deductions"] == {"warning": 1, "yellow": 3, "red": 0, "overdue_answer": 0}
    assert amr_month["score"] == 96
    assert [w["window_no"] for w in month["windows"]] == [1]
    other_month = await get(http, supervisor, "/api/halls/rizhao/supervision/month?month=2026-11")
    assert all(d["alarms"] == 0 and d["score"] == 100 for d in other_month["departments"])
    bad = await get(http, supervisor, "/api/halls/rizhao/supervision/month?month=2026-13", 400)
    assert bad["error"]["field"] == "month"

    # the county hall's own wall, drilled into by the city's supervisor
    county = await get(http, supervisor, "/api/halls/juxian/supervision")
    assert county["hall"]["level"] == "county" and county["counties"] == []


def test_the_score():
    assert score({}, None) == {
        "score": 100,
        "deductions": {"warning": 0, "yellow": 0, "red": 0, "overdue_answer": 0},
        "bonus": 0,
    }
    s = score({"warning": 2, "yellow": 1, "red": 1, "overdue_answer": 1}, 0.5)
    assert s["score"] == 100 - 2 - 3 - 10 - 5 + 2
    assert score({"red": 20}, 1.0)["score"] == 0  # never below 0
    assert score({"warning": 1}, 1.0)["score"] == 100  # the bonus makes up, never above 100


def test_the_month():
    from datetime import date

    assert parse_month("2026-12", date(2026, 1, 1)) == (date(2026, 12, 1), date(2027, 1, 1))
    assert parse_month(None, date(2026, 2, 14)) == (date(2026, 2, 1), date(2026, 3, 1))
