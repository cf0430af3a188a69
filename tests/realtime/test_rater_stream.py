"""A window's rating device (评价器) on the live stream: logged in as a device, its Socket.IO
connection is confined server-side to its own window's rating events — the clerk's request
reaches it within a second, nothing of another window nor the hall's calls and window changes
does, whatever rooms it asks for; it gets no hall state, and the plain feed refuses it."""

from __future__ import annotations

import asyncio

import orjson
import websockets

from realtime import protocol as p
from server import demo_hall
from tests.cases.helpers import at, serving_ticket, use_clock
from tests.queue_helpers import bearer, item_of_window
from tests.realtime.sio import SioClient


async def _rater(http, window_no: int) -> str:
    code = demo_hall.rater_code("rizhao", window_no)
    resp = await http.post(
        "/api/auth/device", json={"code": code, "secret": demo_hall.password_for(code)}
    )
    body = await resp.json()
    assert resp.status == 200, body
    assert body["actor"]["role"] == "rater"
    return body["token"]


async def _finished(http, db, window_no: int) -> str:
    """A clerk at the window who just finished serving a ticket: their token."""
    item = await item_of_window(db, window_no)
    clerk, _, _ = await serving_ticket(http, db, window_no, item=item)
    resp = await http.post(f"/api/halls/rizhao/windows/{window_no}/finish", headers=bearer(clerk))
    assert resp.status == 200, await resp.text()
    return clerk


async def test_a_rater_gets_its_windows_request_within_a_second_and_nothing_else(live, http, db):
    use_clock(live, at("2026-12-07 10:00"))
    clerk1 = await _finished(http, db, 1)
    clerk2 = await _finished(http, db, 2)
    device = await _rater(http, 1)
    # it asks for the whole hall and another window's room: the server confines it anyway
    client = await SioClient().connect(live.url, auth={"token": device, "rooms": ["window:2"]})
    try:
        snap, marker = await client.until_live()
        assert snap["type"] == "snapshot" and snap["data"] is None  # no hall state
        assert marker["type"] == "live"

        # another window's request and a call in the hall: not for this device
        resp = await http.post(
            "/api/halls/rizhao/windows/2/rating-request", json={}, headers=bearer(clerk2)
        )
        assert resp.status == 200, await resp.json()
        resp = await http.post(
            "/api/halls/rizhao/windows/2/status", json={"status": "paused"}, headers=bearer(clerk2)
        )
        assert resp.status == 200, await resp.json()
        loop = asyncio.get_running_loop()
        started = loop.time()
        resp = await http.post(
            "/api/halls/rizhao/windows/1/rating-request", json={}, headers=bearer(clerk1)
        )
        assert resp.status == 200, await resp.json()
        (frame,) = await client.events(1, timeout=1.0)
        assert loop.time() - started < 1.0
        assert frame["type"] == "rating.requested" and frame["data"]["window_no"] == 1
        assert await client.quiet(0.5) == []
    finally:
        await client.close()


async def test_the_plain_feed_refuses_a_rater(live, http):
    device = await _rater(http, 1)
    async with websockets.connect(live.ws_url + "/ws/display") as ws:
        assert orjson.loads(await ws.recv()) == {"type": "auth_required"}
        await ws.send(orjson.dumps({"type": "auth", "token": device}).decode())
        frame = orjson.loads(await ws.recv())
        assert frame["type"] == "auth_invalid" and frame["code"] == "wrong_role"
        await ws.wait_closed()
        assert ws.close_code == p.CLOSE_FORBIDDEN
    # nor may it read the hall's events back
    resp = await http.get("/api/halls/rizhao/events", headers=bearer(device))
    assert resp.status == 403
