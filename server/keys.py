"""Every web.AppKey of the application, typed, in one place.

The value types are imported for the type checker only: the modules that define them import
this one, so importing them here at run time would be circular. The annotations are never
evaluated (postponed annotations), and web.AppKey needs no type at run time.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    import asyncpg

    from realtime.bus import Bus
    from realtime.fanout import Fanout
    from server.api.ratelimit import RateLimiter
    from server.domain.auth import AuthService
    from server.domain.context import Context
    from server.domain.queueing import QueueService
    from server.domain.store import Store
    from server.settings import Settings

SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
POOL: web.AppKey[asyncpg.Pool] = web.AppKey("pool")
STORE: web.AppKey[Store] = web.AppKey("store")
AUTH: web.AppKey[AuthService] = web.AppKey("auth")
BUS: web.AppKey[Bus] = web.AppKey("bus")
FANOUT: web.AppKey[Fanout] = web.AppKey("fanout")
SIO: web.AppKey[Any] = web.AppKey("sio")  # socketio.AsyncServer: python-socketio is untyped
WEBSOCKETS: web.AppKey[weakref.WeakSet[web.WebSocketResponse]] = web.AppKey("websockets")
QUEUE: web.AppKey[QueueService] = web.AppKey("queue")
KIOSK_LIMIT: web.AppKey[RateLimiter] = web.AppKey("kiosk_limit")
CONTEXT: web.AppKey[Context] = web.AppKey("context")  # what every operation's handler gets
