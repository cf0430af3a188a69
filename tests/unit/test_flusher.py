"""The plain feed's write coalescing (realtime/fanout.py _Flusher): an event after a quiet
spell is written at once; events closer together than the interval share one write per client;
the interval is a minimum spacing of writes, never a delay for the first."""

from __future__ import annotations

import asyncio

from realtime.fanout import Subscriber, _flusher


class RecordingSubscriber(Subscriber):
    def __init__(self) -> None:
        super().__init__(hall_id=1)
        self.writes: list[tuple[float, bytes]] = []

    def write_now(self, data: bytes) -> bool:
        self.writes.append((asyncio.get_running_loop().time(), data))
        return True

    async def abort(self, reason: str) -> None:
        pass


async def test_first_event_goes_at_once_then_close_events_share_one_write():
    loop = asyncio.get_running_loop()
    flusher = _flusher()
    saved = flusher.min_interval
    flusher.min_interval = 0.05
    try:
        await asyncio.sleep(0.06)  # quiet spell: whatever ran before is long past
        a, b = RecordingSubscriber(), RecordingSubscriber()
        t0 = loop.time()
        a.send(b"1")
        b.send(b"1")
        await asyncio.sleep(0.005)
        assert [d for _, d in a.writes] == [b"1"] and [d for _, d in b.writes] == [b"1"]
        assert a.writes[0][0] - t0 < 0.02  # no waiting for the first
        a.send(b"2")  # within the interval: held ...
        await asyncio.sleep(0.01)
        a.send(b"3")  # ... and joined by the next one
        b.send(b"2")
        assert len(a.writes) == 1
        await asyncio.sleep(0.08)
        assert [d for _, d in a.writes] == [b"1", b"23"]
        assert [d for _, d in b.writes] == [b"1", b"2"]
        spacing = a.writes[1][0] - a.writes[0][0]
        assert 0.045 <= spacing < 0.1, spacing
    finally:
        flusher.min_interval = saved
