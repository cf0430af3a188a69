"""What /healthz reports (database, bus, fan-out), and the OpenAPI entries of the few routes
still declared with the legacy decorator (server/api/registry.py) instead of the catalogue."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from aiohttp import web

from server.api.routing import Route
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


def legacy_paths(routes: list[Route]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for r in routes:
        op: dict[str, Any] = {
            "summary": r.summary,
            "tags": [r.tag],
            "operationId": r.handler.__name__,
        }
        params = [
            {"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
            for n in _PARAM.findall(r.path)
        ]
        params += [
            {
                "name": n,
                "in": "query",
                "required": False,
                "description": d,
                "schema": {"type": "string"},
            }
            for n, d in r.query.items()
        ]
        if params:
            op["parameters"] = params
        responses = {str(k): {"description": v} for k, v in r.responses.items()}
        responses.setdefault("200", {"description": "OK"})
        if not r.public:
            responses.setdefault("401", {"description": "not logged in"})
            op["security"] = [{"bearer": []}, {"cookie": []}]
        op["responses"] = responses
        paths.setdefault(r.path, {})[r.method.lower()] = op
    return paths
