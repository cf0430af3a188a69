"""A small client of the plain WebSocket feed, for tests."""

from __future__ import annotations

import asyncio
from typing import Self

import orjson
import websockets

from tests.realtime.frames import FrameReader


class FeedClient(FrameReader):
    def __init__(self, ws_url: str, token: str, since: int | None = None, hall: str | None = None):
        self.url = ws_url + "/ws/display"
        self.token = token
        self.since = since
        self.hall = hall
        self.ws = None
        self.frames: list[dict] = []

    async def __aenter__(self) -> Self:
        self.ws = await websockets.connect(self.url)
        first = orjson.loads(await self.ws.recv())
        assert first == {"type": "auth_required"}
        hello = {"type": "auth", "token": self.token, "since": self.since}
        if self.hall:
            hello["hall"] = self.hall
        await self.ws.send(orjson.dumps(hello).decode())
        return self

    async def __aexit__(self, *exc) -> None:
        await self.ws.close()

    async def next(self, timeout: float = 5.0) -> dict:
        frame = orjson.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        self.frames.append(frame)
        return frame
