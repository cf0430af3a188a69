"""Process-wide upkeep of the server's event loop: stopping the long-running tasks of the app's
services (bus reader, fan-out, hall timers), bounding a coroutine's time without waiting for it
to unwind, and the garbage collector's settings."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable
from typing import Final, TypeVar

T = TypeVar("T")

# Measured with `run.py bench` (1,000 displays, 2 vCPU): with CPython's defaults (700, 10, 10)
# the server ran ~110 collections of 2-13 ms CPU each and four full ones of 90-170 ms in one
# run (~1 s of CPU), and each pause holds up every event and command in flight, which is what
# sets the lobby's p99. Objects made at start-up (~265,000: modules, models, the catalogue)
# never become garbage, so they are frozen out of every collection; a young generation of
# 50,000 allocations makes the rest rare: 3 collections in the same run (~150 ms of CPU). A
# full collection still walks every live connection's objects (~100 per WebSocket).
GC_THRESHOLDS: Final = (50_000, 20, 100)


_settled = False


def settle_gc() -> None:
    """Call once the server has started: collects, freezes what exists (it is permanent), and
    sets GC_THRESHOLDS. Once per process (tests start many apps in one)."""
    global _settled
    if _settled:
        return
    _settled = True
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


async def settle_gc_on_startup(_app: object) -> None:
    """settle_gc as an aiohttp on_startup handler (after the resources have started)."""
    settle_gc()


async def stop_tasks(*tasks: asyncio.Task | None) -> None:
    """Cancels the tasks and waits until they have ended; what they raise on the way out
    (their cancellation, or a failure while the app shuts down) is theirs to log, not ours."""
    live = [t for t in tasks if t is not None]
    for t in live:
        t.cancel()
    await asyncio.gather(*live, return_exceptions=True)


# Tasks left to finish in the background (a coroutine that outlived its deadline), kept
# referenced until they end so that they are neither collected mid-way nor reported unretrieved.
_ABANDONED: set[asyncio.Task] = set()


def _reap(task: asyncio.Task) -> None:
    _ABANDONED.discard(task)
    if not task.cancelled():
        task.exception()  # retrieved: its failure was answered already (a 503)


def _abandon(task: asyncio.Task) -> None:
    task.cancel()
    _ABANDONED.add(task)
    task.add_done_callback(_reap)


async def within(coro: Awaitable[T], seconds: float) -> T:
    """The coroutine's result if it ends within `seconds`; else TimeoutError at once. The
    late coroutine is cancelled without waiting for it to unwind: a frozen database does not
    answer the cancellation either (its connection is released with its own bound), and the
    caller's answer must not wait for that."""
    task = asyncio.ensure_future(coro)
    try:
        done, _ = await asyncio.wait({task}, timeout=seconds)
    except asyncio.CancelledError:
        _abandon(task)
        raise
    if task in done:
        return task.result()
    _abandon(task)
    raise TimeoutError(f"no answer within {seconds} s")
