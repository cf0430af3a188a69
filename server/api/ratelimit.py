"""Per-device token buckets for kiosk requests.

Kept in the process's memory on purpose: a limit is a guard against a stuck or abused kiosk,
not state that must survive a restart; with several processes each enforces its own bucket."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from server.domain.errors import RateLimited


class RetryLater(RateLimited):
    """429 with the whole seconds until a token is available (the Retry-After header)."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message, code="rate_limited")
        self.retry_after = retry_after


class RateLimiter:
    def __init__(self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate = per_minute / 60.0
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def check(self, key: str) -> None:
        now = self._clock()
        tokens, last = self._buckets.get(key, (float(self.burst), now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1:
            # rounded up, so a client that waits this long finds a whole token (rounded to the
            # microsecond first: 0.667 tokens at 1/3 a second is 2.0000000001 s in floats)
            wait = max(1, math.ceil(round((1 - tokens) / self.rate, 6)))
            self._buckets[key] = (tokens, now)
            raise RetryLater(f"操作过于频繁，请 {wait} 秒后再试", retry_after=wait)
        self._buckets[key] = (tokens - 1, now)
        if len(self._buckets) > 10_000:  # devices come and go; never grow without bound
            self._buckets.clear()
