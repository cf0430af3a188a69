"""Hall timers: declared jobs (parked expiry, closing time) run per owned hall at a `now` the
test chooses; the SMS outbox is sent beside them, never in their way; one owner per hall."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, time
from typing import Self

import asyncpg
import pytest
from aiohttp import web
from prometheus_client import REGISTRY

from db.pool import create_pool
from server.catalogue.queue import TIMERS as QUEUE_TIMER_JOBS
from server.catalogue.spine import TimerJob
from server.domain.queueing import TZ, last_closing, service_day
from server.domain.store import Store
from server.outbox import LogSender, WebhookSender
from server.timers import HallTimers

# A service day of the test's choosing, and instants around its closing time (17:30).
MORNING = datetime(2026, 12, 1, 10, 0, tzinfo=TZ)
BEFORE_CLOSING = datetime(2026, 12, 1, 17, 29, tzinfo=TZ)
AFTER_CLOSING = datetime(2026, 12, 1, 17, 31, tzinfo=TZ)


async def _store(dsn: str) -> tuple[Store, list]:
    published: list = []

    async def publish(records):
        published.extend(records)

    return Store(await create_pool(dsn, 2), publish), published


async def _ticket(db: asyncpg.Connection, phone: str | None = None) -> int:
    hall_id = await db.fetchval("select id from hall where code = 'rizhao'")
    item = await db.fetchrow(
        "select id, queue_id from item where hall_id = $1 and queue_id is not null "
        "order by code limit 1",
        hall_id,
    )
    await db.fetch(
        "select * from hq_register($1, 'system', null, $2, $3, $4, md5(random()::text), $5, null, "
        "'normal', null, now())",
        hall_id,
        item["id"],
        item["queue_id"],
        service_day(),
        phone,
    )
    return await db.fetchval("select max(id) from ticket")


async def _park_long_ago(db: asyncpg.Connection, tid: int) -> None:
    await db.execute(
        "update ticket set status = 'parked', parked_at = now() - interval '2 hours', "
        "window_id = (select id from service_window where window_no = 1 limit 1) "
        "where id = $1",
        tid,
    )


async def _until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """A bound on waiting for something to happen, not a pause."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            pytest.fail(f"not within {timeout} s: {what}")
        await asyncio.sleep(0.01)


def test_last_closing():
    at = datetime(2026, 12, 1, 18, 0, tzinfo=TZ)
    assert last_closing(at, time(17, 30)) == datetime(2026, 12, 1, 17, 30, tzinfo=TZ)
    at = datetime(2026, 12, 1, 9, 0, tzinfo=TZ)
    assert last_closing(at, time(17, 30)) == datetime(2026, 11, 30, 17, 30, tzinfo=TZ)


def test_the_queue_declares_its_timer_jobs():
    assert [j.name for j in QUEUE_TIMER_JOBS] == ["ticket.expire_parked", "queue.close_day"]
    assert [j.emits for j in QUEUE_TIMER_JOBS] == [
        ("ticket.parked_expired",),
        ("queue.day_closed",),
    ]


async def test_every_declared_job_runs_for_every_owned_hall_at_the_given_time(db_dsn):
    """A later capability adds a job by declaring it: HallTimers runs what it is given."""
    ran: list[tuple[str, str, datetime]] = []

    async def record(name: str, ctx, hall, now):
        ran.append((name, hall["code"], now))
        return []

    jobs = [
        TimerJob("test.one", "first", lambda c, h, n: record("one", c, h, n)),
        TimerJob("test.two", "second", lambda c, h, n: record("two", c, h, n)),
    ]
    store, _ = await _store(db_dsn)
    timers = HallTimers(store, db_dsn, LogSender(), jobs=jobs)
    try:
        await timers.tick(now=MORNING)
        halls = [r["code"] for r in await store.pool.fetch("select code from hall order by id")]
    finally:
        await timers.close()
        await store.pool.close()
    assert len(halls) > 1
    assert ran == [(name, code, MORNING) for code in halls for name in ("one", "two")]


async def test_each_job_looks_at_its_own_pace(db_dsn):
    """A job looks again once its `every` has passed on the loop's clock, not at every tick:
    the supervision jobs twice a second, the housekeeping every few seconds. The loop's clock
    is stepped by hand (no sleeping)."""
    ran: list[str] = []

    async def record(name: str):
        ran.append(name)
        return []

    jobs = [
        TimerJob("test.fast", "fast", lambda c, h, n: record("fast"), every=0.5),
        TimerJob("test.slow", "slow", lambda c, h, n: record("slow"), every=5.0),
    ]
    store, _ = await _store(db_dsn)
    timers = HallTimers(store, db_dsn, LogSender(), jobs=jobs)
    loop = asyncio.get_running_loop()
    start = loop.time()
    halls = await store.pool.fetchval("select count(*) from hall")
    looks: list[tuple[float, list[str]]] = []
    try:
        for offset in (0.0, 0.2, 0.5, 1.0, 4.9, 5.0):
            loop.time = lambda offset=offset: start + offset  # type: ignore[method-assign]
            ran.clear()
            await timers._due_jobs()
            looks.append((offset, sorted(set(ran))))
    finally:
        del loop.time  # the instance attribute hid the method; back to the real clock
        await timers.close()
        await store.pool.close()
    assert looks == [
        (0.0, ["fast", "slow"]),
        (0.2, []),
        (0.5, ["fast"]),
        (1.0, ["fast"]),
        (4.9, ["fast"]),
        (5.0, ["slow"]),  # the fast one looked at 4.9: next at 5.4
    ]
    assert halls > 1 and len(timers.owned) == halls  # claimed at the first look, kept since


async def test_timer_lag_is_how_late_a_job_ran_after_its_look_was_due(db_dsn):
    """/metrics' timer lag: a job that looks every second, looked at again 1.3 s after its first
    look, ran 0.3 s late for every hall (its first look was due at no particular instant: no
    lag). The loop's clock is stepped by hand."""
    job = TimerJob("test.lag", "lag", lambda c, h, n: asyncio.sleep(0, []), every=1.0)
    store, _ = await _store(db_dsn)
    timers = HallTimers(store, db_dsn, LogSender(), jobs=[job])
    loop = asyncio.get_running_loop()
    start = loop.time()
    halls = await store.pool.fetchval("select count(*) from hall")

    def lag(sample: str) -> float:
        return (
            REGISTRY.get_sample_value(f"hallops_timer_lag_seconds_{sample}", {"job": "test.lag"})
            or 0.0
        )

    try:
        count0, sum0 = lag("count"), lag("sum")
        loop.time = lambda: start  # type: ignore[method-assign]
        await timers._due_jobs()
        assert lag("count") == count0
        loop.time = lambda: start + 1.3  # type: ignore[method-assign]
        await timers._due_jobs()
    finally:
        del loop.time  # back to the real clock
        await timers.close()
        await store.pool.close()
    assert lag("count") - count0 == halls
    assert lag("sum") - sum0 == pytest.approx(0.3 * halls)


async def test_parked_ticket_expires_after_a_restart(db, db_dsn):
    """The timer is derived from parked_at in the database: a fresh process fires it."""
    tid = await _ticket(db)
    await _park_long_ago(db, tid)
    store, published = await _store(db_dsn)
    timers = HallTimers(store, db_dsn, LogSender())  # a "restarted" process: no memory of it
    try:
        await timers.tick(now=MORNING)
    finally:
        await timers.close()
        await store.pool.close()
    assert await db.fetchval("select outcome from ticket where id = $1", tid) == "parked_expired"
    assert [r.type for r in published] == ["ticket.parked_expired"]


async def test_tickets_open_at_closing_time_are_closed_and_not_before(db, db_dsn):
    tid = await _ticket(db)
    await db.execute("update ticket set created_at = $2 where id = $1", tid, MORNING)
    store, published = await _store(db_dsn)
    timers = HallTimers(store, db_dsn, LogSender())
    try:
        await timers.tick(now=BEFORE_CLOSING)
        early = await db.fetchval("select status from ticket where id = $1", tid)
        early_events = [r.type for r in published]
        await timers.tick(now=AFTER_CLOSING)
    finally:
        await timers.close()
        await store.pool.close()
    assert early == "waiting" and early_events == []
    row = await db.fetchrow("select status, outcome from ticket where id = $1", tid)
    assert (row["status"], row["outcome"]) == ("done", "closed_unserved")
    (closed,) = published
    assert closed.type == "queue.day_closed"
    assert closed.payload["closed_at"] == datetime(2026, 12, 1, 17, 30, tzinfo=TZ).isoformat()


async def test_exactly_one_process_owns_a_halls_timers_and_another_takes_over(db_dsn):
    store_a, _ = await _store(db_dsn)
    store_b, _ = await _store(db_dsn)
    a = HallTimers(store_a, db_dsn, LogSender())
    b = HallTimers(store_b, db_dsn, LogSender())
    try:
        await a.tick(now=MORNING)
        await b.tick(now=MORNING)
        assert a.owned and not b.owned
        await a.close()  # the owner dies: its connection and its locks go
        await b.tick(now=MORNING)
        assert b.owned == a.owned
    finally:
        await a.close()
        await b.close()
        await store_a.pool.close()
        await store_b.pool.close()


class Gateway:
    """A tiny SMS gateway on a real port: fails the first `fail_first` requests with 503,
    answers the others at once, or only after `answer_after` seconds (a hanging gateway)."""

    def __init__(self, fail_first: int = 0, answer_after: float = 0.0):
        self.fail_first = fail_first
        self.answer_after = answer_after
        self.arrived: list[dict] = []
        self.received: list[dict] = []
        self.release = asyncio.Event()  # set by the test when it is done with a hanging one
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = {**(await request.json()), "key": request.headers["Idempotency-Key"]}
        self.arrived.append(body)
        if self.fail_first > 0:
            self.fail_first -= 1
            return web.Response(status=503)
        if self.answer_after:
            try:
                await asyncio.wait_for(self.release.wait(), self.answer_after)
            except TimeoutError:
                pass
        self.received.append(body)
        return web.json_response({"ok": True})

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_post("/sms", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/sms"
        return self

    async def __aexit__(self, *exc) -> None:
        self.release.set()
        await self.runner.cleanup()


async def test_sms_outbox_retries_with_backoff_and_sends_once(db, db_dsn):
    tid = await _ticket(db, phone="13900000000")
    await db.execute(
        "select hq_notify(hall_id, t, 'called', '请到窗口') from ticket t where id = $1", tid
    )
    store, _ = await _store(db_dsn)
    async with Gateway(fail_first=2) as gateway:
        sender = WebhookSender(gateway.url)
        timers = HallTimers(store, db_dsn, sender)
        try:
            await timers.tick(now=MORNING)  # claims the halls
            for expected in (1, 1, 1, 0):
                assert await timers.send_sms() == expected
                await timers.sms.idle()
                # let the backoff pass without waiting for it
                await db.execute(
                    "update notification set next_attempt = now() where status = 'pending'"
                )
        finally:
            await timers.close()
            await store.pool.close()
    row = await db.fetchrow("select status, attempts, sent_at from notification")
    assert row["status"] == "sent" and row["attempts"] == 3
    assert len(gateway.received) == 1 and gateway.received[0]["to"] == "13900000000"
    assert gateway.received[0]["key"].startswith("called:")
    assert sender.closed  # HallTimers.close closed the webhook client


async def test_a_hanging_gateway_delays_no_other_timer_job(db, db_dsn):
    """The gateway answers only after 30 s. Eight sends hang, no more than eight are claimed,
    and meanwhile the timer jobs still fire on every tick; the test never waits for the 30 s:
    closing the timers cancels the sends and closes the webhook client."""
    hall_id = await db.fetchval("select id from hall where code = 'rizhao'")
    await db.execute(
        "insert into notification (hall_id, dedupe_key, recipient, body) "
        "select $1, 'test:' || g, '139' || lpad(g::text, 8, '0'), '测试短信' "
        "from generate_series(1, 12) g",
        hall_id,
    )
    parked, open_ = await _ticket(db), await _ticket(db)
    await db.execute("update ticket set created_at = $1", MORNING)
    store, published = await _store(db_dsn)  # a pool of 2: a send holding one would show
    async with Gateway(answer_after=30) as gateway:
        sender = WebhookSender(gateway.url, timeout=60)
        timers = HallTimers(store, db_dsn, sender, sms_concurrency=8)
        try:
            await timers.tick(now=MORNING)
            assert await timers.send_sms() == 8
            await _until(lambda: len(gateway.arrived) == 8, 10, "eight sends at the gateway")
            assert await timers.send_sms() == 0  # every slot busy: nothing more is claimed
            claimed = await db.fetchval("select count(*) from notification where attempts = 1")
            assert claimed == 8 and timers.sms.in_flight == 8

            # while they hang: a ticket's parking runs out, and the hall closes
            await _park_long_ago(db, parked)
            fired = await asyncio.wait_for(timers.tick(now=BEFORE_CLOSING), 5)
            assert [r.type for r in fired] == ["ticket.parked_expired"]
            fired = await asyncio.wait_for(timers.tick(now=AFTER_CLOSING), 5)
            assert [r.type for r in fired] == ["queue.day_closed"]
            assert timers.sms.in_flight == 8 and gateway.received == []
        finally:
            await timers.close()
            await store.pool.close()
        assert sender.closed and timers.sms.in_flight == 0
    outcomes = dict(
        await db.fetch("select id, outcome from ticket where id = any($1)", [parked, open_])
    )
    assert outcomes == {parked: "parked_expired", open_: "closed_unserved"}
    assert [r.type for r in published] == ["ticket.parked_expired", "queue.day_closed"]
