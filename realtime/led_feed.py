"""The plain WebSocket feed at /ws/display, for lobby displays and LED controllers.

    server: {"type": "auth_required"}
    client: {"type": "auth", "token": "<device or session token>", "since": 41, "hall": "rizhao"}
    server: {"type": "auth_ok", "hall": "rizhao"}
    server: every event after 41 in order, or {"type": "snapshot", "seq": N, "data": {...}}
    server: {"type": "live", "seq": N}, then each event as it commits:
            {"seq": 42, "type": "window.status_changed", "hall_id": 1, "at": "...", "data": {...}}

Plain WebSocket, no per-message deflate: small JSON frames gain nothing from it and it costs
about three times the CPU per delivery."""

from __future__ import annotations

import asyncio
import logging
from typing import Final

import orjson
from aiohttp import WSMsgType, web

from realtime import protocol as p
from realtime.fanout import Fanout, Subscriber, parse_since
from server.domain.auth import require_password_changed
from server.domain.errors import DomainError
from server.domain.errors import Forbidden as DomainForbidden
from server.domain.hall import visible_hall
from server.keys import AUTH, FANOUT, SETTINGS, STORE, WEBSOCKETS

log = logging.getLogger(__name__)

PING: Final = '{"type":"ping"}'  # exactly what frontend/shared/live.js sends
PONG: Final = b'{"type":"pong"}'


def ws_text_frame(payload: bytes) -> bytes:
    """A complete unmasked (server-to-client) WebSocket text frame, no extensions."""
    n = len(payload)
    if n < 126:
        return bytes((0x81, n)) + payload
    if n < 65536:
        return b"\x81\x7e" + n.to_bytes(2, "big") + payload
    return b"\x81\x7f" + n.to_bytes(8, "big") + payload


class FeedSubscriber(Subscriber):
    """Frames are built once per event (header and payload: every plain-feed client gets the
    same bytes) and written straight to the transport in batches; see Subscriber.send.
    aiohttp's own frames (pings, close) are whole frames written on the same thread, so they
    only ever fall between ours. The feed never negotiates compression (compress=False)."""

    transport_kind = "feed"
    high_water = 64 * 1024  # socket buffer bytes: above, wait for the client
    low_water = 16 * 1024  # until it is down to this
    # A client closed by the server (too slow, session ended, resync) gets a close frame after
    # whatever it has not read yet; one that does not read it within this many seconds (it
    # stopped reading altogether) is cut off, so it holds no memory here.
    close_grace = 10.0
    _frame_of: tuple[bytes | None, bytes] = (None, b"")  # last event -> its frame, shared

    def __init__(self, hall_id: int, ws: web.WebSocketResponse, request: web.Request):
        super().__init__(hall_id)
        self.ws = ws
        # Kept from the start: a client that stopped reading is cut off at the transport.
        self.transport = request.transport

    def event_frame(self, frame: bytes) -> bytes:
        src, framed = FeedSubscriber._frame_of
        if src is not frame:  # the fanout hands every subscriber the same bytes object
            framed = ws_text_frame(frame)
            FeedSubscriber._frame_of = (frame, framed)
        return framed

    def snapshot_frame(self, frame: bytes) -> bytes:
        return ws_text_frame(frame)

    ring_frame = staticmethod(ws_text_frame)

    def write_now(self, data: bytes) -> bool:
        t = self.transport
        if t is None or t.is_closing() or self.ws.closed:
            raise ConnectionResetError("the feed socket is closing")
        t.write(data)
        return t.get_write_buffer_size() <= self.high_water

    async def wait_writable(self) -> None:
        t = self.transport
        while not self.closed:
            if t is None or t.is_closing():
                raise ConnectionResetError("the feed socket closed")
            if t.get_write_buffer_size() <= self.low_water:
                return
            await asyncio.sleep(0.01)

    async def abort(self, reason: str) -> None:
        code = _CLOSE_CODES.get(reason, p.CLOSE_RESYNC)
        t = self.transport
        try:
            # The close frame is queued behind the frames already written (whole frames, so it
            # cannot split one): a slow client reads up to it and learns why it was closed.
            # drain=True waits until the client has read it, then aiohttp waits for the
            # client's close reply; both within close_grace.
            await asyncio.wait_for(
                self.ws.close(code=code, message=reason.encode()), self.close_grace
            )
        except (TimeoutError, ConnectionError) as exc:
            log.debug("plain-feed client closed abruptly (%s): %r", reason, exc)
        finally:
            if t is not None and t.get_write_buffer_size() > 0:
                t.abort()  # it stopped reading: what it did not take is dropped with it


_CLOSE_CODES: dict[str, int] = {
    "slow_consumer": p.CLOSE_SLOW,
    "session_ended": p.CLOSE_UNAUTHENTICATED,
}


async def _refuse(
    ws: web.WebSocketResponse, code: int, err: str, message: str
) -> web.WebSocketResponse:
    await ws.send_bytes(orjson.dumps({"type": "auth_invalid", "code": err, "message": message}))
    await ws.close(code=code, message=err.encode())
    return ws


async def handle_display_feed(request: web.Request) -> web.StreamResponse:
    origin = request.headers.get("Origin")
    # LED controllers send no Origin; a browser page must come from one of ours.
    if origin is not None and origin not in request.app[SETTINGS].origins():
        raise DomainForbidden("不允许的来源", code="origin_not_allowed")
    ws = web.WebSocketResponse(compress=False, heartbeat=30, max_msg_size=16 * 1024)
    await ws.prepare(request)
    app = request.app
    request.app[WEBSOCKETS].add(ws)
    sub: FeedSubscriber | None = None
    fanout: Fanout = app[FANOUT]
    try:
        await ws.send_frame(b'{"type":"auth_required"}', WSMsgType.TEXT)
        try:
            msg = await ws.receive(timeout=p.AUTH_TIMEOUT)
        except TimeoutError:
            return await _refuse(ws, p.CLOSE_UNAUTHENTICATED, "auth_timeout", "认证超时")
        if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
            return ws
        try:
            hello = orjson.loads(msg.data)
        except orjson.JSONDecodeError:
            hello = None
        if not isinstance(hello, dict) or hello.get("type") != "auth":
            return await _refuse(ws, p.CLOSE_BAD_REQUEST, "bad_message", "第一条消息应为认证消息")
        actor = await app[AUTH].resolve_credential(hello.get("token"))
        if actor is None:
            return await _refuse(ws, p.CLOSE_UNAUTHENTICATED, "unauthenticated", "认证失败")
        try:
            require_password_changed(actor)
            async with app[STORE].read() as conn:
                code = hello.get("hall")
                hall = await visible_hall(
                    conn, actor, None if code is None else str(code), p.STREAM_PERMISSION
                )
        except DomainError as exc:
            return await _refuse(ws, p.CLOSE_FORBIDDEN, exc.code, exc.message)
        if actor.role in ("rater", "kiosk"):  # the feed is unfiltered: these have Socket.IO
            return await _refuse(ws, p.CLOSE_FORBIDDEN, "wrong_role", "该设备不能订阅大厅事件流")
        await ws.send_frame(orjson.dumps({"type": "auth_ok", "hall": hall.code}), WSMsgType.TEXT)
        sub = FeedSubscriber(hall.id, ws, request)
        sub.actor = actor
        await fanout.attach(sub, parse_since(hello.get("since")))
        # The feed is one-way, but for the client's heartbeat: a browser cannot see WebSocket
        # pings, so a lobby display sends {"type":"ping"} and takes a silent link for dead.
        async for msg in ws:
            if msg.type == WSMsgType.ERROR:
                break
            if msg.type == WSMsgType.TEXT and msg.data == PING:
                await ws.send_frame(PONG, WSMsgType.TEXT)
    finally:
        if sub is not None:
            fanout.detach(sub)
        request.app[WEBSOCKETS].discard(ws)
    return ws
