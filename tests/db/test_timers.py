"""Hall timers: parked expiry, closing time, the SMS outbox, and one owner per hall."""

from __future__ import annotations

from datetime import datetime, time

import asyncpg
from aiohttp import web

from db.pool import create_pool
from server.domain.queueing import TZ, service_day
from server.domain.store import Store
from server.outbox import LogSender, WebhookSender
from server.timers import HallTimers, last_closing


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
        "'normal', null)",
        hall_id,
        item["id"],
        item["queue_id"],
        service_day(),
        phone,
    )
    return await db.fetchval("select max(id) from ticket")


def test_last_closing():
    at = datetime(2026, 12, 1, 18, 0, tzinfo=TZ)
    assert last_closing(at, time(17, 30)) == datetime(2026, 12, 1, 17, 30, tzinfo=TZ)
    at = datetime(2026, 12, 1, 9, 0, tzinfo=TZ)
    assert last_closing(at, time(17, 30)) == datetime(2026, 11, 30, 17, 30, tzinfo=TZ)


async def test_parked_ticket_expires_after_a_restart(db, db_dsn):
    """The timer is derived from parked_at in the database: a fresh process fires it."""
    tid = await _ticket(db)
    await db.execute(
        "update ticket set status = 'parked', parked_at = now() - interval '2 hours', "
        "window_id = (select id from service_window where window_no = 1 limit 1) "
        "where id = $1",
        tid,
    )
    store, published = await _store(db_dsn)
    timers = HallTimers(store, db_dsn, LogSender())  # a "restarted" process: no memory of it
    try:
        await timers.tick()
    finally:
        await timers.close()
        await store.pool.close()
    assert await db.fetchval("select outcome from ticket where id = $1", tid) == "parked_expired"
    assert [r.type for r in published] == ["ticket.parked_expired"]


async def test_tickets_open_at_closing_time_are_closed(db, db_dsn):
    tid = await _ticket(db)
    store, published = await _store(db_dsn)
    timers = HallTimers(store, db_dsn, LogSender())
    try:
        # before the first closing after the ticket: nothing happens
        await db.execute("update ticket set created_at = now() where id = $1", tid)
        await timers.tick(now=datetime.now(TZ))
        early = await db.fetchval("select status from ticket where id = $1", tid)
        # the ticket was created yesterday: today's clock is past yesterday's closing
        await db.execute(
            "update ticket set created_at = now() - interval '1 day 2 hours' where id = $1", tid
        )
        await timers.tick()
    finally:
        await timers.close()
        await store.pool.close()
    assert early in ("waiting", "done")  # done only if the test runs after 17:30 in Shanghai
    assert await db.fetchval("select outcome from ticket where id = $1", tid) == "closed_unserved"
    assert "queue.day_closed" in [r.type for r in published]


async def test_exactly_one_process_owns_a_halls_timers_and_another_takes_over(db_dsn):
    store_a, _ = await _store(db_dsn)
    store_b, _ = await _store(db_dsn)
    a = HallTimers(store_a, db_dsn, LogSender())
    b = HallTimers(store_b, db_dsn, LogSender())
    try:
        await a.tick()
        await b.tick()
        assert a.owned and not b.owned
        await a.close()  # the owner dies: its connection and its locks go
        await b.tick()
        assert b.owned == a.owned
    finally:
        await a.close()
        await b.close()
        await store_a.pool.close()
        await store_b.pool.close()


async def test_sms_outbox_retries_with_backoff_and_sends_once(db, db_dsn):
    received: list[dict] = []
    fail_first = {"n": 2}

    async def gateway(request: web.Request) -> web.Response:
        if fail_first["n"] > 0:
            fail_first["n"] -= 1
            return web.Response(status=503)
        received.append({**(await request.json()), "key": request.headers["Idempotency-Key"]})
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/sms", gateway)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    tid = await _ticket(db, phone="13900000000")
    await db.execute(
        "select hq_notify(hall_id, t, 'called', '请到窗口') from ticket t where id = $1", tid
    )
    store, _ = await _store(db_dsn)
    sender = WebhookSender(f"http://127.0.0.1:{port}/sms")
    timers = HallTimers(store, db_dsn, sender)
    try:
        for _ in range(3):
            await timers.tick()
            # let the backoff pass without waiting for it
            await db.execute(
                "update notification set next_attempt = now() where status = 'pending'"
            )
        await timers.tick()
    finally:
        await timers.close()
        await sender.close()
        await store.pool.close()
        await runner.cleanup()
    row = await db.fetchrow("select status, attempts, sent_at from notification")
    assert row["status"] == "sent" and row["attempts"] == 3
    assert len(received) == 1 and received[0]["to"] == "13900000000"
    assert received[0]["key"].startswith("called:")
