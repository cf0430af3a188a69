"""The Socket.IO server, with a bounded Engine.IO send queue per connection.

Engine.IO's own queue per socket is unbounded: a terminal that stops reading would grow it
forever while our writer never noticed. Bounded, a full queue blocks that connection's writer
only; its capped outgoing deque then overflows and the connection is dropped (it resyncs when
it comes back), and nobody else waits."""

from __future__ import annotations

import asyncio
from typing import Final

import engineio
import orjson
import socketio

ENGINEIO_QUEUE: Final = 64


class _BoundedEngineIO(engineio.AsyncServer):
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
