"""Electronic supervision on the hall floor, declared: the timer jobs of the triggers that watch
tickets, services, sign-off requests and windows (server/domain/floor_alarms.py)."""

from __future__ import annotations

from server.catalogue.spine import TimerJob

TIMERS: tuple[TimerJob, ...] = ()
