"""Retention, declared: the timer job that moves each hall's event log and the audit trail's
oldest days into their archive tables (server/domain/retention.py). It looks hourly: a look
with nothing older than the retention is one index probe per table, and the day that falls due
at midnight moves in the first look after it, in batches of short transactions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from server.catalogue.spine import Capability, TimerContext, TimerJob
from server.domain import retention
from server.domain.events import EventRecord

MAX_BATCHES = 20  # per table and look: 100,000 rows, several days of a city hall's events


async def archive_job(ctx: TimerContext, hall: Any, now: datetime) -> list[EventRecord]:
    before = retention.cutoff(now, ctx.retention_months)
    async with ctx.store.read() as conn:
        await retention.archive(conn, hall["id"], before, max_batches=MAX_BATCHES)
    return []


TIMERS = (
    TimerJob(
        "log.archive",
        "Move the event log's and the audit trail's days older than the retention "
        "(HALLOPS_RETENTION_MONTHS) into their archive tables",
        archive_job,
        every=3600.0,
    ),
)

CAPABILITY = Capability("retention", timers=TIMERS)
