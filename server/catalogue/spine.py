"""The declared spine of the house: every operation (command or query), event type and timer job
a capability adds is declared once, here-shaped, and everything else is derived from it: the
HTTP routes, the permission table, the OpenAPI document, the event schema served to the
browser, the room routing of live events, and the contract tests.

An operation's name is its policy key and, for a command, its audit action: the dispatcher
hands the handler a `Call` that authorizes and opens the transaction under that name, so a
handler cannot check or audit under another one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from server.domain.actor import Actor
from server.domain.errors import Forbidden, Unauthenticated
from server.domain.events import EventRecord
from server.domain.permissions import Scope, Target, authorize_rule

if TYPE_CHECKING:
    from server.domain.context import Context
    from server.domain.store import Store, Tx

Kind = Literal["command", "query", "stream"]
# Where a live event goes: "all" reaches every room of its hall (window changes, hall-wide
# notices); "window" the room of the window it happened at (EventRecord.window_id); "queue"
# the rooms following the queue(s) it names; "target_window" the room of the window a ticket
# was transferred to; "department" the rooms of the department it names (payload
# "department": a leader's page, a leader's window terminal); "case" the citizen following
# that case on /track (payload "case_id"). An event type with no rooms is internal: logged and
# seen by the processes, never sent to a screen.
Room = Literal["all", "window", "queue", "target_window", "department", "case"]

# Error codes every authenticated operation may answer with, besides its own.
COMMON_ERRORS: Mapping[int, tuple[str, ...]] = {
    400: (
        "invalid_field",
        "malformed_json",
        "empty_body",
        "invalid_path",
        "invalid_query",
        "invalid_date",
    ),
    401: ("unauthenticated",),
    403: (
        "wrong_role",
        "other_hall",
        "other_department",
        "not_your_window",
        "not_signed_in",
        # a password reset by the admin: nothing but changing it until it is changed
        "password_change_required",
    ),
    404: ("unknown_hall",),
    # the database away (down, refusing, frozen past the bound): any operation, any time
    503: ("database_unavailable",),
}


@dataclass(frozen=True)
class Reply:
    """What a handler answers: the data, the events its command committed (their sequence
    numbers go into the answer) and, for the few operations that start or end a login
    session, the token (the HTTP layer turns it into a cookie)."""

    data: Any
    events: list[EventRecord] = field(default_factory=list)
    status: int | None = None
    media_type: str | None = None  # non-JSON data (bytes), e.g. image/svg+xml
    cache_seconds: int | None = None
    filename: str | None = None  # a download: Content-Disposition attachment with this name
    session_token: str | None = None
    session_max_age: int | None = None
    session_ended: bool = False


Handler = Callable[["Call", Any, Any], Awaitable[Reply | Any]]


@dataclass(frozen=True)
class Operation:
    name: str  # policy key, audit action, OpenAPI operationId
    summary: str
    kind: Kind
    handler: Handler | None  # (call, params, body) -> Reply | data; None for a stream
    # role -> scope; None: public (no session needed)
    policy: Mapping[str, Scope] | None
    http: tuple[str, str] | None = None  # (method, path template)
    params: type[BaseModel] | None = None  # path and query parameters, typed
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    emits: tuple[str, ...] = ()  # event types this command may append
    errors: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    sql: str | None = None  # the database function that is the command, where measured hot
    tag: str = ""
    # seconds it may take before a 503 (None: the server's bound for its kind): a bulk command
    # that reprices every open case of a hall takes longer than a clerk's
    timeout: float | None = None
    # the largest body it takes (None: the server's max_body_bytes): a spreadsheet import
    max_body: int | None = None

    @property
    def public(self) -> bool:
        return self.policy is None

    def all_errors(self) -> dict[int, set[str]]:
        out: dict[int, set[str]] = {s: set(c) for s, c in self.errors.items()}
        for status, codes in COMMON_ERRORS.items():
            if self.public and status in (401, 403):
                continue
            out.setdefault(status, set()).update(codes)
        if self.http is not None and self.http[0] != "GET":
            # server/api/security.py: a state change from a foreign page, or not in JSON
            out.setdefault(403, set()).add("bad_origin")
            out.setdefault(415, set()).add("unsupported_media_type")
        return out


def merge_errors(*maps: Mapping[int, tuple[str, ...]] | None) -> dict[int, tuple[str, ...]]:
    """Error codes per status of several declarations, in order (a family's shared codes and an
    operation's own)."""
    merged: dict[int, tuple[str, ...]] = {}
    for m in maps:
        for status, codes in (m or {}).items():
            merged[status] = merged.get(status, ()) + tuple(codes)
    return merged


def query(
    name: str,
    summary: str,
    handler: Handler,
    policy: Mapping[str, Scope] | None,
    path: str,
    params: type[BaseModel] | None,
    response: type[BaseModel] | None,
    errors: Mapping[int, tuple[str, ...]] | None = None,
    tag: str = "",
) -> Operation:
    """A read, served at GET `path`."""
    return Operation(
        name,
        summary,
        "query",
        handler,
        policy,
        http=("GET", path),
        params=params,
        response=response,
        errors=dict(errors or {}),
        tag=tag,
    )


@dataclass(frozen=True)
class EventType:
    name: str
    summary: str
    payload: type[BaseModel]
    rooms: tuple[Room, ...]
    example: Mapping[str, Any]
    # payload fields that are personal data: kept in the log, never sent to a screen
    personal: frozenset[str] = frozenset()

    @property
    def delivered(self) -> bool:
        return bool(self.rooms)


@dataclass(frozen=True)
class TimerContext:
    """What a timer job gets besides its hall row and the time."""

    store: Store
    alarm_batch: int = 5000  # cases per statement of the case alarms (Settings.alarm_batch)
    retention_months: int = 13  # the log and the audit trail kept (Settings.retention_months)


@dataclass(frozen=True)
class TimerJob:
    """A per-hall job of the hall timers, driven by timestamps in the database; run by the one
    process that owns the hall's timers, every `every` seconds."""

    name: str  # also the audit action of what it commits
    summary: str
    run: Callable[..., Awaitable[list[EventRecord]]]  # (ctx, hall row, now) -> committed events
    emits: tuple[str, ...] = ()
    sql: str | None = None  # the database function that is the job, where there is one
    # how often it looks, in seconds: an alarm must be raised within 1 s of its instant
    every: float = 5.0


@dataclass(frozen=True)
class Capability:
    name: str
    operations: tuple[Operation, ...] = ()
    events: tuple[EventType, ...] = ()
    timers: tuple[TimerJob, ...] = ()


class Catalogue:
    def __init__(self, capabilities: Iterable[Capability]):
        self.capabilities = tuple(capabilities)
        self.operations: dict[str, Operation] = {}
        self.events: dict[str, EventType] = {}
        self.timers: dict[str, TimerJob] = {}
        routes: set[tuple[str, str]] = set()
        for cap in self.capabilities:
            for op in cap.operations:
                _add(self.operations, op.name, op)
                if op.http is not None:
                    if op.http in routes:
                        raise ValueError(f"route declared twice: {op.http}")
                    routes.add(op.http)
            for ev in cap.events:
                _add(self.events, ev.name, ev)
            for job in cap.timers:
                _add(self.timers, job.name, job)
        # derived once: which rooms each event type reaches, and the types no client receives
        self.rooms: dict[str, frozenset[str]] = {
            name: frozenset(ev.rooms) for name, ev in self.events.items()
        }
        self.internal: frozenset[str] = frozenset(
            name for name, ev in self.events.items() if not ev.delivered
        )
        for op in self.operations.values():
            for t in op.emits:
                if t not in self.events:
                    raise ValueError(f"{op.name} emits undeclared event type {t}")
        for job in self.timers.values():
            for t in job.emits:
                if t not in self.events:
                    raise ValueError(f"timer {job.name} emits undeclared event type {t}")

    def policy(self) -> dict[str, dict[str, Scope]]:
        """The permission table: operation name -> {role: scope}."""
        return {
            name: dict(op.policy) for name, op in self.operations.items() if op.policy is not None
        }

    def personal_fields(self) -> dict[str, frozenset[str]]:
        return {name: ev.personal for name, ev in self.events.items() if ev.personal}

    def event_schema(self) -> dict[str, Any]:
        """What the browser gets at /api/events/schema."""
        return {
            "types": {
                name: {
                    "summary": ev.summary,
                    "rooms": list(ev.rooms),
                    "personal": sorted(ev.personal),
                    "delivered": ev.delivered,
                    "schema": ev.payload.model_json_schema(),
                    "example": dict(ev.example),
                }
                for name, ev in sorted(self.events.items())
            }
        }


def _add(into: dict, name: str, value: Any) -> None:
    if name in into:
        raise ValueError(f"declared twice: {name}")
    into[name] = value


class Call:
    """One invocation of an operation: who, under which name, with which services."""

    def __init__(
        self,
        op: Operation,
        actor: Actor | None,
        ctx: Context,
        credential: str | None = None,
        client: str | None = None,
    ):
        self.op = op
        # the caller's network address, for per-client limits on public operations
        self.client = client
        self._actor = actor
        self.ctx = ctx
        # the session token the caller presented (logout ends it, a socket ticket is cut from it)
        self.credential = credential
        self.records: list[EventRecord] = []  # what command() committed

    @property
    def name(self) -> str:
        return self.op.name

    @property
    def actor(self) -> Actor:
        if self._actor is None:
            raise Unauthenticated("请先登录", code="unauthenticated")
        return self._actor

    def _rule(self) -> Mapping[str, Scope]:
        if self.op.policy is None:
            raise KeyError(f"{self.op.name} is public: it declares no permission rule")
        return self.op.policy

    def check(self, target: Target) -> None:
        """Authorizes under this operation's name (a refusal inside `command()` is audited by
        the transaction; use `authorize` outside one)."""
        authorize_rule(self.actor, self._rule(), target)

    async def authorize(self, target: Target, detail: Mapping[str, Any] | None = None) -> None:
        """Authorizes under this operation's name; a refused command is audited under it."""
        try:
            authorize_rule(self.actor, self._rule(), target)
        except Forbidden as exc:
            if self.op.kind == "command":
                await self.ctx.store.audit(
                    None, self.actor, self.op.name, "denied", {**(detail or {}), "code": exc.code}
                )
            raise

    @asynccontextmanager
    async def command(self) -> AsyncIterator[Tx]:
        """The command's transaction, audited under its name; its committed events are in
        `records` afterwards."""
        async with self.ctx.store.command(self.actor, self.op.name) as tx:
            yield tx
        self.records = tx.records
