"""Hall timers: parked tickets expire, tickets still open at closing time are closed, the SMS
outbox is sent. Everything they act on is in the database, so after a restart (or kill -9)
they fire as if nothing happened.

With several processes exactly one owns each hall's timers: the owner holds a session-level
PostgreSQL advisory lock per hall on a connection of its own. If the owner dies its
connection closes, the lock is released, and another process takes the hall over within one
tick."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, time, timedelta
from typing import Final

import asyncpg

from db.queries import queueing as qq
from db.queries import timers as q
from server.background import stop_tasks
from server.domain.events import EventRecord
from server.domain.queueing import TZ
from server.domain.store import Store
from server.outbox import SmsSender, send_due

log = logging.getLogger(__name__)

LOCK_CLASS: Final = 0x4A12  # advisory lock key space of hall timers: (LOCK_CLASS, hall_id)


def last_closing(now: datetime, closes_at: time) -> datetime:
    """The most recent closing instant at or before now (closing every day at closes_at)."""
    today = datetime.combine(now.date(), closes_at, now.tzinfo)
    return today if now >= today else today - timedelta(days=1)


class HallTimers:
    def __init__(self, store: Store, dsn: str, sender: SmsSender, tick_seconds: float = 5.0):
        self.store = store
        self.dsn = dsn
        self.sender = sender
        self.tick_seconds = tick_seconds
        self.owned: set[int] = set()
        self._conn: asyncpg.Connection | None = None
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="hall-timers")

    async def close(self) -> None:
        await stop_tasks(self._task)
        if self._conn is not None and not self._conn.is_closed():
            await self._conn.close()  # releases the locks

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("timer tick failed")
                if self._conn is not None and self._conn.is_closed():
                    self._conn, self.owned = None, set()
            await asyncio.sleep(self.tick_seconds)

    async def tick(self, now: datetime | None = None) -> list[EventRecord]:
        """Claims unowned halls, then runs every due timer of the owned ones."""
        if self._conn is None or self._conn.is_closed():
            self._conn = await asyncpg.connect(
                self.dsn,
                server_settings={"application_name": "hallops-timers", "timezone": "Asia/Shanghai"},
            )
            self.owned = set()
        halls = await self._conn.fetch(q.HALLS)
        for h in halls:
            if h["id"] not in self.owned and await self._conn.fetchval(
                q.TRY_LOCK, LOCK_CLASS, h["id"]
            ):
                self.owned.add(h["id"])
                log.info("this process now runs the timers of hall %s", h["code"])
        now = (now or datetime.now(TZ)).astimezone(TZ)
        fired: list[EventRecord] = []
        for h in halls:
            if h["id"] in self.owned:
                fired += await self._hall_tick(h, now)
        return fired

    async def _hall_tick(self, hall: asyncpg.Record, now: datetime) -> list[EventRecord]:
        hall_id = hall["id"]
        fired = await self.store.statement(hall_id, qq.EXPIRE_PARKED, hall_id)
        fired += await self.store.statement(
            hall_id, qq.CLOSE_DAY, hall_id, last_closing(now, hall["closes_at"])
        )
        async with self.store.read() as conn:
            await send_due(conn, hall_id, self.sender)
        return fired
