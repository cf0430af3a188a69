"""The Socket.IO server, with a bounded Engine.IO send queue per connection and no per-message
deflate.

Engine.IO's own queue per socket is unbounded: a terminal that stops reading would grow it
forever while our writer never noticed. Bounded, a full queue blocks that connection's writer
only; its capped outgoing deque then overflows and the connection is dropped (it resyncs when
it comes back), and nobody else waits.

Engine.IO's aiohttp driver opens its WebSockets with aiohttp's default, per-message deflate on,
and browsers always offer it: every frame to every terminal would be compressed, about three
times the CPU of a delivery for small JSON frames that gain nothing from it (the plain feed
never negotiates it either).

A direct write path (DirectWriter) lets the fan-out write a terminal's frames straight to its
socket, like the plain feed, instead of through Engine.IO's queue and writer task: one packet
through Engine.IO costs a task switch, a wait_for task, a Packet and aiohttp's framing, several
times a plain write. Order is kept: it writes directly only when everything queued for that
connection has been written (the queue counts what goes in, the WebSocket what goes out)."""

from __future__ import annotations

import asyncio
from typing import Any, Final

import engineio
import orjson
import socketio
from aiohttp import web
from engineio.async_drivers import aiohttp as engineio_aiohttp

from server import wire

ENGINEIO_QUEUE: Final = 64


class _CountingQueue(asyncio.Queue):
    """An Engine.IO socket's send queue that counts the packets put into it."""

    def __init__(self, maxsize: int = 0) -> None:
        super().__init__(maxsize)
        self.puts = 0

    def _put(self, item: Any) -> None:
        if item is not None:  # None is the writer's stop sign, never sent
            self.puts += 1
        super()._put(item)


class DirectWriter:
    """A terminal's WebSocket transport, for writes that bypass Engine.IO's queue."""

    def __init__(self, transport: asyncio.Transport, queue: _CountingQueue):
        self.transport = transport
        self.queue = queue
        self.sent = 0  # packets Engine.IO's writer has written

    def ready(self) -> bool:
        """True when nothing queued is still to be written: a direct write keeps the order."""
        return self.queue.puts == self.sent and not self.transport.is_closing()


class _UncompressedWebSocket(engineio_aiohttp.WebSocket):
    """The driver's WebSocket, opened with compress=False (what its __call__ does otherwise),
    which also counts what Engine.IO writes and offers its socket a DirectWriter."""

    async def __call__(self, environ: dict) -> web.WebSocketResponse:
        request = environ["aiohttp.request"]
        self._sock = web.WebSocketResponse(
            max_msg_size=self.server.max_http_buffer_size, compress=False
        )
        await self._sock.prepare(request)
        self.environ = environ
        self.direct: DirectWriter | None = None
        eio_socket = getattr(self.handler, "__self__", None)
        queue = getattr(eio_socket, "queue", None)
        # Only a connection that is a WebSocket from the start: an upgrade from long-polling
        # writes packets of its own (the probe) outside the queue.
        if (
            eio_socket is not None
            and not eio_socket.connected
            and isinstance(queue, _CountingQueue)
            and request.transport is not None
        ):
            self.direct = DirectWriter(request.transport, queue)
            eio_socket.hall_direct = self.direct
        await self.handler(self)
        return self._sock

    async def send(self, message: Any) -> None:
        # Counted before: aiohttp writes the frame before it could wait for the transport, so
        # nothing can run between this count and the frame being in the transport.
        if self.direct is not None:
            self.direct.sent += 1
        await super().send(message)


class _BoundedEngineIO(engineio.AsyncServer):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._async: dict[str, Any] = {**self._async, "websocket": _UncompressedWebSocket}

    def create_queue(self, *args, **kwargs) -> asyncio.Queue:
        if not args and not kwargs:
            return _CountingQueue(maxsize=ENGINEIO_QUEUE)
        return super().create_queue(*args, **kwargs)


class _OrjsonForSocketIO:
    """python-socketio calls json.dumps(obj, separators=...) and expects str."""

    @staticmethod
    def dumps(obj, **_: object) -> str:
        return wire.dumps(obj).decode()

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
