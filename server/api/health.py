"""GET /healthz and the OpenAPI document."""

from __future__ import annotations

import asyncio
import re

from aiohttp import web

from server.api.registry import api
from server.api.routing import Route, json_response
from server.keys import BUS, FANOUT, POOL


@api.route(
    "GET",
    "/healthz",
    summary="Database and bus status",
    tag="ops",
    public=True,
    responses={200: "healthy", 503: "database unreachable"},
)
async def handle_healthz(request: web.Request) -> web.Response:
    db = {"ok": True}
    try:
        async with asyncio.timeout(2):
            async with request.app[POOL].acquire() as conn:
                await conn.fetchval("select 1")
    except Exception as exc:
        db = {"ok": False, "error": type(exc).__name__}
    bus = request.app[BUS].status()
    body = {"ok": db["ok"], "database": db, "bus": bus, "fanout": request.app[FANOUT].status()}
    return json_response(body, status=200 if db["ok"] else 503)


_PARAM = re.compile(r"{(\w+)}")


def openapi_document(routes: list[Route]) -> dict:
    # OpenAPI 3.1: its schema objects are JSON Schema 2020-12, which is what pydantic emits
    # (an optional field is anyOf [..., {"type": "null"}], not valid in 3.0). Nested models'
    # $defs are hoisted into components/schemas so their $refs resolve in this document.
    schemas: dict = {
        "Error": {
            "type": "object",
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "field": {"type": "string"},
                    },
                }
            },
        }
    }
    paths: dict = {}
    for r in routes:
        op: dict = {"summary": r.summary, "tags": [r.tag], "operationId": r.handler.__name__}
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
        if r.body is not None:
            schema = r.body.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(schema.pop("$defs", {}))
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": schema}},
            }
        responses = {str(k): {"description": v} for k, v in r.responses.items()}
        responses.setdefault("200", {"description": "OK"})
        responses.setdefault(
            "400",
            {
                "description": "bad input",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            },
        )
        if not r.public:
            responses.setdefault("401", {"description": "not logged in"})
            responses.setdefault("403", {"description": "not allowed for this role or window"})
            op["security"] = [{"bearer": []}, {"cookie": []}]
        op["responses"] = responses
        paths.setdefault(r.path, {})[r.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "hallops",
            "version": "1",
            "description": "Real-time operations server of a government service hall.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "hallops_session"},
            },
            "schemas": schemas,
        },
    }


@api.route("GET", "/api/openapi.json", summary="This document", tag="ops", public=True)
async def handle_openapi(request: web.Request) -> web.Response:
    return json_response(openapi_document(api.routes))
