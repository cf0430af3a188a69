"""What /healthz reports: database, bus, fan-out."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from aiohttp import web

from server.keys import BUS, FANOUT, POOL

_PARAM = re.compile(r"{(\w+)}")


async def health_status(app: web.Application) -> dict[str, Any]:
    db: dict[str, Any] = {"ok": True}
    try:
        async with asyncio.timeout(2):
            async with app[POOL].acquire() as conn:
                await conn.fetchval("select 1")
    except Exception as exc:  # noqa: BLE001  (any failure is "unreachable", named below)
        db = {"ok": False, "error": type(exc).__name__}
    return {
        "ok": db["ok"],
        "database": db,
        "bus": app[BUS].status(),
        "fanout": app[FANOUT].status(),
    }
