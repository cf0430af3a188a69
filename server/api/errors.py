"""One place where every failure becomes a JSON error body with a 4xx (or, for a bug, 500)."""

from __future__ import annotations

import functools
import logging
from typing import Final

from aiohttp import web

from db.pool import database_unreachable
from server import screens
from server.api.routing import json_response
from server.domain.errors import DomainError

log = logging.getLogger(__name__)

STATUS_OF_KIND: Final = {
    "invalid": 400,
    "unauthenticated": 401,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "gone": 410,
    "locked": 423,
    "rate_limited": 429,
    "unavailable": 503,
}

HTTP_ERRORS: Final = {
    404: ("not_found", "请求的地址不存在"),
    405: ("method_not_allowed", "不支持该请求方法"),
    413: ("body_too_large", "请求体过大"),
    400: ("bad_request", "请求格式错误"),
}


# paths that are never pages: their 404 stays JSON with a code, whatever the client accepts
_NOT_PAGES: Final = ("/api/", "/ws/", "/socket.io/", "/healthz")


def wants_page(request: web.Request) -> bool:
    """A browser navigating to a path that is no page gets the 404 page, not JSON."""
    return not request.path.startswith(_NOT_PAGES) and "text/html" in request.headers.get(
        "Accept", ""
    )


@functools.cache
def not_found_page() -> str:
    return screens.not_found_page()  # read once


def error_response(status: int, code: str, message: str, field: str | None = None) -> web.Response:
    body: dict = {"code": code, "message": message}
    if field:
        body["field"] = field
    return json_response({"error": body}, status=status)


@web.middleware
async def error_middleware(request: web.Request, handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except DomainError as exc:
        return json_response({"error": exc.as_dict()}, status=STATUS_OF_KIND[exc.kind])
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        if exc.status == 404 and wants_page(request):
            return web.Response(
                text=not_found_page(), status=404, content_type="text/html", charset="utf-8"
            )
        code, message = HTTP_ERRORS.get(exc.status, ("http_error", exc.reason))
        resp = error_response(exc.status, code, message)
        if exc.status == 405 and "Allow" in exc.headers:
            resp.headers["Allow"] = exc.headers["Allow"]
        return resp
    except Exception as exc:
        if database_unreachable(exc):  # a path that reads the pool outside the Store
            return error_response(503, "database_unavailable", "数据库暂时不可用，请稍后重试")
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "服务器内部错误")
