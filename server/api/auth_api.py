"""Login, logout and who-am-I."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field

from server.api.registry import api
from server.api.routing import SESSION_COOKIE, bearer_token, json_response
from server.domain.actor import Actor
from server.keys import AUTH, SETTINGS


class LoginBody(BaseModel):
    username: str = Field(min_length=1, max_length=40)
    password: str = Field(min_length=1, max_length=200)
    bearer: bool = Field(
        False, description="also return the token in the body (non-browser clients)"
    )


class DeviceLoginBody(BaseModel):
    code: str = Field(min_length=1, max_length=40)
    secret: str = Field(min_length=1, max_length=200)


def actor_view(actor: Actor) -> dict:
    return {
        "kind": actor.kind,
        "id": actor.id,
        "role": actor.role,
        "name": actor.name,
        "hall_id": actor.hall_id,
        "department_id": actor.department_id,
        "window_no": actor.window_no,
    }


@api.route(
    "POST",
    "/api/auth/login",
    summary="Staff login with password",
    tag="auth",
    body=LoginBody,
    public=True,
    responses={
        200: "logged in; HttpOnly session cookie set",
        401: "bad credentials",
        423: "account locked after repeated failures",
    },
)
async def handle_login(request: web.Request, body: LoginBody) -> web.Response:
    result = await request.app[AUTH].login_staff(body.username, body.password)
    data = {"actor": actor_view(result.actor), "expires_at": result.expires_at.isoformat()}
    if body.bearer:
        data["token"] = result.token
    resp = json_response(data)
    settings = request.app[SETTINGS]
    resp.set_cookie(
        SESSION_COOKIE,
        result.token,
        httponly=True,
        samesite="Strict",
        path="/",
        secure=settings.cookie_secure,
        max_age=int(settings.session_hours * 3600),
    )
    return resp


@api.route(
    "POST",
    "/api/auth/device",
    summary="Kiosk or display device login",
    tag="auth",
    body=DeviceLoginBody,
    public=True,
    responses={200: "bearer token", 401: "bad credentials"},
)
async def handle_device_login(request: web.Request, body: DeviceLoginBody) -> web.Response:
    result = await request.app[AUTH].login_device(body.code, body.secret)
    return json_response(
        {
            "actor": actor_view(result.actor),
            "token": result.token,
            "expires_at": result.expires_at.isoformat(),
        }
    )


@api.route("POST", "/api/auth/logout", summary="End this session", tag="auth")
async def handle_logout(request: web.Request, actor: Actor) -> web.Response:
    await request.app[AUTH].logout(bearer_token(request) or "", actor)
    resp = json_response({"ok": True})
    resp.del_cookie(SESSION_COOKIE, path="/")
    return resp


@api.route(
    "GET", "/api/session", summary="Who am I, and a ticket for the live connection", tag="auth"
)
async def handle_session(request: web.Request, actor: Actor) -> web.Response:
    ticket = request.app[AUTH].socket_ticket(bearer_token(request) or "")
    return json_response({"actor": actor_view(actor), "socket_ticket": ticket})
