"""What /healthz reports: database, bus, fan-out, and warnings that need a person but are no
failure (a hall calendar without official holiday data for the coming weeks)."""

from __future__ import annotations

import asyncio
import logging
import os
import re
from typing import Any

from aiohttp import web

from db.pool import Conn
from server import metrics
from server.background import within
from server.domain.calendar_service import coverage_warnings
from server.domain.queueing import service_day
from server.domain.store import Reachability
from server.keys import BUS, CONTEXT, FANOUT, POOL

log = logging.getLogger(__name__)

_PARAM = re.compile(r"{(\w+)}")


# /healthz answers within this even when a dependency is frozen (neither answering nor refusing)
DATABASE_PROBE_SECONDS = 2.0


async def health_status(app: web.Application) -> dict[str, Any]:
    """The database asked now (a statement within DATABASE_PROBE_SECONDS) and the bus asked now
    (Redis pinged), both at once. `ok` is the database's: without Redis a worker still takes
    commands (its displays are fed from the log), without the database it takes none."""

    async def database() -> list[dict[str, Any]]:
        async with app[POOL].acquire(timeout=DATABASE_PROBE_SECONDS) as conn:
            await conn.fetchval("select 1")
            return await _warnings(app, conn)

    async def probe_database() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        try:
            return {"ok": True}, await within(database(), DATABASE_PROBE_SECONDS)
        except Exception as exc:  # noqa: BLE001  (any failure is "unreachable", named below)
            return {"ok": False, "error": type(exc).__name__}, []

    (db, warnings), bus = await asyncio.gather(probe_database(), app[BUS].probe())
    return {
        "ok": db["ok"],
        "database": db,
        "bus": bus,
        "fanout": app[FANOUT].status(),
        "warnings": warnings,
        # tasks: a leak shows as a count that grows (run.py faults soak samples it)
        "worker": {"pid": os.getpid(), "tasks": len(asyncio.all_tasks())},
    }


async def _warnings(app: web.Application, conn: Conn) -> list[dict[str, Any]]:
    # A warning never turns the status into a failure: a load balancer must not take a
    # server out of service because next year's holidays are not loaded yet.
    try:
        return await coverage_warnings(conn, service_day(app[CONTEXT].clock()))
    except Exception:
        log.exception("healthz: the calendar coverage could not be read")
        return []


async def metrics_text(app: web.Application) -> tuple[bytes, str]:
    """/metrics: the database and the bus asked now, as /healthz asks them (a dependency that
    froze without anyone using it shows), then every metric in Prometheus' text format."""

    async def database() -> None:
        async with app[POOL].acquire(timeout=DATABASE_PROBE_SECONDS) as conn:
            await conn.fetchval("select 1")

    async def probe_database() -> None:
        try:
            await within(database(), DATABASE_PROBE_SECONDS)
        except Exception as exc:  # noqa: BLE001  (any failure is "unreachable")
            Reachability.lost(exc)
        else:
            Reachability.answered()

    await asyncio.gather(probe_database(), app[BUS].probe())
    return metrics.exposition()
