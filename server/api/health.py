"""What /healthz reports: database, bus, fan-out, and warnings that need a person but are no
failure (a hall calendar without official holiday data for the coming weeks)."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from aiohttp import web

from db.pool import Conn
from server.domain.calendar_service import coverage_warnings
from server.domain.queueing import service_day
from server.keys import BUS, CONTEXT, FANOUT, POOL

log = logging.getLogger(__name__)

_PARAM = re.compile(r"{(\w+)}")


async def health_status(app: web.Application) -> dict[str, Any]:
    db: dict[str, Any] = {"ok": True}
    warnings: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(2):
            async with app[POOL].acquire() as conn:
                await conn.fetchval("select 1")
                warnings = await _warnings(app, conn)
    except Exception as exc:  # noqa: BLE001  (any failure is "unreachable", named below)
        db = {"ok": False, "error": type(exc).__name__}
    return {
        "ok": db["ok"],
        "database": db,
        "bus": app[BUS].status(),
        "fanout": app[FANOUT].status(),
        "warnings": warnings,
    }


async def _warnings(app: web.Application, conn: Conn) -> list[dict[str, Any]]:
    # A warning never turns the status into a failure: a load balancer must not take a
    # server out of service because next year's holidays are not loaded yet.
    try:
        return await coverage_warnings(conn, service_day(app[CONTEXT].clock()))
    except Exception:
        log.exception("healthz: the calendar coverage could not be read")
        return []
