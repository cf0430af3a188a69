"""A small Socket.IO client of the /hall namespace, for tests."""

from __future__ import annotations

import asyncio
from typing import Any

import socketio

from tests.realtime.frames import FrameReader

NAMESPACE = "/hall"
EVENT = "hall"


class SioClient(FrameReader):
    """Collects every frame of event "hall" in arrival order; remembers a refusal's data."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.queue: asyncio.Queue[dict] = asyncio.Queue()
        self.frames: list[dict] = []
        self.errors: list[Any] = []
        self.packets = 0  # Socket.IO events received (each carries 1+ frames)
        self.disconnected = asyncio.Event()  # the namespace was disconnected (by either side)
        self.disconnect_reasons: list[Any] = []
        self.sio.on(EVENT, self._on_frames, namespace=NAMESPACE)
        self.sio.on("connect_error", self.errors.append, namespace=NAMESPACE)
        self.sio.on("disconnect", self._on_disconnect, namespace=NAMESPACE)

    def _on_disconnect(self, reason: Any = None) -> None:
        self.disconnect_reasons.append(reason)
        self.disconnected.set()

    def _on_frames(self, *frames: dict) -> None:
        self.packets += 1
        for frame in frames:
            self.queue.put_nowait(frame)

    async def connect(
        self,
        url: str,
        auth: Any = None,
        headers: dict | None = None,
        transports: list[str] | None = None,
    ) -> SioClient:
        await self.sio.connect(
            url,
            auth=auth,
            headers=headers or {},
            transports=transports,
            namespaces=[NAMESPACE],
            wait_timeout=5,
        )
        return self

    async def close(self) -> None:
        await self.sio.disconnect()

    async def next(self, timeout: float = 5.0) -> dict:
        frame = await asyncio.wait_for(self.queue.get(), timeout)
        self.frames.append(frame)
        return frame
