"""What every request and response of the HTTP API goes through for the browser's sake:
cross-site request forgery is refused, and every response carries the headers that keep a
page from being framed, sniffed, or leaking its URL (device tokens travel in /display?token=).

CSRF. A browser attaches the session cookie to any request to this host. SameSite=Strict keeps
it off requests from other *sites*, but another port of the same host is the same site: a
text/plain form posted from there is a "simple" request that needs no CORS preflight. So a
state-changing API request:
  - with a body must say Content-Type: application/json; a cross-origin page cannot send that
    without a preflight, which this server never grants;
  - authorized by the cookie (no Authorization header; any route but the logins) must carry
    an Origin in the allowlist (settings.origins()); every browser sends Origin on a fetch
    POST/PUT/PATCH/DELETE, so a missing one is a non-browser client, which uses a bearer token.
A bearer token is never attached by the browser on its own, so bearer requests need no Origin.
A foreign Origin is refused on the logins too: it is a login form on someone else's page. A
login without Origin passes whatever cookie comes along: a login does not use the cookie."""

from __future__ import annotations

from typing import Final

from aiohttp import web

from server.api.errors import error_response
from server.api.ratelimit import RetryLater
from server.api.routing import SESSION_COOKIE
from server.catalogue import CATALOGUE
from server.keys import SETTINGS

STATE_CHANGING: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# the public commands (no session needed) are the logins: declared in the catalogue
LOGINS: Final = frozenset(
    op.http[1]
    for op in CATALOGUE.operations.values()
    if op.kind == "command" and op.public and op.http is not None
)

# 'self' in connect-src covers ws:/wss: to the same host and port (CSP Level 3; Chromium,
# Firefox and Safari do), which the live transports use. Styles may be inline: several pages
# keep their layout in a <style> block and no user text is ever parsed as HTML (h() in api.js).
_CSP_DIRECTIVES: Final = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "media-src 'self' blob: data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)
CONTENT_SECURITY_POLICY: Final = "; ".join(_CSP_DIRECTIVES)
HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
}
# The kiosk prints the notice through a hidden frame of its own page: the notice may be framed
# by this origin (and only by it).
FRAMED_BY_SELF: Final = frozenset({"/notice"})
_SELF_FRAMED_HEADERS: Final = {
    **HEADERS,
    "Content-Security-Policy": CONTENT_SECURITY_POLICY.replace(
        "frame-ancestors 'none'", "frame-ancestors 'self'"
    ),
    "X-Frame-Options": "SAMEORIGIN",
}


def _has_bearer(request: web.Request) -> bool:
    return request.headers.get("Authorization", "").startswith("Bearer ")


def csrf_refusal(request: web.Request) -> web.Response | None:
    """The refusal of a state-changing API request a foreign page could have made, else None."""
    if request.method not in STATE_CHANGING or not request.path.startswith("/api/"):
        return None
    if request.body_exists and request.content_type != "application/json":
        return error_response(
            415,
            "unsupported_media_type",
            "请求体必须是 JSON 格式（Content-Type: application/json）",
        )
    if _has_bearer(request):
        return None
    origin = request.headers.get("Origin")
    if origin is None and (SESSION_COOKIE not in request.cookies or request.path in LOGINS):
        return None  # nothing the cookie authorizes: a non-browser client or a login
    if origin not in request.app[SETTINGS].origins():
        return error_response(403, "bad_origin", "请求来源不被允许，请从本系统的页面操作")
    return None


@web.middleware
async def security_middleware(request: web.Request, handler) -> web.StreamResponse:
    refusal = csrf_refusal(request)
    if refusal is not None:
        return refusal
    try:
        return await handler(request)
    except RetryLater as exc:
        # Inside the error middleware: it would answer 429 but cannot know when to come back.
        resp = error_response(429, exc.code, exc.message, exc.field)
        resp.headers["Retry-After"] = str(exc.retry_after)
        return resp


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: every response (pages, static files, API answers, errors made by
    any middleware, WebSocket handshakes) gets the headers."""
    headers = _SELF_FRAMED_HEADERS if request.path in FRAMED_BY_SELF else HEADERS
    for name, value in headers.items():
        response.headers.setdefault(name, value)


def install(app: web.Application) -> None:
    """Adds the middleware (inside the error middleware, so its own failures become JSON errors)
    and the response headers. Call after creating the app, before it starts."""
    app.middlewares.append(security_middleware)
    app.on_response_prepare.append(add_security_headers)
