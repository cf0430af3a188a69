"""An alarm's life, declared: acknowledge, annotate, 督办, answer, appeal, the supervisor's
decision, close (server/domain/alarm_life.py), and the timer job that raises an alarm when a
督办 goes unanswered."""

from __future__ import annotations

from server.catalogue.spine import Operation, TimerJob

OPERATIONS: tuple[Operation, ...] = ()
TIMERS: tuple[TimerJob, ...] = ()
