"""The unit of work: every command runs in one transaction that also appends its events to the
hall's log and its line to the audit trail; the events are published only after commit."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, ClassVar

import asyncpg

from db.pool import Conn, database_unreachable
from db.queries import events as q
from server.domain.actor import Actor
from server.domain.errors import Conflict, DomainError, Forbidden, NotFound, Unavailable
from server.domain.events import EventRecord, PublishFn

log = logging.getLogger(__name__)


class Tx:
    """What a command sees: the connection inside its transaction and a place to put events."""

    def __init__(self, conn: Conn, actor: Actor, action: str, public_url: str = ""):
        self.conn = conn
        self.actor = actor
        self.action = action
        # where citizens' phones reach the hall (links in an SMS written by the command)
        self.public_url = public_url
        self.detail: dict[str, Any] = {}
        # what the audit line says: a refused command that must still leave something behind
        # (the irregularity supervision sees) commits as "refused"
        self.outcome = "ok"
        self._pending: dict[int, list[dict]] = defaultdict(list)
        # the committed events, set once the transaction committed (the command's answer
        # carries their sequence numbers)
        self.records: list[EventRecord] = []

    def emit(
        self,
        type: str,
        payload: dict[str, Any],
        *,
        hall_id: int | None = None,
        window_id: int | None = None,
    ) -> None:
        hall = hall_id if hall_id is not None else self.actor.hall_id
        self._pending[hall].append({"type": type, "payload": payload, "window_id": window_id})

    async def _flush(self) -> list[EventRecord]:
        if len(self._pending) == 1:
            # the common case: one hall's events and the audit line in one round trip, so the
            # hall's counter row is held for the least time before commit
            [(hall_id, events)] = self._pending.items()
            return await q.append_command(
                self.conn,
                hall_id,
                self.actor.kind,
                self.actor.id,
                events,
                self.actor.hall_id or None,
                self.actor.window_id,
                self.action,
                self.outcome,
                self.detail,
            )
        records: list[EventRecord] = []
        # Halls in a fixed order so two multi-hall commands cannot deadlock on counter rows.
        for hall_id in sorted(self._pending):
            records += await q.append_events(
                self.conn, hall_id, self.actor.kind, self.actor.id, self._pending[hall_id]
            )
        detail = dict(self.detail)
        if records:
            detail["seq"] = [r.seq for r in records]
        await q.write_audit(
            self.conn,
            self.actor.hall_id or None,
            self.actor.kind,
            self.actor.id,
            self.actor.window_id,
            self.action,
            self.outcome,
            detail,
        )
        return records


# A connection of the pool must come within this, and a connection's release is bounded by it:
# paths without a bound of their own (a display's snapshot, a timer) must not wait forever for
# a frozen database. Long enough for a burst of legitimate work (a reconnect storm's snapshots
# queue for the pool); an HTTP operation has its own, shorter bound (server/api/dispatch.py).
ACQUIRE_TIMEOUT = 10.0


def unavailable() -> Unavailable:
    return Unavailable("数据库暂时不可用，请稍后重试", code="database_unavailable")


class Reachability:
    """Whether the database answered last time: its changes are logged once each, not once per
    command (an outage wrote an error and a traceback per command before). Every failure, and
    the return, are told to the listeners: /metrics counts the failures (server/metrics.py)."""

    ok = True
    listeners: ClassVar[list[Callable[[bool], None]]] = []

    @classmethod
    def lost(cls, exc: BaseException) -> None:
        if cls.ok:
            log.warning("the database is unreachable (%s); commands answer 503", exc)
        cls.ok = False
        for listener in cls.listeners:
            listener(False)

    @classmethod
    def answered(cls) -> None:
        if not cls.ok:
            log.warning("the database answers again")
            cls.ok = True
            for listener in cls.listeners:
                listener(True)

    @classmethod
    def failed(cls, exc: BaseException) -> bool:
        """For the background loops (fan-out, timers): True when `exc` is the database being
        away, counted and logged as a change of state only; False for any other failure,
        which is theirs to log."""
        if isinstance(exc, Unavailable):  # from a Store read or command: already told
            return True
        if database_unreachable(exc):
            cls.lost(exc)
            return True
        return False


class PoolFloorFilter(logging.Filter):
    """asyncpg's pool logs a warning with a traceback each time it fails to reconnect its
    minimum connection ("Failed to restore the pool connection floor"), every second of an
    outage: the database being away is told once by Reachability and counted in /metrics."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not (exc is not None and Reachability.failed(exc))


@asynccontextmanager
async def reachable() -> AsyncIterator[None]:
    """The database being away (down, refusing, frozen past a bound) becomes a 503
    `database_unavailable`; every other failure stays what it is."""
    try:
        yield
    except DomainError:
        raise
    except Exception as exc:
        if database_unreachable(exc):
            Reachability.lost(exc)
            raise unavailable() from exc
        raise
    Reachability.answered()


class Store:
    def __init__(self, pool: asyncpg.Pool, publish: PublishFn, public_url: str = ""):
        self.pool = pool
        self._publish = publish
        self.public_url = public_url

    @asynccontextmanager
    async def command(self, actor: Actor, action: str) -> AsyncIterator[Tx]:
        records: list[EventRecord] = []
        async with reachable(), self.pool.acquire(timeout=ACQUIRE_TIMEOUT) as conn:
            tx = Tx(conn, actor, action, self.public_url)
            try:
                async with conn.transaction():
                    yield tx
                    records = await tx._flush()
                tx.records = records
            except Forbidden as exc:
                # Refusals are attributable too; written after the rollback, on their own.
                await self.audit(conn, actor, action, "denied", {"code": exc.code, **tx.detail})
                raise
        if records:
            await self.publish(records)

    async def statement(self, hall_id: int, sql: str, *args: Any) -> list[EventRecord]:
        """A command that is a single database function call: it changes state, appends its
        events and writes its audit line in one statement, so one round trip and one
        transaction. Its refusals come back as SQLSTATE HQ409/HQ404 with the code in MESSAGE
        and the Chinese text in HINT."""
        try:
            async with reachable(), self.pool.acquire(timeout=ACQUIRE_TIMEOUT) as conn:
                rows = await conn.fetch(sql, *args)
        except asyncpg.PostgresError as exc:
            state = getattr(exc, "sqlstate", "")
            if state == "HQ409":
                raise Conflict(exc.hint or exc.message, code=exc.message) from None
            if state == "HQ404":
                raise NotFound(exc.hint or exc.message, code=exc.message) from None
            raise
        records = sorted((q.record(hall_id, r) for r in rows), key=lambda r: r.seq)
        if records:
            await self.publish(records)
        return records

    async def publish(self, records: list[EventRecord]) -> None:
        try:
            await self._publish(records)
        except Exception:
            # Committed is committed: the bus consumers fill the gap from the log.
            log.exception(
                "publishing %d events failed; consumers will recover from the log", len(records)
            )

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Conn]:
        async with reachable(), self.pool.acquire(timeout=ACQUIRE_TIMEOUT) as conn:
            yield conn

    async def audit(
        self,
        conn: Conn | None,
        actor: Actor,
        action: str,
        outcome: str,
        detail: dict[str, Any],
    ) -> None:
        async def write(c: Conn) -> None:
            await q.write_audit(
                c,
                actor.hall_id or None,
                actor.kind,
                actor.id,
                actor.window_id,
                action,
                outcome,
                detail,
            )

        if conn is not None:
            await write(conn)
        else:
            async with reachable(), self.pool.acquire(timeout=ACQUIRE_TIMEOUT) as c:
                await write(c)


__all__ = ["DomainError", "Reachability", "Store", "Tx", "reachable", "unavailable"]
