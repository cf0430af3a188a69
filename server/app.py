"""create_app(settings, dsn): the whole server, its resources opened and closed in order."""

from __future__ import annotations

import asyncio
import functools
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
from server import metrics, screens
from server.api.dispatch import add_routes
from server.api.errors import error_middleware
from server.api.health import health_status, metrics_text
from server.api.openapi import openapi_document
from server.api.ratelimit import RateLimiter
from server.api.security import install as install_security
from server.background import settle_gc_on_startup
from server.catalogue import CATALOGUE
from server.domain import hall as hall_domain
from server.domain.auth import AuthService
from server.domain.context import Context
from server.domain.queueing import QueueService
from server.domain.snapshot import snapshot
from server.domain.store import PoolFloorFilter, Store
from server.keys import (
    AUTH,
    BUS,
    CONTEXT,
    FANOUT,
    KIOSK_LIMIT,
    POOL,
    QUEUE,
    SETTINGS,
    SIO,
    STORE,
    WEBSOCKETS,
)
from server.outbox import create_sender
from server.settings import Settings, public_base_url
from server.timers import HallTimers

log = logging.getLogger(__name__)
FRONTEND = Path(__file__).resolve().parent.parent / "frontend"


def max_body(settings: Settings) -> int:
    """aiohttp reads at most this of a body: the largest any operation takes (an import's
    spreadsheet); each operation's own limit is checked when its body is parsed."""
    largest = (op.max_body or 0 for op in CATALOGUE.operations.values())
    return max(settings.max_body_bytes, *largest)


def create_app(settings: Settings, dsn: str) -> web.Application:
    """The server, connecting to PostgreSQL with `dsn` (the app role, not the tables' owner)."""
    app = web.Application(middlewares=[error_middleware], client_max_size=max_body(settings))
    install_security(app)  # CSRF refusals, Retry-After, security headers on every response
    app[SETTINGS] = settings
    app[WEBSOCKETS] = weakref.WeakSet()
    app[KIOSK_LIMIT] = RateLimiter(settings.kiosk_per_minute, settings.kiosk_burst)
    sio = create_socket_server(list(settings.origins()))
    app[SIO] = sio

    # One cleanup context per resource, in the order they depend on each other: when one fails
    # to start, those started before it are closed again.
    async def database(app: web.Application) -> AsyncIterator[None]:
        pool_log = logging.getLogger("asyncpg.pool")
        if not any(isinstance(f, PoolFloorFilter) for f in pool_log.filters):
            pool_log.addFilter(PoolFloorFilter())  # an outage is told once, not every second
        app[POOL] = await create_pool(dsn, settings.pool_size)
        try:
            yield
        finally:
            await app[POOL].close()

    async def services(app: web.Application) -> AsyncIterator[None]:
        pool = app[POOL]
        bus = create_bus(settings.redis_url, settings.redis_channel)
        store = Store(pool, bus.publish, public_base_url(settings))
        auth = AuthService(
            store,
            secret=settings.secret,
            session_hours=settings.session_hours,
            lockout_attempts=settings.lockout_attempts,
            lockout_minutes=settings.lockout_minutes,
        )
        app[BUS], app[STORE], app[AUTH] = bus, store, auth
        app[QUEUE] = QueueService(store)
        app[CONTEXT] = Context(
            store=store,
            queue=app[QUEUE],
            auth=auth,
            catalogue=CATALOGUE,
            kiosk_limit=app[KIOSK_LIMIT],
            session_seconds=int(settings.session_hours * 3600),
            health=functools.partial(health_status, app),
            openapi=functools.partial(openapi_document, CATALOGUE),
            public_url=public_base_url(settings),
            # a citizen checks a case a few times a minute; guessing codes needs millions
            track_limit=RateLimiter(30, 10),
            registration_hours=settings.registration_hours,
            metrics=functools.partial(metrics_text, app),
            metrics_token=settings.metrics_token,
        )
        metrics.worker_started()
        yield

    async def fan_out(app: web.Application) -> AsyncIterator[None]:
        store, bus = app[STORE], app[BUS]

        async def snapshot_of(hall_id: int) -> dict:
            async with store.read() as conn:
                hall = await hall_domain.hall_by_id(conn, hall_id)
            return await snapshot(store, hall)

        fanout = Fanout(
            app[POOL],
            snapshot_of,
            resume_limit=settings.resume_limit,
            poll_seconds=settings.gap_poll_seconds,
            flush_ms=settings.feed_flush_ms,
        )
        app[FANOUT] = fanout
        await fanout.start()
        try:
            bus.subscribe(fanout.offer, fanout.resync_all)
            bus.subscribe(app[AUTH].observe, app[AUTH].forget_all)  # session cache follows
            await bus.start()
            try:
                sio.register_namespace(HallNamespace(app[AUTH], store, fanout, app[CONTEXT]))
                yield
            finally:
                await bus.close()
        finally:
            await fanout.close()

    async def timers(app: web.Application) -> AsyncIterator[None]:
        if not settings.timers:
            yield
            return
        hall_timers = HallTimers(
            app[STORE],
            dsn,
            create_sender(settings.sms_webhook_url),
            alarm_batch=settings.alarm_batch,
            retention_months=settings.retention_months,
        )
        await hall_timers.start()
        try:
            yield
        finally:
            await hall_timers.close()

    async def close_websockets(app: web.Application) -> None:
        sockets = app[WEBSOCKETS]  # not inside list(): mypy would match the key to Iterable
        for ws in list(sockets):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
        # Socket.IO terminals too, or aiohttp waits for their connections until its timeout.
        # One by one: engine.io's disconnect-all raises when the last client leaves between
        # our look and its own (asyncio.wait on an empty list); disconnect(sid) tolerates it.
        sids = list(sio.eio.sockets)
        if sids:
            try:
                await asyncio.wait_for(
                    asyncio.gather(*(sio.eio.disconnect(sid) for sid in sids)), 3
                )
            except TimeoutError:
                log.warning("some Socket.IO clients did not close in time")
        await sio.shutdown()

    app.cleanup_ctx.extend([database, services, fan_out, timers])
    app.on_startup.append(settle_gc_on_startup)  # after the resources: see server/background.py
    app.on_shutdown.append(close_websockets)
    add_routes(app, CATALOGUE)
    app.router.add_get("/ws/display", handle_display_feed)
    sio.attach(app, socketio_path="socket.io")
    _add_pages(app)
    return app


def _add_pages(app: web.Application) -> None:
    """Each screen declared in server/screens.py at its route, the start page with a tile per
    screen, and frontend/ as /static/."""

    def page(path: Path):
        async def handler(request: web.Request) -> web.FileResponse:
            return web.FileResponse(path, headers={"Cache-Control": "no-cache"})

        return handler

    start = screens.start_page()  # the tiles come from the same declaration as the routes

    async def start_page(request: web.Request) -> web.Response:
        return web.Response(
            text=start, content_type="text/html", headers={"Cache-Control": "no-cache"}
        )

    app.router.add_get("/", start_page)
    for route, path in screens.routes().items():
        app.router.add_get(route, page(path))
    app.router.add_static("/static/", FRONTEND, show_index=False)
