"""Hall timers: every declared timer job runs for every hall this process owns, once a tick; the
SMS outbox is sent beside them. Everything the jobs act on is in the database (timestamps such
as parked_at and the hall's closes_at), so after a restart (or kill -9) they fire as if nothing
happened.

A capability declares its jobs in the catalogue (TimerJob in server/catalogue; the queue's are
parked expiry and closing time) and HallTimers runs every declared one: a later capability adds
a job by declaring it, not by editing a loop.

With several processes exactly one owns each hall's timers: the owner holds a session-level
PostgreSQL advisory lock per hall on a connection of its own. If the owner dies its
connection closes, the lock is released, and another process takes the hall over within one
claim interval (`tick_seconds`).

Each job declares how often it looks (TimerJob.every): the supervision triggers look twice a
second, each with one index probe when nothing is due, so an alarm is raised within a second of
its instant without a wake-up message from the command that scheduled it (which may have run in
another process); the queue's housekeeping looks every few seconds."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Final

import asyncpg

from db.pool import _init_connection as init_connection
from db.queries import timers as q
from server import metrics
from server.background import stop_tasks
from server.catalogue import CATALOGUE
from server.catalogue.spine import TimerContext, TimerJob
from server.domain.events import EventRecord
from server.domain.queueing import TZ
from server.domain.store import Reachability, Store
from server.outbox import SEND_CONCURRENCY, SmsDispatcher, SmsSender

log = logging.getLogger(__name__)

LOCK_CLASS: Final = 0x4A12  # advisory lock key space of hall timers: (LOCK_CLASS, hall_id)


class HallTimers:
    def __init__(
        self,
        store: Store,
        dsn: str,
        sender: SmsSender,
        *,
        jobs: Sequence[TimerJob] | None = None,
        tick_seconds: float = 5.0,
        sms_concurrency: int = SEND_CONCURRENCY,
        alarm_batch: int = 5000,
        retention_months: int = 13,
    ):
        self.store = store
        self.dsn = dsn
        self.ctx = TimerContext(store, alarm_batch=alarm_batch, retention_months=retention_months)
        # every timer job the catalogue declares, unless a test hands its own
        self.jobs = tuple(CATALOGUE.timers.values() if jobs is None else jobs)
        self.sms = SmsDispatcher(store, sender, sms_concurrency)
        self.tick_seconds = tick_seconds
        self.owned: set[int] = set()
        self._conn: asyncpg.Connection | None = None
        self._tasks: list[asyncio.Task] = []
        self._claimed_at = -math.inf  # loop time of the last look for unowned halls
        self._halls: list[asyncpg.Record] = []
        self._next_run: dict[str, float] = {}  # job name -> loop time it looks again
        # the loop time each job of the running tick was due at (/metrics' timer lag)
        self._due_at: dict[str, float] = {}

    async def start(self) -> None:
        pace = min([self.tick_seconds, *(job.every for job in self.jobs)])
        self._tasks = [
            asyncio.create_task(
                self._every_tick(self._due_jobs, "timer tick", pace), name="hall-timers"
            ),
            # sends only start there; the dispatcher's tasks wait for the gateway, it never does
            asyncio.create_task(
                self._every_tick(self.send_sms, "claiming SMS", self.tick_seconds), name="hall-sms"
            ),
        ]

    async def close(self) -> None:
        await stop_tasks(*self._tasks)
        await self.sms.close()  # cancels sends in flight, closes the webhook client
        if self._conn is not None and not self._conn.is_closed():
            await self._conn.close()  # releases the locks

    async def _every_tick(
        self, step: Callable[[], Awaitable[object]], what: str, seconds: float
    ) -> None:
        while True:
            try:
                await step()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the loop outlives any one step's failure
                # a lost connection: tick() reconnects; the database away is logged once
                if not Reachability.failed(exc):
                    log.exception("%s failed", what)
            await asyncio.sleep(seconds)

    async def _due_jobs(self) -> list[EventRecord]:
        clock = asyncio.get_running_loop().time()
        due = [job for job in self.jobs if self._next_run.get(job.name, -math.inf) <= clock]
        self._due_at = {}
        for job in due:
            if job.name in self._next_run:  # a first look was due at no particular instant
                self._due_at[job.name] = self._next_run[job.name]
            self._next_run[job.name] = clock + job.every
        try:
            return await self.tick(jobs=due)
        finally:
            self._due_at = {}

    async def tick(
        self, now: datetime | None = None, *, jobs: Sequence[TimerJob] | None = None
    ) -> list[EventRecord]:
        """Claims unowned halls (at most every `tick_seconds`), then runs the jobs (all declared
        ones unless given) for each owned hall at `now`."""
        if self._conn is None or self._conn.is_closed():
            self._conn = await asyncpg.connect(
                self.dsn,
                server_settings={"application_name": "hallops-timers", "timezone": "Asia/Shanghai"},
            )
            await init_connection(self._conn)  # the hall rows' JSON (work periods) as data
            self._own(set())
            self._claimed_at = -math.inf
        clock = asyncio.get_running_loop().time()
        if jobs is None or clock - self._claimed_at >= self.tick_seconds:
            self._claimed_at = clock
            self._halls = await self._conn.fetch(q.HALLS)
            for h in self._halls:
                if h["id"] not in self.owned and await self._conn.fetchval(
                    q.TRY_LOCK, LOCK_CLASS, h["id"]
                ):
                    self._own(self.owned | {h["id"]})
                    log.info("this process now runs the timers of hall %s", h["code"])
        now = (now or datetime.now(TZ)).astimezone(TZ)
        fired: list[EventRecord] = []
        loop = asyncio.get_running_loop()
        for h in self._halls:
            if h["id"] not in self.owned:
                continue
            for job in self.jobs if jobs is None else jobs:
                started = loop.time()
                due = self._due_at.get(job.name)
                if due is not None:
                    metrics.TIMER_LAG.labels(job.name).observe(max(0.0, started - due))
                try:
                    fired += await job.run(self.ctx, h, now)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # one job failing must not stop the others
                    if not Reachability.failed(exc):
                        log.exception("timer job %s failed for hall %s", job.name, h["code"])
                metrics.TIMER_SECONDS.labels(job.name).observe(loop.time() - started)
        return fired

    def _own(self, halls: set[int]) -> None:
        self.owned = halls
        metrics.TIMER_HALLS.set(len(halls))

    async def send_sms(self) -> int:
        """Starts the sends that are due in the owned halls (as many as slots are free)."""
        return await self.sms.dispatch(sorted(self.owned))
