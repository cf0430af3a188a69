"""The halls' rings keep 20,000 events per transport: what they keep must be sized to the
frame. orjson's output keeps a ~4 kB allocation whatever its length, so a ring that kept
those objects held ~9x the memory its byte count said (80 MB instead of 9 MB per hall); event
frames are therefore made compact where they are encoded (EventRecord.encode)."""

from __future__ import annotations

import gc
import tracemalloc
from datetime import UTC, datetime

from realtime.led_feed import FeedSubscriber
from realtime.terminals import TerminalSubscriber
from server.domain.events import EventRecord


def _held_per_frame(framer) -> float:
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        at = datetime.now(UTC)
        frames = [
            EventRecord(1, i, "ticket.called", {"text": "满" * 100}, None, at).encode()
            for i in range(1000)
        ]
        size = len(frames[0])
        kept = [framer(f) for f in frames]
        del frames
        gc.collect()
        after = tracemalloc.take_snapshot()
        held = sum(s.size_diff for s in after.compare_to(before, "filename"))
        assert len(kept) == 1000
        return held / 1000 / size
    finally:
        tracemalloc.stop()


def test_ring_frames_cost_about_their_length():
    for framer in (TerminalSubscriber.ring_frame, FeedSubscriber.ring_frame):
        ratio = _held_per_frame(framer)
        assert ratio < 1.6, (framer, ratio)
