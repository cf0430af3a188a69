"""Logging in and out, declared; and the operational reads (health, the API's and the events'
own descriptions)."""

from __future__ import annotations

import hmac
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from db.queries import admin as admin_sql
from server.catalogue.params import HallParams, Int4Id, Params
from server.catalogue.spine import Call, Capability, EventType, Operation, Reply
from server.domain.actor import Actor
from server.domain.errors import Unauthenticated
from server.domain.policies import ANYONE, HALL_ADMIN
from server.wire import instant


class SessionEnded(BaseModel):
    model_config = ConfigDict(extra="forbid")
    session: str | None = Field(description="the ended session; null: every session of the actor")
    staff_id: int | None = None
    device_id: int | None = None
    reason: Literal["logout", "forced_sign_out", "revoked"]


EVENTS = (
    EventType(
        "session.ended",
        "A login session ended: its live connections close in every process (internal)",
        SessionEnded,
        (),
        {"session": "3f9a0c1d2e4b5a69", "staff_id": 15, "device_id": None, "reason": "logout"},
    ),
)


class LoginBody(BaseModel):
    username: str = Field(min_length=1, max_length=40)
    password: str = Field(min_length=1, max_length=200)
    bearer: bool = Field(
        False, description="also return the token in the body (non-browser clients)"
    )


class DeviceLoginBody(BaseModel):
    code: str = Field(min_length=1, max_length=40)
    secret: str = Field(min_length=1, max_length=200)


class RevokeBody(BaseModel):
    staff_id: Int4Id | None = Field(None, description="every session of this staff member")
    device_id: Int4Id | None = Field(None, description="or of this device (a lost kiosk)")


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class ActorView(_Open):
    kind: str
    id: int | None
    role: str
    name: str
    hall_id: int


class LoginReply(_Open):
    actor: ActorView
    expires_at: str


class DeviceLoginReply(LoginReply):
    token: str


class SessionReply(_Open):
    actor: ActorView
    socket_ticket: str


class OkReply(_Open):
    ok: bool
    seq: list[int]


class RevokeReply(_Open):
    revoked: int
    seq: list[int]


class HealthReply(_Open):
    ok: bool
    database: dict[str, Any]
    bus: dict[str, Any]
    # which process answered: behind one port, `serve --workers N` runs several
    worker: dict[str, Any]


def actor_view(actor: Actor) -> dict[str, Any]:
    return {
        "kind": actor.kind,
        "id": actor.id,
        "role": actor.role,
        "name": actor.name,
        "hall_id": actor.hall_id,
        "department_id": actor.department_id,
        "window_no": actor.window_no,
        # a password reset by the admin: the page asks for a new one before anything else
        "must_change_password": actor.must_change_password,
    }


async def login(call: Call, p: Params, body: LoginBody) -> Reply:
    result = await call.ctx.auth.login_staff(body.username, body.password)
    data = {"actor": actor_view(result.actor), "expires_at": instant(result.expires_at)}
    if body.bearer:
        data["token"] = result.token
    return Reply(data, session_token=result.token, session_max_age=call.ctx.session_seconds)


async def device_login(call: Call, p: Params, body: DeviceLoginBody) -> Reply:
    result = await call.ctx.auth.login_device(body.code, body.secret)
    data = {
        "actor": actor_view(result.actor),
        "token": result.token,
        "expires_at": instant(result.expires_at),
    }
    return Reply(data)


async def logout(call: Call, p: Params, body: None) -> Reply:
    events = await call.ctx.auth.logout(call.credential or "", call.actor)
    return Reply({"ok": True}, events=events, session_ended=True)


async def revoke_sessions(call: Call, p: HallParams, body: RevokeBody) -> Reply:
    revoked = await call.ctx.auth.revoke_sessions(
        call, staff_id=body.staff_id, device_id=body.device_id
    )
    return Reply({"revoked": revoked}, events=call.records)


async def session(call: Call, p: Params, body: None) -> Any:
    ticket = call.ctx.auth.socket_ticket(call.credential or "")
    return {"actor": actor_view(call.actor), "socket_ticket": ticket}


async def health(call: Call, p: Params, body: None) -> Reply:
    status = await call.ctx.health()
    return Reply(status, status=200 if status["ok"] else 503)


class AboutReply(_Open):
    demo: bool


async def about(call: Call, p: Params, body: None) -> Reply:
    async with call.ctx.store.read() as conn:
        demo = bool(await conn.fetchval(admin_sql.DEMO_HALLS))
    return Reply({"demo": demo})


async def metrics(call: Call, p: Params, body: None) -> Reply:
    """Prometheus has no login session: the scrape is open to whoever reaches the listening
    address, unless HALLOPS_METRICS_TOKEN is set, then only with that bearer token (a staff
    session is no substitute: it is not what a scraper holds)."""
    token = call.ctx.metrics_token
    given = (call.credential or "").encode()
    if token and not hmac.compare_digest(given, token.encode()):
        raise Unauthenticated(
            "指标接口需要令牌（Authorization: Bearer <HALLOPS_METRICS_TOKEN>）",
            code="unauthenticated",
        )
    assert call.ctx.metrics is not None, "create_app gives every server its /metrics"
    text, media_type = await call.ctx.metrics()
    return Reply(text, media_type=media_type)


async def openapi(call: Call, p: Params, body: None) -> Any:
    return call.ctx.openapi()


async def event_schema(call: Call, p: Params, body: None) -> Any:
    return call.ctx.catalogue.event_schema()


OPERATIONS = (
    Operation(
        "auth.login",
        "Staff login with password",
        "command",
        login,
        None,
        http=("POST", "/api/auth/login"),
        body=LoginBody,
        response=LoginReply,
        errors={401: ("bad_credentials",), 423: ("account_locked",)},
        tag="auth",
    ),
    Operation(
        "auth.device_login",
        "Kiosk or display device login",
        "command",
        device_login,
        None,
        http=("POST", "/api/auth/device"),
        body=DeviceLoginBody,
        response=DeviceLoginReply,
        errors={401: ("bad_credentials",), 423: ("account_locked",)},
        tag="auth",
    ),
    Operation(
        "auth.logout",
        "End this session",
        "command",
        logout,
        ANYONE,
        http=("POST", "/api/auth/logout"),
        response=OkReply,
        emits=("session.ended",),
        tag="auth",
    ),
    Operation(
        "auth.revoke_sessions",
        "End every session of a staff member or a device (admin); their live connections close",
        "command",
        revoke_sessions,
        HALL_ADMIN,
        http=("POST", "/api/halls/{hall}/sessions/revoke"),
        params=HallParams,
        body=RevokeBody,
        response=RevokeReply,
        emits=("session.ended",),
        errors={400: ("invalid_target",), 404: ("unknown_staff", "unknown_device")},
        tag="auth",
    ),
    Operation(
        "auth.session",
        "Who am I, and a ticket for the live connection",
        "query",
        session,
        ANYONE,
        http=("GET", "/api/session"),
        response=SessionReply,
        tag="auth",
    ),
    Operation(
        "ops.health",
        "Database and bus status (503 when the database is unreachable)",
        "query",
        health,
        None,
        http=("GET", "/healthz"),
        response=HealthReply,
        tag="ops",
    ),
    Operation(
        "ops.about",
        "What this installation is: the demo (its screens say so) or a real hall",
        "query",
        about,
        None,
        http=("GET", "/api/about"),
        response=AboutReply,
        tag="ops",
    ),
    Operation(
        "ops.metrics",
        "Prometheus metrics (text format) of every worker: commands and reads per operation "
        "and outcome with their latency, live screens per hall, timer lag, the bus's outbox, "
        "the dependencies' state and errors; a bearer token when HALLOPS_METRICS_TOKEN is set",
        "query",
        metrics,
        None,
        http=("GET", "/metrics"),
        errors={401: ("unauthenticated",)},
        tag="ops",
    ),
    Operation(
        "ops.openapi",
        "This document",
        "query",
        openapi,
        None,
        http=("GET", "/api/openapi.json"),
        tag="ops",
    ),
    Operation(
        "ops.event_schema",
        "Every live event type: payload JSON Schema, rooms, personal fields, an example",
        "query",
        event_schema,
        None,
        http=("GET", "/api/events/schema"),
        tag="ops",
    ),
)

CAPABILITY = Capability("auth", operations=OPERATIONS, events=EVENTS)
