"""Socket.IO namespace /hall for browser terminals (window, leader, supervision).

The handshake's auth payload carries {"ticket" or "token", "since", "hall"}; never the URL. The
Origin is checked by Engine.IO against the allowlist before this code runs. Frames are the same
bytes the plain feed sends, wrapped once into a Socket.IO packet and written to Engine.IO
directly, so an event is serialised once however many terminals watch it."""
from __future__ import annotations

import asyncio
import logging
from typing import Any

import socketio

from realtime import protocol as p
from realtime.fanout import Fanout, Subscriber, parse_since
from realtime.rooms import room_filter
from server.domain.auth import AuthService
from server.domain.errors import DomainError
from server.domain.hall import visible_hall
from server.domain.store import Store

log = logging.getLogger(__name__)

_PREFIX = f'2{p.SOCKET_NAMESPACE},["{p.SOCKET_EVENT}",'.encode()


def _refused(error: dict) -> socketio.exceptions.ConnectionRefusedError:
    """The client's connect_error gets {"message": text, "data": {"code", "message"}}; a single
    argument would reach it only as str(dict)."""
    return socketio.exceptions.ConnectionRefusedError(error["message"], error)


class TerminalSubscriber(Subscriber):
    max_queue = 1000

    def __init__(self, hall_id: int, sio: socketio.AsyncServer, sid: str, eio_sid: str):
        super().__init__(hall_id)
        self.sio = sio
        self.sid = sid
        self.eio_sid = eio_sid

    def event_frame(self, frame: bytes) -> bytes:
        return _PREFIX + frame + b"]"

    snapshot_frame = event_frame

    @staticmethod
    def ring_frame(frame: bytes) -> str:
        """Live events are kept once per hall (see HallRing), as the text Engine.IO sends."""
        return (_PREFIX + frame + b"]").decode()

    async def write(self, data: bytes | str) -> None:
        await self.sio.eio.send(self.eio_sid, data if isinstance(data, str) else data.decode())

    async def abort(self, reason: str) -> None:
        await self.sio.disconnect(self.sid, namespace=p.SOCKET_NAMESPACE)


class HallNamespace(socketio.AsyncNamespace):
    def __init__(self, auth: AuthService, store: Store, fanout: Fanout):
        super().__init__(p.SOCKET_NAMESPACE)
        self.auth = auth
        self.store = store
        self.fanout = fanout
        self._subs: dict[str, TerminalSubscriber] = {}

    async def on_connect(self, sid: str, environ: dict, auth: Any = None) -> None:
        if not isinstance(auth, dict):
            raise _refused({"code": "unauthenticated", "message": "请先登录"})
        actor = await self.auth.resolve_credential(auth.get("ticket") or auth.get("token"))
        if actor is None:
            raise _refused({"code": "unauthenticated", "message": "登录已失效，请重新登录"})
        try:
            async with self.store.read() as conn:
                code = auth.get("hall")
                hall = await visible_hall(conn, actor, None if code is None else str(code),
                                          "hall.read")
                accepts = await room_filter(conn, hall.id, auth.get("rooms"))
        except DomainError as exc:
            raise _refused(exc.as_dict())
        await self.save_session(sid, {"actor": actor, "hall_id": hall.id})
        eio_sid = self.server.manager.eio_sid_from_sid(sid, p.SOCKET_NAMESPACE)
        sub = TerminalSubscriber(hall.id, self.server, sid, eio_sid)
        sub.accepts = accepts  # a room filter is served from the private queue, not the ring
        self._subs[sid] = sub
        # Attached in a task of its own: the handshake's CONNECT packet goes out when this
        # handler returns, and must precede the first frame.
        asyncio.get_running_loop().create_task(self._attach(sub, parse_since(auth.get("since"))))

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
