"""A year's holiday notice loaded as data (calendar.import over HTTP, run.py calendar-import from
a file), its refusals, a re-load, the years a calendar holds (calendar.years) and the warning
when the calendar runs out within 60 days (/healthz, the start-up log)."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import os
import sys
from datetime import UTC, date, datetime

import orjson
import pytest
from aiohttp import ClientSession, DummyCookieJar

import run
from server.keys import CONTEXT
from tests import conftest
from tests.api_client import Api
from tests.conftest import ROOT

H = "/api/halls/rizhao"
EXAMPLE = ROOT / "docs" / "examples" / "holiday-notice-2027.json"
TODAY = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)  # 10:00 in the hall

NOTICE = {
    "year": 2027,
    "title": "国务院办公厅关于2027年部分节假日安排的通知",
    "holidays": [
        {"name": "元旦", "from": "2027-01-01", "to": "2027-01-03", "working_days": []},
        {
            "name": "春节",
            "from": "2027-02-05",
            "to": "2027-02-12",
            "working_days": ["2027-01-31", "2027-02-20"],
        },
        {
            "name": "国庆节",
            "from": "2027-10-01",
            "to": "2027-10-07",
            "working_days": ["2027-09-26", "2027-10-09"],
        },
    ],
}
DAYS_OFF = [
    "2027-01-01",
    "2027-02-05",
    "2027-02-08",
    "2027-02-09",
    "2027-02-10",
    "2027-02-11",
    "2027-02-12",
    "2027-10-01",
    "2027-10-04",
    "2027-10-05",
    "2027-10-06",
    "2027-10-07",
]
WORKING_DAYS = ["2027-01-31", "2027-02-20", "2027-09-26", "2027-10-09"]


@pytest.fixture
async def api(live):
    live.app[CONTEXT].clock = lambda: TODAY
    async with ClientSession(base_url=live.url, cookie_jar=DummyCookieJar()) as session:
        a = Api(session)
        for who in ("admin", "clerk001", "juxian.admin", "supervisor1"):
            await a.login(who)
        yield a


async def days_of(api: Api, first: str, last: str, hall: str = "rizhao") -> dict[str, tuple]:
    body = await api.ok(
        "admin" if hall == "rizhao" else "supervisor1",
        "GET",
        f"/api/halls/{hall}/calendar",
        params={"from": first, "to": last},
    )
    return {d["day"]: (d["is_working"], d["note"], d["source"]) for d in body["days"]}


async def calendar_state(db) -> str:
    """Everything a load could write: the calendar rows, the years, the events."""
    row = await db.fetchrow("""
        select
          (select json_agg(c order by c.hall_id, c.day) from calendar_day c) as days,
          (select json_agg(y order by y.hall_id, y.year) from calendar_year y) as years,
          (select json_agg(s order by s.hall_id) from hall_seq s) as seqs""")
    return json.dumps(dict(row), sort_keys=True, default=str)


def with_holiday(i: int, **changes) -> dict:
    notice = copy.deepcopy(NOTICE)
    notice["holidays"][i].update(changes)
    return notice


# ------------------------------------------------------------------------------ loading


async def test_a_notice_loads_into_the_calendar_with_one_event_and_an_audit_line(api: Api, db):
    deadline = {"start": "2027-02-04T10:00:00+08:00", "amount": "1", "unit": "working_day"}
    before = await api.ok("admin", "GET", H + "/deadline", params=deadline)
    assert before["due"] == "2027-02-05T17:00:00+08:00"  # 2027 has no holidays yet
    assert await days_of(api, "2027-01-01", "2027-12-31") == {}

    body = await api.ok("admin", "POST", H + "/calendar/notice", json=NOTICE)
    assert body["year"] == 2027 and body["title"] == NOTICE["title"]
    assert body["days_off"] == DAYS_OFF and body["working_days"] == WORKING_DAYS
    assert body["removed"] == [] and body["kept_manual"] == []
    assert body["changed"] == sorted(DAYS_OFF + WORKING_DAYS)
    assert len(body["seq"]) == 1

    # weekdays off carry the holiday's name, weekend days inside a range need no row
    days = await days_of(api, "2027-01-01", "2027-12-31")
    assert days == {
        **{
            d: (False, "元旦" if d < "2027-02" else "春节" if d < "2027-03" else "国庆节", "notice")
            for d in DAYS_OFF
        },
        **{d: (True, "调休上班", "notice") for d in WORKING_DAYS},
    }
    # and the deadlines follow: a day before 春节 + 1 working day is after the break
    after = await api.ok("admin", "GET", H + "/deadline", params=deadline)
    assert after["due"] == "2027-02-15T17:00:00+08:00"
    county = await api.ok("supervisor1", "GET", "/api/halls/juxian/deadline", params=deadline)
    assert county["due"] == "2027-02-05T17:00:00+08:00"  # only this hall's calendar

    events = (await api.ok("admin", "GET", H + "/events", params={"since": 0}))["events"]
    assert [(e["seq"], e["type"], e["data"]) for e in events] == [
        (
            body["seq"][0],
            "calendar.year_loaded",
            {
                "year": 2027,
                "title": NOTICE["title"],
                "days_off": DAYS_OFF,
                "working_days": WORKING_DAYS,
            },
        )
    ]
    admin_id = await db.fetchval("select id from staff where username = 'admin'")
    audit = await db.fetch(
        "select actor_kind, actor_id, action, outcome, detail from audit "
        "where action = 'calendar.import'"
    )
    assert [(a["actor_kind"], a["actor_id"], a["outcome"]) for a in audit] == [
        ("staff", admin_id, "ok")
    ]
    detail = audit[0]["detail"]
    assert (detail["hall"], detail["year"], detail["days_off"], detail["working_days"]) == (
        "rizhao",
        2027,
        len(DAYS_OFF),
        len(WORKING_DAYS),
    )
    assert detail["seq"] == body["seq"]

    years = await api.ok("clerk001", "GET", H + "/calendar/years")
    assert [(y["year"], y["source"]) for y in years["years"]] == [
        (2024, "library"),
        (2025, "library"),
        (2026, "library"),
        (2027, "notice"),
    ]
    loaded = years["years"][-1]
    assert loaded["title"] == NOTICE["title"] and loaded["loaded_by"] == admin_id
    # the same instant, written in the hall's zone
    assert loaded["loaded_by_name"] and loaded["loaded_at"] == "2026-12-06T10:00:00+08:00"
    assert years["missing"] == [] and years["message"] == ""


async def test_the_example_file_is_a_valid_notice_marked_as_an_example(api: Api):
    notice = orjson.loads(EXAMPLE.read_bytes())
    assert "示例" in notice["title"]
    body = await api.ok("admin", "POST", H + "/calendar/notice", json=notice)
    assert body["year"] == 2027 and "示例" in body["title"]


# ------------------------------------------------------------------------------ refusals

REFUSED = [
    # (why, body, code, field)
    ("not YYYY-MM-DD", with_holiday(1, **{"from": "2027-2-5"}), "invalid_date", "holidays.1.from"),
    ("no such day", with_holiday(1, to="2027-02-30"), "invalid_date", "holidays.1.to"),
    ("day of another year", with_holiday(0, to="2028-01-03"), "date_outside_year", "holidays.0.to"),
    (
        "working day of another year",
        with_holiday(0, working_days=["2026-12-27"]),
        "date_outside_year",
        "holidays.0.working_days.0",
    ),
    (
        "the notice of another year",
        {**NOTICE, "year": 2028},
        "date_outside_year",
        "holidays.0.from",
    ),
    ("from after to", with_holiday(1, to="2027-02-01"), "invalid_range", "holidays.1.to"),
    ("a typo of months", with_holiday(2, to="2027-12-07"), "range_too_long", "holidays.2.to"),
    (
        "a weekday as working day",
        with_holiday(1, working_days=["2027-01-31", "2027-02-17"]),
        "working_day_not_weekend",
        "holidays.1.working_days.1",
    ),
    (
        "overlapping holidays",
        with_holiday(2, **{"from": "2027-02-12", "to": "2027-02-14"}),
        "day_listed_twice",
        "holidays.2.from",
    ),
    (
        "a working day inside a holiday",
        with_holiday(2, working_days=["2027-10-02"]),
        "day_listed_twice",
        "holidays.2.working_days.0",
    ),
    (
        "a working day of two holidays",
        with_holiday(2, working_days=["2027-02-20"]),
        "day_listed_twice",
        "holidays.2.working_days.0",
    ),
    ("a blank name", with_holiday(0, name="  "), "empty_name", "holidays.0.name"),
    ("no holiday", {**NOTICE, "holidays": []}, "no_holidays", "holidays"),
    (
        "too many holidays",
        {
            **NOTICE,
            "holidays": [
                {"name": f"假日{i}", "from": f"2027-03-{i:02d}", "to": f"2027-03-{i:02d}"}
                for i in range(1, 22)
            ],
        },
        "too_many_holidays",
        "holidays",
    ),
    ("year out of range", {**NOTICE, "year": 1999}, "invalid_year", "year"),
    ("year as text", {**NOTICE, "year": "2027"}, "invalid_field", "year"),
    ("an unknown field", with_holiday(0, days=3), "invalid_field", "holidays.0.days"),
    ("a field missing", {"year": 2027}, "invalid_field", "holidays"),
    ("a name too long", with_holiday(0, name="元" * 21), "invalid_field", "holidays.0.name"),
]


async def test_every_refusal_names_its_code_and_field_and_writes_nothing(api: Api, db):
    before = await calendar_state(db)
    wrong = []
    for why, body, code, field in REFUSED:
        status, answer = await api.call("admin", "POST", H + "/calendar/notice", json=body)
        err = answer.get("error", {})
        if (status, err.get("code"), err.get("field")) != (400, code, field):
            wrong.append(f"{why}: want 400 {code} {field}, got {status} {answer}")
        elif not any("\u4e00" <= ch <= "\u9fff" for ch in err.get("message", "")):
            wrong.append(f"{why}: the message is not Chinese: {err}")
        if await calendar_state(db) != before:
            wrong.append(f"{why}: refused but something was written")
            before = await calendar_state(db)
    assert not wrong, "\n".join(wrong)
    # the message names the holiday, so an admin finds the line in the notice
    err = await api.error(
        "admin",
        "POST",
        H + "/calendar/notice",
        400,
        "working_day_not_weekend",
        json=with_holiday(1, working_days=["2027-02-17"]),
    )
    assert "春节" in err["message"] and "星期三" in err["message"]


async def test_only_the_halls_own_admin_loads_a_notice(api: Api, db):
    before = await calendar_state(db)
    mark = await db.fetchval("select max(id) from audit")
    for who, code in (
        ("clerk001", "wrong_role"),
        ("supervisor1", "wrong_role"),
        ("juxian.admin", "other_hall"),
    ):
        await api.error(who, "POST", H + "/calendar/notice", 403, code, json=NOTICE)
    # the hall is checked before the notice's rules: another hall's admin learns nothing of them
    await api.error(
        "juxian.admin",
        "POST",
        H + "/calendar/notice",
        403,
        "other_hall",
        json=with_holiday(1, working_days=["2027-02-17"]),
    )
    assert await calendar_state(db) == before
    audit = await db.fetch(
        "select action, outcome, detail->>'code' as code from audit where id > $1 order by id",
        mark,
    )
    assert [tuple(a) for a in audit] == [
        ("calendar.import", "denied", "wrong_role"),
        ("calendar.import", "denied", "wrong_role"),
        ("calendar.import", "denied", "other_hall"),
        ("calendar.import", "denied", "other_hall"),
    ]
    # the county's own admin loads the county's calendar, not the city's
    await api.ok("juxian.admin", "POST", "/api/halls/juxian/calendar/notice", json=NOTICE)
    assert "2027-02-05" in await days_of(api, "2027-02-05", "2027-02-05", hall="juxian")
    assert await days_of(api, "2027-01-01", "2027-12-31") == {}


async def test_a_reload_replaces_the_year_and_keeps_what_was_set_by_hand(api: Api, db):
    wrong = with_holiday(1, **{"from": "2027-02-12", "to": "2027-02-19"})  # 春节 a week late
    wrong["holidays"][1]["working_days"] = ["2027-02-07", "2027-02-27"]
    await api.ok("admin", "POST", H + "/calendar/notice", json=wrong)
    # by hand: a local closure the notice knows nothing of, and a day the notice then lists
    await api.ok(
        "admin", "PUT", H + "/calendar/2027-06-03", json={"is_working": False, "note": "系统升级"}
    )
    await api.ok(
        "admin", "PUT", H + "/calendar/2027-02-08", json={"is_working": True, "note": "值班"}
    )

    body = await api.ok("admin", "POST", H + "/calendar/notice", json=NOTICE)
    # the wrong notice's days the right one does not list are gone
    assert body["removed"] == [
        "2027-02-07",
        "2027-02-15",
        "2027-02-16",
        "2027-02-17",
        "2027-02-18",
        "2027-02-19",
        "2027-02-27",
    ]
    assert body["kept_manual"] == ["2027-06-03"]
    days = await days_of(api, "2027-01-01", "2027-12-31")
    feb = {d: v for d, v in days.items() if d.startswith("2027-02")}
    assert feb == {
        "2027-02-05": (False, "春节", "notice"),
        "2027-02-08": (False, "春节", "notice"),  # the hand-set day the notice lists
        "2027-02-09": (False, "春节", "notice"),
        "2027-02-10": (False, "春节", "notice"),
        "2027-02-11": (False, "春节", "notice"),
        "2027-02-12": (False, "春节", "notice"),
        "2027-02-20": (True, "调休上班", "notice"),
    }
    assert days["2027-06-03"] == (False, "系统升级", "manual")
    assert set(days) == set(DAYS_OFF) | set(WORKING_DAYS) | {"2027-06-03"}
    # the days whose working status moved (2027-02-12 was off in both notices)
    assert body["changed"] == [
        "2027-01-31",
        "2027-02-05",
        "2027-02-07",
        "2027-02-08",
        "2027-02-09",
        "2027-02-10",
        "2027-02-11",
        "2027-02-15",
        "2027-02-16",
        "2027-02-17",
        "2027-02-18",
        "2027-02-19",
        "2027-02-20",
        "2027-02-27",
    ]
    assert (
        await db.fetchval(
            "select count(*) from calendar_year y join hall h on h.id = y.hall_id "
            "where h.code = 'rizhao' and y.year = 2027"
        )
        == 1
    )
    events = (await api.ok("admin", "GET", H + "/events", params={"since": 0}))["events"]
    assert [e["type"] for e in events] == [
        "calendar.year_loaded",
        "calendar.day_set",
        "calendar.day_set",
        "calendar.year_loaded",
    ]


async def test_a_notice_replaces_the_librarys_year(api: Api):
    """A year the library filled can be loaded from its notice too: what the notice no longer
    lists goes, whatever the library had put there."""
    notice = {
        "year": 2026,
        "holidays": [{"name": "国庆节", "from": "2026-10-01", "to": "2026-10-07"}],
    }
    body = await api.ok("admin", "POST", H + "/calendar/notice", json=notice)
    assert body["title"] == "国务院办公厅关于2026年部分节假日安排的通知"
    assert "2026-02-16" in body["removed"] and "2026-10-10" in body["removed"]
    days = await days_of(api, "2026-01-01", "2026-12-31")
    assert sorted(days) == ["2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"]
    years = await api.ok("admin", "GET", H + "/calendar/years")
    assert [(y["year"], y["source"]) for y in years["years"]][-1] == (2026, "notice")


# ------------------------------------------------------------------------------ warnings


async def test_healthz_warns_of_a_missing_year_until_it_is_loaded(api: Api, live, http):
    resp = await http.get("/healthz")
    health = await resp.json()
    assert resp.status == 200 and health["ok"] is True  # a warning, not a failure
    by_hall = {w["hall"]: w for w in health["warnings"]}
    assert set(by_hall) == {"rizhao", "juxian", "wulian"}
    warning = by_hall["rizhao"]
    assert (warning["code"], warning["years"]) == ("calendar_missing", ["2027"])
    assert "日照市政务服务中心" in warning["message"] and "2027" in warning["message"]
    years = await api.ok("admin", "GET", H + "/calendar/years")
    assert (years["today"], years["missing"], years["horizon_days"]) == ("2026-12-06", ["2027"], 60)
    assert years["message"] == warning["message"]

    await api.ok("admin", "POST", H + "/calendar/notice", json=NOTICE)
    health = await (await http.get("/healthz")).json()
    assert {w["hall"] for w in health["warnings"]} == {"juxian", "wulian"}
    assert (await api.ok("admin", "GET", H + "/calendar/years"))["missing"] == []

    # two months earlier, 2027 was beyond the horizon: nothing to warn about
    live.app[CONTEXT].clock = lambda: datetime(2026, 10, 1, 2, 0, tzinfo=UTC)
    assert (await (await http.get("/healthz")).json())["warnings"] == []


async def test_serve_logs_a_warning_per_hall_at_start_up(live, caplog):
    live.app[CONTEXT].clock = lambda: TODAY
    with caplog.at_level(logging.WARNING, logger="hallops"):
        await run.warn_calendar_gaps(live.app)
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(lines) == 3
    assert any("hall rizhao" in line and "2027" in line for line in lines), lines


# ------------------------------------------------------------------------------ the file import


async def test_the_file_import_loads_as_the_system_and_refuses_a_bad_file(
    api: Api, db, db_dsn, tmp_path, capsys
):
    settings = conftest.test_settings()
    path = tmp_path / "notice.json"
    path.write_bytes(orjson.dumps(with_holiday(1, working_days=["2027-02-17"])))
    before = await calendar_state(db)
    assert await run.calendar_import(settings, db_dsn, "rizhao", str(path)) == 1
    assert "working_day_not_weekend" in capsys.readouterr().err
    assert await calendar_state(db) == before
    assert await run.calendar_import(settings, db_dsn, "nowhere", str(EXAMPLE)) == 1
    assert "unknown_hall" in capsys.readouterr().err
    assert await run.calendar_import(settings, db_dsn, "rizhao", str(tmp_path / "no.json")) == 2
    assert await calendar_state(db) == before

    path.write_bytes(orjson.dumps(NOTICE))
    assert await run.calendar_import(settings, db_dsn, "rizhao", str(path), now=TODAY) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["days_off"] == DAYS_OFF and out["working_days"] == WORKING_DAYS
    assert out["hall"] == "rizhao" and len(out["seq"]) == 1

    # what the API's load writes, under the same name, by the system
    days = await days_of(api, "2027-01-01", "2027-12-31")
    assert sorted(days) == sorted(DAYS_OFF + WORKING_DAYS)
    row = await db.fetchrow(
        "select y.source, y.loaded_by, y.loaded_at from calendar_year y join hall h "
        "on h.id = y.hall_id where h.code = 'rizhao' and y.year = 2027"
    )
    assert (row["source"], row["loaded_by"], row["loaded_at"]) == ("notice", None, TODAY)
    audit = await db.fetchrow(
        "select actor_kind, actor_id, outcome, detail from audit where action = 'calendar.import'"
    )
    assert (audit["actor_kind"], audit["actor_id"], audit["outcome"]) == ("system", None, "ok")
    assert audit["detail"]["file"] == "notice.json"
    event = await db.fetchrow(
        "select actor_kind, type, payload from event where seq = $1 and hall_id = "
        "(select id from hall where code = 'rizhao')",
        out["seq"][0],
    )
    assert (event["actor_kind"], event["type"]) == ("system", "calendar.year_loaded")
    assert event["payload"]["days_off"] == DAYS_OFF


async def test_run_py_calendar_import_on_the_command_line(db_dsn, db):
    env = {**os.environ, "DATABASE_URL": db_dsn, "HALLOPS_SECRET": "test-secret"}
    env.pop("REDIS_URL", None)  # the event reaches servers through the log (none runs here)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "run.py",
        "calendar-import",
        "--hall",
        "juxian",
        str(EXAMPLE),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    assert json.loads(out)["year"] == 2027
    rows = await db.fetch(
        "select c.day, c.note from calendar_day c join hall h on h.id = c.hall_id "
        "where h.code = 'juxian' and c.day between '2027-01-01' and '2027-12-31'"
    )
    assert {r["day"]: r["note"] for r in rows}[date(2027, 2, 5)] == "春节"
