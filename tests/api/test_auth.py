"""Logins, sessions, lock-out, logout, and the error body of bad input."""

from __future__ import annotations

import asyncio
import hashlib
import secrets

from aiohttp import ClientSession

from server import demo_hall
from server.keys import POOL
from tests.conftest import login


async def test_healthz_reports_database_and_bus(http: ClientSession):
    resp = await http.get("/healthz")
    body = await resp.json()
    assert resp.status == 200
    assert body["database"]["ok"] is True
    assert body["bus"] == {"kind": "local", "ok": True}


async def test_login_sets_httponly_cookie_and_session_works(http: ClientSession):
    resp = await http.post(
        "/api/auth/login",
        json={"username": "clerk001", "password": demo_hall.password_for("clerk001")},
    )
    assert resp.status == 200
    cookie = resp.headers["Set-Cookie"]
    assert "hallops_session=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "token" not in await resp.json()  # browsers get the cookie only
    me = await (await http.get("/api/session")).json()
    assert me["actor"]["role"] == "clerk" and me["socket_ticket"]


async def test_bearer_token_for_non_browser_clients(live):
    async with ClientSession(base_url=live.url) as s:
        token = (await login(s, "admin"))["token"]
    async with ClientSession(base_url=live.url) as fresh:
        resp = await fresh.get("/api/session", headers={"Authorization": f"Bearer {token}"})
        assert (await resp.json())["actor"]["role"] == "admin"


async def test_device_login(http: ClientSession):
    resp = await http.post(
        "/api/auth/device", json={"code": "kiosk-01", "secret": demo_hall.DEMO_PASSWORDS["kiosk"]}
    )
    body = await resp.json()
    assert resp.status == 200 and body["actor"]["role"] == "kiosk" and body["token"]
    bad = await http.post("/api/auth/device", json={"code": "kiosk-01", "secret": "nope"})
    assert bad.status == 401


async def test_wrong_password_is_401_and_unknown_user_looks_the_same(http: ClientSession):
    wrong = await http.post("/api/auth/login", json={"username": "clerk001", "password": "x"})
    unknown = await http.post("/api/auth/login", json={"username": "nobody", "password": "x"})
    assert wrong.status == unknown.status == 401
    assert (await wrong.json()) == (await unknown.json())
    assert (await wrong.json())["error"]["code"] == "bad_credentials"


async def test_lockout_after_repeated_failures(http: ClientSession, db):
    for _ in range(5):
        resp = await http.post("/api/auth/login", json={"username": "clerk002", "password": "x"})
        assert resp.status == 401
    # even the right password is refused while locked
    resp = await http.post(
        "/api/auth/login",
        json={"username": "clerk002", "password": demo_hall.password_for("clerk002")},
    )
    body = await resp.json()
    assert resp.status == 423 and body["error"]["code"] == "account_locked"
    # after the lock runs out, the right password works again
    await db.execute(
        "update staff set locked_until = now() - interval '1 second' where username = 'clerk002'"
    )
    resp = await http.post(
        "/api/auth/login",
        json={"username": "clerk002", "password": demo_hall.password_for("clerk002")},
    )
    assert resp.status == 200


async def test_logout_revokes_the_session(live, http: ClientSession):
    await login(http, "clerk003", bearer=False)
    assert (await http.get("/api/session")).status == 200
    # the page's fetch: the browser adds the Origin (a cookie request without one is refused)
    assert (await http.post("/api/auth/logout", headers={"Origin": live.url})).status == 200
    assert (await http.get("/api/session")).status == 401


async def test_expired_session_is_refused(http: ClientSession, db):
    """A session works until its expiry and not a moment later (the session cache included)."""
    token = secrets.token_urlsafe(24)
    await db.execute(
        "insert into auth_session (token_hash, staff_id, expires_at) select $1, id, "
        "now() + interval '1 second' from staff where username = 'clerk004'",
        hashlib.sha256(token.encode()).digest(),
    )
    headers = {"Authorization": f"Bearer {token}"}
    assert (await http.get("/api/session", headers=headers)).status == 200
    await asyncio.sleep(1.2)
    resp = await http.get("/api/session", headers=headers)
    assert resp.status == 401
    assert (await resp.json())["error"]["code"] == "unauthenticated"


JSON = {"Content-Type": "application/json"}


async def test_bad_input_gets_clear_4xx_never_500(http: ClientSession):
    cases = [
        (
            {"data": b"{not json", "headers": JSON},
            400,
            "malformed_json",
        ),
        ({"json": [1, 2]}, 400, "malformed_json"),
        ({"json": {"username": 5, "password": "x"}}, 400, "invalid_field"),
        ({"json": {"username": "a"}}, 400, "invalid_field"),
        ({"data": b""}, 400, "empty_body"),
        ({"data": b"{" + b" " * 70_000 + b"}", "headers": JSON}, 413, "body_too_large"),
    ]
    for kwargs, status, code in cases:
        resp = await http.post("/api/auth/login", **kwargs)
        body = await resp.json()
        assert resp.status == status, (kwargs.keys(), body)
        assert body["error"]["code"] == code and body["error"]["message"]
    resp = await http.get("/api/no/such/route")
    assert resp.status == 404 and (await resp.json())["error"]["code"] == "not_found"
    resp = await http.delete("/api/auth/login")
    assert resp.status == 405 and (await resp.json())["error"]["code"] == "method_not_allowed"


async def test_login_and_refusals_are_in_the_audit_trail(http: ClientSession, db):
    await http.post("/api/auth/login", json={"username": "clerk005", "password": "x"})
    await login(http, "clerk005")
    rows = await db.fetch(
        "select a.action, a.outcome from audit a join staff s on s.id = a.actor_id "
        "where s.username = 'clerk005' order by a.id"
    )
    assert [(r["action"], r["outcome"]) for r in rows] == [
        ("auth.login", "denied"),
        ("auth.login", "ok"),
    ]


async def test_healthz_is_503_when_the_database_is_unreachable(db_dsn):
    from tests.conftest import LiveServer, test_settings

    server = await LiveServer(test_settings(), db_dsn).start()
    try:
        async with ClientSession(base_url=server.url) as s:
            assert (await s.get("/healthz")).status == 200
            # the database goes away under a running server
            await server.app[POOL].close()
            resp = await s.get("/healthz")
            body = await resp.json()
            assert resp.status == 503
            assert body["ok"] is False and body["database"]["ok"] is False
    finally:
        await server.stop()
