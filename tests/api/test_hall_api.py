"""Reads of the hall and its reference data, the calendar and deadlines, the duty roster, and
bad input on them: always a 4xx with an error code, never a 500, never a partial change."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiohttp import ClientSession, DummyCookieJar

from server.keys import CONTEXT
from tests.api_client import Api

H = "/api/halls/rizhao"


@pytest.fixture
async def api(live):
    async with ClientSession(base_url=live.url, cookie_jar=DummyCookieJar()) as session:
        a = Api(session)
        await a.login("admin")
        yield a


# ------------------------------------------------------------------------------ halls
async def test_halls_visible_to_each_role(api: Api):
    await api.login("supervisor1")
    await api.login("clerk001")
    await api.login("juxian.admin")
    halls = (await api.ok("supervisor1", "GET", "/api/halls"))["halls"]
    assert {h["code"]: (h["level"], h["parent_code"]) for h in halls} == {
        "rizhao": ("city", None),
        "juxian": ("county", "rizhao"),
        "wulian": ("county", "rizhao"),
    }
    assert [h["code"] for h in (await api.ok("clerk001", "GET", "/api/halls"))["halls"]] == [
        "rizhao"
    ]
    assert [h["code"] for h in (await api.ok("juxian.admin", "GET", "/api/halls"))["halls"]] == [
        "juxian"
    ]


async def test_hall_counts(api: Api):
    hall = await api.ok("admin", "GET", H)
    assert hall["code"] == "rizhao" and hall["level"] == "city"
    assert hall["name"] == "日照市政务服务中心"
    assert hall["counts"]["windows"] == 130
    assert hall["counts"]["staff"] == 160
    assert hall["counts"]["departments"] == 25
    assert hall["work_periods"] == [["09:00", "12:00"], ["13:00", "17:00"]]
    windows = (await api.ok("admin", "GET", H + "/windows"))["windows"]
    assert [w["window_no"] for w in windows] == list(range(1, 131))
    departments = (await api.ok("admin", "GET", H + "/departments"))["departments"]
    assert sum(d["windows"] for d in departments) == 130
    staff = (await api.ok("admin", "GET", H + "/staff"))["staff"]
    assert len(staff) == 160
    assert sum(s["role"] == "clerk" for s in staff) == 130
    # a county hall, read by the city's supervisor: 17 windows (12, and one each for the five
    # departments of 工程建设项目), their clerks, 11 leaders, 1 admin
    await api.login("supervisor1")
    county = await api.ok("supervisor1", "GET", "/api/halls/juxian")
    assert county["level"] == "county"
    assert (county["counts"]["windows"], county["counts"]["staff"]) == (17, 29)


async def test_unknown_hall_is_404(api: Api):
    await api.error("admin", "GET", "/api/halls/nowhere", 404, "unknown_hall", "hall")
    await api.error("admin", "GET", "/api/halls/nowhere/items", 404, "unknown_hall", "hall")
    await api.error(
        "admin", "PUT", "/api/halls/nowhere/notice", 404, "unknown_hall", "hall", json={"text": "x"}
    )


# ------------------------------------------------------------------------------ items
async def test_items_by_keyword_and_department(api: Api):
    items = (await api.ok("admin", "GET", H + "/items", params={"q": "营业执照"}))["items"]
    assert items and all("营业执照" in i["name"] for i in items)
    assert "营业执照变更登记" in {i["name"] for i in items}

    items = (await api.ok("admin", "GET", H + "/items", params={"q": "不动产"}))["items"]
    assert len(items) >= 5 and all("不动产" in i["name"] for i in items)
    assert {i["department_code"] for i in items} >= {"realty"}

    amr = (await api.ok("admin", "GET", H + "/items", params={"department": "amr"}))["items"]
    assert amr and {i["department_code"] for i in amr} == {"amr"}
    assert [i["code"] for i in amr] == sorted(i["code"] for i in amr)
    assert "amr-001" in {i["code"] for i in amr}

    both = (
        await api.ok("admin", "GET", H + "/items", params={"department": "realty", "q": "登记"})
    )["items"]
    assert both and all(i["department_code"] == "realty" and "登记" in i["name"] for i in both)

    by_code = (await api.ok("admin", "GET", H + "/items", params={"q": "amr-001"}))["items"]
    assert [i["code"] for i in by_code] == ["amr-001"]

    assert (await api.ok("admin", "GET", H + "/items", params={"q": "没有这个事项"}))["items"] == []
    assert (await api.ok("admin", "GET", H + "/items", params={"department": "nosuch"}))[
        "items"
    ] == []
    everything = (await api.ok("admin", "GET", H + "/items"))["items"]
    assert len(everything) == (await api.ok("admin", "GET", H))["counts"]["items"]
    await api.error(
        "admin", "GET", H + "/items", 400, "invalid_query", "q", params={"q": "长" * 51}
    )


async def test_item_detail_with_materials_and_fees(api: Api):
    (item,) = (await api.ok("admin", "GET", H + "/items", params={"q": "不动产首次登记"}))["items"]
    detail = await api.ok("admin", "GET", f"{H}/items/{item['code']}")
    assert detail["name"] == "不动产首次登记" and detail["department_code"] == "realty"
    # "P30/5" in the catalogue: promised in 5 working days, 30 by statute
    assert (detail["kind"], detail["promised_limit"], detail["statutory_limit"]) == (
        "promised",
        5,
        30,
    )
    assert "id" not in detail
    materials = detail["materials"]
    assert [m["position"] for m in materials] == list(range(1, len(materials) + 1))
    by_name = {m["name"]: m for m in materials}
    assert by_name["申请人身份证明"]["is_key"] is True  # "!" in the catalogue
    assert any(m["is_key"] is False for m in materials)  # a non-key one (容缺受理)
    assert {f["name"]: f["amount_cents"] for f in detail["fees"]} == {
        "不动产登记费（住宅）": 8000,
        "不动产权属证书工本费（第二本起）": 1000,
    }
    assert all(f["basis"] for f in detail["fees"])

    # copies and notes of materials
    amr = await api.ok("admin", "GET", f"{H}/items/amr-001")
    agent = next(m for m in amr["materials"] if m["name"] == "授权委托书及受托人身份证明")
    assert agent["is_key"] is False and agent["note"] == "委托他人办理时提交"
    assert amr["fees"] == []


async def test_unknown_item_is_404(api: Api):
    await api.error("admin", "GET", f"{H}/items/nope-999", 404, "unknown_item", "code")
    # an item of the city is not found through a county hall unless the county offers it
    await api.login("supervisor1")
    await api.error("supervisor1", "GET", "/api/halls/juxian/items/realty-016", 404, "unknown_item")
    assert (await api.ok("supervisor1", "GET", "/api/halls/juxian/items/amr-001"))[
        "name"
    ] == "企业设立登记"


# ------------------------------------------------------------------------------ calendar
async def test_defaults_follow_the_halls_service_day_not_the_servers(api: Api, live):
    """Without dates, the calendar lists the service day's year and the duty roster shows the
    service day: the hall's (Asia/Shanghai), from the server's clock, whatever the machine's
    zone. At 16:30 UTC on 31 Dec it is already 1 Jan in the hall."""
    live.app[CONTEXT].clock = lambda: datetime(2025, 12, 31, 16, 30, tzinfo=UTC)
    days = [d["day"] for d in (await api.ok("admin", "GET", H + "/calendar"))["days"]]
    assert days[0] == "2026-01-01" and days[-1].startswith("2026-")
    live.app[CONTEXT].clock = lambda: datetime(2026, 1, 4, 16, 30, tzinfo=UTC)
    duty = await api.ok("admin", "GET", H + "/duty")
    assert (duty["date"], len(duty["leaders"])) == ("2026-01-05", 25)  # a Monday


async def test_calendar_range(api: Api):
    days = (
        await api.ok(
            "admin", "GET", H + "/calendar", params={"from": "2026-09-01", "to": "2026-10-31"}
        )
    )["days"]
    by_day = {d["day"]: d for d in days}
    assert all("2026-09-01" <= d <= "2026-10-31" for d in by_day)
    assert by_day["2026-10-01"]["is_working"] is False and "国庆" in by_day["2026-10-01"]["note"]
    assert by_day["2026-10-10"]["is_working"] is True  # 调休上班 on a Saturday
    assert [d["day"] for d in days] == sorted(by_day)
    one = (
        await api.ok(
            "admin", "GET", H + "/calendar", params={"from": "2026-10-01", "to": "2026-10-01"}
        )
    )["days"]
    assert [d["day"] for d in one] == ["2026-10-01"]
    await api.error(
        "admin",
        "GET",
        H + "/calendar",
        400,
        "invalid_range",
        "to",
        params={"from": "2026-10-02", "to": "2026-10-01"},
    )
    await api.error(
        "admin",
        "GET",
        H + "/calendar",
        400,
        "invalid_range",
        "to",
        params={"from": "2000-01-01", "to": "2026-10-01"},
    )


DEADLINE = {"start": "2026-12-01T10:00:00+08:00", "amount": "1", "unit": "working_day"}


async def test_set_calendar_day_moves_the_deadline(api: Api, db):
    before = await api.ok("admin", "GET", H + "/deadline", params=DEADLINE)
    assert before["due"] == "2026-12-02T17:00:00+08:00"
    assert before["amount"] == 1 and before["unit"] == "working_day"

    body = await api.ok(
        "admin",
        "PUT",
        H + "/calendar/2026-12-02",
        json={"is_working": False, "note": "系统升级停办"},
    )
    # the answer names the event it committed
    assert body == {"day": "2026-12-02", "is_working": False, "note": "系统升级停办", "seq": [1]}
    days = (
        await api.ok(
            "admin", "GET", H + "/calendar", params={"from": "2026-12-02", "to": "2026-12-02"}
        )
    )["days"]
    assert [(d["day"], d["is_working"], d["note"]) for d in days] == [
        ("2026-12-02", False, "系统升级停办")
    ]
    after = await api.ok("admin", "GET", H + "/deadline", params=DEADLINE)
    assert after["due"] == "2026-12-03T17:00:00+08:00"

    # only this hall's calendar changed
    await api.login("supervisor1")
    county = await api.ok("supervisor1", "GET", "/api/halls/juxian/deadline", params=DEADLINE)
    assert county["due"] == "2026-12-02T17:00:00+08:00"

    # and back: a working day again
    await api.ok("admin", "PUT", H + "/calendar/2026-12-02", json={"is_working": True})
    again = await api.ok("admin", "GET", H + "/deadline", params=DEADLINE)
    assert again["due"] == "2026-12-02T17:00:00+08:00"
    # a Saturday made a working day (调休) shortens a limit over the weekend
    fri = {**DEADLINE, "start": "2026-12-04T10:00:00+08:00"}
    assert (await api.ok("admin", "GET", H + "/deadline", params=fri))[
        "due"
    ] == "2026-12-07T17:00:00+08:00"
    await api.ok(
        "admin", "PUT", H + "/calendar/2026-12-05", json={"is_working": True, "note": "调休上班"}
    )
    assert (await api.ok("admin", "GET", H + "/deadline", params=fri))[
        "due"
    ] == "2026-12-05T17:00:00+08:00"
    events = (await api.ok("admin", "GET", H + "/events", params={"since": "0"}))["events"]
    assert [e["data"]["day"] for e in events if e["type"] == "calendar.day_set"] == [
        "2026-12-02",
        "2026-12-02",
        "2026-12-05",
    ]


async def test_deadline_by_item_and_in_hours(api: Api):
    item = await api.ok("admin", "GET", f"{H}/items/amr-001")
    due = await api.ok(
        "admin", "GET", H + "/deadline", params={"start": DEADLINE["start"], "item": "amr-001"}
    )
    assert (due["amount"], due["unit"]) == (item["promised_limit"], item["limit_unit"])
    assert due["start"] == "2026-12-01T10:00:00+08:00"
    # "P15/2": promised in 2 working days, so Tue 10:00 -> Thu 17:00
    assert (due["amount"], due["unit"]) == (2, "working_day")
    assert due["due"] == "2026-12-03T17:00:00+08:00"
    hours = await api.ok(
        "admin",
        "GET",
        H + "/deadline",
        params={"start": DEADLINE["start"], "amount": "4", "unit": "working_hour"},
    )
    # 10:00 + 4 working hours, with the lunch break 12:00–13:00
    assert hours["due"] == "2026-12-01T15:00:00+08:00"
    await api.error(
        "admin",
        "GET",
        H + "/deadline",
        404,
        "unknown_item",
        "item",
        params={"start": DEADLINE["start"], "item": "nope-1"},
    )


BAD_DEADLINES = [
    ({"start": "yesterday", "amount": "1", "unit": "working_day"}, "start"),
    ({"start": "2026-12-01T10:00:00", "amount": "1", "unit": "working_day"}, "start"),  # no tz
    ({"start": DEADLINE["start"], "amount": "abc", "unit": "working_day"}, "amount"),
    ({"start": DEADLINE["start"], "amount": "-1", "unit": "working_day"}, "amount"),
    ({"start": DEADLINE["start"], "amount": "100000", "unit": "working_day"}, "amount"),
    ({"start": DEADLINE["start"], "amount": "1", "unit": "fortnight"}, "unit"),
    ({"start": DEADLINE["start"], "amount": "1"}, "unit"),
    ({"start": DEADLINE["start"]}, "unit"),
    ({"start": "9999-12-31T10:00:00+08:00", "amount": "1000", "unit": "working_day"}, "start"),
    ({"start": "0001-01-01T10:00:00+08:00", "amount": "1", "unit": "working_day"}, "start"),
]

BAD_DATES = [
    ("GET", H + "/calendar?from=2026-13-01&to=2026-12-31", "from", None),
    ("GET", H + "/calendar?from=2026-01-01&to=abc", "to", None),
    ("GET", H + "/duty?date=2026-02-30", "date", None),
    ("GET", H + "/duty?date=", "date", None),
    ("PUT", H + "/calendar/2026-02-30", "day", {"is_working": False}),
    ("PUT", H + "/calendar/tomorrow", "day", {"is_working": False}),
    ("PUT", H + "/duty/2026-1-5", "day", {"staff_ids": []}),
    ("PUT", H + "/duty/%E4%BB%8A%E5%A4%A9", "day", {"staff_ids": []}),
]


async def expect_all(api: Api, db, cases: list[tuple]) -> None:
    """cases: (method, url, kwargs, status, code, field). Every one must answer exactly so,
    and change nothing (the hall's event sequence stays put). Lists every mismatch."""
    wrong = []
    for method, url, kw, status, code, field in cases:
        before = await db.fetchval("select last_seq from hall_seq where hall_id = 1")
        got, body = await api.call("admin", method, url, **kw)
        err = body.get("error", {}) if isinstance(body, dict) else {}
        if (got, err.get("code")) != (status, code) or (field and err.get("field") != field):
            wrong.append(
                f"{method} {url} {kw}: want {status} {code} field={field}, got {got} {body}"
            )
        elif not err.get("message"):
            wrong.append(f"{method} {url}: error without a message: {body}")
        if await db.fetchval("select last_seq from hall_seq where hall_id = 1") != before:
            wrong.append(f"{method} {url} {kw}: refused but the hall's events moved")
    assert not wrong, f"{len(wrong)} of {len(cases)} wrong:\n" + "\n".join(wrong)


async def test_bad_deadline_query_is_400(api: Api, db):
    await expect_all(
        api,
        db,
        [
            ("GET", H + "/deadline", {"params": params}, 400, "invalid_query", field)
            for params, field in BAD_DEADLINES
        ],
    )


async def test_bad_dates_are_400_invalid_date(api: Api, db):
    await expect_all(
        api,
        db,
        [
            (method, url, {"json": body}, 400, "invalid_date", field)
            for method, url, field, body in BAD_DATES
        ],
    )


async def test_duty_roster_get_and_put(api: Api, db):
    seeded = await api.ok("admin", "GET", H + "/duty", params={"date": "2026-12-01"})
    assert seeded["date"] == "2026-12-01"
    assert len(seeded["leaders"]) == 25  # every department's leader
    assert {d["department"] for d in seeded["leaders"]} >= {"amr", "realty", "psb"}
    weekend = await api.ok("admin", "GET", H + "/duty", params={"date": "2026-12-05"})
    assert weekend["leaders"] == []

    ids = {
        r["username"]: r["id"]
        for r in await db.fetch(
            "select id, username from staff where username = any($1::text[])",
            ["leader.amr", "leader.realty", "clerk001", "supervisor1", "juxian.leader.amr"],
        )
    }
    body = await api.ok(
        "admin",
        "PUT",
        H + "/duty/2026-12-01",
        json={"staff_ids": [ids["leader.realty"], ids["leader.amr"], ids["leader.amr"]]},
    )
    assert [(d["username"], d["department"]) for d in body["leaders"]] == [
        ("leader.amr", "amr"),
        ("leader.realty", "realty"),
    ]
    got = await api.ok("admin", "GET", H + "/duty", params={"date": "2026-12-01"})
    assert got["leaders"] == body["leaders"]

    # not a leader of this hall: refused, roster untouched
    for sid in (ids["clerk001"], ids["supervisor1"], ids["juxian.leader.amr"], 999_999):
        await api.error(
            "admin",
            "PUT",
            H + "/duty/2026-12-01",
            400,
            "not_a_leader",
            "staff_ids",
            json={"staff_ids": [ids["leader.amr"], sid]},
        )
    assert (await api.ok("admin", "GET", H + "/duty", params={"date": "2026-12-01"})) == got
    # nor a leader the admin has disabled: they cannot sign off
    await db.execute("update staff set active = false where id = $1", ids["leader.realty"])
    await api.error(
        "admin",
        "PUT",
        H + "/duty/2026-12-02",
        400,
        "not_a_leader",
        "staff_ids",
        json={"staff_ids": [ids["leader.realty"]]},
    )

    # an empty list clears the day
    assert (await api.ok("admin", "PUT", H + "/duty/2026-12-01", json={"staff_ids": []}))[
        "leaders"
    ] == []
    events = (await api.ok("admin", "GET", H + "/events", params={"since": "0"}))["events"]
    assert [e["type"] for e in events] == ["duty.set", "duty.set"]


# ------------------------------------------------------------------------------ bad bodies
BAD_BODIES = [
    # (description, raw bytes or JSON, status, code)
    ("malformed JSON", b'{"text": "x"', 400, "malformed_json"),
    ("not UTF-8", b'{"text": "\xff\xfe"}', 400, "malformed_json"),
    ("a JSON list", b'["x"]', 400, "malformed_json"),
    ("a JSON string", b'"x"', 400, "malformed_json"),
    ("JSON null", b"null", 400, "malformed_json"),
    ("empty", b"", 400, "empty_body"),
    ("deeply nested", b"[" * 100_000 + b"]" * 100_000, 413, "body_too_large"),
    (
        "nested past the parser's limit",
        b'{"text": ' + b"[" * 2000 + b"]" * 2000 + b"}",
        400,
        "malformed_json",
    ),
    ("oversized", b'{"text": "' + b"x" * 70_000 + b'"}', 413, "body_too_large"),
]


async def test_bad_body_on_put_is_4xx(api: Api, db):
    notice = await db.fetchval("select notice_line from hall where code = 'rizhao'")
    await expect_all(
        api,
        db,
        [
            (
                "PUT",
                H + "/notice",
                {"data": raw, "headers": {"Content-Type": "application/json"}},
                status,
                code,
                None,
            )
            for _, raw, status, code in BAD_BODIES
        ],
    )
    assert await db.fetchval("select notice_line from hall where code = 'rizhao'") == notice


WRONG_TYPES = [
    (H + "/notice", {"text": 5}, "text"),
    (H + "/notice", {"text": None}, "text"),
    (H + "/notice", {"text": ["a"]}, "text"),
    (H + "/notice", {}, "text"),
    (H + "/notice", {"text": "长" * 501}, "text"),
    (H + "/calendar/2026-12-02", {"is_working": "perhaps"}, "is_working"),
    (H + "/calendar/2026-12-02", {"is_working": None}, "is_working"),
    (H + "/calendar/2026-12-02", {"is_working": False, "note": 7}, "note"),
    (H + "/calendar/2026-12-02", {"is_working": False, "note": "长" * 101}, "note"),
    (H + "/duty/2026-12-01", {"staff_ids": "1,2"}, "staff_ids"),
    (H + "/duty/2026-12-01", {"staff_ids": [1.5]}, "staff_ids.0"),
    (H + "/duty/2026-12-01", {"staff_ids": ["x"]}, "staff_ids.0"),
    (H + "/duty/2026-12-01", {"staff_ids": list(range(1, 200))}, "staff_ids"),
]


async def test_wrong_types_on_put_are_400_invalid_field(api: Api, db):
    await expect_all(
        api,
        db,
        [
            ("PUT", url, {"json": body}, 400, "invalid_field", field)
            for url, body, field in WRONG_TYPES
        ],
    )


async def test_values_the_database_cannot_take_are_400_not_500(api: Api, db):
    """NUL in text, ids beyond int4: bad input, not a database error."""
    await expect_all(
        api,
        db,
        [
            (
                "PUT",
                H + "/notice",
                {"json": {"text": "含有\x00空字符"}},
                400,
                "invalid_field",
                "text",
            ),
            (
                "PUT",
                H + "/calendar/2026-12-02",
                {"json": {"is_working": False, "note": "\x00"}},
                400,
                "invalid_field",
                "note",
            ),
            (
                "PUT",
                H + "/duty/2026-12-01",
                {"json": {"staff_ids": [2**40]}},
                400,
                "invalid_field",
                "staff_ids.0",
            ),
            (
                "PUT",
                H + "/duty/2026-12-01",
                {"json": {"staff_ids": [10**30]}},
                400,
                "invalid_field",
                "staff_ids.0",
            ),
            (
                "PUT",
                H + "/duty/2026-12-01",
                {"json": {"staff_ids": [-1]}},
                400,
                "invalid_field",
                "staff_ids.0",
            ),
        ],
    )


async def test_deeply_nested_body_is_400(api: Api, db):
    """Nested as deep as the JSON parser allows, with a NUL at the bottom: still a 400."""

    def raw(depth: int) -> bytes:
        return b'{"text": ' + b"[" * depth + b'"\\u0000"' + b"]" * depth + b"}"

    await expect_all(
        api,
        db,
        [
            (
                "PUT",
                H + "/notice",
                {"data": raw(depth), "headers": {"Content-Type": "application/json"}},
                400,
                "invalid_field",
                None,
            )
            for depth in (1, 900, 1020)
        ],
    )


async def test_notice_put_is_trimmed_and_read_back(api: Api):
    body = await api.ok("admin", "PUT", H + "/notice", json={"text": "  今日下午系统维护  "})
    assert body == {"text": "今日下午系统维护", "seq": [1]}
    assert (await api.ok("admin", "GET", H))["notice_line"] == "今日下午系统维护"
    assert (await api.ok("admin", "GET", H + "/snapshot"))["notice_line"] == "今日下午系统维护"


async def test_unknown_route_and_method_are_json_4xx(api: Api):
    await api.error("admin", "GET", "/api/nothing-here", 404, "not_found")
    await api.error("admin", "DELETE", H + "/notice", 405, "method_not_allowed")
