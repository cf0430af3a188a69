"""Every web.AppKey of the application, typed, in one place."""
from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

import asyncpg
from aiohttp import web

if TYPE_CHECKING:
    import socketio

    from realtime.bus import Bus
    from realtime.fanout import Fanout
    from server.domain.auth import AuthService
    from server.domain.store import Store
    from server.settings import Settings

SETTINGS = web.AppKey("settings", "Settings")
POOL = web.AppKey("pool", asyncpg.Pool)
STORE = web.AppKey("store", "Store")
AUTH = web.AppKey("auth", "AuthService")
BUS = web.AppKey("bus", "Bus")
FANOUT = web.AppKey("fanout", "Fanout")
SIO = web.AppKey("sio", "socketio.AsyncServer")
WEBSOCKETS = web.AppKey("websockets", weakref.WeakSet)
ROUTES = web.AppKey("routes", list)
QUEUE = web.AppKey("queue", "QueueService")
KIOSK_LIMIT = web.AppKey("kiosk_limit", "RateLimiter")
