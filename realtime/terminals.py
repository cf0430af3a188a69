"""Socket.IO namespace /hall for browser terminals (window, leader, supervision), and for the
citizen's anonymous /track page following one case (realtime/track_stream.py).

The handshake's auth payload carries {"ticket" or "token", "since", "hall"}, or {"track",
"since"}; never the URL. The Origin is checked by Engine.IO against the allowlist before this
code runs. Frames are the same bytes the plain feed sends (serialised once however many clients
watch). Like the plain feed, a terminal is written at most once per flush: everything due goes
out as ONE Socket.IO event "hall" whose arguments are the frames in order (a client handles
`(...frames)`), put straight into the connection's Engine.IO queue, so the cost per delivery
falls as the load rises."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import engineio.packet
import socketio

from realtime import protocol as p
from realtime import track_stream as track
from realtime.fanout import Fanout, Subscriber, parse_since
from realtime.led_feed import ws_text_frame
from realtime.rooms import RoomFilter, case_filter, kiosk_filter, rater_filter, room_filter
from realtime.socket_server import DirectWriter
from server.domain.auth import AuthService, require_password_changed
from server.domain.context import Context
from server.domain.errors import DomainError
from server.domain.hall import visible_hall
from server.domain.store import Store
from server.proxy import request_client

log = logging.getLogger(__name__)

_PREFIX = f'2{p.SOCKET_NAMESPACE},["{p.SOCKET_EVENT}",'.encode()


def _refused(error: dict) -> socketio.exceptions.ConnectionRefusedError:
    """The client's connect_error gets {"message": text, "data": {"code", "message"}}; a single
    argument would reach it only as str(dict)."""
    return socketio.exceptions.ConnectionRefusedError(error["message"], error)


def _bare(frame: bytes) -> bytes:
    return frame


def _payload(frame: bytes) -> bytes:
    """The payload of an unmasked WebSocket frame made by ws_text_frame."""
    n = frame[1]
    return frame[2:] if n < 126 else frame[4:] if n == 126 else frame[10:]


class TerminalSubscriber(Subscriber):
    transport_kind = "socketio"
    max_queue = 1000
    # A write is one Socket.IO packet of up to max_write bytes of frames, built once as a whole
    # WebSocket frame for all the terminals at the same position. It is written straight to the
    # connection's socket when Engine.IO has nothing queued for it (socket_server.DirectWriter),
    # else put into its Engine.IO queue (socket_server.ENGINEIO_QUEUE packets), behind what is
    # there. Above high_water packets queued or high_water_bytes in the socket buffer, wait until
    # it is down to low_water / low_water_bytes. So a terminal holds at most ~64 kB here (a
    # hundred terminals far behind would otherwise hold tens of MB), and the queue keeps room
    # for Engine.IO's own packets (pings, disconnect).
    max_write = 16 * 1024
    high_water = 4
    low_water = 1
    high_water_bytes = 64 * 1024
    low_water_bytes = 16 * 1024

    def __init__(self, hall_id: int, sio: socketio.AsyncServer, sid: str, eio_sid: str):
        super().__init__(hall_id)
        self.sio = sio
        self.sid = sid
        self.eio_sid = eio_sid
        self.attaching: asyncio.Task | None = None

    # live events are kept once per hall as their bare frames; a write packs them
    ring_frame = staticmethod(_bare)

    def pack(self, parts: list[bytes]) -> bytes:
        """The WebSocket frame of Engine.IO message '4' carrying Socket.IO event 'hall'."""
        return ws_text_frame(b"4" + _PREFIX + b",".join(parts) + b"]")

    def _socket(self) -> Any:
        sock = self.sio.eio.sockets.get(self.eio_sid)
        if sock is None or sock.closed:
            raise ConnectionResetError("the terminal's Engine.IO socket is gone")
        return sock

    def write_now(self, data: bytes) -> bool:
        sock = self._socket()
        direct: DirectWriter | None = getattr(sock, "hall_direct", None)
        if direct is not None and direct.ready():
            direct.transport.write(data)
            return direct.transport.get_write_buffer_size() <= self.high_water_bytes
        # Behind what Engine.IO has queued: what AsyncSocket.send does, without a task switch
        # per packet (python-engineio 4.x); the packet's data is the frame's text after "4".
        queue = sock.queue
        queue.put_nowait(
            engineio.packet.Packet(engineio.packet.MESSAGE, data=_payload(data)[1:].decode())
        )
        return queue.qsize() < self.high_water

    async def wait_writable(self) -> None:
        while not self.closed:
            sock = self._socket()
            direct: DirectWriter | None = getattr(sock, "hall_direct", None)
            if sock.queue.qsize() <= self.low_water and (
                direct is None or direct.transport.get_write_buffer_size() <= self.low_water_bytes
            ):
                return
            await asyncio.sleep(0.01)

    async def abort(self, reason: str) -> None:
        await self.sio.disconnect(self.sid, namespace=p.SOCKET_NAMESPACE)


class TrackSubscriber(TerminalSubscriber):
    """An anonymous /track connection: its case's events, each as {"seq", "type"} only."""

    def __init__(
        self, hall_id: int, sio: socketio.AsyncServer, sid: str, eio_sid: str, address: str
    ):
        super().__init__(hall_id, sio, sid, eio_sid)
        self.address = address

    event_frame = staticmethod(track.event_frame)
    snapshot_frame = staticmethod(track.snapshot_frame)


class RaterSubscriber(TerminalSubscriber):
    """A window's rating device (评价器): confined to its window's rating events (accepts), and
    shown none of the hall's state."""

    # a snapshot (the first connect, or one far behind) without the hall's data, as /track's
    snapshot_frame = staticmethod(track.snapshot_frame)


class KioskSubscriber(RaterSubscriber):
    """A kiosk: confined to the registration hours' changes (accepts), and shown none of the
    hall's state."""


class HallNamespace(socketio.AsyncNamespace):
    def __init__(
        self, auth: AuthService, store: Store, fanout: Fanout, context: Context | None = None
    ):
        super().__init__(p.SOCKET_NAMESPACE)
        self.auth = auth
        self.store = store
        self.fanout = fanout
        self.context = context  # its track_limit, read at each handshake
        self._subs: dict[str, TerminalSubscriber] = {}
        self._track_open = track.AddressCount()

    async def on_connect(self, sid: str, environ: dict, auth: Any = None) -> None:
        if not isinstance(auth, dict):
            raise _refused({"code": "unauthenticated", "message": "请先登录"})
        if track.TRACK_AUTH in auth:
            await self._connect_track(sid, environ, auth)
            return
        actor = await self.auth.resolve_credential(auth.get("ticket") or auth.get("token"))
        if actor is None:
            raise _refused({"code": "unauthenticated", "message": "登录已失效，请重新登录"})
        try:
            require_password_changed(actor)
            async with self.store.read() as conn:
                code = auth.get("hall")
                hall = await visible_hall(
                    conn, actor, None if code is None else str(code), p.STREAM_PERMISSION
                )
                # a rating device and a kiosk are confined server-side, whatever rooms they
                # ask for
                accepts: RoomFilter | None
                if actor.role == "rater":
                    accepts = rater_filter(actor.window_id)
                elif actor.role == "kiosk":
                    accepts = kiosk_filter()
                else:
                    accepts = await room_filter(conn, hall.id, auth.get("rooms"))
        except DomainError as exc:
            raise _refused(exc.as_dict())
        await self.save_session(sid, {"actor": actor, "hall_id": hall.id})
        eio_sid = self.server.manager.eio_sid_from_sid(sid, p.SOCKET_NAMESPACE)
        kind = {"rater": RaterSubscriber, "kiosk": KioskSubscriber}.get(
            actor.role, TerminalSubscriber
        )
        sub = kind(hall.id, self.server, sid, eio_sid)
        sub.actor = actor
        sub.accepts = accepts  # a room filter is served from the private queue, not the ring
        self._subs[sid] = sub
        # Attached in a task of its own: the handshake's CONNECT packet goes out when this
        # handler returns, and must precede the first frame.
        sub.attaching = asyncio.get_running_loop().create_task(
            self._attach(sub, parse_since(auth.get("since"))), name="terminal-attach"
        )

    async def _connect_track(self, sid: str, environ: dict, auth: dict) -> None:
        request = environ.get("aiohttp.request")
        address = (request_client(request) if request is not None else None) or "-"
        limit = self.context.track_limit if self.context is not None else None
        try:
            target = await track.track_target(self.store, limit, address, auth[track.TRACK_AUTH])
            self._track_open.take(address)
        except DomainError as exc:
            raise _refused(exc.as_dict())
        eio_sid = self.server.manager.eio_sid_from_sid(sid, p.SOCKET_NAMESPACE)
        sub = TrackSubscriber(target.hall_id, self.server, sid, eio_sid, address)
        sub.accepts = case_filter(target.case_id)
        self._subs[sid] = sub
        since = track.resume_from(
            parse_since(auth.get("since")),
            target.head,
            min(self.fanout.resume_limit, sub.max_queue - 2),
        )
        sub.attaching = asyncio.get_running_loop().create_task(
            self._attach(sub, since), name="track-attach"
        )

    async def _attach(self, sub: TerminalSubscriber, since: int | None) -> None:
        try:
            await self.fanout.attach(sub, since)
        except Exception:
            log.exception("attaching terminal %s failed", sub.sid)
            await self.server.disconnect(sub.sid, namespace=p.SOCKET_NAMESPACE)

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        sub = self._subs.pop(sid, None)
        if sub is not None:
            self.fanout.detach(sub)
            if isinstance(sub, TrackSubscriber):
                self._track_open.give_back(sub.address)
