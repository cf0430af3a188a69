"""Security found by trying: cross-site request forgery with the admin's cookie, the headers on
every response, Retry-After on 429, personal data in the log."""

from __future__ import annotations

import io
import logging
import random
import re

from aiohttp import ClientSession, CookieJar

from server import logmask
from server.api.ratelimit import RateLimiter, RetryLater
from server.domain.identity import id_check_char, mask_phone
from server.keys import STORE
from server.outbox import LogSender, SmsDispatcher
from tests.conftest import LiveServer, login
from tests.conftest import test_settings as settings_for_test
from tests.queue_helpers import (
    bearer,
    clerk_at_window,
    command,
    item_of_window,
    kiosk_token,
    register,
)

STATUS_15 = "/api/halls/rizhao/windows/15/status"


async def window_status(db, window_no: int) -> str:
    return await db.fetchval(
        "select w.status from service_window w join hall h on h.id = w.hall_id "
        "where h.code = 'rizhao' and w.window_no = $1",
        window_no,
    )


async def test_a_foreign_page_cannot_pause_a_window_with_the_admins_cookie(live, http, db):
    await clerk_at_window(db, 15)
    await login(http, "admin", bearer=False)  # the cookie is in the jar, as in a browser
    own = live.url
    foreign = f"http://127.0.0.1:{live.settings.port + 1}"  # another port of the same host
    head = await db.fetchval("select max(seq) from event")

    # what a <form enctype="text/plain"> on the other port sends
    resp = await http.post(
        STATUS_15,
        data=b'{"status":"paused","x":"=y"}',
        headers={"Content-Type": "text/plain", "Origin": foreign},
    )
    assert resp.status == 415
    err = (await resp.json())["error"]
    assert err["code"] == "unsupported_media_type" and "JSON" in err["message"]

    # JSON, but from a foreign origin, or with no origin at all
    for headers in ({"Origin": foreign}, {}, {"Origin": "null"}):
        resp = await http.post(STATUS_15, json={"status": "paused"}, headers=headers)
        assert resp.status == 403, headers
        err = (await resp.json())["error"]
        assert err["code"] == "bad_origin" and err["message"], headers

    assert await window_status(db, 15) == "open"
    assert await db.fetchval("select max(seq) from event") == head

    # the page of this site: its Origin, JSON
    resp = await http.post(STATUS_15, json={"status": "paused"}, headers={"Origin": own})
    assert resp.status == 200, await resp.text()
    assert await window_status(db, 15) == "paused"


async def test_bearer_requests_need_no_origin_but_still_json(live, db):
    await clerk_at_window(db, 15)
    async with ClientSession(base_url=live.url) as s:
        token = (await login(s, "admin"))["token"]
    async with ClientSession(base_url=live.url) as s:
        resp = await s.post(STATUS_15, data=b'{"status":"paused"}', headers=bearer(token))
        assert resp.status == 415  # aiohttp says application/octet-stream for bytes
        resp = await s.post(STATUS_15, json={"status": "paused"}, headers=bearer(token))
        assert resp.status == 200
        # charset parameters are fine
        resp = await s.post(
            STATUS_15,
            data=b'{"status":"open"}',
            headers={**bearer(token), "Content-Type": "application/json; charset=utf-8"},
        )
        assert resp.status == 200
    assert await window_status(db, 15) == "open"


async def test_logins_from_a_foreign_page_are_refused_and_bodyless_posts_pass(live, http):
    foreign = f"http://127.0.0.1:{live.settings.port + 1}"
    body = {"username": "clerk001", "password": "whatever"}
    resp = await http.post("/api/auth/login", json=body, headers={"Origin": foreign})
    assert resp.status == 403 and (await resp.json())["error"]["code"] == "bad_origin"
    # a login form posted as text/plain (login CSRF) never reaches the password check
    resp = await http.post("/api/auth/login", data=b"{}", headers={"Content-Type": "text/plain"})
    assert resp.status == 415
    # a cookie left in the jar is not used by a public route: no Origin needed there
    await login(http, "clerk001", bearer=False)
    await login(http, "clerk002", bearer=False)
    # no body, no Content-Type: only the Origin matters
    resp = await http.post("/api/auth/logout", headers={"Origin": live.url})
    assert resp.status == 200


async def test_the_allowlist_is_the_settings_one(db_dsn):
    server = LiveServer(settings_for_test(allowed_origins=("https://hall.example.gov.cn",)), db_dsn)
    await server.start()
    try:
        async with ClientSession(base_url=server.url, cookie_jar=CookieJar(unsafe=True)) as s:
            await login(s, "admin", bearer=False)
            body = {"text": "今日下午三点系统维护"}
            resp = await s.put(
                "/api/halls/rizhao/notice", json=body, headers={"Origin": server.url}
            )
            assert resp.status == 403
            resp = await s.put(
                "/api/halls/rizhao/notice",
                json=body,
                headers={"Origin": "https://hall.example.gov.cn"},
            )
            assert resp.status == 200
    finally:
        await server.stop()


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def assert_security_headers(resp, what: str, framed_by: str = "'none'") -> None:
    for name, value in SECURITY_HEADERS.items():
        assert resp.headers.get(name) == value, (what, name, dict(resp.headers))
    csp = {
        d.split()[0]: d.split()[1:]
        for d in resp.headers.get("Content-Security-Policy", "").split(";")
        if d.strip()
    }
    assert csp.get("script-src") == ["'self'"], (what, csp)
    assert csp.get("frame-ancestors") == [framed_by], (what, csp)
    assert csp.get("object-src") == ["'none'"], (what, csp)
    assert csp.get("base-uri") == ["'self'"], (what, csp)
    assert csp.get("connect-src") == ["'self'"], (what, csp)


async def test_every_response_carries_the_security_headers(live, http):
    paths = [
        "/",
        "/kiosk",
        "/display?token=abc",
        "/login?next=/admin",
        "/window",
        "/admin",
        "/static/shared/api.js",
        "/static/shared/base.css",
        "/api/openapi.json",
        "/api/halls/rizhao/queue-status",
        "/api/session",  # 401
        "/api/no/such/route",  # 404
        "/healthz",
        "/nowhere",
    ]
    for path in paths:
        resp = await http.get(path)
        assert_security_headers(resp, path)
    resp = await http.post("/api/auth/login", data=b"x", headers={"Content-Type": "text/plain"})
    assert_security_headers(resp, "415")
    # the kiosk prints the notice through a frame of its own: only this origin may frame it
    resp = await http.get("/notice?code=x")
    assert_security_headers(resp, "/notice", framed_by="'self'")
    assert resp.headers["X-Frame-Options"] == "SAMEORIGIN"
    resp = await http.delete("/api/auth/login")
    assert_security_headers(resp, "405")


async def test_429_says_when_to_come_back(live, http, db):
    kiosk = await kiosk_token(http)
    item = await item_of_window(db, 1)
    url = "/api/halls/rizhao/registrations"
    statuses = []
    for _ in range(live.settings.kiosk_burst + 1):
        resp = await http.post(url, json={"item": item}, headers=bearer(kiosk))
        statuses.append(resp.status)
    assert statuses == [201] * live.settings.kiosk_burst + [429]
    assert_security_headers(resp, "429")
    body = await resp.json()
    assert body["error"]["code"] == "rate_limited"
    # 20 a minute: one token every 3 s, and the burst was spent just now
    retry = int(resp.headers["Retry-After"])
    assert retry == 3, retry
    assert f"{retry} 秒" in body["error"]["message"]


def test_retry_after_is_the_time_until_a_token():
    now = [1000.0]
    limiter = RateLimiter(per_minute=20, burst=2, clock=lambda: now[0])
    limiter.check("k")
    limiter.check("k")
    waits = []
    for dt in (0.0, 1.0, 1.5, 0.4):
        now[0] += dt
        try:
            limiter.check("k")
        except RetryLater as exc:
            waits.append(exc.retry_after)
    # a token every 3 s: at once 3 s to wait, 1 s later 2 s, at 2.5 s 0.5 s (rounded up)
    assert waits == [3, 2, 1, 1]  # the last at 2.9 s: 0.1 s left, rounded up
    now[0] += 0.2  # 3.1 s after the burst was spent: a token
    limiter.check("k")


async def test_a_burst_of_registrations_and_sms_leaves_no_personal_data_in_the_log(live, http, db):
    """Citizens register with phone and ID numbers, are called and served; the SMS go out
    through the log sender. The log, as run.py sets it up, holds no full number."""
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logmask.install()  # what run.py does once logging is configured
    rng = random.Random(11)
    phones = [f"1{rng.choice('3589')}{rng.randrange(10**9):09d}" for _ in range(8)]
    ids = []
    for _ in range(8):
        body = f"371102{rng.randrange(1950, 2005)}{rng.randrange(1, 13):02d}"
        body += f"{rng.randrange(1, 29):02d}{rng.randrange(1000):03d}"
        ids.append(body + id_check_char(body))
    sender = LogSender()
    try:
        kiosk = await kiosk_token(http)
        clerk = await clerk_at_window(db, 1)
        item = await item_of_window(db, 1)
        for phone, id_number in zip(phones, ids, strict=True):
            await register(http, kiosk, item, phone=phone, id_number=id_number)
        for _ in range(3):
            await command(http, clerk, 1, "call-next")
            await command(http, clerk, 1, "start")
            await command(http, clerk, 1, "finish")
        hall_id = await db.fetchval("select id from hall where code = 'rizhao'")
        sms = SmsDispatcher(live.app[STORE], sender)
        while await sms.dispatch([hall_id]):
            await sms.idle()
        try:  # a failure that names the citizen, as a gateway error might
            raise RuntimeError(f"gateway refused {phones[0]} ({ids[0]})")
        except RuntimeError:
            logging.getLogger("hallops.sms").exception("sending to %s failed", phones[1])
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    log = stream.getvalue()
    # the SMS went out to the real numbers, and the log says so, masked
    assert len(sender.sent) >= 4, sender.sent
    for recipient, _, _ in sender.sent:
        assert recipient in phones
        assert f"SMS to {mask_phone(recipient)}:" in log
    assert "Traceback" in log and mask_phone(phones[0]) in log
    assert not re.search(r"(?<!\d)1\d{10}(?!\d)", log), log
    assert not re.search(r"(?<!\d)\d{17}[\dXx]", log), log
    for number in phones + ids:
        assert number not in log


async def test_kiosk_refuses_a_mistyped_id_number_or_phone_with_the_fields_code(live, http, db):
    kiosk = await kiosk_token(http)
    item = await item_of_window(db, 1)
    url = "/api/halls/rizhao/registrations"
    good_id = "11010519491231002X"
    typo = "11010519491231003X"  # one digit off: the check character no longer fits
    cases = [
        ({"id_number": typo}, "invalid_id_number", "id_number", "身份证"),
        ({"id_number": "110105194902300020"}, "invalid_id_number", "id_number", "身份证"),
        ({"phone": "12345678901"}, "invalid_phone", "phone", "手机号码"),
        ({"phone": "1381234567"}, "invalid_phone", "phone", "手机号码"),
    ]
    before = await db.fetchval("select count(*) from registration")
    for extra, code, field, words in cases:
        resp = await http.post(url, json={"item": item, **extra}, headers=bearer(kiosk))
        err = (await resp.json())["error"]
        assert resp.status == 400, (extra, err)
        assert (err["code"], err["field"]) == (code, field), extra
        assert words in err["message"], err
    assert await db.fetchval("select count(*) from registration") == before
    body = await register(http, kiosk, item, id_number=good_id.lower(), phone="13812341234")
    stored = await db.fetchval(
        "select id_number from registration where query_code = $1", body["query_code"]
    )
    assert stored == good_id  # the check character is kept upper-case
