"""A small Socket.IO client of the /hall namespace, for tests."""
from __future__ import annotations

import asyncio
from typing import Any

import socketio

NAMESPACE = "/hall"
EVENT = "hall"


class SioClient:
    """Collects every frame of event "hall" in arrival order; remembers a refusal's data."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.queue: asyncio.Queue[dict] = asyncio.Queue()
        self.frames: list[dict] = []
        self.errors: list[Any] = []
        self.sio.on(EVENT, self.queue.put_nowait, namespace=NAMESPACE)
        self.sio.on("connect_error", self.errors.append, namespace=NAMESPACE)

    async def connect(self, url: str, auth: Any = None, headers: dict | None = None,
                      transports: list[str] | None = None) -> "SioClient":
        await self.sio.connect(url, auth=auth, headers=headers or {}, transports=transports,
                               namespaces=[NAMESPACE], wait_timeout=5)
        return self

    async def close(self) -> None:
        await self.sio.disconnect()

    async def next(self, timeout: float = 5.0) -> dict:
        frame = await asyncio.wait_for(self.queue.get(), timeout)
        self.frames.append(frame)
        return frame

    async def until_live(self, timeout: float = 5.0) -> list[dict]:
        """Frames up to and including the live marker."""
        got = []
        while True:
            frame = await self.next(timeout)
            got.append(frame)
            if frame.get("type") == "live":
                return got

    async def events(self, n: int, timeout: float = 5.0) -> list[dict]:
        got = []
        while len(got) < n:
            frame = await self.next(timeout)
            if frame.get("type") not in ("live", "snapshot"):
                got.append(frame)
        return got

    async def quiet(self, seconds: float = 1.0) -> list[dict]:
        """Whatever else arrives within `seconds` (an exact client expects nothing)."""
        extra = []
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while (left := end - loop.time()) > 0:
            try:
                extra.append(await self.next(left))
            except asyncio.TimeoutError:
                break
        return extra
