"""The services an operation's handler may use, built once by create_app and handed to every
call: the domain's only view of the running server (no request, no transport)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from server.domain.queueing import TZ

if TYPE_CHECKING:
    from server.catalogue.spine import Catalogue
    from server.domain.auth import AuthService
    from server.domain.queueing import QueueService
    from server.domain.store import Store


class Limiter(Protocol):
    def check(self, key: str) -> None: ...


def _now() -> datetime:
    return datetime.now(TZ)


@dataclass
class Context:
    store: Store
    queue: QueueService
    auth: AuthService
    catalogue: Catalogue
    kiosk_limit: Limiter
    session_seconds: int
    # database, bus and fan-out status for /healthz
    health: Callable[[], Awaitable[dict[str, Any]]]
    # the HTTP API's OpenAPI document (built by the transport from the catalogue)
    openapi: Callable[[], dict[str, Any]]
    clock: Callable[[], datetime] = field(default=_now)
    # where citizens reach the hall (links in QR codes and SMS), never the loopback address
    public_url: str = ""
    # per-client guesses at /track query codes
    track_limit: Limiter | None = None
    # the kiosk keeps the hall's opening hours (server/domain/registration_hours.py); tests on
    # the real clock turn it off (Settings.registration_hours)
    registration_hours: bool = True
    # /metrics: the exposition (text, content type), and the bearer token it asks for ("": none)
    metrics: Callable[[], Awaitable[tuple[bytes, str]]] | None = None
    metrics_token: str = ""
