"""The OpenAPI document, derived from the catalogue: every declared operation with a route, its
typed path and query parameters, its body and response schemas and, per status, the error
codes it may answer with."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from server.catalogue.spine import Catalogue, Operation

_PARAM = re.compile(r"{(\w+)}")
_REASON = {
    400: "bad input",
    401: "not logged in",
    403: "not allowed for this role, hall, department or window",
    404: "not found",
    409: "refused by the current state",
    415: "the body must be application/json",
    423: "locked",
    429: "too many requests (Retry-After)",
}
_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "machine-readable (English)"},
                "message": {"type": "string", "description": "for people (Chinese)"},
                "field": {"type": "string"},
            },
        }
    },
}


def _schema(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, Any]:
    # nested models' $defs are hoisted into components/schemas so their $refs resolve
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schema.pop("$defs", {}))
    return schema


def _parameters(op: Operation, path: str, schemas: dict[str, Any]) -> list[dict[str, Any]]:
    in_path = set(_PARAM.findall(path))
    if op.params is None:
        return [
            {"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
            for n in sorted(in_path)
        ]
    schema = _schema(op.params, schemas)
    required = set(schema.get("required", []))
    out = []
    for name, prop in schema.get("properties", {}).items():
        where = "path" if name in in_path else "query"
        param = {"name": name, "in": where, "required": where == "path" or name in required}
        if "description" in prop:
            param["description"] = prop["description"]
        param["schema"] = {k: v for k, v in prop.items() if k not in ("description", "title")}
        out.append(param)
    return out


def _operation(op: Operation, path: str, schemas: dict[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "summary": op.summary,
        "tags": [op.tag or op.name.split(".")[0]],
        "operationId": op.name,
        "description": f"Policy key and audit action: `{op.name}`."
        + (f" Emits: {', '.join(op.emits)}." if op.emits else "")
        + (f" Runs as the database function `{op.sql}`." if op.sql else ""),
    }
    params = _parameters(op, path, schemas)
    if params:
        doc["parameters"] = params
    if op.body is not None:
        doc["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _schema(op.body, schemas)}},
        }
    ok: dict[str, Any] = {"description": "OK"}
    if op.response is not None:
        ok["content"] = {"application/json": {"schema": _schema(op.response, schemas)}}
    responses: dict[str, Any] = {str(op.status): ok}
    if op.name == "ops.health":
        responses["503"] = {"description": "database unreachable"}
    for status, codes in sorted(op.all_errors().items()):
        responses[str(status)] = {
            "description": f"{_REASON.get(status, 'error')}: {', '.join(sorted(codes))}",
            "content": {
                "application/json": {
                    "schema": {
                        "allOf": [
                            {"$ref": "#/components/schemas/Error"},
                            {
                                "properties": {
                                    "error": {"properties": {"code": {"enum": sorted(codes)}}}
                                }
                            },
                        ]
                    }
                }
            },
        }
    if not op.public:
        doc["security"] = [{"bearer": []}, {"cookie": []}]
    doc["responses"] = responses
    return doc


def openapi_document(catalogue: Catalogue) -> dict:
    schemas: dict[str, Any] = {"Error": _ERROR}
    paths: dict[str, Any] = {}
    for op in catalogue.operations.values():
        if op.http is None:
            continue
        method, path = op.http
        paths.setdefault(path, {})[method.lower()] = _operation(op, path, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "hallops",
            "version": "1",
            "description": "Real-time operations server of a government service hall. Every "
            "operation is declared once in the catalogue (server/catalogue); this document, "
            "the routes and the permission table are derived from it. Live events: see "
            "/api/events/schema.",
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
