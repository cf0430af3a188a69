"""Retention of the event log and the audit trail (issue 12).

Both keep `retention_months` (HALLOPS_RETENTION_MONTHS: 13 by default, never fewer than 6) in
their tables; the whole days before that move, row for row, into event_archive and
audit_archive, in the transaction that deletes them (db/functions/archive.sql). Archive tables
rather than files, because:
- a move is one transaction: no window in which a row is in both places or in neither, and
  the append-only triggers let a row leave the log only when its copy is in the archive;
- PostgreSQL stays the one source of truth: every backup holds the archive, an auditor reads
  it with SQL, and nothing depends on a file system of one machine among several workers;
- what the retention is for still holds: the tables every command appends to and every
  reconnecting screen reads (and their indexes) stay the size of the retention window.

A hall's log always stays a gapless run of sequence numbers up to its head: only a prefix is
moved. A client that asks to resume from a seq before that run is told so (the HTTP replay's
410 events_archived; the live feeds send a fresh snapshot), never given a silent gap.

The reports read cases, tickets, ratings, rectifications and alarms, never the log or the
audit trail, so archiving changes no figure (tests/ops/test_retention.py)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime

from db.pool import Conn
from db.queries import archive as q
from db.queries.events import write_audit
from server.domain.queueing import TZ

BATCH = 5000  # rows a statement moves: a backlog is many short transactions


def cutoff(now: datetime, months: int) -> datetime:
    """The first instant kept: midnight (the hall's zone) of the day `months` months before
    `now`'s day (the 31st falls back to the month's last day). Whole days older move."""
    day = now.astimezone(TZ).date()
    y, m0 = divmod(day.year * 12 + day.month - 1 - months, 12)
    last = calendar.monthrange(y, m0 + 1)[1]
    return datetime(y, m0 + 1, min(day.day, last), tzinfo=TZ)


@dataclass(frozen=True)
class Moved:
    events: int  # this hall's
    audit: int  # every hall's: the audit trail is one table


async def _drain(conn: Conn, sql: str, *args: object, max_batches: int | None) -> int:
    moved, batches = 0, 0
    while max_batches is None or batches < max_batches:
        n = int(await conn.fetchval(sql, *args, BATCH) or 0)
        moved += n
        batches += 1
        if n < BATCH:
            break
    return moved


async def archive(
    conn: Conn, hall_id: int, before: datetime, *, max_batches: int | None = None
) -> Moved:
    """Moves the hall's events before `before`, then the audit lines before it, each in
    batches of BATCH rows (at most `max_batches` each; None: all). A move that did something
    is audited as log.archive under the hall."""
    events = await _drain(conn, q.ARCHIVE_EVENTS, hall_id, before, max_batches=max_batches)
    audit = await _drain(conn, q.ARCHIVE_AUDIT, before, max_batches=max_batches)
    if events or audit:
        await write_audit(
            conn,
            hall_id,
            "system",
            None,
            None,
            "log.archive",
            "ok",
            {"before": before.isoformat(), "events": events, "audit": audit},
        )
    return Moved(events, audit)


async def kept(conn: Conn, hall_id: int) -> dict[str, int | None]:
    """first_kept (None: the log is empty), archived_through (None: nothing archived), head."""
    row = await conn.fetchrow(q.KEPT, hall_id)
    assert row is not None  # one row of scalar subqueries
    return dict(row)
