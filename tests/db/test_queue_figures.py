"""A queue's figures are computed in one place, hq_queue_figures: the events carry them, the reads
return them (QUEUE_STATUS, QUEUE_FIGURES_OF_WINDOW, TICKET_WAIT)."""

from __future__ import annotations

import asyncpg

from db.queries import queueing as q
from server.domain.queueing import service_day


async def hall_id(db: asyncpg.Connection, code: str = "rizhao") -> int:
    return await db.fetchval("select id from hall where code = $1", code)


async def register(db: asyncpg.Connection, queue_code: str, n: int = 1) -> list[int]:
    hall = await hall_id(db)
    queue = await db.fetchval(
        "select id from queue where hall_id = $1 and code = $2", hall, queue_code
    )
    item = await db.fetchval("select min(id) from item where hall_id = $1", hall)
    ids = []
    for _ in range(n):
        rows = await db.fetch(
            "select * from hq_register($1, 'system', null, $2, $3, $4, md5(random()::text), "
            "null, null, 'normal', null, now())",
            hall,
            item,
            queue,
            service_day(),
        )
        ids.append(rows[0]["payload"]["id"])
    return ids


async def open_windows(db: asyncpg.Connection, *numbers: int) -> None:
    await db.execute(
        "update service_window set status = case when window_no = any($2::int[]) "
        "then 'open' else 'closed' end where hall_id = $1",
        await hall_id(db),
        list(numbers),
    )


async def test_the_estimated_wait_shares_the_people_ahead_among_the_open_windows(db):
    # no window open: no estimate (it used to promise minutes from one imaginary window)
    cases = [(0, 0, 300, None), (1, 0, 300, None), (0, 1, 300, 0), (3, 2, 300, 600)]
    cases += [(4, 2, 300, 600), (5, 3, 60, 120)]
    for ahead, windows, avg, expected in cases:
        got = await db.fetchval("select hq_estimated_wait($1, $2, $3)", ahead, windows, avg)
        assert got == expected, (ahead, windows, avg)


async def test_queue_status_and_the_figures_of_a_windows_queues_agree(db):
    await db.execute("update queue set avg_service_seconds = 200")
    await open_windows(db, 16, 17)  # both serve amr; 17 also the general queue
    await register(db, "amr", 5)
    await register(db, "general", 1)
    window17 = await db.fetchval(
        "select id from service_window where hall_id = $1 and window_no = 17", await hall_id(db)
    )
    figures = await db.fetchval(q.QUEUE_FIGURES_OF_WINDOW, window17, service_day())
    assert figures == [
        {
            "code": "amr",
            "waiting": 5,
            "open_windows": 2,
            "avg_service_seconds": 200,
            "estimated_wait_seconds": 600,
        },
        {
            "code": "general",
            "waiting": 1,
            "open_windows": 1,
            "avg_service_seconds": 200,
            "estimated_wait_seconds": 200,
        },
    ]
    status = {
        r["code"]: r for r in await db.fetch(q.QUEUE_STATUS, await hall_id(db), service_day())
    }
    for f in figures:
        assert {k: status[f["code"]][k] for k in f} == f
    assert len(status) == await db.fetchval(
        "select count(*) from queue where hall_id = $1", await hall_id(db)
    )


async def test_a_tickets_wait_follows_the_same_rule(db):
    await db.execute("update queue set avg_service_seconds = 240")
    await open_windows(db, 13, 14)
    ids = await register(db, "amr", 4)
    waits = [tuple(await db.fetchrow(q.TICKET_WAIT, i)) for i in ids]
    # 0, 1, 2, 3 people ahead, two windows: 0, 1, 1, 2 rounds of 240 s
    assert waits == [(0, 0), (1, 240), (2, 240), (3, 480)]


async def test_the_day_closing_event_carries_every_queue_of_the_hall(db):
    await open_windows(db, 1)
    await register(db, "amr", 2)
    hall = await hall_id(db)
    rows = await db.fetch("select * from hq_close_day($1, now())", hall)
    assert [r["type"] for r in rows] == ["queue.day_closed"]
    payload = rows[0]["payload"]
    assert payload["closed"] == 2
    codes = [
        r["code"]
        for r in await db.fetch("select code from queue where hall_id = $1 order by prefix", hall)
    ]
    assert [f["code"] for f in payload["queues"]] == codes
    assert all(
        f["waiting"] == 0 and f["estimated_wait_seconds"] == (0 if f["open_windows"] else None)
        for f in payload["queues"]
    )
    amr = next(f for f in payload["queues"] if f["code"] == "amr")
    assert amr["open_windows"] == 1
