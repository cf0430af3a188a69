"""好差评 over the API (issue 11): each channel — the SMS link after completion, the window's
rating device at the clerk's request, the ballot box's slip — rates once; a second rating of the
same case through any channel is refused with a clear message; a bad review opens its
department's rectification task, due in 5 working days; nothing identifies the citizen to the
clerk."""

from __future__ import annotations

import asyncio
import re

import pytest
from aiohttp import ClientSession

from tests.cases.helpers import PROMISED, accept, at, command, serving_ticket, use_clock
from tests.conftest import login
from tests.queue_helpers import bearer, rater_at
from tests.realtime.sio import SioClient

RATE_LINK = re.compile(r"/rate/([A-Za-z0-9]{12})")


@pytest.fixture
async def phone(live):
    """The citizen's phone: a client of its own, with no staff session's cookie."""
    async with ClientSession(base_url=live.url) as session:
        yield session


async def completed_case(live, http, db, window_no: int = 1) -> tuple[str, dict, dict]:
    """A promised case accepted from a served ticket and completed: (clerk token, case, reg)."""
    token, ticket_id, reg = await serving_ticket(http, db, window_no)
    case = await accept(http, token, ticket_id=ticket_id, item=PROMISED)
    await command(http, token, case["case_id"], "start")
    await command(http, token, case["case_id"], "decision", {"decision": "approve"})
    await command(http, token, case["case_id"], "complete")
    return token, case, reg


async def invitation_token(db, case_id: int) -> str:
    (row,) = await db.fetch(
        "select body from notification where dedupe_key = $1", f"rate-invite:{case_id}"
    )
    m = RATE_LINK.search(row["body"])
    assert m is not None, row["body"]
    return m.group(1)


async def test_the_sms_link_rates_a_completed_case_once(live, http, db):
    use_clock(live, at("2026-12-07 10:00"))
    _, case, _ = await completed_case(live, http, db)
    token = await invitation_token(db, case["case_id"])
    resp = await http.get(f"/api/rate/{token}")
    shown = await resp.json()
    assert resp.status == 200, shown
    assert shown["rated"] is False and shown["case_no"] == case["case_no"]
    assert [lv["name"] for lv in shown["levels"]] == [
        "非常满意",
        "满意",
        "基本满意",
        "不满意",
        "非常不满意",
    ]
    assert "13800138000" not in await resp.text()

    resp = await http.post(f"/api/rate/{token}", json={"level": 4, "reasons": ["efficiency"]})
    assert resp.status == 201, await resp.json()
    row = await db.fetchrow("select * from rating where case_id = $1", case["case_id"])
    assert (row["level"], row["channel"], row["real_name"]) == (4, "sms", True)
    assert row["window_id"] is not None and row["clerk_id"] is not None
    # once: the link again, then the ballot slip of the same notice
    again = await http.post(f"/api/rate/{token}", json={"level": 1})
    body = await again.json()
    assert again.status == 409 and body["error"]["code"] == "already_rated"
    assert "只能评价一次" in body["error"]["message"]
    assert (await (await http.get(f"/api/rate/{token}")).json())["rated"] is True
    bad = await http.post("/api/rate/NOSUCHTOKEN12", json={"level": 5})
    assert bad.status == 404 and (await bad.json())["error"]["code"] == "unknown_invite"
    # a good review opens no rectification
    assert await db.fetchval("select count(*) from rectification") == 0


async def test_the_window_device_shows_the_request_and_the_clerk_sees_the_tap(live, http, db):
    clock = use_clock(live, at("2026-12-07 10:00"))
    clerk, ticket_id, _ = await serving_ticket(http, db, 1)
    resp = await http.post("/api/halls/rizhao/windows/1/finish", headers=bearer(clerk))
    assert resp.status == 200, await resp.text()
    device = await rater_at(db, 1)
    other = await rater_at(db, 2)

    watcher = await SioClient().connect(live.url, auth={"token": clerk, "rooms": ["window:1"]})
    try:
        await watcher.until_live()
        resp = await http.post(
            "/api/halls/rizhao/windows/1/rating-request", json={}, headers=bearer(clerk)
        )
        assert resp.status == 200, await resp.json()
        pending = await http.get(
            "/api/halls/rizhao/windows/1/rating-request", headers=bearer(device)
        )
        assert (await pending.json())["pending"] is True
        # another window's device cannot answer it
        stray = await http.post(
            "/api/halls/rizhao/windows/1/rating", json={"level": 5}, headers=bearer(other)
        )
        assert stray.status == 403
        clock.set(at("2026-12-07 10:01"))
        tap = await http.post(
            "/api/halls/rizhao/windows/1/rating",
            json={"level": 2, "reasons": ["attitude"], "comment": "等了很久"},
            headers=bearer(device),
        )
        assert tap.status == 201, await tap.json()
        frames = [f for f in await watcher.events(2, timeout=1.0)]
        given = [f for f in frames if f["type"] == "rating.given"]
        assert [(f["data"]["level"], f["data"]["bad"]) for f in given] == [(2, True)]
        assert "等了很久" not in str(given)  # the comment is the supervisors', not the window's
    finally:
        await watcher.close()
    # the request is answered: nothing pending; a second request is refused
    assert (
        await (
            await http.get("/api/halls/rizhao/windows/1/rating-request", headers=bearer(device))
        ).json()
    )["pending"] is False
    again = await http.post(
        "/api/halls/rizhao/windows/1/rating-request",
        json={"ticket_id": ticket_id},
        headers=bearer(clerk),
    )
    assert again.status == 409 and (await again.json())["error"]["code"] == "already_rated"
    # the bad review opened its department's task, due in 5 working days
    task = await db.fetchrow("select * from rectification")
    assert task["state"] == "open"
    assert task["due_at"] == at("2026-12-14 17:00")  # the close of the 5th working day


async def test_a_ballot_slip_counts_once_and_not_beside_another_channel(live, http, db, phone):
    use_clock(live, at("2026-12-07 10:00"))
    clerk, case, reg = await completed_case(live, http, db)
    supervisor = (await login(http, "supervisor1"))["token"]
    slip = reg["reg_no"]

    async def key(level: int, who: str = supervisor) -> tuple[int, dict]:
        resp = await http.post(
            "/api/halls/rizhao/ballots",
            json={"slip": slip, "level": level},
            headers=bearer(who),
        )
        return resp.status, await resp.json()

    status, body = await key(5)
    assert status == 201, body
    status, body = await key(5)
    assert (status, body["error"]["code"]) == (409, "slip_counted")
    # the SMS link of the same case is refused now
    token = await invitation_token(db, case["case_id"])
    resp = await phone.post(f"/api/rate/{token}", json={"level": 1})
    assert resp.status == 409 and (await resp.json())["error"]["code"] == "already_rated"
    unknown = await http.post(
        "/api/halls/rizhao/ballots",
        json={"slip": "26120199999999", "level": 3},
        headers=bearer(supervisor),
    )
    assert unknown.status == 404
    assert (await key(3, clerk))[0] == 403
    row = await db.fetchrow("select channel, slip_no, real_name from rating")
    assert dict(row) == {"channel": "ballot", "slip_no": slip, "real_name": False}


async def test_two_channels_at_the_same_instant_rate_a_case_once(live, http, db, phone):
    use_clock(live, at("2026-12-07 10:00"))
    _, case, reg = await completed_case(live, http, db)
    token = await invitation_token(db, case["case_id"])
    supervisor = (await login(http, "supervisor1"))["token"]

    async def by_sms() -> int:
        return (await phone.post(f"/api/rate/{token}", json={"level": 5})).status

    async def by_slip() -> int:
        resp = await http.post(
            "/api/halls/rizhao/ballots",
            json={"slip": reg["reg_no"], "level": 1},
            headers=bearer(supervisor),
        )
        return resp.status

    for _ in range(3):
        results = sorted(await asyncio.gather(by_sms(), by_slip()))
        assert results in ([201, 409], [409, 409]), results
    assert await db.fetchval("select count(*) from rating") == 1
