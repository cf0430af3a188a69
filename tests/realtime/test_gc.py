"""The server settles the garbage collector once it has started (server/background.py): its
start-up objects are frozen out of every collection and young collections are rare, so GC
pauses do not set the lobby's p99."""

from __future__ import annotations

import gc

from server.background import GC_THRESHOLDS


async def test_a_started_server_has_its_collector_settled(live):
    assert gc.get_threshold() == GC_THRESHOLDS
    assert gc.get_freeze_count() > 10_000  # the modules, models and catalogue at least
