"""The HTTP face of the catalogue: one route per declared operation, all served by one
dispatcher that authenticates, validates the typed parameters and the body, checks the role,
calls the handler and shapes the answer. Handlers never see a request.

With `Settings.strict_contracts` (the tests) an answer that breaks its declaration fails: an
error code the operation does not declare, or a response its schema refuses, becomes a 500."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final
from urllib.parse import quote

from aiohttp import web
from pydantic import BaseModel, ValidationError

from server import metrics
from server.api.errors import STATUS_OF_KIND
from server.api.routing import (
    SESSION_COOKIE,
    bearer_token,
    current_actor,
    json_response,
    parse_body,
)
from server.api.validation_text import describe
from server.background import within
from server.catalogue.spine import Call, Catalogue, Operation, Reply
from server.domain.auth import require_password_changed
from server.domain.errors import DomainError, Forbidden, Invalid
from server.domain.permissions import authorize_rule
from server.domain.store import Reachability, unavailable
from server.keys import CONTEXT, SETTINGS
from server.proxy import request_client

log = logging.getLogger(__name__)


class ContractBroken(AssertionError):
    """An answer outside its operation's declaration (strict mode only)."""


# what a member of staff whose password was reset may still do: change it, see who they are,
# log out
PASSWORD_CHANGE_ALLOWS: Final = frozenset({"auth.change_password", "auth.session", "auth.logout"})


def add_routes(app: web.Application, catalogue: Catalogue) -> None:
    for op in catalogue.operations.values():
        if op.http is not None:
            method, path = op.http
            # aiohttp refuses a Python keyword in a route name ("calendar.import"): underscores
            app.router.add_route(method, path, _handler(op), name=op.name.replace(".", "__"))


def _handler(op: Operation) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    observe = _observer(op)

    async def handle(request: web.Request) -> web.StreamResponse:
        settings = request.app[SETTINGS]
        strict = settings.strict_contracts
        # Bounded, the session's lookup included: a database that neither answers nor refuses
        # (frozen) must not hold a clerk's command, nor a screen's read, until it returns.
        bound = op.timeout or (
            settings.command_timeout if op.kind == "command" else settings.query_timeout
        )
        t0 = time.perf_counter()
        status = 500  # anything not answered below is the server's failure
        try:
            try:
                resp = await within(_dispatch(op, request, strict), bound)
                status = resp.status
                return resp
            except TimeoutError as exc:
                Reachability.lost(exc)
                raise unavailable() from None
        except DomainError as exc:
            status = STATUS_OF_KIND[exc.kind]
            if strict:
                _check_error(op, exc)
            raise
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            observe(status, time.perf_counter() - t0)

    handle.__name__ = f"handle_{op.name.replace('.', '_')}"
    return handle


def _observer(op: Operation) -> Callable[[int, float], None]:
    """Counts an operation's answer by outcome and times it. Its series are made at its first
    answer (117 operations, most of them rare, would otherwise fill every scrape with zeros),
    then kept: this runs for every request."""
    count, seconds = (
        (metrics.COMMANDS, metrics.COMMAND_SECONDS)
        if op.kind == "command"
        else (metrics.QUERIES, metrics.QUERY_SECONDS)
    )
    children: dict[str, Any] = {}

    def observe(status: int, elapsed: float) -> None:
        outcome = "ok" if status < 400 else "refused" if status < 500 else "error"
        counter = children.get(outcome)
        if counter is None:
            counter = children[outcome] = count.labels(op.name, outcome)
        timer = children.get("")
        if timer is None:
            timer = children[""] = seconds.labels(op.name)
        counter.inc()
        timer.observe(elapsed)

    return observe


async def _dispatch(op: Operation, request: web.Request, strict: bool) -> web.StreamResponse:
    ctx = request.app[CONTEXT]
    credential = bearer_token(request)
    actor = None
    if not op.public:
        actor = await current_actor(request)
        assert op.policy is not None
        if actor.role not in op.policy and actor.role != "system":
            # refused before anything is read; a command's refusal is audited under its name
            try:
                authorize_rule(actor, op.policy, None)
            except Forbidden as exc:
                if op.kind == "command":
                    await ctx.store.audit(None, actor, op.name, "denied", {"code": exc.code})
                raise
    params = parse_params(op, request)
    if actor is not None and op.name not in PASSWORD_CHANGE_ALLOWS:
        require_password_changed(actor)
    limit = op.max_body or request.app[SETTINGS].max_body_bytes
    body = await parse_body(request, op.body, limit) if op.body is not None else None
    assert op.handler is not None
    reply = await op.handler(
        Call(op, actor, ctx, credential, client=request_client(request)), params, body
    )
    if not isinstance(reply, Reply):
        reply = Reply(reply)
    if reply.events:
        # This process's own session cache follows the command before its answer leaves: a
        # window terminal that signs in and opens at once must not meet its sign-in as stale
        # (with Redis, the bus brings the events back only after the answer).
        ctx.auth.observe(reply.events)
    return _respond(op, reply, request, strict)


def parse_params(op: Operation, request: web.Request) -> BaseModel | None:
    """The operation's path and query parameters as its typed model (400 naming the field)."""
    if op.params is None:
        return None
    path = dict(request.match_info)
    raw: dict[str, Any] = {**{k: v for k, v in request.query.items()}, **path}
    for name, value in raw.items():
        if "\x00" in value:
            where = "path" if name in path else "query"
            raise Invalid(f"参数 {name} 含有不允许的空字符", code=f"invalid_{where}", field=name)
    try:
        return op.params.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else ""
        where = "path" if name in path else "query"
        label = "路径参数" if where == "path" else "参数"
        if first["type"].startswith("date_"):
            raise Invalid(
                f"{name} 应为 YYYY-MM-DD 格式的日期", code="invalid_date", field=name or None
            ) from None
        raise Invalid(
            f"{label} {name} {describe(first)}", code=f"invalid_{where}", field=name or None
        ) from None


def _respond(op: Operation, reply: Reply, request: web.Request, strict: bool) -> web.StreamResponse:
    status = reply.status or op.status
    if reply.media_type is not None:
        headers = {}
        if reply.cache_seconds:
            headers["Cache-Control"] = f"public, max-age={reply.cache_seconds}"
        if reply.filename is not None:
            headers["Content-Disposition"] = attachment(reply.filename)
        media_type, _, charset = reply.media_type.partition("; charset=")
        return web.Response(
            body=reply.data,
            status=status,
            content_type=media_type,
            charset=charset or None,
            headers=headers,
        )
    data = reply.data
    if op.kind == "command" and isinstance(data, dict):
        # every command's answer names the events it committed, in order
        data = {**data, "seq": [r.seq for r in reply.events]}
    if strict and op.response is not None and status < 300:
        try:
            op.response.model_validate(data)
        except ValidationError as exc:
            raise ContractBroken(f"{op.name} answered outside its response schema: {exc}")
    resp = json_response(data, status=status)
    if reply.session_token is not None:
        resp.set_cookie(
            SESSION_COOKIE,
            reply.session_token,
            httponly=True,
            samesite="Strict",
            path="/",
            secure=request.app[SETTINGS].cookie_secure,
            max_age=reply.session_max_age,
        )
    if reply.session_ended:
        resp.del_cookie(SESSION_COOKIE, path="/")
    return resp


def attachment(name: str) -> str:
    """Content-Disposition of a download: an ASCII fallback name, and the real (e.g. Chinese)
    one in RFC 5987 form, which every current browser uses."""
    ascii_name = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name
    )
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def _check_error(op: Operation, exc: DomainError) -> None:
    status = STATUS_OF_KIND[exc.kind]
    declared = op.all_errors().get(status, set())
    if exc.code not in declared:
        raise ContractBroken(
            f"{op.name} answered {status} {exc.code}, which it does not declare "
            f"(declared for {status}: {sorted(declared)})"
        ) from exc


__all__ = ["ContractBroken", "add_routes", "parse_params"]
