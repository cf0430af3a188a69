"""Window sign-in, sign-out and status over HTTP: the happy paths, the conflicts, bad input,
and the events and audit rows each command leaves behind."""

from __future__ import annotations

import pytest
from aiohttp import ClientSession, DummyCookieJar

from tests.api_client import Api as BaseApi

W = "/api/halls/rizhao/windows"


class Api(BaseApi):
    """The shared client, plus the hall's event log and window list."""

    async def head(self, who: str) -> int:
        return (await self.ok(who, "GET", "/api/halls/rizhao/events?since=0&limit=1"))["head"]

    async def events_since(self, who: str, since: int) -> list[dict]:
        return (await self.ok(who, "GET", f"/api/halls/rizhao/events?since={since}"))["events"]

    async def window(self, who: str, no: int) -> dict:
        windows = (await self.ok(who, "GET", W))["windows"]
        return next(w for w in windows if w["window_no"] == no)


@pytest.fixture
async def api(live):
    async with ClientSession(base_url=live.url, cookie_jar=DummyCookieJar()) as session:
        yield Api(session)


async def window_id(db, no: int, hall: str = "rizhao") -> int:
    return await db.fetchval(
        "select w.id from service_window w join hall h on h.id = w.hall_id "
        "where h.code = $1 and w.window_no = $2",
        hall,
        no,
    )


async def test_sign_in_at_a_window_of_own_department(api: Api, db):
    me = await api.login("clerk005")  # amr; windows 1–17 are amr
    assert await api.ok("clerk005", "POST", f"{W}/5/sign-in") == {"window_no": 5, "seq": [1]}
    w = await api.window("clerk005", 5)
    assert w["clerk"] == {"id": me["id"], "name": me["name"]} and w["status"] == "closed"
    session = await api.ok("clerk005", "GET", "/api/session")
    assert session["actor"]["window_no"] == 5
    # signing in again at the same window is a no-op, not a conflict, and emits nothing
    head = await api.head("clerk005")
    assert await api.ok("clerk005", "POST", f"{W}/5/sign-in") == {"window_no": 5, "seq": []}
    assert await api.head("clerk005") == head
    # any window of the own department, not only the usual one: moving there is asked first
    await api.error("clerk005", "POST", f"{W}/9/sign-in", 409, "signed_in_elsewhere", "move")
    assert await api.head("clerk005") == head
    assert (await api.window("clerk005", 5))["clerk"]["id"] == me["id"]
    assert await api.ok("clerk005", "POST", f"{W}/9/sign-in?move=true") == {
        "window_no": 9,
        "seq": [head + 1, head + 2],  # signed out at 5 (closed already), signed in at 9
    }
    # another department's window is refused
    await api.error("clerk005", "POST", f"{W}/30/sign-in", 403, "other_department")
    assert (await api.window("clerk005", 9))["clerk"]["id"] == me["id"]


async def test_sign_in_at_a_taken_window_is_409(api: Api, db):
    await api.login("clerk001")
    other = await api.login("clerk002")
    await api.ok("clerk002", "POST", f"{W}/2/sign-in")
    await api.ok("clerk001", "POST", f"{W}/1/sign-in")
    head = await api.head("clerk001")
    await api.error("clerk001", "POST", f"{W}/2/sign-in", 409, "window_taken", "window_no")
    # nothing moved: clerk001 still at 1, clerk002 still at 2, no events
    assert (await api.window("clerk001", 2))["clerk"]["id"] == other["id"]
    assert (await api.ok("clerk001", "GET", "/api/session"))["actor"]["window_no"] == 1
    assert await api.head("clerk001") == head


async def test_moving_to_another_window_signs_out_of_the_old_one(api: Api, db):
    me = await api.login("clerk001")
    await api.ok("clerk001", "POST", f"{W}/1/sign-in")
    head = await api.head("clerk001")
    await api.ok("clerk001", "POST", f"{W}/3/sign-in?move=true")
    events = await api.events_since("clerk001", head)
    assert [(e["type"], e["data"]["window_no"]) for e in events] == [
        ("window.signed_out", 1),
        ("window.signed_in", 3),
    ]
    assert [e["seq"] for e in events] == [head + 1, head + 2]
    assert events[0]["window_id"] == await window_id(db, 1)
    assert events[1]["window_id"] == await window_id(db, 3)
    assert all(e["data"]["clerk_id"] == me["id"] for e in events)
    assert (await api.window("clerk001", 1))["clerk"] is None
    assert (await api.window("clerk001", 3))["clerk"]["id"] == me["id"]
    assert (
        await db.fetchval("select count(*) from window_signin where staff_id = $1", me["id"]) == 1
    )


async def test_moving_away_from_an_open_window_closes_it(api: Api):
    await api.login("clerk001")
    await api.ok("clerk001", "POST", f"{W}/1/sign-in")
    await api.ok("clerk001", "POST", f"{W}/1/status", json={"status": "open"})
    await api.ok("clerk001", "POST", f"{W}/3/sign-in?move=1")
    assert (await api.window("clerk001", 1))["status"] == "closed"


async def test_open_pause_close(api: Api, db):
    me = await api.login("clerk001")
    await api.ok("clerk001", "POST", f"{W}/1/sign-in")
    head = await api.head("clerk001")
    for n, status in enumerate(("open", "paused", "open", "closed"), start=1):
        body = await api.ok("clerk001", "POST", f"{W}/1/status", json={"status": status})
        assert body == {"window_no": 1, "status": status, "seq": [head + n]}
        assert (await api.window("clerk001", 1))["status"] == status
    # setting the status it already has changes nothing and emits nothing
    await api.ok("clerk001", "POST", f"{W}/1/status", json={"status": "closed"})
    events = await api.events_since("clerk001", head)
    assert [(e["type"], e["data"]["previous"], e["data"]["status"]) for e in events] == [
        ("window.status_changed", "closed", "open"),
        ("window.status_changed", "open", "paused"),
        ("window.status_changed", "paused", "open"),
        ("window.status_changed", "open", "closed"),
    ]
    # each carries its queues' figures after the change: window 1 is amr's only open window
    assert [
        [q["open_windows"] for q in e["data"]["queues"] if q["code"] == "amr"] for e in events
    ] == [
        [1],
        [0],
        [1],
        [0],
    ]
    wid = await window_id(db, 1)
    rows = await db.fetch(
        "select actor_kind, actor_id, window_id from event "
        "where seq > $1 and hall_id = (select id from hall where code = "
        "'rizhao') order by seq",
        head,
    )
    assert [tuple(r) for r in rows] == [("staff", me["id"], wid)] * 4


async def test_opening_without_a_clerk_is_409(api: Api):
    await api.login("admin")
    for status in ("open", "paused"):
        await api.error(
            "admin", "POST", f"{W}/7/status", 409, "no_clerk", "status", json={"status": status}
        )
    assert (await api.window("admin", 7))["status"] == "closed"
    # closing an empty, closed window is fine
    assert await api.ok("admin", "POST", f"{W}/7/status", json={"status": "closed"}) == {
        "window_no": 7,
        "status": "closed",
        "seq": [],  # nothing changed, nothing committed
    }


async def test_sign_out_closes_the_window(api: Api, db):
    me = await api.login("clerk001")
    await api.ok("clerk001", "POST", f"{W}/1/sign-in")
    await api.ok("clerk001", "POST", f"{W}/1/status", json={"status": "paused"})
    head = await api.head("clerk001")
    assert await api.ok("clerk001", "POST", f"{W}/1/sign-out") == {
        "ok": True,
        "seq": [head + 1, head + 2],  # signed out, and the window closed
    }
    w = await api.window("clerk001", 1)
    assert w["clerk"] is None and w["status"] == "closed"
    events = await api.events_since("clerk001", head)
    assert [(e["type"], e["data"]) for e in events] == [
        ("window.signed_out", {"window_no": 1, "clerk_id": me["id"]}),
        (
            "window.status_changed",
            {
                "window_no": 1,
                "status": "closed",
                "previous": "paused",
                # the figures of the queues it served, as the database computes them now
                "queues": [
                    {
                        "code": "amr",
                        "waiting": 0,
                        "open_windows": 0,
                        "avg_service_seconds": 300,
                        # no window of the queue open: no wait is promised
                        "estimated_wait_seconds": None,
                    }
                ],
                "by": {"id": me["id"], "name": me["name"], "role": "clerk"},
            },
        ),
    ]
    assert (await api.ok("clerk001", "GET", "/api/session"))["actor"]["window_no"] is None
    # signed out, the clerk cannot act on the window any more
    await api.error(
        "clerk001", "POST", f"{W}/1/status", 403, "not_signed_in", json={"status": "open"}
    )
    await api.error("clerk001", "POST", f"{W}/1/sign-out", 403, "not_signed_in")


async def test_admin_forces_a_sign_out(api: Api, db):
    clerk = await api.login("clerk001")
    admin = await api.login("admin")
    await api.ok("clerk001", "POST", f"{W}/1/sign-in")
    await api.ok("clerk001", "POST", f"{W}/1/status", json={"status": "open"})
    head = await api.head("admin")
    await api.ok("admin", "POST", f"{W}/1/sign-out")
    events = await api.events_since("admin", head)
    # the clerk's live connections close: someone else signed them out (session.ended, which
    # reaches no client: read back, it is a skip frame holding its number)
    assert [e["type"] for e in events] == [
        "window.signed_out",
        "skip",
        "window.status_changed",
    ]
    assert events[0]["data"]["clerk_id"] == clerk["id"]
    rows = await db.fetch(
        "select actor_kind, actor_id from event where seq > $1 and hall_id = "
        "(select id from hall where code = 'rizhao')",
        head,
    )
    assert {tuple(r) for r in rows} == {("staff", admin["id"])}
    # nobody left to sign out
    await api.error("admin", "POST", f"{W}/1/sign-out", 409, "not_signed_in", "window_no")


async def test_unknown_window_is_404(api: Api):
    await api.login("clerk001")
    await api.login("admin")
    await api.error("clerk001", "POST", f"{W}/999/sign-in", 404, "unknown_window", "window_no")
    # 0 is not a window number at all: bad input, not an unknown window
    await api.error("clerk001", "POST", f"{W}/0/sign-in", 400, "invalid_path", "window_no")
    await api.error("admin", "POST", f"{W}/131/sign-out", 404, "unknown_window", "window_no")
    await api.error(
        "admin",
        "POST",
        f"{W}/999/status",
        404,
        "unknown_window",
        "window_no",
        json={"status": "closed"},
    )
    await api.error(
        "admin", "POST", "/api/halls/nowhere/windows/1/sign-out", 404, "unknown_hall", "hall"
    )


@pytest.mark.parametrize(
    "window_no", ["abc", "-1", "1.5", "1234567", "%20", "１", "²", "%E2%91%A0"]
)
async def test_window_no_not_a_number_is_400(api: Api, window_no: str):
    await api.login("clerk001")
    for action in ("sign-in", "sign-out"):
        await api.error(
            "clerk001", "POST", f"{W}/{window_no}/{action}", 400, "invalid_path", "window_no"
        )
    await api.error(
        "clerk001",
        "POST",
        f"{W}/{window_no}/status",
        400,
        "invalid_path",
        "window_no",
        json={"status": "open"},
    )


async def test_bad_status_body_is_400(api: Api, db):
    await api.login("clerk001")
    await api.ok("clerk001", "POST", f"{W}/1/sign-in")
    head = await api.head("clerk001")
    url = f"{W}/1/status"
    for body in (
        {"status": "bogus"},
        {"status": 1},
        {"status": None},
        {"status": "OPEN"},
        {},
        {"state": "open"},
    ):
        await api.error("clerk001", "POST", url, 400, "invalid_field", "status", json=body)
    status, body = await api.call(
        "clerk001",
        "POST",
        url,
        data=b"{status: open}",
        headers={"Content-Type": "application/json"},
    )
    assert status == 400 and body["error"]["code"] == "malformed_json"
    status, body = await api.call("clerk001", "POST", url, json=["open"])
    assert status == 400 and body["error"]["code"] == "malformed_json"
    status, body = await api.call("clerk001", "POST", url)
    assert status == 400 and body["error"]["code"] == "empty_body"
    assert (await api.window("clerk001", 1))["status"] == "closed"
    assert await api.head("clerk001") == head


async def test_events_and_audit_attribute_the_actor(api: Api, db):
    me = await api.login("clerk010")
    head = await api.head("clerk010")
    audit_before = await db.fetchval("select coalesce(max(id), 0) from audit")
    await api.ok("clerk010", "POST", f"{W}/10/sign-in")
    await api.ok("clerk010", "POST", f"{W}/10/status", json={"status": "open"})
    wid = await window_id(db, 10)

    events = await api.events_since("clerk010", head)
    assert [e["type"] for e in events] == ["window.signed_in", "window.status_changed"]
    assert events[0]["data"] == {"window_no": 10, "clerk_id": me["id"], "clerk_name": me["name"]}
    assert all(e["window_id"] == wid and e["hall_id"] == me["hall_id"] for e in events)
    # since=N returns only what came after N
    later = await api.events_since("clerk010", events[0]["seq"])
    assert [e["seq"] for e in later] == [events[1]["seq"]]

    rows = await db.fetch(
        "select seq, type, actor_kind, actor_id, window_id from event "
        "where hall_id = $1 and seq > $2 order by seq",
        me["hall_id"],
        head,
    )
    assert [tuple(r) for r in rows] == [
        (head + 1, "window.signed_in", "staff", me["id"], wid),
        (head + 2, "window.status_changed", "staff", me["id"], wid),
    ]

    audit = await db.fetch(
        "select hall_id, actor_kind, actor_id, window_id, action, outcome, "
        "detail from audit where id > $1 order by id",
        audit_before,
    )
    assert [
        (a["hall_id"], a["actor_kind"], a["actor_id"], a["action"], a["outcome"]) for a in audit
    ] == [
        (me["hall_id"], "staff", me["id"], "window.sign_in", "ok"),
        (me["hall_id"], "staff", me["id"], "window.set_status", "ok"),
    ]
    assert audit[0]["detail"]["window_no"] == 10 and audit[0]["detail"]["seq"] == [head + 1]
    # the status change was made by a clerk signed in at window 10
    assert audit[1]["window_id"] == wid
    assert audit[1]["detail"] == {"window_no": 10, "status": "open", "seq": [head + 2]}

    # a refusal is attributed as well
    await api.error(
        "clerk010", "POST", f"{W}/11/status", 403, "not_your_window", json={"status": "open"}
    )
    denied = await db.fetchrow(
        "select actor_kind, actor_id, window_id, action, outcome, detail "
        "from audit order by id desc limit 1"
    )
    assert (denied["actor_id"], denied["window_id"], denied["action"], denied["outcome"]) == (
        me["id"],
        wid,
        "window.set_status",
        "denied",
    )
    assert denied["detail"]["code"] == "not_your_window"
    assert denied["detail"]["window_no"] == 11
