"""Both live transports (Socket.IO /hall and the plain feed /ws/display) are authorized by one
rule, hall.stream: staff and lobby displays may watch the hall's stream; a kiosk only on
Socket.IO, confined to the registration hours' changes (the plain feed refuses it)."""

from __future__ import annotations

import orjson
import pytest
import websockets
from aiohttp import ClientSession
from websockets.exceptions import ConnectionClosed

from realtime import protocol as p
from server import demo_hall
from tests.conftest import login
from tests.realtime.feed import FeedClient
from tests.realtime.sio import SioClient


async def _device(http: ClientSession, code: str, kind: str) -> str:
    resp = await http.post(
        "/api/auth/device", json={"code": code, "secret": demo_hall.DEMO_PASSWORDS[kind]}
    )
    assert resp.status == 200, await resp.text()
    return (await resp.json())["token"]


async def _tokens(http: ClientSession) -> dict[str, str]:
    return {
        "kiosk": await _device(http, "kiosk-01", "kiosk"),
        "display": await _device(http, "display-01", "display"),
        "clerk": (await login(http, "clerk001"))["token"],
    }


async def _feed_refusal(ws_url: str, token: str) -> tuple[dict, int]:
    """The plain feed's answer to an authentication it refuses: its frame and close code."""
    async with websockets.connect(ws_url + "/ws/display") as ws:
        assert orjson.loads(await ws.recv()) == {"type": "auth_required"}
        await ws.send(orjson.dumps({"type": "auth", "token": token}).decode())
        frame = orjson.loads(await ws.recv())
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None
    return frame, closed.value.rcvd.code


async def test_a_kiosk_is_refused_the_plain_feed_and_confined_on_socketio(live, http):
    tokens = await _tokens(http)
    kiosk = tokens["kiosk"]
    frame, code = await _feed_refusal(live.ws_url, kiosk)
    assert code == p.CLOSE_FORBIDDEN == 4403
    assert frame["type"] == "auth_invalid" and frame["code"] == "wrong_role"
    # Socket.IO accepts it, whatever rooms it asks for: no hall state, and of the hall's
    # events only the registration hours' changes
    client = await SioClient().connect(live.url, auth={"token": kiosk, "rooms": ["queue:amr"]})
    try:
        snap, _ = await client.until_live()
        assert snap["type"] == "snapshot" and snap["data"] is None
        admin = (await login(http, "admin"))["token"]
        auth = {"Authorization": f"Bearer {admin}"}
        resp = await http.put("/api/halls/rizhao/notice", json={"text": "不给取号机"}, headers=auth)
        assert resp.status == 200, await resp.text()
        resp = await http.put(
            "/api/halls/rizhao/registration-hours", json={"open": True}, headers=auth
        )
        assert resp.status == 200, await resp.text()
        (frame,) = await client.events(1, timeout=2.0)
        assert frame["type"] == "registration.open_set"
        assert frame["data"]["by"]["role"] == "admin"
        assert await client.quiet(0.3) == []
    finally:
        await client.close()
    # nor may it read the hall's events back
    resp = await http.get("/api/halls/rizhao/events", headers={"Authorization": f"Bearer {kiosk}"})
    assert resp.status == 403


@pytest.mark.parametrize("who", ["display", "clerk"])
async def test_a_display_and_a_clerk_are_accepted_on_both_transports(live, http, who):
    token = (await _tokens(http))[who]
    async with FeedClient(live.ws_url, token) as feed:
        frames = await feed.until_live()
        assert frames[0] == {"type": "auth_ok", "hall": "rizhao"}
        assert frames[1]["type"] == "snapshot"
    client = await SioClient().connect(live.url, auth={"token": token})
    try:
        snap, marker = await client.until_live()
        assert snap["type"] == "snapshot" and marker == {"type": "live", "seq": snap["seq"]}
    finally:
        await client.close()


async def test_the_plain_feed_answers_the_displays_heartbeat(live, http):
    """A browser cannot see WebSocket pings: the lobby display sends {"type":"ping"} and counts
    the link dead when nothing comes back (frontend/shared/live.js)."""
    token = (await _tokens(http))["display"]
    async with FeedClient(live.ws_url, token) as feed:
        await feed.until_live()
        await feed.ws.send('{"type":"ping"}')
        assert await feed.next() == {"type": "pong"}
