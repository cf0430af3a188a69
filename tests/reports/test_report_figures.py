"""The report's figures (issue 11, /reports) on a small fixed data set, every one against a value
computed by hand in the comments: three cases worked through the API with known clocks (the
case-metrics test's), their tickets given exact timestamps, a no-show ticket, idle spells,
ratings (one excluded by an upheld appeal, one bad with its rectification overdue) and alarms
(one withdrawn) inserted directly. Then the exports (CSV content, the .xlsx read back with
openpyxl) and the formal-talk flag."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from tests.cases.helpers import at, use_clock
from tests.conftest import login
from tests.queue_helpers import bearer
from tests.reports.helpers import fixed_data

RANGE = "from=2026-12-01&to=2026-12-31"


async def _get(http, token, path):
    resp = await http.get(path, headers=bearer(token))
    body = await resp.json()
    assert resp.status == 200, body
    return body


async def test_report_figures_on_a_fixed_data_set(live, http, db):
    await fixed_data(live, http, db)
    admin = (await login(http, "admin"))["token"]
    body = await _get(http, admin, f"/api/halls/rizhao/reports?{RANGE}")
    [hall] = body["groups"]
    # ratings: 5, 4, 1 counted; the 2 excluded by the upheld appeal
    assert hall["ratings"] == 3 and hall["excluded"] == 1
    assert hall["levels"] == {"5": 1, "4": 1, "3": 0, "2": 0, "1": 1}
    assert hall["satisfaction_rate"] == round(2 / 3, 4)  # (1 + 1 + 0) / 3
    assert hall["bad_reviews"] == 1
    # the bad review's task is open, due the 17th, "now" the 20th: overdue
    assert hall["rectification"] == {
        "open": 1,
        "rectified": 0,
        "called_back": 0,
        "closed": 0,
        "overdue": 1,
    }
    # cases (the case-metrics test's figures)
    assert hall["cases"] == 3 and hall["completed"] == 3
    assert hall["immediate_rate"] == round(1 / 3, 4)
    assert hall["on_time_rate"] == round(2 / 3, 4)
    assert hall["early_share"] == 0.5 and hall["avg_saved_hours"] == 2.0
    assert hall["avg_visits"] == round(4 / 3, 2)  # 1 + 2 + 1
    # times: waits (600 + 1200 + 2400) / 3 = 1400; walks (60 + 120) / 2 = 90;
    # service (600 + 1200) / 2 = 900; 3 tickets called, 2 served
    assert hall["tickets"] == 3 and hall["served"] == 2
    assert (hall["avg_wait_s"], hall["avg_walk_s"], hall["avg_service_s"]) == (1400, 90, 900)
    # idle: 4740 + 5700 = 10440 s over 3 window-days = 3480 s a window-day
    assert hall["idle_s"] == 10440 and hall["avg_idle_s"] == 3480
    assert hall["alarms"] == 2
    assert hall["alarms_by_kind"] == {"ticket_wait": 1, "case_deadline": 1}
    assert hall["joint_cases"] == 0 and hall["joint_avg_working_hours"] is None
    assert hall["rank"] == 1

    series = body["series"]
    trend = {d["day"]: d for d in series["trend"]}
    assert len(trend) == 31
    # Monday: T1, T2 arrive and are served, waits (600 + 1200) / 2; the 5 of the 7th
    assert trend["2026-12-07"] == {
        "day": "2026-12-07",
        "arrivals": 2,
        "served": 2,
        "avg_wait_s": 900,
        "ratings": 1,
        "satisfaction_rate": 1.0,
    }
    # Tuesday: T3 (no-show); its rating is excluded
    assert trend["2026-12-08"]["arrivals"] == 1 and trend["2026-12-08"]["served"] == 0
    assert trend["2026-12-08"]["avg_wait_s"] == 2400 and trend["2026-12-08"]["ratings"] == 0
    assert trend["2026-12-10"]["satisfaction_rate"] == 0.0  # the 1
    # waits 10, 20, 40 minutes: buckets [10,15), [20,30), [30,45)
    assert [b["count"] for b in series["waits"]] == [0, 0, 1, 0, 1, 1, 0, 0]
    assert series["waits"][-1] == {"from_min": 60, "to_min": None, "count": 0}
    # arrivals: Monday 9 h two, Tuesday 14 h one
    assert series["heatmap"] == [
        {"dow": 1, "hour": 9, "arrivals": 2},
        {"dow": 2, "hour": 14, "arrivals": 1},
    ]

    body = await _get(http, admin, f"/api/halls/rizhao/reports?{RANGE}&by=window")
    one, two = body["groups"]
    # window 1: its 5 only, 1 immediate case on time, T1; window 2: 4 and 1 (the 2 excluded)
    assert (one["key"], one["rank"], two["key"], two["rank"]) == ("1", 1, "2", 2)
    assert one["satisfaction_rate"] == 1.0 and two["satisfaction_rate"] == 0.5
    assert two["excluded"] == 1 and two["bad_reviews"] == 1
    assert one["on_time_rate"] == 1.0 and two["on_time_rate"] == 0.5
    assert two["avg_visits"] == 1.5  # (2 + 1) / 2
    assert one["avg_wait_s"] == 600 and two["avg_wait_s"] == 1800  # (1200 + 2400) / 2
    assert two["avg_walk_s"] == 120 and two["avg_service_s"] == 1200
    assert one["idle_s"] == 4740 and one["avg_idle_s"] == 4740
    assert two["idle_s"] == 5700 and two["avg_idle_s"] == 2850  # two window-days
    assert one["alarms"] == 0 and two["alarms"] == 2

    body = await _get(http, admin, f"/api/halls/rizhao/reports?{RANGE}&by=clerk")
    by_clerk = {g["key"]: g for g in body["groups"]}
    assert by_clerk["clerk002"]["ratings"] == 2 and by_clerk["clerk002"]["idle_s"] is None
    # by clerk, an alarm is its case's clerk's: only the late case's deadline alarm
    assert by_clerk["clerk002"]["alarms_by_kind"] == {"case_deadline": 1}

    # a range that holds none of it
    body = await _get(http, admin, "/api/halls/rizhao/reports?from=2026-12-21&to=2026-12-31")
    assert body["groups"] == [] and len(body["series"]["trend"]) == 11

    # window 2 was last in November (its 1) and is last in December: a formal talk
    talks = await _get(http, admin, "/api/halls/rizhao/reports/talks?month=2026-12")
    assert talks["last"] == [2] and talks["previous_last"] == [2]
    [talk] = talks["talks"]
    assert (talk["window_no"], talk["rank"], talk["of"], talk["previous_rank"]) == (2, 2, 2, 2)
    talks = await _get(http, admin, "/api/halls/rizhao/reports/talks?month=2026-11")
    assert talks["talks"] == []  # nothing in October


async def test_exports_csv_and_xlsx(live, http, db):
    await fixed_data(live, http, db)
    admin = (await login(http, "admin"))["token"]
    resp = await http.get(
        f"/api/halls/rizhao/reports/export?{RANGE}&by=window&format=csv", headers=bearer(admin)
    )
    assert resp.status == 200, await resp.text()
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="') and ".csv" in disposition
    assert "filename*=UTF-8''" in disposition
    raw = await resp.read()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    header, one, two = rows
    col = {h: i for i, h in enumerate(header)}
    assert header[:3] == ["排名", "窗口", "名称"]
    assert two[col["窗口"]] == "2" and two[col["排名"]] == "2"
    assert two[col["满意率(%)"]] == "50.0" and one[col["满意率(%)"]] == "100.0"
    assert two[col["平均等候(分钟)"]] == "30.0"  # 1800 s
    assert two[col["告警:排队等候超时"]] == "1" and one[col["告警:办件超期"]] == "0"

    resp = await http.get(
        f"/api/halls/rizhao/reports/export?{RANGE}&format=csv&table=trend", headers=bearer(admin)
    )
    trend = list(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
    assert trend[0][:3] == ["日期", "取号人数", "办结号数"] and len(trend) == 32
    assert trend[7][:4] == ["2026-12-07", "2", "2", "15.0"]  # 900 s

    resp = await http.get(
        f"/api/halls/rizhao/reports/export?{RANGE}&by=window&format=xlsx", headers=bearer(admin)
    )
    assert resp.status == 200
    assert resp.headers["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert ".xlsx" in resp.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(await resp.read()), read_only=True)
    assert wb.sheetnames == ["综合报表", "每日趋势", "等候时长分布", "到达热力"]
    sheet = list(wb["综合报表"].iter_rows(values_only=True))
    assert len(sheet) == 3
    col = {h: i for i, h in enumerate(sheet[0])}
    assert sheet[2][col["窗口"]] == "2" and sheet[2][col["满意率(%)"]] == 50.0
    assert sheet[1][col["评价数"]] == 1 and sheet[2][col["不满意"]] == 0
    heat = list(wb["到达热力"].iter_rows(values_only=True))
    assert heat[1:] == [("周一", "09:00", 2), ("周二", "14:00", 1)]

    resp = await http.get(
        f"/api/halls/rizhao/reports/export?{RANGE}&format=pdf", headers=bearer(admin)
    )
    assert resp.status == 400


async def test_report_range_and_readers(live, http, db):
    use_clock(live, at("2026-12-07 09:30"))
    admin = (await login(http, "admin"))["token"]
    resp = await http.get(
        "/api/halls/rizhao/reports?from=2026-12-31&to=2026-12-01", headers=bearer(admin)
    )
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "invalid_range"
    resp = await http.get("/api/halls/rizhao/reports", headers=bearer(admin))
    body = await resp.json()
    assert body["from"] == "2026-12-01" and body["to"] == "2026-12-07"
    # the city's supervisor groups by hall: the city and its county halls side by side
    sup = (await login(http, "supervisor1"))["token"]
    body = await _get(http, sup, "/api/halls/rizhao/reports?by=hall")
    assert body["halls"][0]["code"] == "rizhao" and len(body["halls"]) >= 2
    # a clerk reads no report
    clerk = (await login(http, "clerk001"))["token"]
    resp = await http.get("/api/halls/rizhao/reports", headers=bearer(clerk))
    assert resp.status == 403
