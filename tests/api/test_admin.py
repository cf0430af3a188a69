"""The hall's administration over HTTP (issue 12): staff with one-time passwords and the forced
change, password rules and history, disabling and unlocking, sessions; devices registered,
revoked (their live connection cut) and rotated; windows added and re-configured while the
hall runs; items versioned; settings; and the audit of each."""

from __future__ import annotations

import asyncio

import orjson
import pytest
import websockets
from aiohttp import ClientSession
from websockets.exceptions import ConnectionClosed

from realtime import protocol as p
from server import demo_hall
from tests.api_client import Api
from tests.cases.helpers import at, use_clock
from tests.conftest import login
from tests.queue_helpers import bearer, clerk_at_window, command, kiosk_token, register
from tests.realtime.feed import FeedClient

H = "/api/halls/rizhao"
CUT_WITHIN = 2.0  # seconds: a revoked device's live connection closes within this


async def _new_clerk(api: Api, username: str, department: str = "amr") -> dict:
    status, body = await api.call(
        "admin",
        "POST",
        f"{H}/staff",
        json={"username": username, "name": "新同事", "role": "clerk", "department": department},
    )
    assert status == 201, body
    return body


async def test_a_new_clerk_changes_the_one_time_password_before_anything_else(live, http):
    api = Api(http)
    await api.login("admin")
    created = await _new_clerk(api, "wang.new")
    assert len(created["password"]) >= 10
    # the one-time password logs in, but nothing can be done until it is changed
    body = await login(http, "wang.new", created["password"])
    assert body["actor"]["must_change_password"] is True
    token = body["token"]
    api.tokens["wang.new"] = token
    await api.error("wang.new", "GET", H, 403, "password_change_required")
    await api.error("wang.new", "POST", f"{H}/windows/3/sign-in", 403, "password_change_required")
    assert (await api.ok("wang.new", "GET", "/api/session"))["actor"]["name"] == "新同事"
    # nor a live connection: the plain feed closes it at its hello
    async with websockets.connect(live.ws_url + "/ws/display") as ws:
        await ws.recv()  # auth_required
        await ws.send(orjson.dumps({"type": "auth", "token": token}).decode())
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await ws.recv()
    assert closed.value.rcvd.code == p.CLOSE_FORBIDDEN
    assert closed.value.rcvd.reason.startswith("password_change_required")
    # the rules: length, three kinds of character, not the username, not the old one
    change = "/api/auth/password"
    for new, code in [
        ("short1A", "weak_password"),
        ("alllowercase123", "weak_password"),
        ("Wang.new-2026x", "weak_password"),
        (created["password"], "password_reused"),
    ]:
        await api.error(
            "wang.new",
            "POST",
            change,
            400,
            code,
            json={"current": created["password"], "new": new},
        )
    await api.error(
        "wang.new",
        "POST",
        change,
        400,
        "wrong_password",
        json={"current": "not-it", "new": "Hallops-2026!"},
    )
    await api.ok(
        "wang.new", "POST", change, json={"current": created["password"], "new": "Hallops-2026!"}
    )
    # the same session goes on, now allowed
    await api.ok("wang.new", "GET", H)
    # the last five passwords may not come back
    previous = "Hallops-2026!"
    for n in range(5):
        new = f"Rotate-{n}-Pass"
        await api.ok("wang.new", "POST", change, json={"current": previous, "new": new})
        previous = new
    await api.error(
        "wang.new",
        "POST",
        change,
        400,
        "password_reused",
        json={"current": previous, "new": "Rotate-1-Pass"},
    )
    await api.ok(
        "wang.new", "POST", change, json={"current": previous, "new": "Hallops-2026!"}
    )  # six back: allowed again


async def test_created_clerk_signs_in_at_a_window_and_calls(live, http, db):
    use_clock(live, at("2026-12-07 10:00"))
    api = Api(http)
    await api.login("admin")
    created = await _new_clerk(api, "li.new")
    token = (await login(http, "li.new", created["password"]))["token"]
    api.tokens["li.new"] = token
    await api.ok(
        "li.new",
        "POST",
        "/api/auth/password",
        json={"current": created["password"], "new": "Li-new-2026"},
    )
    await api.ok("li.new", "POST", f"{H}/windows/3/sign-in")
    await api.ok("li.new", "POST", f"{H}/windows/3/status", json={"status": "open"})
    kiosk = await kiosk_token(http)
    reg = await register(http, kiosk, "amr-001")
    called = await command(http, token, 3, "call-next")
    assert called["ticket"]["ticket_no"] == reg["ticket"]["ticket_no"]
    # the audit names the admin who created them
    row = await db.fetchrow(
        "select actor_kind, action, outcome, detail from audit where action = 'staff.create'"
    )
    assert (row["actor_kind"], row["outcome"], row["detail"]["username"]) == (
        "staff",
        "ok",
        "li.new",
    )


async def test_disabling_a_clerk_signs_them_out_and_ends_their_sessions(live, http, db):
    api = Api(http)
    await api.login("admin")
    token = await clerk_at_window(db, 1)
    staff_id, phone = await db.fetchrow("select id, phone from staff where username = 'clerk001'")
    body = await api.ok(
        "admin",
        "PUT",
        f"{H}/staff/{staff_id}",
        json={
            "name": "停用者",
            "role": "clerk",
            "department": "amr",
            "phone": phone,
            "active": False,
        },
    )
    assert body["changes"] == {"active": False, "name": "停用者"} and body["sessions_ended"] == 1
    assert (
        await db.fetchval(
            "select count(*) from window_signin ws join service_window w on w.id = ws.window_id "
            "where w.window_no = 1 and w.hall_id = (select id from hall where code = 'rizhao')"
        )
        == 0
    )
    resp = await http.get("/api/session", headers=bearer(token))
    assert resp.status == 401
    resp = await http.post(
        "/api/auth/login", json={"username": "clerk001", "password": "whatever-it-was"}
    )
    assert resp.status == 401
    # an admin cannot disable themselves
    admin_id = await db.fetchval("select id from staff where username = 'admin'")
    await api.error(
        "admin",
        "PUT",
        f"{H}/staff/{admin_id}",
        403,
        "self_demotion",
        json={"name": "管理员", "role": "admin", "active": False},
    )


async def test_reset_unlock_and_sessions(live, http, db):
    api = Api(http)
    await api.login("admin")
    staff_id = await db.fetchval("select id from staff where username = 'clerk002'")
    # five wrong passwords lock the account; the admin unlocks it
    for _ in range(5):
        await http.post("/api/auth/login", json={"username": "clerk002", "password": "wrong"})
    resp = await http.post("/api/auth/login", json={"username": "clerk002", "password": "wrong"})
    assert resp.status == 423
    listed = {s["username"]: s for s in (await api.ok("admin", "GET", f"{H}/admin/staff"))["staff"]}
    assert listed["clerk002"]["locked"] is True
    assert (await api.ok("admin", "POST", f"{H}/staff/{staff_id}/unlock"))["was_locked"] is True
    first = (await login(http, "clerk002"))["token"]
    second = (await login(http, "clerk002"))["token"]
    sessions = (await api.ok("admin", "GET", f"{H}/staff/{staff_id}/sessions"))["sessions"]
    assert len(sessions) == 2
    # ending one session: that token stops, the other goes on
    newest = sessions[0]["session"]
    await api.ok("admin", "POST", f"{H}/staff/{staff_id}/sessions/{newest}/end")
    alive = [(await http.get("/api/session", headers=bearer(t))).status for t in (first, second)]
    assert sorted(alive) == [200, 401]
    await api.error(
        "admin", "POST", f"{H}/staff/{staff_id}/sessions/{newest}/end", 404, "unknown_session"
    )
    # a reset: a new one-time password, every session ends, the old password stops
    reset = await api.ok("admin", "POST", f"{H}/staff/{staff_id}/password-reset")
    assert reset["sessions_ended"] == 1
    ended = [(await http.get("/api/session", headers=bearer(t))).status for t in (first, second)]
    assert ended == [401, 401]
    resp = await http.post(
        "/api/auth/login",
        json={"username": "clerk002", "password": demo_hall.password_for("clerk002")},
    )
    assert resp.status == 401
    assert (await login(http, "clerk002", reset["password"]))["actor"]["must_change_password"]


async def test_a_revoked_device_is_cut_off_and_a_rotated_one_needs_its_new_secret(live, http):
    api = Api(http)
    await api.login("admin")
    status, body = await api.call(
        "admin",
        "POST",
        f"{H}/devices",
        json={"code": "display-lobby-2", "kind": "display", "name": "二楼大屏"},
    )
    assert status == 201, body
    device_id, secret = body["id"], body["secret"]
    resp = await http.post("/api/auth/device", json={"code": "display-lobby-2", "secret": secret})
    token = (await resp.json())["token"]
    async with FeedClient(live.ws_url, token) as feed:
        await feed.until_live()
        loop = asyncio.get_running_loop()
        await api.ok("admin", "POST", f"{H}/devices/{device_id}/revoke")
        t0 = loop.time()
        code = None
        try:
            while True:
                await feed.next(CUT_WITHIN)
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd else None
        assert loop.time() - t0 < CUT_WITHIN
        assert code == p.CLOSE_UNAUTHENTICATED
    resp = await http.post("/api/auth/device", json={"code": "display-lobby-2", "secret": secret})
    assert resp.status == 401
    # a new secret brings it back; the old one stays refused
    rotated = await api.ok("admin", "POST", f"{H}/devices/{device_id}/rotate")
    assert rotated["secret"] != secret
    for given, want in ((secret, 401), (rotated["secret"], 200)):
        resp = await http.post(
            "/api/auth/device", json={"code": "display-lobby-2", "secret": given}
        )
        assert resp.status == want
    devices = {d["code"]: d for d in (await api.ok("admin", "GET", f"{H}/devices"))["devices"]}
    assert devices["display-lobby-2"]["active"] is True
    await api.error(
        "admin",
        "POST",
        f"{H}/devices",
        409,
        "device_code_taken",
        json={"code": "display-lobby-2", "kind": "display", "name": "重复"},
    )
    await api.error(
        "admin",
        "POST",
        f"{H}/devices",
        400,
        "invalid_window",
        json={"code": "rater-x", "kind": "rater", "name": "评价器"},
    )


async def test_windows_change_while_the_hall_runs(live, http, db):
    use_clock(live, at("2026-12-07 10:00"))
    api = Api(http)
    await api.login("admin")
    queues = [q["code"] for q in (await api.ok("admin", "GET", f"{H}/queues"))["queues"]]
    other = next(q for q in queues if q != "amr")
    status, body = await api.call(
        "admin",
        "POST",
        f"{H}/windows",
        json={"window_no": 131, "name": "综合受理", "department": "amr", "queues": [["amr"]]},
    )
    assert status == 201, body
    snapshot = await api.ok("admin", "GET", f"{H}/snapshot")
    assert 131 in [w["window_no"] for w in snapshot["windows"]]
    await api.error(
        "admin",
        "POST",
        f"{H}/windows",
        409,
        "window_exists",
        json={"window_no": 131, "name": "重复", "department": "amr", "queues": [["amr"]]},
    )
    await api.error(
        "admin",
        "PUT",
        f"{H}/windows/131",
        404,
        "unknown_queue",
        json={"name": "综合受理", "department": "amr", "queues": [["nope"]]},
    )
    # a clerk at window 131 calls from the queue the admin adds while they work
    token = await clerk_at_window(db, 131, username="clerk003")
    kiosk = await kiosk_token(http)
    item = await db.fetchval(
        "select i.code from item i join queue q on q.id = i.queue_id where q.code = $1 "
        "and i.active and i.hall_id = q.hall_id order by i.code limit 1",
        other,
    )
    reg = await register(http, kiosk, item)
    await command(http, token, 131, "call-next", expect=409)  # not its queue yet
    await api.ok(
        "admin",
        "PUT",
        f"{H}/windows/131",
        json={"name": "综合受理", "department": "amr", "queues": [["amr", other]]},
    )
    called = await command(http, token, 131, "call-next")
    assert called["ticket"]["ticket_no"] == reg["ticket"]["ticket_no"]


async def test_a_green_channel_window_calls_priority_citizens_only(live, http, db):
    use_clock(live, at("2026-12-07 10:00"))
    api = Api(http)
    await api.login("admin")
    await api.ok(
        "admin",
        "PUT",
        f"{H}/windows/3",
        json={
            "name": "爱心窗口",
            "department": "amr",
            "queues": [["amr"]],
            "priority_rule": "priority_only",
        },
    )
    token = await clerk_at_window(db, 3)
    kiosk = await kiosk_token(http)
    await register(http, kiosk, "amr-001")
    elderly = await register(http, kiosk, "amr-001", priority="elderly")
    called = await command(http, token, 3, "call-next")
    assert called["ticket"]["ticket_no"] == elderly["ticket"]["ticket_no"]
    await command(http, token, 3, "start")
    await command(http, token, 3, "finish")
    await command(http, token, 3, "call-next", expect=409)  # the other citizen is not theirs


async def test_an_item_is_versioned_and_a_case_keeps_its_version(live, http, db):
    use_clock(live, at("2026-12-07 10:00"))
    api = Api(http)
    await api.login("admin")
    item = {
        "name": "测试事项",
        "department": "amr",
        "kind": "promised",
        "limit_unit": "working_day",
        "statutory_limit": 20,
        "promised_limit": 5,
        "queue": "amr",
        "materials": [{"name": "身份证"}, {"name": "委托书", "is_key": False, "copies": 2}],
        "fees": [{"name": "工本费", "amount_cents": 1000}],
    }
    first = await api.ok("admin", "PUT", f"{H}/items/test-1", json=item)
    assert (first["version"], len(first["materials"])) == (1, 2)
    # a case accepted under version 1
    token = await clerk_at_window(db, 2)
    kiosk = await kiosk_token(http)
    await register(http, kiosk, "test-1")
    await command(http, token, 2, "call-next")
    await command(http, token, 2, "start")
    resp = await http.post(
        f"{H}/cases",
        json={"item": "test-1", "applicant": {"name": "张三"}},
        headers=bearer(token),
    )
    case = await resp.json()
    assert resp.status == 201, case
    second = await api.ok(
        "admin",
        "PUT",
        f"{H}/items/test-1",
        json={**item, "promised_limit": 3, "materials": [{"name": "身份证"}], "fees": []},
    )
    assert (second["version"], second["promised_limit"], second["fees"]) == (2, 3, [])
    row = await db.fetchrow(
        "select item_version, limit_amount, (select count(*) from case_material m "
        "where m.case_id = c.id) as materials from service_case c where id = $1",
        case["case_id"],
    )
    assert tuple(row) == (1, 5, 2)
    versions = (await api.ok("admin", "GET", f"{H}/items/test-1/versions"))["versions"]
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[1]["definition"]["promised_limit"] == 5
    await api.error(
        "admin",
        "PUT",
        f"{H}/items/test-1",
        400,
        "invalid_limit",
        json={**item, "promised_limit": 30},
    )
    # the published fee list is the new one: the old fee is refused now
    fees = (await api.ok("admin", "GET", f"{H}/items/test-1"))["fees"]
    assert fees == []


async def test_settings_are_checked_and_saved(live, http):
    api = Api(http)
    await api.login("admin")
    settings = await api.ok("admin", "GET", f"{H}/settings")
    assert settings["is_demo"] is True
    settings.pop("is_demo")
    await api.error(
        "admin",
        "PUT",
        f"{H}/settings",
        400,
        "invalid_settings",
        json={**settings, "closes_at": "16:00"},
    )
    await api.error(
        "admin",
        "PUT",
        f"{H}/settings",
        400,
        "invalid_work_periods",
        json={**settings, "work_periods": [["09:00", "12:00"], ["11:00", "17:00"]]},
    )
    body = await api.ok(
        "admin",
        "PUT",
        f"{H}/settings",
        json={**settings, "work_periods": [["08:30", "12:00"], ["13:30", "17:00"]]},
    )
    assert body["changes"] == {"work_periods": [["08:30", "12:00"], ["13:30", "17:00"]]}
    again = await api.ok("admin", "GET", f"{H}/settings")
    assert again["work_periods"] == [["08:30", "12:00"], ["13:30", "17:00"]]
    # the notice lines kept at hand, blank ones dropped
    again.pop("is_demo")
    body = await api.ok(
        "admin",
        "PUT",
        f"{H}/settings",
        json={**again, "notice_templates": ["今日系统维护，暂停办理不动产业务", " "]},
    )
    assert body["notice_templates"] == ["今日系统维护，暂停办理不动产业务"]
    # a client that leaves them out (an older script) keeps them
    again.pop("notice_templates")
    body = await api.ok("admin", "PUT", f"{H}/settings", json={**again, "park_minutes": 50})
    assert body["notice_templates"] == ["今日系统维护，暂停办理不动产业务"]
    # the kiosks' early opening follows the setting
    await api.ok("admin", "PUT", f"{H}/settings", json={**again, "registration_lead_minutes": 60})
    hours = await (await http.get(f"{H}/registration-hours")).json()
    # an hour before the first working period, 08:30 since the change above
    assert (hours["hours"]["lead_minutes"], hours["hours"]["opens"]) == (60, "07:30"), hours


async def test_a_county_admin_cannot_touch_the_city(live):
    async with ClientSession(base_url=live.url) as http:
        api = Api(http)
        await api.login("juxian.admin")
        await api.error(
            "juxian.admin",
            "POST",
            f"{H}/staff",
            403,
            "other_hall",
            json={"username": "intruder", "name": "x", "role": "admin"},
        )
