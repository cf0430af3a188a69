"""Socket.IO terminals (/hall): handshake auth, Origin allowlist, hall scope, snapshot, live
events and resume — and the plain feed's Origin check."""

from __future__ import annotations

import pytest
import socketio
import websockets
from aiohttp import ClientSession, CookieJar
from websockets.exceptions import InvalidStatus

from server.keys import SIO
from tests.conftest import login
from tests.realtime.feed import FeedClient
from tests.realtime.sio import SioClient


async def _set_notice(http: ClientSession, token: str, text: str) -> None:
    resp = await http.put(
        "/api/halls/rizhao/notice",
        json={"text": text},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert resp.status == 200, await resp.text()


async def _refused(url: str, **kw) -> dict | None:
    """Our error ({"code", "message"}) when the namespace refused; None when the transport did."""
    client = SioClient()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(url, **kw)
    assert not client.sio.connected
    if not client.errors or not isinstance(client.errors[-1], dict):
        return None
    error = client.errors[-1]
    assert error["data"]["message"] == error["message"]
    return error["data"]


async def test_snapshot_then_live_then_an_admin_command(live, http):
    admin = (await login(http, "admin"))["token"]
    clerk = (await login(http, "clerk001"))["token"]
    client = await SioClient().connect(live.url, auth={"token": clerk})
    try:
        snap, marker = await client.until_live()
        assert snap["type"] == "snapshot"
        assert snap["data"]["hall"]["code"] == "rizhao"
        assert len(snap["data"]["windows"]) == 130
        assert marker == {"type": "live", "seq": snap["seq"]}
        await _set_notice(http, admin, "今日下午 3 点系统维护")
        (event,) = await client.events(1, timeout=2)
        assert event["type"] == "hall.notice_set"
        assert event["seq"] == snap["seq"] + 1
        assert event["data"] == {"text": "今日下午 3 点系统维护"}
        assert await client.quiet(0.5) == []
    finally:
        await client.close()


@pytest.mark.parametrize("transports", [None, ["websocket"]], ids=["polling+upgrade", "websocket"])
async def test_resume_with_since_gets_exactly_the_missed_events(live, http, transports):
    admin = (await login(http, "admin"))["token"]
    clerk = (await login(http, "clerk001"))["token"]
    client = await SioClient().connect(live.url, auth={"token": clerk}, transports=transports)
    last = (await client.until_live())[-1]["seq"]
    await client.close()
    for i in range(20):
        await _set_notice(http, admin, f"通知 {i}")
    client = await SioClient().connect(
        live.url, auth={"token": clerk, "since": last}, transports=transports
    )
    try:
        frames = await client.until_live()
        assert [f["seq"] for f in frames[:-1]] == list(range(last + 1, last + 21))
        assert [f["data"]["text"] for f in frames[:-1]] == [f"通知 {i}" for i in range(20)]
        assert frames[-1] == {"type": "live", "seq": last + 20}
        # the backlog and the marker went out batched: several frames per Socket.IO event
        assert client.packets < len(frames), (client.packets, len(frames))
        await _set_notice(http, admin, "之后")
        (after,) = await client.events(1, timeout=2)
        assert after["seq"] == last + 21
        assert await client.quiet(0.5) == []
    finally:
        await client.close()


async def test_malformed_or_too_old_since_gets_a_snapshot(live, http):
    clerk = (await login(http, "clerk001"))["token"]
    for since in ("abc", -5, 10**9, None, True, "12x"):
        client = await SioClient().connect(live.url, auth={"token": clerk, "since": since})
        try:
            frames = await client.until_live()
            assert frames[0]["type"] == "snapshot", since
            assert len(frames) == 2, since
        finally:
            await client.close()


async def test_a_cookie_session_connects_with_its_socket_ticket(live):
    async with ClientSession(base_url=live.url, cookie_jar=CookieJar(unsafe=True)) as browser:
        body = await login(browser, "clerk001", bearer=False)
        assert "token" not in body
        resp = await browser.get("/api/session")
        assert resp.status == 200
        ticket = (await resp.json())["socket_ticket"]
    client = await SioClient().connect(live.url, auth={"ticket": ticket})
    try:
        snap, marker = await client.until_live()
        assert snap["type"] == "snapshot" and snap["data"]["hall"]["code"] == "rizhao"
        assert marker["type"] == "live"
    finally:
        await client.close()


async def test_no_or_bad_credentials_are_refused_with_our_error(live):
    for auth in (
        None,
        {},
        {"token": "not-a-token"},
        {"ticket": "AAAA"},
        {"token": 42},
        {"token": ["x"]},
        "a string",
    ):
        error = await _refused(live.url, auth=auth)
        assert error is not None and error["code"] == "unauthenticated", auth
        assert error["message"], auth


async def test_credentials_in_the_url_are_ignored(live, http):
    clerk = (await login(http, "clerk001"))["token"]
    error = await _refused(f"{live.url}?token={clerk}&ticket={clerk}")
    assert error is not None and error["code"] == "unauthenticated"


async def test_a_foreign_origin_is_refused(live, http):
    clerk = (await login(http, "clerk001"))["token"]
    for transports in (None, ["websocket"]):
        # Engine.IO refuses the transport itself: no namespace error reaches the client
        assert (
            await _refused(
                live.url,
                auth={"token": clerk},
                transports=transports,
                headers={"Origin": "http://evil.example"},
            )
            is None
        )
    # the server's own page origin is allowed
    client = await SioClient().connect(
        live.url, auth={"token": clerk}, headers={"Origin": live.url}
    )
    try:
        assert (await client.until_live())[0]["type"] == "snapshot"
    finally:
        await client.close()


async def test_a_clerk_cannot_watch_another_hall_but_a_supervisor_can(live, http):
    clerk = (await login(http, "clerk001"))["token"]
    error = await _refused(live.url, auth={"token": clerk, "hall": "juxian"})
    assert error is not None and error["code"] == "other_hall"
    error = await _refused(live.url, auth={"token": clerk, "hall": "nowhere"})
    assert error is not None and error["code"] == "unknown_hall"

    supervisor = (await login(http, "supervisor1"))["token"]
    client = await SioClient().connect(live.url, auth={"token": supervisor, "hall": "juxian"})
    try:
        snap, _ = await client.until_live()
        assert snap["type"] == "snapshot" and snap["data"]["hall"]["code"] == "juxian"
    finally:
        await client.close()


async def test_the_plain_feed_refuses_a_foreign_browser_origin(live, http):
    clerk = (await login(http, "clerk001"))["token"]
    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(live.ws_url + "/ws/display", origin="http://evil.example"):
            pass
    assert refused.value.response.status_code == 403
    # a device sends no Origin; a page of ours sends our origin: both are served
    async with FeedClient(live.ws_url, clerk) as feed:
        assert (await feed.until_live())[1]["type"] == "snapshot"
    async with websockets.connect(live.ws_url + "/ws/display", origin=live.url) as ws:
        assert "auth_required" in await ws.recv()


async def test_a_terminal_far_behind_gets_a_snapshot_not_a_drop_loop(live, http, db_dsn):
    """More missed events than a terminal's queue holds: it gets a snapshot (once), never a
    backlog it would be dropped for at once."""
    import asyncpg

    from db.pool import _init_connection
    from db.queries.events import append_events

    token = (await login(http, "clerk001"))["token"]
    client = SioClient()
    await client.connect(live.url, auth={"token": token})
    head = (await client.until_live())[-1]["seq"]
    await client.close()
    conn = await asyncpg.connect(db_dsn)
    await _init_connection(conn)
    hall_id = await conn.fetchval("select id from hall where code = 'rizhao'")
    async with conn.transaction():
        await append_events(
            conn,
            hall_id,
            "system",
            None,
            [{"type": "test.many", "payload": {}, "window_id": None}] * 1500,
        )
    await conn.close()
    again = SioClient()
    await again.connect(live.url, auth={"token": token, "since": head})
    frames = await again.until_live()
    assert frames[0]["type"] == "snapshot" and frames[0]["seq"] == head + 1500
    assert (await again.quiet(0.5)) == []  # and it stays connected, quietly live
    await again.close()


async def test_a_window_room_gets_its_events_and_resumes_exactly(live, http, db):
    """Room "window:1": events at window 1 and of its queues, transfers to it, every window
    change; not another department's queue. Resume by hall seq stays exact through the
    events the room filtered out."""
    from tests.queue_helpers import clerk_at_window, command, item_of_window, kiosk_token, register

    token = (await login(http, "clerk001"))["token"]
    kiosk = await kiosk_token(http)
    clerk60 = await clerk_at_window(db, 60)
    mine, other = await item_of_window(db, 1), await item_of_window(db, 60)
    client = SioClient()
    await client.connect(live.url, auth={"token": token, "rooms": ["window:1"]})
    head = (await client.until_live())[-1]["seq"]
    a = await register(http, kiosk, other)  # another department's queue: filtered out
    b = await register(http, kiosk, mine)  # window 1's queue: delivered
    await command(http, clerk60, 60, "call-next")  # at window 60: filtered out
    (got,) = await client.events(1)
    assert (
        got["type"] == "ticket.registered" and got["data"]["ticket_no"] == b["ticket"]["ticket_no"]
    )
    assert got["seq"] == head + 2
    await command(http, clerk60, 60, "status", {"status": "paused"})  # window change: everyone
    (change,) = await client.events(1)
    assert change["type"] == "window.status_changed" and change["data"]["window_no"] == 60
    assert await client.quiet(0.5) == []
    last = change["seq"]
    await client.close()
    # while away: one event for the room between two that are not
    await register(http, kiosk, other)
    c = await register(http, kiosk, mine)
    await register(http, kiosk, other)
    again = SioClient()
    await again.connect(live.url, auth={"token": token, "rooms": ["window:1"], "since": last})
    frames = await again.until_live()
    assert [f["data"]["ticket_no"] for f in frames[:-1]] == [c["ticket"]["ticket_no"]]
    assert frames[-1] == {"type": "live", "seq": last + 3}
    await again.close()
    assert a["ticket"]["queue"] != b["ticket"]["queue"]


async def test_a_bad_room_is_refused(live, http):
    token = (await login(http, "clerk001"))["token"]
    for rooms in (["window:999"], ["nonsense"], "window:1", [], ["queue:none"]):
        client = SioClient()
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.connect(live.url, auth={"token": token, "rooms": rooms})
        assert client.errors and client.errors[-1]["data"]["code"] == "invalid_room", rooms


@pytest.mark.parametrize("path", ["/socket.io/?EIO=4&transport=websocket", "/ws/display"])
async def test_no_live_transport_negotiates_per_message_deflate(live, path):
    """Browsers always offer it; for small JSON frames it only costs CPU on every delivery."""
    async with websockets.connect(live.ws_url + path, compression="deflate") as ws:
        assert ws.request.headers.get("Sec-WebSocket-Extensions")  # offered ...
        assert ws.response.headers.get("Sec-WebSocket-Extensions") is None  # ... not taken
        await ws.recv()  # the transport works: Engine.IO's open packet / auth_required


@pytest.mark.parametrize("transports", [None, ["websocket"]], ids=["polling+upgrade", "websocket"])
async def test_live_events_reach_a_terminal_in_order_whichever_way_they_are_written(
    live, http, transports
):
    """A WebSocket-first terminal is written straight to its socket once Engine.IO has written
    what it queued (socket_server.DirectWriter); an upgraded one through Engine.IO's queue.
    Either way every event arrives once, in order, after the handshake and the live marker."""
    admin = (await login(http, "admin"))["token"]
    clerk = (await login(http, "clerk001"))["token"]
    client = await SioClient().connect(live.url, auth={"token": clerk}, transports=transports)
    try:
        head = (await client.until_live())[-1]["seq"]
        (sock,) = live.app[SIO].eio.sockets.values()
        direct = getattr(sock, "hall_direct", None)
        through_engineio = direct.sent if direct is not None else None
        n = 40
        for i in range(n):
            await _set_notice(http, admin, f"顺序 {i}")
        got = await client.events(n, timeout=5)
        assert [e["seq"] for e in got] == list(range(head + 1, head + n + 1))
        assert [e["data"]["text"] for e in got] == [f"顺序 {i}" for i in range(n)]
        if transports == ["websocket"]:
            # the events went straight to the socket: Engine.IO wrote none of them
            assert direct is not None and direct.sent == through_engineio
        else:
            assert direct is None
    finally:
        await client.close()
