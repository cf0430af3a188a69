"""The kiosk keeps the hall's opening hours (issue 12: "tickets issued at 01:05 with the hall
closed"): outside them a registration is refused with 409 hall_closed and the hours, unless the
admin opened registration; on the server's controllable clock, with the hours on (the other
tests run with them off: their hour is whatever hour the suite runs at)."""

from __future__ import annotations

import pytest
from aiohttp import ClientSession, CookieJar

from tests.cases.helpers import at, use_clock
from tests.conftest import LiveServer, login
from tests.conftest import test_settings as make_settings
from tests.queue_helpers import bearer, kiosk_token

HOURS = "/api/halls/rizhao/registration-hours"
REGISTRATIONS = "/api/halls/rizhao/registrations"
# the demo's work periods, 09:00–12:00 and 13:00–17:00, with the default 30 minutes' lead
HOURS_TEXT = "取号时间：工作日 08:30–17:00（办理时间 09:00–12:00、13:00–17:00）"
MONDAY = "2026-12-07"


@pytest.fixture
async def hours_live(db_dsn: str):
    server = await LiveServer(make_settings(registration_hours=True), db_dsn).start()
    yield server
    await server.stop()


@pytest.fixture
async def http(hours_live: LiveServer):
    async with ClientSession(base_url=hours_live.url, cookie_jar=CookieJar(unsafe=True)) as s:
        yield s


async def _register(http: ClientSession, kiosk: str) -> tuple[int, dict]:
    resp = await http.post(REGISTRATIONS, json={"item": "amr-002"}, headers=bearer(kiosk))
    return resp.status, await resp.json()


async def test_at_0105_the_kiosk_is_refused_with_the_hours_and_at_0930_served(hours_live, http, db):
    clock = use_clock(hours_live, at(f"{MONDAY} 01:05"))
    kiosk = await kiosk_token(http)
    before = await db.fetchval("select count(*) from ticket")

    status, body = await _register(http, kiosk)
    assert status == 409, body
    assert body["error"]["code"] == "hall_closed"
    assert body["error"]["message"] == (
        f"现在不是取号时间。{HOURS_TEXT}，下次取号：12月7日（星期一）08:30"
    )
    assert await db.fetchval("select count(*) from ticket") == before  # no ticket at night
    # what the kiosk shows (public: the hours are no secret)
    resp = await http.get(HOURS)
    state = await resp.json()
    assert resp.status == 200, state
    assert (state["open"], state["by"], state["open_until"]) == (False, None, None)
    assert state["hours"]["text"] == HOURS_TEXT
    assert state["changes_at"] == f"{MONDAY}T08:30:00+08:00"

    clock.set(at(f"{MONDAY} 09:30"))
    status, body = await _register(http, kiosk)
    assert status == 201, body
    state = await (await http.get(HOURS)).json()
    assert (state["open"], state["by"]) == (True, "hours")
    assert state["changes_at"] == f"{MONDAY}T17:00:00+08:00"


@pytest.mark.parametrize(
    ("when", "is_open"),
    [
        (f"{MONDAY} 08:29", False),
        (f"{MONDAY} 08:30", True),  # half an hour before the windows open
        (f"{MONDAY} 12:30", True),  # the lunch break: tickets are called from 13:00
        (f"{MONDAY} 16:59", True),
        (f"{MONDAY} 17:00", False),  # the last period's end, not closes_at (17:30)
        ("2026-12-05 10:00", False),  # a Saturday
        ("2026-10-01 10:00", False),  # National Day, a Thursday: the hall's calendar
    ],
)
async def test_the_hours_are_the_work_periods_of_the_halls_working_days(
    hours_live, http, when, is_open
):
    use_clock(hours_live, at(when))
    status, body = await _register(http, await kiosk_token(http))
    assert status == (201 if is_open else 409), body


async def test_the_admin_opens_registration_outside_the_hours_audited_and_live(
    hours_live, http, db
):
    clock = use_clock(hours_live, at(f"{MONDAY} 01:05"))
    kiosk = await kiosk_token(http)
    admin = (await login(http, "admin"))["token"]

    resp = await http.put(
        HOURS, json={"open": True, "until": f"{MONDAY}T03:00:00+08:00"}, headers=bearer(admin)
    )
    state = await resp.json()
    assert resp.status == 200, state
    assert (state["open"], state["by"]) == (True, "admin")
    assert state["open_until"] == state["changes_at"] == f"{MONDAY}T03:00:00+08:00"
    assert state["message"] == "管理员已开放取号至 12月7日（星期一）03:00"
    event = await db.fetchrow("select type, payload from event where seq = $1", state["seq"][0])
    assert event["type"] == "registration.open_set"
    assert event["payload"]["open_until"] == f"{MONDAY}T03:00:00+08:00"
    assert event["payload"]["by"]["role"] == "admin"
    audit = await db.fetchrow(
        "select outcome, detail from audit where action = 'registration.set_open' "
        "order by id desc limit 1"
    )
    assert audit["outcome"] == "ok" and audit["detail"]["open"] is True

    status, body = await _register(http, kiosk)
    assert status == 201, body

    clock.set(at(f"{MONDAY} 03:00"))  # the opening ran out: the hours again
    status, body = await _register(http, kiosk)
    assert status == 409 and body["error"]["code"] == "hall_closed", body

    # without an instant: until the end of the hall's day
    resp = await http.put(HOURS, json={"open": True}, headers=bearer(admin))
    state = await resp.json()
    assert state["open_until"] == "2026-12-08T00:00:00+08:00", state
    status, body = await _register(http, kiosk)
    assert status == 201, body

    # withdrawn: the hours alone
    resp = await http.put(HOURS, json={"open": False}, headers=bearer(admin))
    state = await resp.json()
    assert resp.status == 200 and state["open"] is False and state["open_until"] is None, state
    status, body = await _register(http, kiosk)
    assert status == 409, body


@pytest.mark.parametrize(
    "body",
    [
        {"open": True, "until": "2026-12-07T01:00:00+08:00"},  # already past
        {"open": True, "until": "2026-12-15T01:00:00+08:00"},  # more than 7 days
        {"open": True, "until": "2026-12-07T03:00:00"},  # no offset
        {"open": False, "until": "2026-12-07T03:00:00+08:00"},
    ],
)
async def test_an_opening_that_makes_no_sense_is_refused(hours_live, http, db, body):
    use_clock(hours_live, at(f"{MONDAY} 01:05"))
    admin = (await login(http, "admin"))["token"]
    resp = await http.put(HOURS, json=body, headers=bearer(admin))
    answer = await resp.json()
    assert resp.status == 400 and answer["error"]["code"] == "invalid_until", answer
    assert await db.fetchval("select registration_open_until from hall where code = 'rizhao'") is (
        None
    )
