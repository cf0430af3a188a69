"""Logins, sessions, lock-out, logout, and the error body of bad input."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

import pytest
from aiohttp import ClientSession

from server import demo_hall
from server.domain.auth import session_ended
from server.domain.errors import Forbidden
from server.domain.events import EventRecord
from server.domain.permissions import authorize_rule
from server.keys import AUTH, POOL, STORE
from tests.conftest import login
from tests.queue_helpers import bearer, clerk_at_window, kiosk_token


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


async def test_expired_session_is_refused(live, http: ClientSession, db):
    """A session works until its expiry and not a moment later, the session cache included:
    the cache keeps an entry no longer than the session has left (its clock is the test's)."""
    clock = [1000.0]
    live.app[AUTH].monotonic = lambda: clock[0]
    token = secrets.token_urlsafe(24)
    digest = hashlib.sha256(token.encode()).digest()
    await db.execute(
        "insert into auth_session (token_hash, staff_id, expires_at) select $1, id, "
        "now() + interval '1 second' from staff where username = 'clerk004'",
        digest,
    )
    headers = {"Authorization": f"Bearer {token}"}
    assert (await http.get("/api/session", headers=headers)).status == 200  # now cached
    # the session runs out (in the database) and the cache's clock passes its last second
    await db.execute(
        "update auth_session set expires_at = now() - interval '1 millisecond' "
        "where token_hash = $1",
        digest,
    )
    clock[0] += 1.0
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


# -- devices: audited and locked out like staff -------------------------------------------------


async def device_audit(db, code: str) -> list[tuple[str, str, str | None]]:
    rows = await db.fetch(
        "select a.action, a.outcome, a.detail->>'code' as code from audit a "
        "join device d on d.id = a.actor_id and a.actor_kind = 'device' "
        "where d.code = $1 order by a.id",
        code,
    )
    return [(r["action"], r["outcome"], r["code"]) for r in rows]


async def test_device_logins_are_audited_and_locked_out_after_repeated_failures(live, http, db):
    secret = demo_hall.DEMO_PASSWORDS["kiosk"]
    url = "/api/auth/device"
    assert (await http.post(url, json={"code": "kiosk-02", "secret": secret})).status == 200
    attempts = live.settings.lockout_attempts
    for _ in range(attempts):
        resp = await http.post(url, json={"code": "kiosk-02", "secret": "guess"})
        assert resp.status == 401
        assert (await resp.json())["error"]["code"] == "bad_credentials"
    # even the right secret is refused while locked
    resp = await http.post(url, json={"code": "kiosk-02", "secret": secret})
    body = await resp.json()
    assert resp.status == 423 and body["error"]["code"] == "account_locked", body
    assert "分钟" in body["error"]["message"]
    left = await db.fetchval(
        "select extract(epoch from locked_until - now()) from device where code = 'kiosk-02'"
    )
    minutes = live.settings.lockout_minutes
    assert minutes * 60 - 60 < left <= minutes * 60
    # another kiosk is not affected
    assert (await http.post(url, json={"code": "kiosk-03", "secret": secret})).status == 200
    assert await device_audit(db, "kiosk-02") == [
        ("auth.device_login", "ok", None),
        *[("auth.device_login", "denied", "bad_credentials")] * attempts,
        ("auth.device_login", "denied", "account_locked"),
    ]
    # the lock runs out: the right secret works again, and the count starts afresh
    await db.execute(
        "update device set locked_until = now() - interval '1 second' where code = 'kiosk-02'"
    )
    assert (await http.post(url, json={"code": "kiosk-02", "secret": secret})).status == 200
    assert await db.fetchval("select failed_logins from device where code = 'kiosk-02'") == 0


async def test_failures_below_the_limit_are_forgotten_after_a_success(live, http, db):
    secret = demo_hall.DEMO_PASSWORDS["kiosk"]
    for _ in range(2):
        for _ in range(live.settings.lockout_attempts - 1):
            bad = {"code": "kiosk-04", "secret": "guess"}
            assert (await http.post("/api/auth/device", json=bad)).status == 401
        ok = {"code": "kiosk-04", "secret": secret}
        assert (await http.post("/api/auth/device", json=ok)).status == 200


# -- sessions end as events ---------------------------------------------------------------------


async def events_after(db, seq: int) -> list[tuple[str, dict]]:
    rows = await db.fetch(
        "select e.type, e.payload from event e join hall h on h.id = e.hall_id "
        "where h.code = 'rizhao' and e.seq > $1 order by e.seq",
        seq,
    )
    return [(r["type"], r["payload"]) for r in rows]


async def head(db) -> int:
    return await db.fetchval(
        "select coalesce(max(seq), 0) from event e join hall h on h.id = e.hall_id "
        "where h.code = 'rizhao'"
    )


def session_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:16]


async def test_the_actor_carries_its_session_and_the_socket_ticket_the_same(live, http):
    token = (await login(http, "clerk006"))["token"]
    auth = live.app[AUTH]
    actor = await auth.resolve(token)
    assert actor.session == session_of(token)
    ticket = (await (await http.get("/api/session", headers=bearer(token))).json())["socket_ticket"]
    assert (await auth.resolve_credential(ticket)).session == session_of(token)
    assert (await auth.resolve_credential(token)).session == session_of(token)
    other = (await login(http, "clerk006"))["token"]
    assert (await auth.resolve(other)).session not in (None, actor.session)


async def test_logout_appends_session_ended_in_its_transaction(live, http, db):
    first = await login(http, "clerk007")
    me, other = first["actor"], first["token"]
    token = (await login(http, "clerk007"))["token"]
    before = await head(db)
    resp = await http.post("/api/auth/logout", headers=bearer(token))
    assert resp.status == 200
    ended = {"session": session_of(token), "staff_id": me["id"], "reason": "logout"}
    assert await events_after(db, before) == [("session.ended", ended)]
    audit = await db.fetchrow(
        "select outcome, detail from audit where action = 'auth.logout' and actor_id = $1 "
        "order by id desc limit 1",
        me["id"],
    )
    detail = audit["detail"]
    assert audit["outcome"] == "ok" and detail["seq"] == [before + 1]
    assert detail["session"] == session_of(token)
    # the session is gone, and the other session of the same clerk still works
    assert (await http.get("/api/session", headers=bearer(token))).status == 401
    assert (await http.get("/api/session", headers=bearer(other))).status == 200


async def test_device_logout_names_the_device(live, http, db):
    kiosk = await kiosk_token(http, "kiosk-03")
    device_id = await db.fetchval("select id from device where code = 'kiosk-03'")
    before = await head(db)
    assert (await http.post("/api/auth/logout", headers=bearer(kiosk))).status == 200
    ended = {"session": session_of(kiosk), "device_id": device_id, "reason": "logout"}
    assert await events_after(db, before) == [("session.ended", ended)]


async def test_an_admins_forced_sign_out_ends_the_clerks_live_sessions(live, http, db):
    await clerk_at_window(db, 3)
    clerk_id = await db.fetchval("select id from staff where username = 'clerk003'")
    admin = (await login(http, "admin"))["token"]
    before = await head(db)
    url = "/api/halls/rizhao/windows/3/sign-out"
    assert (await http.post(url, headers=bearer(admin))).status == 200
    events = await events_after(db, before)
    ended = {"session": None, "staff_id": clerk_id, "reason": "forced_sign_out"}
    assert ("session.ended", ended) in events
    assert events[0][0] == "window.signed_out"


async def test_a_clerk_signing_out_themselves_ends_no_session(live, http, db):
    clerk = await clerk_at_window(db, 4)
    before = await head(db)
    url = "/api/halls/rizhao/windows/4/sign-out"
    assert (await http.post(url, headers=bearer(clerk))).status == 200
    assert "session.ended" not in [t for t, _ in await events_after(db, before)]
    assert (await http.get("/api/session", headers=bearer(clerk))).status == 200


class AdminCall:
    """What the catalogue's Call gives a command: the actor, its transaction and its rule
    (here the hall admin's), under the operation's name."""

    def __init__(self, store, actor):
        self.store = store
        self.actor = actor

    def command(self):
        return self.store.command(self.actor, "auth.revoke_sessions")

    def check(self, target) -> None:
        authorize_rule(self.actor, {"admin": "hall"}, target)


async def test_revoking_a_devices_sessions_ends_them_all(live, http, db):
    one = await kiosk_token(http, "kiosk-02")
    two = await kiosk_token(http, "kiosk-02")
    device_id = await db.fetchval("select id from device where code = 'kiosk-02'")
    auth = live.app[AUTH]
    admin = await auth.resolve((await login(http, "admin"))["token"])
    assert (await auth.resolve(one)) is not None  # cached now
    before = await head(db)
    assert await auth.revoke_sessions(AdminCall(live.app[STORE], admin), device_id=device_id) == 2
    ended = {"session": None, "device_id": device_id, "reason": "revoked"}
    assert await events_after(db, before) == [("session.ended", ended)]
    for token in (one, two):
        assert (await http.get("/api/session", headers=bearer(token))).status == 401
    # a clerk may not revoke anything: refused and audited, nothing revoked
    clerk = await auth.resolve(await clerk_at_window(db, 5))
    three = await kiosk_token(http, "kiosk-02")
    with pytest.raises(Forbidden):
        await auth.revoke_sessions(AdminCall(live.app[STORE], clerk), device_id=device_id)
    assert (await http.get("/api/session", headers=bearer(three))).status == 200
    assert await head(db) == before + 1


async def test_session_ended_drops_the_session_cache_of_every_process(live, http, db):
    """Another process's logout reaches this one as an event: its cache must not keep the
    session alive for another cache_seconds."""
    token = (await login(http, "clerk008"))["token"]
    auth = live.app[AUTH]
    actor = await auth.resolve(token)
    assert actor is not None
    # the other process revoked it in the database; only its event comes here
    await db.execute(
        "update auth_session set revoked_at = now() where token_hash = $1",
        hashlib.sha256(token.encode()).digest(),
    )
    assert await auth.resolve(token) is not None  # still cached
    ended = session_ended(actor.session, "logout", staff_id=actor.id)
    auth.observe([EventRecord(actor.hall_id, 1, "session.ended", ended, None, datetime.now(UTC))])
    assert await auth.resolve(token) is None
