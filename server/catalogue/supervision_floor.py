"""Electronic supervision on the hall floor, declared: the timer jobs of the triggers that watch
tickets, services, sign-off requests and windows (server/domain/floor_alarms.py). They look
twice a second so that an alarm is raised within 1 s of its instant."""

from __future__ import annotations

from server.catalogue.spine import TimerJob
from server.domain import floor_alarms as fa

TIMERS: tuple[TimerJob, ...] = (
    TimerJob(
        "alarm.fire_ticket_wait",
        "Raise a warning for a ticket waiting past the hall's limit (over its whole visit), once",
        fa.fire_ticket_wait,
        emits=("alarm.issued",),
        every=0.5,
    ),
    TimerJob(
        "alarm.fire_service_overlong",
        "Raise a warning for a service running past the norm times the factor, once per ticket",
        fa.fire_service_overlong,
        emits=("alarm.issued",),
        every=0.5,
    ),
    TimerJob(
        "alarm.fire_signoff_wait",
        "Raise a warning for a sign-off request waiting past the hall's limit, once",
        fa.fire_signoff_wait,
        emits=("alarm.issued",),
        every=0.5,
    ),
    TimerJob(
        "alarm.fire_window_unattended",
        "Raise a warning for an open window left with nobody at it, once per episode",
        fa.fire_window_unattended,
        emits=("alarm.issued",),
        every=0.5,
    ),
    TimerJob(
        "alarm.fire_pause_overlong",
        "Raise a warning for a window paused past the limit, once per pause",
        fa.fire_pause_overlong,
        emits=("alarm.issued",),
        every=0.5,
    ),
)
