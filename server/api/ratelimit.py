"""Per-device token buckets for kiosk requests.

Kept in the process's memory on purpose: a limit is a guard against a stuck or abused kiosk,
not state that must survive a restart; with several processes each enforces its own bucket."""

from __future__ import annotations

import time

from server.domain.errors import RateLimited


class RateLimiter:
    def __init__(self, per_minute: float, burst: int):
        self.rate = per_minute / 60.0
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}

    def check(self, key: str) -> None:
        now = time.monotonic()
        tokens, last = self._buckets.get(key, (float(self.burst), now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1:
            wait = int((1 - tokens) / self.rate) + 1
            self._buckets[key] = (tokens, now)
            raise RateLimited(f"操作过于频繁，请 {wait} 秒后再试", code="rate_limited")
        self._buckets[key] = (tokens - 1, now)
        if len(self._buckets) > 10_000:  # devices come and go; never grow without bound
            self._buckets.clear()
