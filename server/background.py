"""Stopping the long-running tasks of the app's services (bus reader, fan-out, hall timers)."""

from __future__ import annotations

import asyncio


async def stop_tasks(*tasks: asyncio.Task | None) -> None:
    """Cancels the tasks and waits until they have ended; what they raise on the way out
    (their cancellation, or a failure while the app shuts down) is theirs to log, not ours."""
    live = [t for t in tasks if t is not None]
    for t in live:
        t.cancel()
    await asyncio.gather(*live, return_exceptions=True)
