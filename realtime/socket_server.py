"""The Socket.IO server, with a bounded Engine.IO send queue per connection and no per-message
deflate.

Engine.IO's own queue per socket is unbounded: a terminal that stops reading would grow it
forever while our writer never noticed. Bounded, a full queue blocks that connection's writer
only; its capped outgoing deque then overflows and the connection is dropped (it resyncs when
it comes back), and nobody else waits.

Engine.IO's aiohttp driver opens its WebSockets with aiohttp's default, per-message deflate on,
and browsers always offer it: every frame to every terminal would be compressed, about three
times the CPU of a delivery for small JSON frames that gain nothing from it (the plain feed
never negotiates it either)."""

from __future__ import annotations

import asyncio
from typing import Final

import engineio
import orjson
import socketio
from aiohttp import web
from engineio.async_drivers import aiohttp as engineio_aiohttp

ENGINEIO_QUEUE: Final = 64


class _UncompressedWebSocket(engineio_aiohttp.WebSocket):
    """The driver's WebSocket, opened with compress=False (what its __call__ does otherwise)."""

    async def __call__(self, environ: dict) -> web.WebSocketResponse:
        request = environ["aiohttp.request"]
        self._sock = web.WebSocketResponse(
            max_msg_size=self.server.max_http_buffer_size, compress=False
        )
        await self._sock.prepare(request)
        self.environ = environ
        await self.handler(self)
        return self._sock


class _BoundedEngineIO(engineio.AsyncServer):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._async = {**self._async, "websocket": _UncompressedWebSocket}

    def create_queue(self, *args, **kwargs) -> asyncio.Queue:
        if not args and not kwargs:
            return asyncio.Queue(maxsize=ENGINEIO_QUEUE)
        return super().create_queue(*args, **kwargs)


class _OrjsonForSocketIO:
    """python-socketio calls json.dumps(obj, separators=...) and expects str."""

    @staticmethod
    def dumps(obj, **_: object) -> str:
        return orjson.dumps(obj).decode()

    @staticmethod
    def loads(s, **_: object):
        return orjson.loads(s)


class HallSocketServer(socketio.AsyncServer):
    def _engineio_server_class(self):
        return _BoundedEngineIO


def create_socket_server(origins: list[str]) -> HallSocketServer:
    return HallSocketServer(
        async_mode="aiohttp",
        cors_allowed_origins=origins,
        json=_OrjsonForSocketIO,
        http_compression=False,
        max_http_buffer_size=64 * 1024,
    )
