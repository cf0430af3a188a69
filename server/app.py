"""create_app(settings, dsn): the whole server, its resources opened and closed in order."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import WSCloseCode, web

from db.pool import create_pool
from realtime.bus import create_bus
from realtime.fanout import Fanout
from realtime.led_feed import handle_display_feed
from realtime.socket_server import create_socket_server
from realtime.terminals import HallNamespace
from server.api import auth_api, hall_api, health, queue_api, voice_api  # noqa: F401  (routes)
from server.api.errors import error_middleware
from server.api.ratelimit import RateLimiter
from server.api.registry import api
from server.api.security import install as install_security
from server.domain import hall as hall_domain
from server.domain.auth import AuthService
from server.domain.queueing import QueueService
from server.domain.snapshot import snapshot
from server.domain.store import Store
from server.keys import (
    AUTH,
    BUS,
    FANOUT,
    KIOSK_LIMIT,
    POOL,
    QUEUE,
    ROUTES,
    SETTINGS,
    SIO,
    STORE,
    WEBSOCKETS,
)
from server.outbox import create_sender
from server.settings import Settings
from server.timers import HallTimers

log = logging.getLogger(__name__)
FRONTEND = Path(__file__).resolve().parent.parent / "frontend"


def create_app(settings: Settings, dsn: str) -> web.Application:
    app = web.Application(middlewares=[error_middleware], client_max_size=settings.max_body_bytes)
    install_security(app)  # CSRF refusals, Retry-After, security headers on every response
    app[SETTINGS] = settings
    app[WEBSOCKETS] = weakref.WeakSet()
    app[ROUTES] = api.routes
    app[KIOSK_LIMIT] = RateLimiter(settings.kiosk_per_minute, settings.kiosk_burst)
    sio = create_socket_server(list(settings.origins()))
    app[SIO] = sio

    async def resources(app: web.Application) -> AsyncIterator[None]:
        pool = await create_pool(dsn, settings.pool_size)
        bus = create_bus(settings.redis_url, settings.redis_channel)
        store = Store(pool, bus.publish)

        async def snapshot_of(hall_id: int) -> dict:
            async with store.read() as conn:
                hall = await hall_domain.hall_by_id(conn, hall_id)
            return await snapshot(store, hall)

        fanout = Fanout(
            pool,
            snapshot_of,
            resume_limit=settings.resume_limit,
            poll_seconds=settings.gap_poll_seconds,
            flush_ms=settings.feed_flush_ms,
        )
        auth = AuthService(
            store,
            secret=settings.secret,
            session_hours=settings.session_hours,
            lockout_attempts=settings.lockout_attempts,
            lockout_minutes=settings.lockout_minutes,
        )
        app[POOL], app[BUS], app[STORE], app[FANOUT], app[AUTH] = pool, bus, store, fanout, auth
        app[QUEUE] = QueueService(store)
        await fanout.start()
        bus.subscribe(fanout.offer, fanout.resync_all)
        bus.subscribe(auth.observe, auth.forget_all)  # the session cache follows sign-in/out
        await bus.start()
        sio.register_namespace(HallNamespace(auth, store, fanout))
        timers = None
        if settings.timers:
            timers = HallTimers(store, dsn, create_sender(settings.sms_webhook_url))
            await timers.start()
        try:
            yield
        finally:
            if timers is not None:
                await timers.close()
            await bus.close()
            await fanout.close()
            await pool.close()

    async def close_websockets(app: web.Application) -> None:
        for ws in list(app[WEBSOCKETS]):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
        # Socket.IO terminals too, or aiohttp waits for their connections until its timeout.
        if sio.eio.sockets:
            try:
                await asyncio.wait_for(sio.eio.disconnect(), 3)
            except TimeoutError:
                log.warning("some Socket.IO clients did not close in time")
        await sio.shutdown()

    app.cleanup_ctx.append(resources)
    app.on_shutdown.append(close_websockets)
    api.add_to(app)
    app.router.add_get("/ws/display", handle_display_feed)
    sio.attach(app, socketio_path="socket.io")
    _add_pages(app)
    return app


PAGES = (
    "kiosk",
    "window",
    "display",
    "admin",
    "leader",
    "supervision",
    "track",
    "reports",
    "queue",
    "login",
    "notice",
)


def _add_pages(app: web.Application) -> None:
    """Each screen is a page under frontend/<screen>/index.html, served at /<screen>."""

    def page(path: Path):
        async def handler(request: web.Request) -> web.FileResponse:
            return web.FileResponse(path, headers={"Cache-Control": "no-cache"})

        return handler

    app.router.add_get("/", page(FRONTEND / "index.html"))
    for name in PAGES:
        index = FRONTEND / name / "index.html"
        if index.exists():
            app.router.add_get(f"/{name}", page(index))
    app.router.add_static("/static/", FRONTEND, show_index=False)
