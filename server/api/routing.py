"""What every HTTP route shares: who is calling (bearer token or session cookie), the JSON body
parsed and checked, JSON answers. The routes themselves are the catalogue's (dispatch.py)."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web
from pydantic import BaseModel, ValidationError

from server import wire
from server.api.validation_text import describe
from server.domain.actor import Actor
from server.domain.errors import Invalid, Unauthenticated
from server.keys import AUTH

SESSION_COOKIE = "hallops_session"


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[7:].strip() or None
    return request.cookies.get(SESSION_COOKIE)


async def current_actor(request: web.Request) -> Actor:
    actor = await request.app[AUTH].resolve(bearer_token(request))
    if actor is None:
        raise Unauthenticated("请先登录", code="unauthenticated")
    return actor


async def parse_body(request: web.Request, model: type[BaseModel], limit: int) -> BaseModel:
    raw = await request.read()  # client_max_size (the largest any operation takes) caps it
    if len(raw) > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=len(raw))
    if not raw:
        raise Invalid("请求体不能为空", code="empty_body")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise Invalid("请求体不是合法的 JSON", code="malformed_json")
    if not isinstance(data, dict):
        raise Invalid("请求体应为 JSON 对象", code="malformed_json")
    nul = _nul_at(data)
    if nul is not None:
        # PostgreSQL text cannot hold U+0000 nor bigint a larger number: refuse it here rather
        # than fail in the database
        raise Invalid(
            f"字段 {nul} 含有不允许的字符或超出范围的数值", code="invalid_field", field=nul
        )
    try:
        return model.model_validate(data, strict=False)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(x) for x in first["loc"]) or None
        raise Invalid(f"字段 {loc} {describe(first)}", code="invalid_field", field=loc)


_INT8_MIN, _INT8_MAX = -(2**63), 2**63 - 1


def _nul_at(data: dict) -> str | None:
    """The dotted path of the first string (key or value) containing U+0000, or of the first
    integer past PostgreSQL's bigint, else None. Iterative: a body may nest as deep as the JSON
    parser allows."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return path
            continue
        if isinstance(value, int) and not isinstance(value, bool):
            if not _INT8_MIN <= value <= _INT8_MAX:
                return path
            continue
        if isinstance(value, dict):
            items = list(value.items())
        elif isinstance(value, list):
            items = list(enumerate(value))
        else:
            continue
        for key, item in reversed(items):
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and "\x00" in key:
                return where
            stack.append((where, item))
    return None


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=wire.dumps(data), status=status, content_type="application/json")
