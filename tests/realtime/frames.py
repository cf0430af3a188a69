"""What the two test clients of the live stream (Socket.IO and the plain feed) share: reading
frames up to the live marker, the next n events, or whatever else arrives for a while."""

from __future__ import annotations

import asyncio

NOT_EVENTS = ("live", "snapshot", "auth_ok")


class FrameReader:
    """Subclasses give next(timeout): the next frame, kept in self.frames."""

    async def next(self, timeout: float = 5.0) -> dict:
        raise NotImplementedError

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
            if frame.get("type") not in NOT_EVENTS:
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
            except TimeoutError:
                break
        return extra
