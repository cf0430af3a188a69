"""Every web.AppKey of the application, typed, in one place."""

from __future__ import annotations

import weakref

import asyncpg
from aiohttp import web

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
